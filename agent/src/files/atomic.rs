//! Writes that never lose anything: a temporary file in the target's folder, checked
//! against the version the client saw, synced, then renamed into place.

use std::{
    fs::Permissions,
    io,
    path::{Path, PathBuf},
};

use tempfile::TempPath;
use tokio::io::AsyncWriteExt;
use vibemesh_core::{
    ErrorCode, WireError,
    proto::files::{FileMeta, Version},
};

use super::{guard::io_error, meta_of};

/// The BLAKE3 hash of a file's whole content, computed on the blocking pool.
pub(super) async fn hash_file(path: &Path) -> Result<[u8; 32], WireError> {
    let p = path.to_path_buf();
    let result = tokio::task::spawn_blocking(move || -> io::Result<[u8; 32]> {
        let mut hasher = blake3::Hasher::new();
        hasher.update_reader(std::fs::File::open(&p)?)?;
        Ok(*hasher.finalize().as_bytes())
    })
    .await;
    match result {
        Ok(r) => r.map_err(|e| io_error(path, e)),
        Err(e) => Err(WireError::new(
            ErrorCode::Internal,
            format!("hashing {} failed: {e}", path.display()),
        )),
    }
}

/// Checks that `target` is as the client last saw it: absent for `None`, else with the
/// same content hash. Returns the current permissions to keep.
async fn check_expected(
    target: &Path,
    expected: Option<&Version>,
) -> Result<Option<Permissions>, WireError> {
    let current = match tokio::fs::metadata(target).await {
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_error(target, e)),
    };
    let shown = target.display();
    match (current, expected) {
        (Some(m), _) if m.is_dir() => Err(WireError::new(
            ErrorCode::BadRequest,
            format!("{shown} is a folder"),
        )),
        (Some(_), None) => Err(WireError::new(
            ErrorCode::Conflict,
            format!("{shown} already exists; read it first and name the version you replace"),
        )),
        (None, Some(_)) => Err(WireError::new(
            ErrorCode::Conflict,
            format!("{shown} was deleted since you read it"),
        )),
        (None, None) => Ok(None),
        (Some(m), Some(v)) => {
            if hash_file(target).await? != v.hash {
                return Err(WireError::new(
                    ErrorCode::Conflict,
                    format!("{shown} changed since you read it; read it again before saving"),
                ));
            }
            Ok(Some(m.permissions()))
        }
    }
}

/// A write in progress: bytes go to a temporary file next to the target, which is
/// removed if the write is dropped before [`Staged::commit`].
pub struct Staged {
    file: tokio::fs::File,
    temp: TempPath,
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
    /// Starts a write of `target` (already resolved), replacing `expected`.
    pub async fn begin(target: PathBuf, expected: Option<Version>) -> Result<Self, WireError> {
        check_expected(&target, expected.as_ref()).await?;
        let dir = match target.parent() {
            Some(d) => d.to_path_buf(),
            None => {
                return Err(WireError::new(
                    ErrorCode::BadRequest,
                    "no folder to write in",
                ));
            }
        };
        match tokio::fs::metadata(&dir).await {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(WireError::new(
                    ErrorCode::BadRequest,
                    format!("{} is not a folder", dir.display()),
                ));
            }
            Err(e) => return Err(io_error(&dir, e)),
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let d = dir.clone();
        let made = tokio::task::spawn_blocking(move || {
            use std::os::unix::fs::PermissionsExt;
            tempfile::Builder::new()
                .prefix(&format!(".{name}."))
                .suffix(".vmtmp")
                .permissions(Permissions::from_mode(0o666))
                .tempfile_in(&d)
        })
        .await
        .map_err(|e| WireError::new(ErrorCode::Internal, format!("temp file: {e}")))?
        .map_err(|e| io_error(&dir, e))?;
        let (file, temp) = made.into_parts();
        Ok(Self {
            file: tokio::fs::File::from_std(file),
            temp,
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
            .map_err(|e| io_error(&self.temp, e))?;
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
        let tmp_err = |e| io_error(&self.temp, e);
        self.file.flush().await.map_err(tmp_err)?;
        self.file.sync_all().await.map_err(tmp_err)?;
        // The file may have changed while the bytes came in.
        let perms = check_expected(&self.target, self.expected.as_ref()).await?;
        if let Some(p) = perms {
            self.file.set_permissions(p).await.map_err(tmp_err)?;
        }
        drop(self.file);
        let target = self.target.clone();
        let temp = self.temp;
        let replace = self.expected.is_some();
        let t = target.clone();
        let renamed = tokio::task::spawn_blocking(move || {
            let r = if replace {
                temp.persist(&t)
            } else {
                temp.persist_noclobber(&t)
            };
            // The error gives the temp path back; dropping it removes the file.
            r.map_err(|e| e.error)?;
            if let Some(dir) = t.parent() {
                // Make the rename itself durable; not all filesystems allow this.
                let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
            }
            Ok::<_, io::Error>(())
        })
        .await;
        match renamed {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(io_error(&target, e)),
            Err(e) => {
                return Err(WireError::new(
                    ErrorCode::Internal,
                    format!("renaming into {} failed: {e}", target.display()),
                ));
            }
        }
        let mut meta = meta_of(&target).await?;
        meta.version = Some(Version {
            modified_ms: meta.modified_ms,
            size: self.written,
            hash: *self.hasher.finalize().as_bytes(),
        });
        Ok(meta)
    }
}
