//! Writes that never lose anything: a temporary file in the target's folder, checked
//! against the version the client saw, synced, then renamed into place. Every step acts
//! by name inside the target's folder, opened once from its root with no symlink
//! followed ([`Beneath`]), so a folder swapped for a link mid-write cannot move the file
//! anywhere else.

use std::{
    ffi::{OsStr, OsString},
    io,
    os::fd::OwnedFd,
    path::PathBuf,
    sync::Arc,
};

use rustix::fs::{Mode, OFlags};
use tokio::io::AsyncWriteExt;
use vibemesh_core::{
    ErrorCode, WireError,
    proto::files::{FileKind, FileMeta, Version},
};

use super::{
    beneath::{Beneath, stat_at},
    blocking,
    guard::io_error,
    kind_of, meta_of,
};

/// Checks that `name` in `dir` is as the client last saw it: absent for `None`, else a
/// regular file with the same content hash. Returns the mode to keep.
fn check_expected(
    dir: &OwnedFd,
    name: &OsStr,
    target: &std::path::Path,
    expected: Option<&Version>,
) -> Result<Option<Mode>, WireError> {
    let shown = target.display();
    let st = match stat_at(dir, name) {
        Ok(st) => Some(st),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_error(target, e)),
    };
    let Some(st) = st else {
        return match expected {
            None => Ok(None),
            Some(_) => Err(WireError::new(
                ErrorCode::Conflict,
                format!("{shown} was deleted since you read it"),
            )),
        };
    };
    match kind_of(super::mode_of(&st)) {
        FileKind::File => {}
        FileKind::Dir => {
            return Err(WireError::new(
                ErrorCode::BadRequest,
                format!("{shown} is a folder"),
            ));
        }
        // The guard resolved links, so a link here appeared after it looked.
        FileKind::Symlink => {
            return Err(io_error(target, io::Error::from_raw_os_error(libc::ELOOP)));
        }
        FileKind::Other => {
            return Err(WireError::new(
                ErrorCode::BadRequest,
                format!("{shown} is not a regular file"),
            ));
        }
    }
    let Some(v) = expected else {
        return Err(WireError::new(
            ErrorCode::Conflict,
            format!("{shown} already exists; read it first and name the version you replace"),
        ));
    };
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::empty())
        .map_err(|e| io_error(target, e.into()))?;
    let mut hasher = blake3::Hasher::new();
    hasher
        .update_reader(std::fs::File::from(fd))
        .map_err(|e| io_error(target, e))?;
    if *hasher.finalize().as_bytes() != v.hash {
        return Err(WireError::new(
            ErrorCode::Conflict,
            format!("{shown} changed since you read it; read it again before saving"),
        ));
    }
    Ok(Some(
        Mode::from_raw_mode(super::mode_of(&st) as _) & Mode::from_raw_mode(0o7777),
    ))
}

