//! Files under the agent's allowed roots: the path guard and the file operations.
//!
//! - [`guard`]: client paths become real paths inside the roots, or are refused with
//!   [`ErrorCode::OutsideRoots`] (`..`, absolute paths outside, symlinks leading out).
//! - [`secrets`]: what is never served whatever the roots say (the agent's own key and
//!   state, the user's credentials and history), refused with [`ErrorCode::Forbidden`].
//! - [`beneath`]: the checked path is then opened from its root with no symlink followed,
//!   so a folder swapped for a link after the check cannot lead anywhere else.
//! - [`atomic`]: writes go to a temporary file, are checked against the version the
//!   client saw, synced and renamed into place ([`Staged`]); uploads use the same path.
//! - [`trash`]: delete moves to the platform's trash.

mod atomic;
mod beneath;
mod guard;
mod listing;
mod ops;
mod secrets;
mod trash;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

pub use atomic::Staged;
pub use secrets::Secrets;
use vibemesh_core::{
    ErrorCode, WireError,
    proto::{
        Role,
        files::{FileKind, FileMeta, FileRequest, FileResponse},
    },
};

use self::beneath::Beneath;
use vibemesh_core::sync;

/// What a request is checked against: swapped as a whole on reload.
#[derive(Debug)]
struct Rules {
    roots: Vec<PathBuf>,
    secrets: Secrets,
}

/// The file service of one agent. Clones share the rules, so a reload reaches all.
#[derive(Debug, Clone)]
pub struct Files {
    rules: Arc<RwLock<Arc<Rules>>>,
}

impl Files {
    /// Serves files under `roots` (absolute folders), never `secrets`. The roots are
    /// canonicalized here; roots that do not exist are skipped.
    pub fn new(roots: Vec<PathBuf>, secrets: Secrets) -> Self {
        Self {
            rules: Arc::new(RwLock::new(Arc::new(Rules {
                roots: guard::canonical_roots(roots),
                secrets,
            }))),
        }
    }

    fn rules(&self) -> Arc<Rules> {
        sync::read(&self.rules).clone()
    }

    /// The allowed roots.
    pub(crate) fn roots(&self) -> Vec<PathBuf> {
        self.rules().roots.clone()
    }

    /// Replaces the roots and secrets (a reloaded config); requests already running
    /// finish with the rules they started with.
    pub(crate) fn configure(&self, roots: Vec<PathBuf>, secrets: Secrets) {
        let fresh = Arc::new(Rules {
            roots: guard::canonical_roots(roots),
            secrets,
        });
        *sync::write(&self.rules) = fresh;
    }

    /// Resolves a client's path (absolute, or `~`-relative) to a real path inside the
    /// roots, or refuses it: [`ErrorCode::OutsideRoots`] outside them,
    /// [`ErrorCode::Forbidden`] for what is never shared. The path need not exist; its
    /// deepest existing ancestor is what symlinks are followed in.
    pub(crate) fn resolve(&self, path: &str) -> Result<PathBuf, WireError> {
        let rules = self.rules();
        let real = guard::resolve(&rules.roots, path)?;
        rules.secrets.check(&real, &real.display().to_string())?;
        Ok(real)
    }

    /// [`Files::resolve`], as a path to open from its root.
    fn locate(&self, path: &str) -> Result<(Arc<Rules>, Beneath), WireError> {
        let rules = self.rules();
        let real = guard::resolve(&rules.roots, path)?;
        rules.secrets.check(&real, &real.display().to_string())?;
        let b = beneath_of(&rules.roots, &real, path)?;
        Ok((rules, b))
    }

