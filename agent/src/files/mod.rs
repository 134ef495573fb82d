//! Files under the agent's allowed roots: the path guard and the file operations.
//!
//! - [`guard`]: client paths become real paths inside the roots, or are refused with
//!   [`ErrorCode::OutsideRoots`] (`..`, absolute paths outside, symlinks leading out).
//! - [`atomic`]: writes go to a temporary file, are checked against the version the
//!   client saw, synced and renamed into place ([`Staged`]); uploads use the same path.
//! - [`trash`]: delete moves to the platform's trash.

mod atomic;
mod guard;
mod ops;
mod trash;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

pub use atomic::Staged;
use vibemesh_core::{
    ErrorCode, WireError,
    proto::{
        Role,
        files::{FileKind, FileMeta, FileRequest, FileResponse, Version},
    },
};

/// The file service of one agent. Clones share the roots, so a reload reaches all.
#[derive(Debug, Clone)]
pub struct Files {
    roots: Arc<RwLock<Arc<Vec<PathBuf>>>>,
}

impl Files {
    /// Serves files under `roots` (absolute folders). They are canonicalized here; roots
    /// that do not exist are skipped.
    pub fn new(roots: Vec<PathBuf>) -> Self {
        Self {
            roots: Arc::new(RwLock::new(Arc::new(guard::canonical_roots(roots)))),
        }
    }

    /// The allowed roots.
    pub fn roots(&self) -> Arc<Vec<PathBuf>> {
        self.roots.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the allowed roots (a reloaded config); requests already running finish
    /// with the roots they started with.
    pub fn set_roots(&self, roots: Vec<PathBuf>) {
        let fresh = Arc::new(guard::canonical_roots(roots));
        *self.roots.write().unwrap_or_else(|p| p.into_inner()) = fresh;
    }

    /// Resolves a client's path (absolute, or `~`-relative) to a real path inside the
    /// roots, or refuses it with [`ErrorCode::OutsideRoots`]. The path need not exist;
    /// its deepest existing ancestor is what symlinks are followed in.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, WireError> {
        guard::resolve(&self.roots(), path)
    }

    /// Like [`Files::resolve`], but the last name is not followed: a symlink stays the
    /// link itself (what rename and delete act on). A root itself is refused.
    pub fn resolve_entry(&self, path: &str) -> Result<PathBuf, WireError> {
        guard::resolve_entry(&self.roots(), path)
    }

    /// Answers one file request for a caller with `role`.
    pub async fn handle(&self, req: FileRequest, role: Role) -> Result<FileResponse, WireError> {
        match req {
            FileRequest::Roots => Ok(FileResponse::Roots(
                self.roots()
                    .iter()
                    .map(|r| r.to_string_lossy().into_owned())
                    .collect(),
            )),
            FileRequest::List { path } => ops::list(self, &self.resolve(&path)?).await,
            FileRequest::Stat { path } => {
                let p = self.resolve(&path)?;
                let mut meta = meta_of(&p).await?;
                if meta.kind == FileKind::File {
                    meta.version = Some(Version {
                        modified_ms: meta.modified_ms,
                        size: meta.size,
                        hash: atomic::hash_file(&p).await?,
                    });
                }
                Ok(FileResponse::Meta(meta))
            }
            FileRequest::Read { path, offset, len } => {
                ops::read(&self.resolve(&path)?, offset, len).await
            }
            FileRequest::Write {
                path,
                data,
                expected,
            } => {
                owner_only(role, "write files")?;
                if data.len() as u64 > vibemesh_core::proto::files::MAX_INLINE {
                    return Err(WireError::new(
                        ErrorCode::TooLarge,
                        format!(
                            "{} bytes is over the {} KiB limit of one write; upload it instead",
                            data.len(),
                            vibemesh_core::proto::files::MAX_INLINE / 1024
                        ),
                    ));
                }
                let mut staged = self.begin_write(&path, expected, role).await?;
                staged.write(&data).await?;
                Ok(FileResponse::Done(staged.commit().await?))
            }
            FileRequest::Mkdir { path } => {
                owner_only(role, "create folders")?;
                ops::mkdir(&self.resolve(&path)?).await
            }
            FileRequest::Rename { from, to } => {
                owner_only(role, "rename files")?;
                ops::rename(&self.resolve_entry(&from)?, &self.resolve_entry(&to)?).await
            }
            FileRequest::Delete { path } => {
                owner_only(role, "delete files")?;
                ops::delete(&self.resolve_entry(&path)?).await
            }
        }
    }

    /// Starts writing a whole file at `path` for a caller with `role` (owners only): the
    /// target must still be `expected` (`None`: it must not exist). Used by writes and
    /// uploads; nothing is in place until [`Staged::commit`].
    pub async fn begin_write(
        &self,
        path: &str,
        expected: Option<Version>,
        role: Role,
    ) -> Result<Staged, WireError> {
        owner_only(role, "write files")?;
        Staged::begin(self.resolve(path)?, expected).await
    }
}

/// Refuses viewers.
pub(crate) fn owner_only(role: Role, what: &str) -> Result<(), WireError> {
    if role == Role::Owner {
        Ok(())
    } else {
        Err(WireError::new(
            ErrorCode::Forbidden,
            format!("a viewer may not {what}; ask the owner for an owner ticket"),
        ))
    }
}

/// Milliseconds since the Unix epoch of a modification time (0 when unknown).
pub(crate) fn ms(t: std::io::Result<std::time::SystemTime>) -> u64 {
    t.ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// What kind of thing `ft` is.
pub(crate) fn kind_of(ft: std::fs::FileType) -> FileKind {
    if ft.is_symlink() {
        FileKind::Symlink
    } else if ft.is_dir() {
        FileKind::Dir
    } else if ft.is_file() {
        FileKind::File
    } else {
        FileKind::Other
    }
}

/// A resolved path's metadata (symlinks followed), without a version.
pub(crate) async fn meta_of(path: &Path) -> Result<FileMeta, WireError> {
    let m = tokio::fs::metadata(path)
        .await
        .map_err(|e| guard::io_error(path, e))?;
    let kind = kind_of(m.file_type());
    Ok(FileMeta {
        path: path.to_string_lossy().into_owned(),
        kind,
        size: if kind == FileKind::Dir { 0 } else { m.len() },
        modified_ms: ms(m.modified()),
        version: None,
    })
}
