//! The file operations on checked paths: stat, read, mkdir, rename, delete (listings are
//! in [`super::listing`]). Each opens its path from the root with no symlink followed
//! ([`Beneath`]) and works on the descriptor; all of them block (the service runs them on
//! the blocking pool).

use std::{
    ffi::OsStr,
    io::{Read, Seek},
    os::fd::OwnedFd,
    path::Path,
};

use bytes::Bytes;
use rustix::fs::{Mode, OFlags};
use vibemesh_core::{
    ErrorCode, WireError,
    proto::files::{FileKind, FileMeta, FileResponse, MAX_INLINE, Version},
};

use super::{
    beneath::{Beneath, stat_at},
    guard::io_error,
    kind_of, meta_of,
    secrets::Secrets,
};

/// Flags for reading: never blocks on a FIFO (its open would wait for a writer).
pub(super) fn read_flags() -> OFlags {
    OFlags::RDONLY | OFlags::NONBLOCK
}

/// Opens `b` for reading and says what it is; a regular file is checked for hard links
/// to secrets.
fn open_any(secrets: &Secrets, b: &Beneath) -> Result<(OwnedFd, FileMeta), WireError> {
    let path = b.path();
    let fd = b.open(read_flags()).map_err(|e| io_error(&path, e))?;
    let st = rustix::fs::fstat(&fd).map_err(|e| io_error(&path, e.into()))?;
    let meta = meta_of(&path, &st);
    if meta.kind == FileKind::File {
        secrets.check_identity(&st, &path.display().to_string())?;
    }
    Ok((fd, meta))
}

/// Opens a regular file for reading.
pub(super) fn open_file(
    secrets: &Secrets,
    b: &Beneath,
) -> Result<(std::fs::File, FileMeta), WireError> {
    let (fd, meta) = open_any(secrets, b)?;
    if meta.kind != FileKind::File {
        return Err(not_a_file(&b.path()));
    }
    Ok((std::fs::File::from(fd), meta))
}

fn not_a_file(path: &Path) -> WireError {
    WireError::new(
        ErrorCode::BadRequest,
        format!("{} is not a regular file", path.display()),
    )
}

/// Metadata, with the content's version for a regular file.
pub(super) fn stat(secrets: &Secrets, b: &Beneath) -> Result<FileResponse, WireError> {
    let (fd, mut meta) = open_any(secrets, b)?;
    if meta.kind == FileKind::File {
        let mut hasher = blake3::Hasher::new();
        hasher
            .update_reader(std::fs::File::from(fd))
            .map_err(|e| io_error(&b.path(), e))?;
        meta.version = Some(Version {
            modified_ms: meta.modified_ms,
            size: meta.size,
            hash: *hasher.finalize().as_bytes(),
        });
    }
    Ok(FileResponse::Meta(meta))
}

/// Part of a file. Without `len`, a whole file over [`MAX_INLINE`] is refused (it needs a
/// download); with `len`, at most [`MAX_INLINE`] bytes come back.
pub(super) fn read(
    secrets: &Secrets,
    b: &Beneath,
    offset: u64,
    len: Option<u64>,
) -> Result<FileResponse, WireError> {
    let path = b.path();
    let (mut f, mut meta) = open_file(secrets, b)?;
    let left = meta.size.saturating_sub(offset);
    let want = match len {
        Some(n) if n > MAX_INLINE => {
            return Err(WireError::new(
                ErrorCode::TooLarge,
                format!("one read returns at most {} KiB", MAX_INLINE / 1024),
            ));
        }
        Some(n) => n.min(left),
        None if offset == 0 && left > MAX_INLINE => {
            return Err(WireError::new(
                ErrorCode::TooLarge,
                format!(
                    "{} is {} bytes, over the {} KiB limit of one read; ask for a range, \
                     or copy it with `vibemesh cp` (a download)",
                    path.display(),
                    meta.size,
                    MAX_INLINE / 1024
                ),
            ));
        }
        None => left.min(MAX_INLINE),
    };
    if offset > 0 {
        f.seek(std::io::SeekFrom::Start(offset))
            .map_err(|e| io_error(&path, e))?;
    }
    let mut data = Vec::with_capacity(want as usize);
    f.take(want)
        .read_to_end(&mut data)
        .map_err(|e| io_error(&path, e))?;
    let end = offset + data.len() as u64;
    let eof = end >= meta.size;
    if offset == 0 && eof {
        // The whole file: its version is the hash of exactly these bytes.
        meta.size = data.len() as u64;
        meta.version = Some(Version {
            modified_ms: meta.modified_ms,
            size: meta.size,
            hash: *blake3::hash(&data).as_bytes(),
        });
    }
    Ok(FileResponse::Data {
        meta,
        offset,
        data: Bytes::from(data),
        eof,
    })
}

