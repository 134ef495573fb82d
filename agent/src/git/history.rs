//! Log, branches and work trees, from NUL-separated machine formats.

use vibemesh_core::proto::git::{Branch, Commit, Worktree};

use super::run::text;

/// The most commits one log request returns.
pub(super) const MAX_LOG: u32 = 500;

/// Fields per commit in [`LOG_FORMAT`].
const LOG_FIELDS: usize = 5;

/// One commit: hash, author name, author e-mail, author time (Unix seconds), subject.
pub(super) const LOG_FORMAT: &str = "--format=%H%x00%an%x00%ae%x00%at%x00%s";

/// The format for `git for-each-ref refs/heads`: current, name, commit, upstream.
pub(super) const BRANCH_FORMAT: &str =
    "--format=%(HEAD)%00%(refname:lstrip=2)%00%(objectname)%00%(upstream:short)";

/// Parses `git log -z` output in [`LOG_FORMAT`]: each commit's fields are separated by
/// NUL, and each commit ends with one.
pub(super) fn parse_log(out: &[u8]) -> Vec<Commit> {
    let out = out.strip_suffix(&[0]).unwrap_or(out);
    if out.is_empty() {
        return Vec::new();
    }
    let fields: Vec<String> = out.split(|&b| b == 0).map(text).collect();
    fields
        .chunks_exact(LOG_FIELDS)
        .map(|c| Commit {
            id: c[0].clone(),
            author: c[1].clone(),
            email: c[2].clone(),
            time_ms: c[3]
                .parse::<i64>()
                .ok()
                .and_then(|s| u64::try_from(s).ok())
                .map_or(0, |s| s.saturating_mul(1000)),
            summary: c[4].clone(),
        })
        .collect()
}

/// Parses `git for-each-ref` output in [`BRANCH_FORMAT`]: one branch a line (ref names
/// cannot hold a newline), fields separated by NUL.
pub(super) fn parse_branches(out: &[u8]) -> Vec<Branch> {
    out.split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .filter_map(|line| {
            let mut f = line.split(|&b| b == 0).map(text);
            let current = f.next()? == "*";
            let name = f.next()?;
            let head = f.next()?;
            let upstream = f.next().filter(|u| !u.is_empty());
            Some(Branch {
                name,
                current,
                head,
                upstream,
            })
        })
        .collect()
}

/// Parses `git worktree list --porcelain -z`: attributes separated by NUL, work trees by
/// an empty attribute.
pub(super) fn parse_worktrees(out: &[u8]) -> Vec<Worktree> {
    let mut list = Vec::new();
    let mut current: Option<Worktree> = None;
    for attr in out.split(|&b| b == 0).map(text) {
        if attr.is_empty() {
            list.extend(current.take());
            continue;
        }
        let (key, value) = attr.split_once(' ').unwrap_or((attr.as_str(), ""));
        match (key, current.as_mut()) {
            ("worktree", _) => {
                list.extend(current.take());
                current = Some(Worktree {
                    path: value.to_string(),
                    branch: None,
                    head: None,
                });
            }
            // An unborn branch shows the all-zero id: no commit.
            ("HEAD", Some(w)) if value.bytes().any(|b| b != b'0') => {
                w.head = Some(value.to_string());
            }
            ("branch", Some(w)) => {
                let name = value.strip_prefix("refs/heads/").unwrap_or(value);
                w.branch = Some(name.to_string());
            }
            _ => {}
        }
    }
    list.extend(current);
    list
}