    /// Like [`Files::locate`], but the last name is not followed: a symlink stays the
    /// link itself (what rename and delete act on). A root itself is refused, and so is
    /// anything holding a secret.
    fn locate_entry(&self, path: &str) -> Result<Beneath, WireError> {
        let rules = self.rules();
        let entry = guard::resolve_entry(&rules.roots, path)?;
        let shown = entry.display().to_string();
        let secrets = rules.secrets.resolve();
        secrets.check(&entry, &shown)?;
        secrets.check_holds_none(&entry, &shown)?;
        beneath_of(&rules.roots, &entry, path)
    }

    /// Opens a folder to watch: its descriptor (for `/proc/self/fd`, so the watch is on
    /// exactly the folder checked) and its real path.
    pub(crate) async fn open_dir(
        &self,
        path: &str,
    ) -> Result<(std::os::fd::OwnedFd, PathBuf), WireError> {
        let (_, b) = self.locate(path)?;
        blocking(move || {
            let real = b.path();
            let fd = b
                .open(rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY)
                .map_err(|e| match e.raw_os_error() {
                    Some(libc::ENOTDIR) => WireError::new(
                        ErrorCode::BadRequest,
                        format!("{} is not a folder", real.display()),
                    ),
                    _ => guard::io_error(&real, e),
                })?;
            Ok((fd, real))
        })
        .await
    }

    /// What may be shown now: paths under a root and not secret. For filtering many
    /// paths (a watch's events) at once.
    pub(crate) fn visible(&self) -> Visible {
        let rules = self.rules();
        Visible {
            secrets: rules.secrets.resolve(),
            rules,
        }
    }

    /// Opens a regular file for reading (a download), refused like [`Files::resolve`]
    /// and when it is a hard link to a secret.
    pub(crate) async fn open_read(
        &self,
        path: &str,
    ) -> Result<(std::fs::File, FileMeta), WireError> {
        let (rules, b) = self.locate(path)?;
        blocking(move || ops::open_file(&rules.secrets, &b)).await
    }

    /// Answers one file request for a caller with `role`.
    pub(crate) async fn handle(
        &self,
        req: FileRequest,
        role: Role,
    ) -> Result<FileResponse, WireError> {
        match req {
            FileRequest::Roots => Ok(FileResponse::Roots(
                self.roots().iter().map(|r| wire(r)).collect(),
            )),
            FileRequest::List { path } => {
                let (path, page) = self.list_page(&path, None).await?;
                if page.next.is_some() {
                    return Err(WireError::new(
                        ErrorCode::TooLarge,
                        format!(
                            "{path} holds more entries than fit in one answer; a newer client \
                             lists it a page at a time"
                        ),
                    ));
                }
                Ok(FileResponse::Listing {
                    path,
                    entries: page.entries,
                })
            }
            FileRequest::ListPage { path, after } => {
                let (path, page) = self.list_page(&path, after).await?;
                Ok(FileResponse::Page {
                    path,
                    entries: page.entries,
                    next: page.next,
                })
            }
            FileRequest::Stat { path } => {
                let (rules, b) = self.locate(&path)?;
                blocking(move || ops::stat(&rules.secrets, &b)).await
            }
            FileRequest::Read { path, offset, len } => {
                let (rules, b) = self.locate(&path)?;
                blocking(move || ops::read(&rules.secrets, &b, offset, len)).await
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
                let (_, b) = self.locate(&path)?;
                blocking(move || ops::mkdir(&b)).await
            }
            FileRequest::Rename { from, to } => {
                owner_only(role, "rename files")?;
                let (from, to) = (self.locate_entry(&from)?, self.locate_entry(&to)?);
                blocking(move || ops::rename(&from, &to)).await
            }
            FileRequest::Delete { path } => {
                owner_only(role, "delete files")?;
                let b = self.locate_entry(&path)?;
                blocking(move || ops::delete(&b)).await
            }
        }
    }

