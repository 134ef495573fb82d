//! `git status --porcelain=v2 --branch -z`: parsing, and marks for a folder's entries.

use std::collections::HashMap;

use vibemesh_core::proto::git::{GitFile, GitMark, GitStatus};

use super::run::text;

/// The arguments for a machine-readable status (paths relative to the repository root).
/// A submodule shows only when its commit changed: finding changes inside it would start
/// git there, under the submodule's own config, which nobody checked.
pub(super) const STATUS_ARGS: &[&str] = &[
    "status",
    "--porcelain=v2",
    "--branch",
    "-z",
    "--renames",
    "--ignore-submodules=dirty",
];

/// Parses porcelain v2 output (with `-z`) into a status of the repository at `root`.
pub(super) fn parse(out: &[u8], root: String) -> GitStatus {
    let mut status = GitStatus {
        root,
        branch: None,
        head: None,
        upstream: None,
        ahead: 0,
        behind: 0,
        files: Vec::new(),
    };
    let mut records = out.split(|&b| b == 0).map(text);
    while let Some(rec) = records.next() {
        let Some((kind, rest)) = rec.split_once(' ') else {
            continue;
        };
        match kind {
            "#" => header(&mut status, rest),
            // 1 XY sub mH mI mW hH hI path
            "1" => {
                if let Some(f) = entry(rest, 6, None) {
                    status.files.push(f);
                }
            }
            // 2 XY sub mH mI mW hH hI Xscore path NUL origPath
            "2" => {
                let from = records.next();
                if let Some(mut f) = entry(rest, 7, from) {
                    f.mark = GitMark::Renamed;
                    status.files.push(f);
                }
            }
            // u XY sub m1 m2 m3 mW h1 h2 h3 path
            "u" => {
                if let Some(mut f) = entry(rest, 8, None) {
                    f.mark = GitMark::Conflicted;
                    status.files.push(f);
                }
            }
            "?" => status.files.push(simple(rest, GitMark::Untracked, '?')),
            "!" => status.files.push(simple(rest, GitMark::Ignored, '!')),
            _ => {}
        }
    }
    status
}

fn header(status: &mut GitStatus, line: &str) {
    let Some((key, value)) = line.split_once(' ') else {
        return;
    };
    match key {
        "branch.oid" if value != "(initial)" => status.head = Some(value.to_string()),
        "branch.head" if value != "(detached)" => status.branch = Some(value.to_string()),
        "branch.upstream" => status.upstream = Some(value.to_string()),
        "branch.ab" => {
            for n in value.split(' ') {
                if let Some(a) = n.strip_prefix('+') {
                    status.ahead = a.parse().unwrap_or(0);
                } else if let Some(b) = n.strip_prefix('-') {
                    status.behind = b.parse().unwrap_or(0);
                }
            }
        }
        _ => {}
    }
}

/// An ordinary, renamed or unmerged entry: `XY`, then `skip` fields, then the path.
fn entry(rest: &str, skip: usize, from: Option<String>) -> Option<GitFile> {
    let mut fields = rest.splitn(skip + 2, ' ');
    let mut xy = fields.next()?.chars();
    let (index, worktree) = (xy.next()?, xy.next()?);
    let path = fields.nth(skip)?.to_string();
    Some(GitFile {
        path,
        from,
        mark: mark_of(index, worktree),
        index,
        worktree,
    })
}

fn simple(path: &str, mark: GitMark, letter: char) -> GitFile {
    GitFile {
        path: path.to_string(),
        from: None,
        mark,
        index: letter,
        worktree: letter,
    }
}

/// The mark for an ordinary entry's `XY` letters (`.` = unchanged).
fn mark_of(index: char, worktree: char) -> GitMark {
    match (index, worktree) {
        ('D', _) | (_, 'D') => GitMark::Deleted,
        ('.', _) => GitMark::Modified,
        (_, '.') => GitMark::Staged,
        _ => GitMark::StagedModified,
    }
}

/// Marks for the entries directly inside the folder at `prefix` (relative to the
/// repository root, `""` or ending in `/`), keyed by entry name.
pub(super) fn marks(files: &[GitFile], prefix: &str) -> HashMap<String, GitMark> {
    let mut marks = HashMap::new();
    for f in files {
        if f.mark == GitMark::Ignored || f.mark == GitMark::Untracked {
            continue;
        }
        put(&mut marks, prefix, &f.path, f.mark);
        if let Some(from) = &f.from {
            // The folder a file was renamed out of changed too.
            if from.strip_prefix(prefix).is_some_and(|r| r.contains('/')) {
                put(&mut marks, prefix, from, GitMark::Dirty);
            }
        }
    }
    // Untracked and ignored folders are listed as `name/`. An untracked folder counts as
    // a folder holding untracked files (dirty); an ignored folder is ignored as a whole.
    for f in files {
        let Some(rest) = f.path.strip_prefix(prefix) else {
            continue;
        };
        match (f.mark, rest.strip_suffix('/')) {
            (GitMark::Untracked, Some(dir)) if !dir.contains('/') => {
                marks.insert(dir.to_string(), GitMark::Dirty);
            }
            (GitMark::Untracked, _) => put(&mut marks, prefix, &f.path, GitMark::Untracked),
            (GitMark::Ignored, _) => {
                // Never hide a change behind "ignored".
                let name = rest.strip_suffix('/').unwrap_or(rest);
                if !name.contains('/') && !name.is_empty() {
                    marks.entry(name.to_string()).or_insert(GitMark::Ignored);
                }
            }
            _ => {}
        }
    }
    marks
}

/// Marks the entry of `dir` that `path` is or is inside of.
fn put(marks: &mut HashMap<String, GitMark>, prefix: &str, path: &str, mark: GitMark) {
    let Some(rest) = path.strip_prefix(prefix) else {
        return;
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    match rest.split_once('/') {
        // Directly here: its own mark.
        None if !rest.is_empty() => {
            marks.insert(rest.to_string(), mark);
        }
        None => {}
        // Inside a folder here: the folder holds changes.
        Some((folder, _)) => {
            marks.insert(folder.to_string(), GitMark::Dirty);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_v2_records_parse() {
        let h = "0".repeat(40);
        let out = format!(
            "# branch.oid (initial)\0# branch.head (detached)\0# stash 2\0\
             1 .M N... 100644 100644 100644 {h} {h} a dir/with space.txt\0\
             2 R. N... 100644 100644 100644 {h} {h} R100 new name\0old -> name\0\
             u UU N... 100644 100644 100644 100644 {h} {h} {h} both\0\
             ? fresh/\0! out.log\0"
        );
        let st = parse(out.as_bytes(), "/r".into());
        assert_eq!((st.branch, st.head, st.ahead), (None, None, 0));
        let got: Vec<_> = st
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.from.as_deref(), f.mark))
            .collect();
        assert_eq!(
            got,
            [
                ("a dir/with space.txt", None, GitMark::Modified),
                ("new name", Some("old -> name"), GitMark::Renamed),
                ("both", None, GitMark::Conflicted),
                ("fresh/", None, GitMark::Untracked),
                ("out.log", None, GitMark::Ignored),
            ]
        );
        let m = marks(&st.files, "");
        assert_eq!(m.get("a dir"), Some(&GitMark::Dirty));
        assert_eq!(m.get("fresh"), Some(&GitMark::Dirty));
        assert_eq!(m.get("out.log"), Some(&GitMark::Ignored));
        assert_eq!(m.get("old -> name"), None);
    }
}
