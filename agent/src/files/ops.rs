//! The file operations on resolved paths: list, read, mkdir, rename, delete.

use std::{io, path::Path};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use vibemesh_core::{
    ErrorCode, WireError,
    proto::files::{DirEntry, FileKind, FileResponse, MAX_INLINE, Version},
};

use super::{guard::io_error, kind_of, meta_of, ms};

/// The most entries one listing carries, so its answer fits in one frame.
const MAX_ENTRIES: usize = 10_000;

/// A folder's entries, folders first, then by name, with their git marks (checked
/// against the roots of `files`).
pub(super) async fn list(files: &super::Files, dir: &Path) -> Result<FileResponse, WireError> {
    let mut rd = tokio::fs::read_dir(dir)
        .await
        .map_err(|e| io_error(dir, e))?;
    let mut entries = Vec::new();
    while let Some(e) = rd.next_entry().await.map_err(|e| io_error(dir, e))? {
        if entries.len() >= MAX_ENTRIES {
            return Err(WireError::new(
                ErrorCode::TooLarge,
                format!(
                    "{} holds more than {MAX_ENTRIES} entries; too many to list",
                    dir.display()
                ),
            ));
        }
        // An entry that vanished between the listing and its metadata is skipped.
        let Ok(m) = e.metadata().await else { continue };
        let kind = kind_of(m.file_type());
        entries.push(DirEntry {
            name: e.file_name().to_string_lossy().into_owned(),
            kind,
            size: if kind == FileKind::File { m.len() } else { 0 },
            modified_ms: ms(m.modified()),
            git: None,
        });
    }
    if let Some(marks) = crate::git::marks(files, dir).await {
        for e in &mut entries {
            e.git = marks.get(&e.name).copied();
        }
    }
    entries.sort_by(|a, b| {
        (b.kind == FileKind::Dir)
            .cmp(&(a.kind == FileKind::Dir))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(FileResponse::Listing {
        path: dir.to_string_lossy().into_owned(),
        entries,
    })
}

/// Part of a file. Without `len`, a whole file over [`MAX_INLINE`] is refused (it needs a
/// download); with `len`, at most [`MAX_INLINE`] bytes come back.
pub(super) async fn read(
    path: &Path,
    offset: u64,
    len: Option<u64>,
) -> Result<FileResponse, WireError> {
    let mut meta = meta_of(path).await?;
    if meta.kind != FileKind::File {
        return Err(WireError::new(
            ErrorCode::BadRequest,
            format!("{} is not a regular file", path.display()),
        ));
    }
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
    let mut f = tokio::fs::File::open(path)
        .await
        .map_err(|e| io_error(path, e))?;
    if offset > 0 {
        f.seek(io::SeekFrom::Start(offset))
            .await
            .map_err(|e| io_error(path, e))?;
    }
    let mut data = Vec::with_capacity(want as usize);
    (&mut f)
        .take(want)
        .read_to_end(&mut data)
        .await
        .map_err(|e| io_error(path, e))?;
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
pub(super) async fn mkdir(path: &Path) -> Result<FileResponse, WireError> {
    match tokio::fs::metadata(path).await {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(WireError::new(
                ErrorCode::Conflict,
                format!("{} exists and is not a folder", path.display()),
            ));
        }
        Err(_) => tokio::fs::create_dir_all(path)
            .await
            .map_err(|e| io_error(path, e))?,
    }
    Ok(FileResponse::Done(meta_of(path).await?))
}

/// Renames `from` to `to`; an existing `to` is never replaced.
pub(super) async fn rename(from: &Path, to: &Path) -> Result<FileResponse, WireError> {
    tokio::fs::symlink_metadata(from)
        .await
        .map_err(|e| io_error(from, e))?;
    match tokio::fs::symlink_metadata(to).await {
        Ok(_) => {
            return Err(WireError::new(
                ErrorCode::Conflict,
                format!("{} already exists", to.display()),
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(to, e)),
    }
    if let Some(dir) = to.parent()
        && !dir.is_dir()
    {
        return Err(WireError::new(
            ErrorCode::NotFound,
            format!("{} is not an existing folder", dir.display()),
        ));
    }
    if to.starts_with(from) {
        return Err(WireError::new(
            ErrorCode::BadRequest,
            "a folder cannot be moved into itself",
        ));
    }
    tokio::fs::rename(from, to).await.map_err(|e| {
        if e.kind() == io::ErrorKind::CrossesDevices {
            WireError::new(
                ErrorCode::BadRequest,
                format!("{} is on another disk; copy it instead", to.display()),
            )
        } else {
            io_error(from, e)
        }
    })?;
    let mut meta = meta_of(to).await?;
    // A moved link is listed as what it is.
    if let Ok(m) = tokio::fs::symlink_metadata(to).await
        && m.file_type().is_symlink()
    {
        meta.kind = FileKind::Symlink;
    }
    Ok(FileResponse::Done(meta))
}

/// Moves `path` to the trash, or removes it where that is not possible.
pub(super) async fn delete(path: &Path) -> Result<FileResponse, WireError> {
    let p = path.to_path_buf();
    let result = tokio::task::spawn_blocking(move || super::trash::delete(&p)).await;
    match result {
        Ok(Ok(trashed)) => Ok(FileResponse::Deleted { trashed }),
        Ok(Err(e)) => Err(io_error(path, e)),
        Err(e) => Err(WireError::new(
            ErrorCode::Internal,
            format!("deleting {} failed: {e}", path.display()),
        )),
    }
}
