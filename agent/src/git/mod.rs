//! Git for the repository around a folder, through the `git` CLI's machine formats.
//!
//! Why the CLI and not `gix`: status with renames and conflicts, unified diffs of the
//! index and the work tree, and worktrees are all complete and battle-tested in git
//! itself, while gix does not yet produce unified diffs of the work tree the way `git diff`
//! does. Every command here uses a format made for programs (`--porcelain=v2 -z`, `-z`
//! with `%x00` fields, `--porcelain -z`, the unified diff) and never parses text meant for
//! people. The environment is fixed in [`run::git`]; in particular
//! `GIT_OPTIONAL_LOCKS=0`, so status never takes the index lock from an AI agent that is
//! committing at the same moment. (`git diff` still refreshes the index, lock and all,
//! whatever that says: an agent's commit that meets it fails with "index.lock exists" and
//! can be retried.)
//!
//! Looking at a repository never runs a program the repository chose, and never shows one
//! that lives outside the roots: each request first opens the repository ([`repo`]),
//! which refuses one whose git folder, common folder or object stores are outside
//! ([`confine`]) or whose own config sets a filter or hook command ([`trust`]); every
//! other such setting is switched off on git's command line ([`run::git`]).
//!
//! Every answer must fit in one control frame ([`vibemesh_core::frame::MAX_FRAME`]); a
//! larger one is refused with [`ErrorCode::TooLarge`] rather than breaking the stream.

mod confine;
mod history;
mod repo;
mod run;
mod status;
mod trust;

use std::{
    collections::HashMap,
    path::{Component, Path, PathBuf},
};

use vibemesh_core::{
    ErrorCode, WireError,
    frame::MAX_FRAME,
    proto::git::{Commit, GitMark, GitRequest, GitResponse, GitStatus},
};

use self::run::{Fail, git};
use crate::files::Files;

/// Room kept in a frame for the response around a git answer (ids, tags, lengths).
const ENVELOPE: usize = 1024;

/// The most bytes a git answer may take when encoded.
const ANSWER_MAX: usize = MAX_FRAME - ENVELOPE;

/// The most output read from git for a status or a listing (before it is condensed).
const RAW_MAX: usize = 64 * MAX_FRAME;

/// Answers a git request for the repository around `dir` (already resolved inside the
/// roots of `files`; the request's own `path` is ignored). The repository is refused when
/// it reaches outside those roots or its own config names a program git would run.
pub async fn handle(files: &Files, dir: &Path, req: GitRequest) -> Result<GitResponse, WireError> {
    let root = repo::open(files, dir).await?.top;
    let resp = match req {
        GitRequest::Status { .. } => {
            let out = status(&root, &["--untracked-files=all"]).await;
            GitResponse::Status(out.map_err(|f| f.into_wire(&root))?)
        }
        GitRequest::Diff { file, staged, .. } => diff(&root, file, staged).await?,
        GitRequest::Log { skip, limit, .. } => {
            let log = log(&root, skip, limit.min(history::MAX_LOG)).await;
            GitResponse::Log(log.map_err(|f| f.into_wire(&root))?)
        }
        GitRequest::Branches { .. } => {
            let args = ["for-each-ref", history::BRANCH_FORMAT, "refs/heads"];
            let out = git(&root, &args, RAW_MAX).await;
            GitResponse::Branches(history::parse_branches(
                &out.map_err(|f| f.into_wire(&root))?,
            ))
        }
        GitRequest::Worktrees { .. } => {
            let args = ["worktree", "list", "--porcelain", "-z"];
            let out = git(&root, &args, RAW_MAX).await;
            GitResponse::Worktrees(history::parse_worktrees(
                &out.map_err(|f| f.into_wire(&root))?,
            ))
        }
    };
    fits(resp)
}

/// The git state of each entry directly in `dir` (folders holding changes are
/// [`GitMark::Dirty`]); `None` outside a repository, without git, or when the repository
/// is refused as [`handle`] refuses it (a listing then simply has no marks).
pub async fn marks(files: &Files, dir: &Path) -> Option<HashMap<String, GitMark>> {
    let repo = repo::open(files, dir).await.ok()?;
    let args = [
        "status",
        "--porcelain=v2",
        "-z",
        "--renames",
        // Never start git in a submodule, whose own config nobody checked.
        "--ignore-submodules=dirty",
        // Untracked and ignored folders as one `name/` entry each: a listing needs no more.
        "--untracked-files=normal",
        "--ignored=matching",
        "--",
        ".",
    ];
    let out = git(dir, &args, RAW_MAX).await.ok()?;
    let parsed = status::parse(&out, String::new());
    Some(status::marks(&parsed.files, &repo.prefix))
}

