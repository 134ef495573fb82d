//! Files and git on a machine, read through core's control client: folder listings,
//! bounded file reads, and a repository's status, diff and log, as typed records.

use vibemesh_core::proto::{
    files::{DirEntry, FileKind, FileRequest, FileResponse, MAX_INLINE, Version},
    git::{GitMark, GitRequest, GitResponse},
};

use crate::{Mesh, MeshError, runtime::run_on};

/// What a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A folder.
    Folder,
    /// A symbolic link.
    Symlink,
    /// A socket, device or pipe.
    Other,
}

impl From<FileKind> for EntryKind {
    fn from(k: FileKind) -> Self {
        match k {
            FileKind::File => EntryKind::File,
            FileKind::Dir => EntryKind::Folder,
            FileKind::Symlink => EntryKind::Symlink,
            FileKind::Other => EntryKind::Other,
        }
    }
}

/// A file's state in git.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum GitState {
    /// Changed in the index.
    Staged,
    /// Changed in the work tree.
    Modified,
    /// Staged and changed again since.
    StagedModified,
    /// New, not tracked.
    Untracked,
    /// Renamed or copied (staged).
    Renamed,
    /// Deleted.
    Deleted,
    /// In conflict.
    Conflicted,
    /// Ignored.
    Ignored,
    /// A folder containing changes.
    Dirty,
}

impl From<GitMark> for GitState {
    fn from(m: GitMark) -> Self {
        match m {
            GitMark::Staged => GitState::Staged,
            GitMark::Modified => GitState::Modified,
            GitMark::StagedModified => GitState::StagedModified,
            GitMark::Untracked => GitState::Untracked,
            GitMark::Renamed => GitState::Renamed,
            GitMark::Deleted => GitState::Deleted,
            GitMark::Conflicted => GitState::Conflicted,
            GitMark::Ignored => GitState::Ignored,
            GitMark::Dirty => GitState::Dirty,
        }
    }
}

/// One entry of a folder.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FolderEntry {
    /// Its name in the folder.
    pub name: String,
    /// What it is.
    pub kind: EntryKind,
    /// Size in bytes (0 for folders).
    pub size: u64,
    /// Modification time, in milliseconds since the Unix epoch.
    pub modified_ms: u64,
    /// Its git state, when the folder is in a repository and it changed.
    pub git: Option<GitState>,
}

impl From<DirEntry> for FolderEntry {
    fn from(e: DirEntry) -> Self {
        FolderEntry {
            name: e.name,
            kind: e.kind.into(),
            size: e.size,
            modified_ms: e.modified_ms,
            git: e.git.map(Into::into),
        }
    }
}

/// A folder's entries.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Folder {
    /// The folder as the machine resolved it (absolute).
    pub path: String,
    /// Its entries: folders first, then by name.
    pub entries: Vec<FolderEntry>,
}

/// Which version of a file the phone saw: a write that names it is refused with
/// [`MeshError::Conflict`] when the file changed since.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FileVersion {
    /// Modification time, in milliseconds since the Unix epoch.
    pub modified_ms: u64,
    /// Size in bytes.
    pub size: u64,
    /// BLAKE3 hash of the whole content (32 bytes).
    pub hash: Vec<u8>,
}

impl From<Version> for FileVersion {
    fn from(v: Version) -> Self {
        FileVersion {
            modified_ms: v.modified_ms,
            size: v.size,
            hash: v.hash.to_vec(),
        }
    }
}

impl TryFrom<FileVersion> for Version {
    type Error = MeshError;

    fn try_from(v: FileVersion) -> Result<Self, MeshError> {
        let hash = v
            .hash
            .try_into()
            .map_err(|_| MeshError::bad_request("a file version's hash has 32 bytes"))?;
        Ok(Version {
            modified_ms: v.modified_ms,
            size: v.size,
            hash,
        })
    }
}

