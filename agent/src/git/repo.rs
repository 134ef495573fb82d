//! Opening the repository around a folder: git looks at it only when everything it would
//! read is inside the roots ([`confine`]) and its own config names no program git would
//! run ([`trust`]).

use std::path::{Path, PathBuf};

use vibemesh_core::{ErrorCode, WireError};

use super::{
    RAW_MAX, confine,
    run::{Fail, git},
    trust,
};
use crate::files::Files;

/// A repository git may look at.
#[derive(Debug)]
pub(super) struct Repo {
    /// The work tree's top folder.
    pub top: PathBuf,
    /// The folder asked about, relative to `top`: `""` or ending in `/`.
    pub prefix: String,
}

/// Where the repository is, in one call: work tree, git folder, common git folder (all
/// absolute and real), and the folder relative to the work tree; one a line.
const WHERE: &[&str] = &[
    "rev-parse",
    "--path-format=absolute",
    "--show-toplevel",
    "--git-dir",
    "--git-common-dir",
    "--show-prefix",
];

/// Opens the repository around `dir` (already resolved inside the roots), or refuses it.
pub(super) async fn open(files: &Files, dir: &Path) -> Result<Repo, WireError> {
    // Both only read; neither runs anything the repository chose.
    let (paths, config) = tokio::join!(
        git(dir, WHERE, 64 * 1024),
        git(dir, trust::CONFIG_ARGS, RAW_MAX)
    );
    let paths = paths.map_err(|f| f.into_wire(dir))?;
    let [top, git_dir, common, prefix] = lines(&paths).ok_or_else(|| {
        WireError::new(
            ErrorCode::OutsideRoots,
            format!(
                "the git repository around {} has a path that is not UTF-8 or holds a line \
                 break; it cannot be checked against the folders this agent shares",
                dir.display()
            ),
        )
    })?;
    if top.is_empty() {
        // A bare repository has no work tree.
        return Err(Fail::NotARepo.into_wire(dir));
    }
    let found = confine::Found {
        dir: dir.to_path_buf(),
        top: top.to_string(),
        git_dir: git_dir.to_string(),
        common: common.to_string(),
    };
    // Resolving follows links on disk: off the async threads.
    let files = files.clone();
    tokio::task::spawn_blocking(move || confine::check(&files, &found))
        .await
        .map_err(|e| {
            WireError::new(ErrorCode::Internal, format!("checking the repository: {e}"))
        })??;
    let top = PathBuf::from(top);
    trust::check(&config.map_err(|f| f.into_wire(&top))?, &top)?;
    Ok(Repo {
        top,
        prefix: prefix.to_string(),
    })
}

/// The four lines of [`WHERE`]'s output, if it is UTF-8 and has exactly four (a path
/// holding a line break would make more).
fn lines(out: &[u8]) -> Option<[&str; 4]> {
    let text = std::str::from_utf8(out).ok()?;
    let text = text.strip_suffix('\n')?;
    let mut it = text.split('\n');
    let four = [it.next()?, it.next()?, it.next()?, it.next()?];
    it.next().is_none().then_some(four)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_output_is_four_lines() {
        assert_eq!(
            lines(b"/r\n/r/.git\n/r/.git\nsub/\n"),
            Some(["/r", "/r/.git", "/r/.git", "sub/"])
        );
        assert_eq!(
            lines(b"/r\n/r/.git\n/r/.git\n\n"),
            Some(["/r", "/r/.git", "/r/.git", ""])
        );
        assert_eq!(lines(b"/r\nx\n/r/.git\n/r/.git\n\n"), None);
        assert_eq!(lines(b"/r\n/r/.git\n/r/.git\n"), None);
        assert_eq!(lines(b"/r\xff\n/r/.git\n/r/.git\n\n"), None);
    }
}