/// The top folder of the repository around `dir`, when there is one git may look at
/// (inside the roots, running nothing of its own): what a watch reports changes of.
pub async fn repo_root(files: &Files, dir: &Path) -> Option<PathBuf> {
    repo::open(files, dir).await.ok().map(|r| r.top)
}

async fn status(root: &Path, extra: &[&str]) -> Result<GitStatus, Fail> {
    let mut args = status::STATUS_ARGS.to_vec();
    args.extend_from_slice(extra);
    let out = git(root, &args, RAW_MAX).await?;
    Ok(status::parse(&out, root.to_string_lossy().into_owned()))
}

async fn diff(root: &Path, file: Option<String>, staged: bool) -> Result<GitResponse, WireError> {
    let mut args = vec![
        "--literal-pathspecs",
        "diff",
        "--no-color",
        // No external diff, no diff.<driver>.command, no textconv: programs the
        // repository's config and attributes choose.
        "--no-ext-diff",
        "--no-textconv",
        // Never start git in a submodule, whose own config nobody checked.
        "--ignore-submodules=dirty",
        // Whatever diff.noprefix or diff.mnemonicPrefix say, the usual a/ and b/.
        "--src-prefix=a/",
        "--dst-prefix=b/",
        "--submodule=short",
    ];
    if staged {
        args.push("--cached");
    }
    if let Some(file) = &file {
        check_file(file)?;
        args.extend(["--", file.as_str()]);
    }
    let what = match &file {
        Some(f) => format!("the diff of {f}"),
        None => "the diff of everything".to_string(),
    };
    let too_large = || {
        WireError::new(
            ErrorCode::TooLarge,
            format!(
                "{what} is over {} KiB, more than one answer carries; ask for one file at a time",
                ANSWER_MAX / 1024
            ),
        )
    };
    match git(root, &args, ANSWER_MAX).await {
        Ok(out) => fits(GitResponse::Diff(run::text(&out))).map_err(|_| too_large()),
        Err(Fail::TooLarge) => Err(too_large()),
        Err(f) => Err(f.into_wire(root)),
    }
}

/// A file for `diff`: relative to the repository root and never climbing out of it.
fn check_file(file: &str) -> Result<(), WireError> {
    let bad = |why: &str| {
        Err(WireError::new(
            ErrorCode::BadRequest,
            format!("diff file {file:?} {why}"),
        ))
    };
    if file.is_empty() {
        return bad("is empty");
    }
    if file.contains('\0') {
        return bad("contains a NUL byte");
    }
    for c in Path::new(file).components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => return bad("may not contain `..`"),
            Component::RootDir | Component::Prefix(_) => {
                return bad("must be relative to the repository's top folder");
            }
        }
    }
    Ok(())
}

async fn log(root: &Path, skip: u32, limit: u32) -> Result<Vec<Commit>, Fail> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let skip = format!("--skip={skip}");
    let limit = format!("--max-count={limit}");
    let args = [
        "log",
        "-z",
        history::LOG_FORMAT,
        "--no-show-signature",
        &skip,
        &limit,
    ];
    match git(root, &args, RAW_MAX).await {
        Ok(out) => Ok(history::parse_log(&out)),
        Err(Fail::Failed(code, said)) => {
            // A repository with no commits yet has an empty log, not an error.
            let head = ["rev-parse", "--quiet", "--verify", "HEAD"];
            match git(root, &head, 64 * 1024).await {
                Err(Fail::Failed(..)) => Ok(Vec::new()),
                _ => Err(Fail::Failed(code, said)),
            }
        }
        Err(f) => Err(f),
    }
}

/// Refuses an answer that would not fit in one frame.
fn fits(resp: GitResponse) -> Result<GitResponse, WireError> {
    let size = postcard::to_stdvec(&resp)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size <= ANSWER_MAX {
        return Ok(resp);
    }
    let what = match &resp {
        GitResponse::Status(s) => format!(
            "git status lists {} files (untracked build output? a .gitignore helps)",
            s.files.len()
        ),
        GitResponse::Diff(_) => "the diff".to_string(),
        GitResponse::Log(l) => format!("these {} commits", l.len()),
        GitResponse::Branches(b) => format!("the {} branches", b.len()),
        GitResponse::Worktrees(w) => format!("the {} work trees", w.len()),
    };
    Err(WireError::new(
        ErrorCode::TooLarge,
        format!(
            "{what}: {} KiB, more than one answer carries ({} KiB)",
            size / 1024,
            ANSWER_MAX / 1024
        ),
    ))
}
