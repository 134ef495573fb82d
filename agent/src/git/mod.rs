//! Git for the repository around a folder, through the `git` CLI's porcelain formats.
//!
//! SKELETON: being implemented.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use vibemesh_core::{
    ErrorCode, WireError,
    proto::git::{GitMark, GitRequest, GitResponse},
};

/// Answers a git request for the repository around `dir` (already resolved and checked
/// against the roots; the request's own `path` is ignored).
pub async fn handle(dir: &Path, req: GitRequest) -> Result<GitResponse, WireError> {
    let _ = (dir, req);
    Err(WireError::new(
        ErrorCode::Internal,
        "git is not available yet",
    ))
}

/// The git state of each entry directly in `dir` (folders holding changes are
/// [`GitMark::Dirty`]); `None` outside a repository.
pub async fn marks(dir: &Path) -> Option<HashMap<String, GitMark>> {
    let _ = dir;
    None
}

/// The top folder of the repository around `dir`, if there is one.
pub async fn repo_root(dir: &Path) -> Option<PathBuf> {
    let _ = dir;
    None
}