/// A fresh temporary file in `dir`. Its name is short, so even a target named with the
/// full 255 bytes a name may have can be written.
fn create_temp(dir: &OwnedFd) -> io::Result<(OwnedFd, OsString)> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    for _ in 0..16 {
        let mut r = [0u8; 8];
        getrandom::fill(&mut r).map_err(|e| io::Error::other(e.to_string()))?;
        let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
        let name = OsString::from(format!(".vm-{hex}.tmp"));
        match rustix::fs::openat(dir, &name, flags, Mode::from_raw_mode(0o666)) {
            Ok(fd) => return Ok((fd, name)),
            Err(e) if e == rustix::io::Errno::EXIST => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(io::Error::other("no free temporary name"))
}

/// The temporary file's name in its folder; removed when dropped unless taken.
struct TempName {
    dir: Arc<OwnedFd>,
    name: Option<OsString>,
}

impl Drop for TempName {
    fn drop(&mut self) {
        if let Some(name) = self.name.take() {
            let _ = rustix::fs::unlinkat(&*self.dir, &name, rustix::fs::AtFlags::empty());
        }
    }
}

/// A write in progress: bytes go to a temporary file next to the target, which is
/// removed if the write is dropped before [`Staged::commit`].
pub struct Staged {
    file: tokio::fs::File,
    temp: TempName,
    name: OsString,
    target: PathBuf,
    expected: Option<Version>,
    hasher: blake3::Hasher,
    written: u64,
}

impl std::fmt::Debug for Staged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staged")
            .field("target", &self.target)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl Staged {
    /// Starts a write of `b` (already checked), replacing `expected`.
    pub(super) async fn begin(b: Beneath, expected: Option<Version>) -> Result<Self, WireError> {
        let target = b.path();
        let check = expected;
        let (dir, name, file, temp) = blocking(move || {
            let target = b.path();
            let (dir, name) = b.open_parent().map_err(|e| match e.kind() {
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => WireError::new(
                    ErrorCode::NotFound,
                    format!(
                        "{} is not an existing folder",
                        target.parent().unwrap_or(&target).display()
                    ),
                ),
                _ => io_error(&target, e),
            })?;
            let name = name.to_os_string();
            check_expected(&dir, &name, &target, check.as_ref())?;
            let folder = target.parent().unwrap_or(&target).to_path_buf();
            let (file, temp) = create_temp(&dir).map_err(|e| io_error(&folder, e))?;
            Ok((dir, name, file, temp))
        })
        .await?;
        Ok(Self {
            file: tokio::fs::File::from_std(std::fs::File::from(file)),
            temp: TempName {
                dir: Arc::new(dir),
                name: Some(temp),
            },
            name,
            target,
            expected,
            hasher: blake3::Hasher::new(),
            written: 0,
        })
    }

    /// Appends bytes.
    pub async fn write(&mut self, data: &[u8]) -> Result<(), WireError> {
        self.file
            .write_all(data)
            .await
            .map_err(|e| io_error(&self.target, e))?;
        self.hasher.update(data);
        self.written += data.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The BLAKE3 hash of the bytes written so far.
    pub fn hash(&self) -> [u8; 32] {
        *self.hasher.finalize().as_bytes()
    }

    /// Syncs the data, checks the target once more, and renames the file into place
    /// (keeping the replaced file's permissions). Returns the new metadata.
    pub async fn commit(mut self) -> Result<FileMeta, WireError> {
        let target = self.target.clone();
        let err = |e| io_error(&target, e);
        self.file.flush().await.map_err(err)?;
        self.file.sync_all().await.map_err(err)?;
        let file = self.file.into_std().await;
        let mut temp = self.temp;
        let (name, expected, t) = (self.name, self.expected, self.target.clone());
        let st = blocking(move || {
            // The file may have changed while the bytes came in.
            let mode = check_expected(&temp.dir, &name, &t, expected.as_ref())?;
            if let Some(mode) = mode {
                rustix::fs::fchmod(&file, mode).map_err(|e| io_error(&t, e.into()))?;
            }
            drop(file);
            let Some(tmp) = temp.name.as_deref() else {
                return Err(WireError::new(
                    ErrorCode::Internal,
                    "the write was already committed",
                ));
            };
            let renamed = if expected.is_some() {
                rustix::fs::renameat(&*temp.dir, tmp, &*temp.dir, &name).map_err(io::Error::from)
            } else {
                super::ops::rename_noreplace(&temp.dir, tmp, &temp.dir, &name)
            };
            renamed.map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => WireError::new(
                    ErrorCode::Conflict,
                    format!("{} already exists", t.display()),
                ),
                _ => io_error(&t, e),
            })?;
            temp.name = None;
            // Make the rename itself durable; not all filesystems allow this.
            if let Ok(d) = rustix::fs::openat(
                &*temp.dir,
                ".",
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                let _ = rustix::fs::fsync(d);
            }
            stat_at(&temp.dir, &name).map_err(|e| io_error(&t, e))
        })
        .await?;
        let mut meta = meta_of(&self.target, &st);
        meta.version = Some(Version {
            modified_ms: meta.modified_ms,
            size: self.written,
            hash: *self.hasher.finalize().as_bytes(),
        });
        Ok(meta)
    }
}

/// Writes `bytes` to `b` at once (tests and small writes): begin, write, commit.
#[cfg(test)]
pub(super) async fn write_all(
    b: Beneath,
    expected: Option<Version>,
    bytes: &[u8],
) -> Result<FileMeta, WireError> {
    let mut s = Staged::begin(b, expected).await?;
    s.write(bytes).await?;
    s.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_of_255_bytes_can_be_written() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        for len in [242, 250, 255] {
            let name = "n".repeat(len);
            let b = Beneath::new(&root, &root.join(&name)).unwrap();
            write_all(b, None, b"hello").await.unwrap();
            assert_eq!(std::fs::read(root.join(&name)).unwrap(), b"hello");
        }
        // Nothing temporary is left behind.
        let left: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[tokio::test]
    async fn a_dropped_write_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let b = Beneath::new(&root, &root.join("f")).unwrap();
        let mut s = Staged::begin(b, None).await.unwrap();
        s.write(b"partial").await.unwrap();
        drop(s);
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
    }
}