    /// A page of a folder's entries with their git marks, and the folder as resolved.
    async fn list_page(
        &self,
        path: &str,
        after: Option<String>,
    ) -> Result<(String, listing::Page), WireError> {
        let (rules, b) = self.locate(path)?;
        let dir = b.path();
        let mut page =
            blocking(move || listing::page(&rules.secrets, &b, after.as_deref())).await?;
        if let Some(marks) = crate::git::marks(self, &dir).await {
            for e in &mut page.entries {
                e.git = marks.get(&e.name).copied();
            }
        }
        Ok((wire(&dir), page))
    }

    /// Starts writing a whole file at `path` for a caller with `role` (owners only): the
    /// target must still be `expected` (`None`: it must not exist). Used by writes and
    /// uploads; nothing is in place until [`Staged::commit`].
    pub(crate) async fn begin_write(
        &self,
        path: &str,
        expected: Option<vibemesh_core::proto::files::Version>,
        role: Role,
    ) -> Result<Staged, WireError> {
        owner_only(role, "write files")?;
        let (_, b) = self.locate(path)?;
        Staged::begin(b, expected).await
    }
}

/// The rules at one moment, resolved for checking many paths.
#[derive(Debug)]
pub struct Visible {
    rules: Arc<Rules>,
    secrets: secrets::Resolved,
}

impl Visible {
    /// Whether `real` (a path the agent found, not a client's) may be shown to clients.
    pub(crate) fn shows(&self, real: &Path) -> bool {
        self.rules.roots.iter().any(|r| real.starts_with(r)) && !self.secrets.covers(real)
    }
}

/// The root `real` is under, as a path to open from it.
fn beneath_of(roots: &[PathBuf], real: &Path, asked: &str) -> Result<Beneath, WireError> {
    roots
        .iter()
        .filter(|r| real.starts_with(r))
        .max_by_key(|r| r.components().count())
        .and_then(|r| Beneath::new(r, real))
        .ok_or_else(|| guard::outside(asked))
}

/// Runs blocking file work on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WireError> + Send + 'static,
) -> Result<T, WireError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(WireError::new(
            ErrorCode::Internal,
            format!("a file operation failed: {e}"),
        ))
    })
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

/// What kind of thing a `stat` mode is.
pub(crate) fn kind_of(mode: u32) -> FileKind {
    use rustix::fs::FileType;
    match FileType::from_raw_mode(mode as _) {
        FileType::Symlink => FileKind::Symlink,
        FileType::Directory => FileKind::Dir,
        FileType::RegularFile => FileKind::File,
        _ => FileKind::Other,
    }
}

/// A `stat`'s mode. (Its fields' types differ between Linux and macOS, hence the casts.)
#[allow(clippy::unnecessary_cast)]
pub(crate) fn mode_of(st: &rustix::fs::Stat) -> u32 {
    st.st_mode as u32
}

/// A `stat`'s file identity (device, inode) and its number of hard links.
#[allow(clippy::unnecessary_cast)]
pub(crate) fn identity_of(st: &rustix::fs::Stat) -> ((u64, u64), u64) {
    ((st.st_dev as u64, st.st_ino as u64), st.st_nlink as u64)
}

/// A path as it travels to clients: exact, also when it is not UTF-8
/// ([`vibemesh_core::proto::files::path_to_wire`]).
pub fn wire(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    vibemesh_core::proto::files::path_to_wire(path.as_os_str().as_bytes()).into_owned()
}

/// Metadata of `path` from its `stat`, without a version.
#[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
pub(crate) fn meta_of(path: &Path, st: &rustix::fs::Stat) -> FileMeta {
    let kind = kind_of(mode_of(st));
    let modified_ms = u64::try_from(st.st_mtime)
        .unwrap_or(0)
        .saturating_mul(1000)
        .saturating_add(u64::try_from(st.st_mtime_nsec as i64).unwrap_or(0) / 1_000_000);
    FileMeta {
        path: wire(path),
        kind,
        size: if kind == FileKind::Dir {
            0
        } else {
            u64::try_from(st.st_size).unwrap_or(0)
        },
        modified_ms,
        version: None,
    }
}