/// The start of a file.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FileContent {
    /// The file as the machine resolved it (absolute).
    pub path: String,
    /// Its whole size in bytes.
    pub size: u64,
    /// Modification time, in milliseconds since the Unix epoch.
    pub modified_ms: u64,
    /// Its first bytes (all of them when `complete`).
    pub data: Vec<u8>,
    /// Whether `data` is the whole file.
    pub complete: bool,
    /// The version read: pass it to [`Mesh::write_file`] to replace this file.
    pub version: Option<FileVersion>,
}

/// One changed file in a repository.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GitChange {
    /// Its path relative to the repository's root.
    pub path: String,
    /// Where it was renamed from.
    pub from: Option<String>,
    /// Its state.
    pub state: GitState,
    /// The index status letter (`M`, `A`, `D`, `R`, `C`, `U`, `.`, `?`).
    pub index: String,
    /// The work tree status letter.
    pub worktree: String,
}

/// A repository's state.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GitStatus {
    /// The repository's top folder.
    pub root: String,
    /// The current branch; `None` when HEAD is detached.
    pub branch: Option<String>,
    /// The commit HEAD points at; `None` in a repository with no commits.
    pub head: Option<String>,
    /// The upstream branch, if one is set.
    pub upstream: Option<String>,
    /// Commits ahead of the upstream.
    pub ahead: u32,
    /// Commits behind the upstream.
    pub behind: u32,
    /// Every changed, untracked or conflicted file.
    pub changes: Vec<GitChange>,
}

/// A commit.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GitCommit {
    /// The full hash.
    pub id: String,
    /// Author name.
    pub author: String,
    /// Author e-mail.
    pub email: String,
    /// Author time, in milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// The first line of the message.
    pub summary: String,
}

#[uniffi::export(async_runtime = "tokio")]
impl Mesh {
    /// The folders this phone may use on `machine` (its allowed roots).
    pub async fn roots(&self, machine: String) -> Result<Vec<String>, MeshError> {
        match self.files(machine, FileRequest::Roots).await? {
            FileResponse::Roots(r) => Ok(r),
            _ => Err(MeshError::other("unexpected answer: expected the roots")),
        }
    }

    /// Every entry of the folder `path` on `machine` (`~` allowed), folders first.
    pub async fn list_folder(&self, machine: String, path: String) -> Result<Folder, MeshError> {
        let core = self.core.clone();
        run_on(&self.rt, async move {
            let m = core.find(&machine)?;
            let (path, entries) = core
                .links
                .call(&m, |c| {
                    let path = path.clone();
                    async move { c.list_dir(&path).await }
                })
                .await?;
            Ok(Folder {
                path,
                entries: entries.into_iter().map(Into::into).collect(),
            })
        })
        .await
    }

    /// The first `max_bytes` of the file `path` on `machine` (at most 512 KiB: a larger
    /// file comes back with `complete` false).
    pub async fn read_file(
        &self,
        machine: String,
        path: String,
        max_bytes: u64,
    ) -> Result<FileContent, MeshError> {
        let req = FileRequest::Read {
            path,
            offset: 0,
            len: Some(max_bytes.min(MAX_INLINE)),
        };
        match self.files(machine, req).await? {
            FileResponse::Data {
                meta, data, eof, ..
            } => Ok(FileContent {
                path: meta.path,
                size: meta.size,
                modified_ms: meta.modified_ms,
                data: data.to_vec(),
                complete: eof,
                version: meta.version.map(Into::into),
            }),
            _ => Err(MeshError::other("unexpected answer: expected file data")),
        }
    }

