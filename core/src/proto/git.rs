//! Git, for the repository around a path on the agent's machine.

use serde::{Deserialize, Serialize};

/// A file's state in git, as listings and status show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GitMark {
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

/// Git requests on the control stream; `path` is any path inside the repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum GitRequest {
    /// Branch, upstream and changed files.
    Status {
        /// A path in the repository.
        path: String,
    },
    /// The unified diff of one file or of everything.
    Diff {
        /// A path in the repository.
        path: String,
        /// One file (relative to the repository root); everything when `None`.
        file: Option<String>,
        /// The staged changes instead of the unstaged ones.
        staged: bool,
    },
    /// Commits, newest first.
    Log {
        /// A path in the repository.
        path: String,
        /// Commits to skip (paging).
        skip: u32,
        /// Commits to return (at most 500).
        limit: u32,
    },
    /// Local branches.
    Branches {
        /// A path in the repository.
        path: String,
    },
    /// Work trees.
    Worktrees {
        /// A path in the repository.
        path: String,
    },
}

/// Answers to [`GitRequest`]s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum GitResponse {
    /// Answer to [`GitRequest::Status`].
    Status(GitStatus),
    /// Answer to [`GitRequest::Diff`]: unified diff text.
    Diff(String),
    /// Answer to [`GitRequest::Log`].
    Log(Vec<Commit>),
    /// Answer to [`GitRequest::Branches`].
    Branches(Vec<Branch>),
    /// Answer to [`GitRequest::Worktrees`].
    Worktrees(Vec<Worktree>),
}

/// A repository's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    pub files: Vec<GitFile>,
}

/// One changed file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GitFile {
    /// Its path relative to the root.
    pub path: String,
    /// Where it was renamed from.
    pub from: Option<String>,
    /// Its state.
    pub mark: GitMark,
    /// The index status letter (`M`, `A`, `D`, `R`, `C`, `U`, `.`, `?`).
    pub index: char,
    /// The work tree status letter.
    pub worktree: char,
}

/// A commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Commit {
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

/// A local branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Branch {
    /// Its name.
    pub name: String,
    /// Whether it is checked out here.
    pub current: bool,
    /// The commit it points at.
    pub head: String,
    /// Its upstream, if set.
    pub upstream: Option<String>,
}

/// A work tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Worktree {
    /// Its folder.
    pub path: String,
    /// Its branch; `None` when detached.
    pub branch: Option<String>,
    /// The commit it has checked out.
    pub head: Option<String>,
}