/// Creates a folder and its missing parents.
pub(super) fn mkdir(b: &Beneath) -> Result<FileResponse, WireError> {
    let path = b.path();
    let fd = b.create_dirs().map_err(|e| match e.raw_os_error() {
        Some(libc::ENOTDIR) => WireError::new(
            ErrorCode::Conflict,
            format!("{} exists and is not a folder", path.display()),
        ),
        _ => io_error(&path, e),
    })?;
    let st = rustix::fs::fstat(&fd).map_err(|e| io_error(&path, e.into()))?;
    Ok(FileResponse::Done(meta_of(&path, &st)))
}

/// Renames `from` to `to`; an existing `to` is never replaced.
pub(super) fn rename(from: &Beneath, to: &Beneath) -> Result<FileResponse, WireError> {
    let (from_path, to_path) = (from.path(), to.path());
    if to_path.starts_with(&from_path) {
        return Err(WireError::new(
            ErrorCode::BadRequest,
            "a folder cannot be moved into itself",
        ));
    }
    let (from_dir, from_name) = from.open_parent().map_err(|e| io_error(&from_path, e))?;
    stat_at(&from_dir, from_name).map_err(|e| io_error(&from_path, e))?;
    let (to_dir, to_name) = to.open_parent().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => WireError::new(
            ErrorCode::NotFound,
            format!(
                "{} is not an existing folder",
                to_path.parent().unwrap_or(&to_path).display()
            ),
        ),
        _ => io_error(&to_path, e),
    })?;
    rename_noreplace(&from_dir, from_name, &to_dir, to_name).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => WireError::new(
            ErrorCode::Conflict,
            format!("{} already exists", to_path.display()),
        ),
        std::io::ErrorKind::CrossesDevices => WireError::new(
            ErrorCode::BadRequest,
            format!("{} is on another disk; copy it instead", to_path.display()),
        ),
        _ => io_error(&from_path, e),
    })?;
    let st = stat_at(&to_dir, to_name).map_err(|e| io_error(&to_path, e))?;
    Ok(FileResponse::Done(meta_of(&to_path, &st)))
}

/// Renames a name in one folder to a name in another (or the same), failing with
/// `AlreadyExists` rather than replacing anything.
pub(super) fn rename_noreplace(
    from_dir: &OwnedFd,
    from: &OsStr,
    to_dir: &OwnedFd,
    to: &OsStr,
) -> std::io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    match rustix::fs::renameat_with(
        from_dir,
        from,
        to_dir,
        to,
        rustix::fs::RenameFlags::NOREPLACE,
    ) {
        Ok(()) => return Ok(()),
        // Filesystems without it (some network and FUSE ones): check, then rename.
        Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
        Err(e) => return Err(e.into()),
    }
    match stat_at(to_dir, to) {
        Ok(_) => return Err(std::io::ErrorKind::AlreadyExists.into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    Ok(rustix::fs::renameat(from_dir, from, to_dir, to)?)
}

/// Moves `b` to the trash, or removes it where that is not possible.
pub(super) fn delete(b: &Beneath) -> Result<FileResponse, WireError> {
    let path = b.path();
    let (dir, name) = b.open_parent().map_err(|e| io_error(&path, e))?;
    let trashed = super::trash::delete(&dir, name, &path).map_err(|e| io_error(&path, e))?;
    Ok(FileResponse::Deleted { trashed })
}

/// Removes `name` in `dir` and, for a folder, everything in it, never through a link.
pub(super) fn remove_all_at(dir: &OwnedFd, name: &OsStr, depth: usize) -> std::io::Result<()> {
    use rustix::fs::AtFlags;
    let st = stat_at(dir, name)?;
    if kind_of(super::mode_of(&st)) != FileKind::Dir {
        return Ok(rustix::fs::unlinkat(dir, name, AtFlags::empty())?);
    }
    if depth > 256 {
        return Err(std::io::Error::other("folders nested too deeply to remove"));
    }
    let sub = rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let names: Vec<std::ffi::OsString> = rustix::fs::Dir::read_from(&sub)?
        .filter_map(Result::ok)
        .map(|e| {
            <OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(e.file_name().to_bytes())
                .to_os_string()
        })
        .filter(|n| n != "." && n != "..")
        .collect();
    for n in names {
        remove_all_at(&sub, &n, depth + 1)?;
    }
    Ok(rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR)?)
}