    /// Replaces the file `path` on `machine` with `data` (at most 512 KiB), if it is
    /// still the version `replaces` (from [`Mesh::read_file`]); `None` creates a file
    /// that must not exist yet. A file changed meanwhile is refused with
    /// [`MeshError::Conflict`] and left as it is. Returns the new version.
    pub async fn write_file(
        &self,
        machine: String,
        path: String,
        data: Vec<u8>,
        replaces: Option<FileVersion>,
    ) -> Result<FileVersion, MeshError> {
        if data.len() as u64 > MAX_INLINE {
            return Err(MeshError::bad_request(format!(
                "{} bytes is more than a write carries ({MAX_INLINE})",
                data.len()
            )));
        }
        let req = FileRequest::Write {
            path,
            data: data.into(),
            expected: replaces.map(Version::try_from).transpose()?,
        };
        let core = self.core.clone();
        let done = run_on(&self.rt, async move {
            let m = core.find(&machine)?;
            // Not retried on a lost connection: a write that went through would come
            // back as a conflict with itself.
            let link = core.links.get(&m).await?;
            link.control
                .files(req)
                .await
                .map_err(|e| MeshError::from(link.conn.closed_or(e)))
        })
        .await?;
        match done {
            FileResponse::Done(meta) => meta
                .version
                .map(Into::into)
                .ok_or_else(|| MeshError::other("the machine gave no version for the file")),
            _ => Err(MeshError::other(
                "unexpected answer: expected the written file",
            )),
        }
    }

    /// The state of the repository around `path` on `machine`: branch, upstream and
    /// every changed file.
    pub async fn git_status(&self, machine: String, path: String) -> Result<GitStatus, MeshError> {
        match self.git(machine, GitRequest::Status { path }).await? {
            GitResponse::Status(s) => Ok(GitStatus {
                root: s.root,
                branch: s.branch,
                head: s.head,
                upstream: s.upstream,
                ahead: s.ahead,
                behind: s.behind,
                changes: s
                    .files
                    .into_iter()
                    .map(|f| GitChange {
                        path: f.path,
                        from: f.from,
                        state: f.mark.into(),
                        index: f.index.to_string(),
                        worktree: f.worktree.to_string(),
                    })
                    .collect(),
            }),
            _ => Err(MeshError::other("unexpected answer: expected a git status")),
        }
    }

    /// The unified diff of the repository around `path` on `machine`: of one `file`
    /// (relative to the repository's root) or of everything, staged or not.
    pub async fn git_diff(
        &self,
        machine: String,
        path: String,
        file: Option<String>,
        staged: bool,
    ) -> Result<String, MeshError> {
        match self
            .git(machine, GitRequest::Diff { path, file, staged })
            .await?
        {
            GitResponse::Diff(d) => Ok(d),
            _ => Err(MeshError::other("unexpected answer: expected a diff")),
        }
    }

    /// Commits of the repository around `path` on `machine`, newest first: `limit`
    /// (at most 500) after skipping `skip`.
    pub async fn git_log(
        &self,
        machine: String,
        path: String,
        skip: u32,
        limit: u32,
    ) -> Result<Vec<GitCommit>, MeshError> {
        match self
            .git(machine, GitRequest::Log { path, skip, limit })
            .await?
        {
            GitResponse::Log(commits) => Ok(commits
                .into_iter()
                .map(|c| GitCommit {
                    id: c.id,
                    author: c.author,
                    email: c.email,
                    time_ms: c.time_ms,
                    summary: c.summary,
                })
                .collect()),
            _ => Err(MeshError::other("unexpected answer: expected a git log")),
        }
    }
}

impl Mesh {
    /// One file request on `machine`'s control stream (reads only: safe to repeat).
    async fn files(&self, machine: String, req: FileRequest) -> Result<FileResponse, MeshError> {
        self.request(machine, move |c| {
            let req = req.clone();
            async move { c.files(req).await }
        })
        .await
    }

    /// One git request on `machine`'s control stream (reads only: safe to repeat).
    async fn git(&self, machine: String, req: GitRequest) -> Result<GitResponse, MeshError> {
        self.request(machine, move |c| {
            let req = req.clone();
            async move { c.git(req).await }
        })
        .await
    }
}
