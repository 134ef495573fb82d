//! Keeping git inside the roots: the work tree, the git folder, the common git folder and
//! every object store git reads must be inside the folders the agent shares.
//!
//! A folder inside a root can borrow a repository from anywhere: a `.git` file naming an
//! outside git folder, a linked work tree whose `commondir` is outside, `core.worktree`,
//! an `objects/info/alternates` entry, or a link inside `objects`. git would then show
//! that repository's files, history and diffs. Each of those places is resolved with
//! [`Files::resolve`] (links followed) and must land inside a root.

use std::{
    collections::HashSet,
    fs,
    io::{self, Read},
    os::unix::ffi::OsStrExt,
    path::{Path, PathBuf},
};

use vibemesh_core::{ErrorCode, WireError};

use crate::files::Files;

/// How deep git follows alternates of alternates (object-file.c: deeper is ignored).
const ALT_DEPTH: usize = 5;
/// The most object stores checked for one repository; more is refused.
const MAX_STORES: usize = 32;
/// The largest alternates file read (git reads any; nobody writes this much).
const ALT_MAX: u64 = 64 * 1024;

/// The folders `git rev-parse` reported for a folder, all absolute and real.
pub(super) struct Found {
    /// The folder the request is about.
    pub dir: PathBuf,
    /// `--show-toplevel`.
    pub top: String,
    /// `--git-dir`.
    pub git_dir: String,
    /// `--git-common-dir`.
    pub common: String,
}

/// Refuses the repository unless everything git reads for it is inside the roots.
pub(super) fn check(files: &Files, found: &Found) -> Result<(), WireError> {
    let c = Confine {
        files,
        dir: &found.dir,
    };
    c.inside(&found.top, "starts at")?;
    c.inside(&found.git_dir, "keeps its git folder at")?;
    c.inside(
        &found.common,
        "keeps the git folder its work trees share at",
    )?;
    let mut seen = HashSet::new();
    c.store(&Path::new(&found.common).join("objects"), 0, &mut seen)
}

struct Confine<'a> {
    files: &'a Files,
    dir: &'a Path,
}

impl Confine<'_> {
    /// The refusal for a repository that `how` `path`.
    fn outside(&self, how: &str, path: &Path) -> WireError {
        let place = match fs::canonicalize(path) {
            Ok(real) if real != path => {
                format!("{} (a link to {})", path.display(), real.display())
            }
            _ => path.display().to_string(),
        };
        WireError::new(
            ErrorCode::OutsideRoots,
            format!(
                "the git repository around {} {how} {place}, outside the folders this agent \
                 shares",
                self.dir.display(),
            ),
        )
    }

    /// `path` resolved (links followed), or the refusal when it is not inside a root.
    fn inside(&self, path: impl AsRef<Path>, how: &str) -> Result<PathBuf, WireError> {
        let path = path.as_ref();
        // A path that is not UTF-8 cannot be checked (the guard takes text): refused.
        let text = path.to_str().ok_or_else(|| self.outside(how, path))?;
        self.files
            .resolve(text)
            .map_err(|_| self.outside(how, path))
    }

    /// Checks the object store at `objects`, the links directly in it and in its `pack`
    /// folder, and its alternates, `depth` alternates deep.
    fn store(
        &self,
        objects: &Path,
        depth: usize,
        seen: &mut HashSet<PathBuf>,
    ) -> Result<(), WireError> {
        let how = "reads objects from";
        let real = self.inside(objects, how)?;
        if !seen.insert(real.clone()) {
            return Ok(());
        }
        if seen.len() > MAX_STORES {
            return Err(WireError::new(
                ErrorCode::BadRequest,
                format!(
                    "the git repository around {} borrows objects from more than \
                     {MAX_STORES} places (objects/info/alternates); too many to check",
                    self.dir.display()
                ),
            ));
        }
        for folder in [real.clone(), real.join("pack")] {
            self.links(&folder, how)?;
        }
        if depth > ALT_DEPTH {
            return Ok(());
        }
        let file = real.join("info").join("alternates");
        let Some(list) = self.read_alternates(&file)? else {
            return Ok(());
        };
        for entry in alternates(&list) {
            let path = Path::new(std::ffi::OsStr::from_bytes(&entry));
            // Relative entries are relative to the store that lists them.
            self.store(&real.join(path), depth + 1, seen)?;
        }
        Ok(())
    }

    /// Checks every link directly in `folder` (a fan-out folder, `pack`, `info` or one
    /// pack file linked from elsewhere is read through it).
    fn links(&self, folder: &Path, how: &str) -> Result<(), WireError> {
        let entries = match fs::read_dir(folder) {
            Ok(e) => e,
            Err(e) if is_missing(&e) => return Ok(()),
            Err(e) => return Err(self.unreadable(folder, &e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| self.unreadable(folder, &e))?;
            let link = entry.file_type().is_ok_and(|t| t.is_symlink());
            if link {
                self.inside(entry.path(), how)?;
            }
        }
        Ok(())
    }

    /// The alternates file at `file`, `None` when there is none.
    fn read_alternates(&self, file: &Path) -> Result<Option<Vec<u8>>, WireError> {
        let opened = match fs::File::open(file) {
            Ok(f) => f,
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => return Err(self.unreadable(file, &e)),
        };
        let mut list = Vec::new();
        opened
            .take(ALT_MAX + 1)
            .read_to_end(&mut list)
            .map_err(|e| self.unreadable(file, &e))?;
        if list.len() as u64 > ALT_MAX {
            return Err(WireError::new(
                ErrorCode::TooLarge,
                format!(
                    "{} is over {} KiB; too large to check",
                    file.display(),
                    ALT_MAX / 1024
                ),
            ));
        }
        Ok(Some(list))
    }

    /// The refusal when part of the repository cannot be read to be checked.
    fn unreadable(&self, path: &Path, e: &io::Error) -> WireError {
        WireError::new(
            ErrorCode::Internal,
            format!(
                "cannot check the git repository around {}: reading {} failed: {e}",
                self.dir.display(),
                path.display()
            ),
        )
    }
}

fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// The entries of an alternates file, split exactly as git splits them (object-file.c,
/// `parse_alt_odb_entry`): one a line, `#` starts a comment, an entry starting with `"`
/// is C-quoted when its quoting is valid (a quoted entry may hold a line break), empty
/// entries are skipped. git reads the file as a C string: nothing after a NUL counts.
fn alternates(list: &[u8]) -> Vec<Vec<u8>> {
    let list = list.split(|&b| b == 0).next().unwrap_or_default();
    let line_end = |from: usize| {
        list[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(list.len(), |n| from + n)
    };
    let mut out = Vec::new();
    let mut at = 0;
    while at < list.len() {
        let (entry, end) = match list[at] {
            b'#' => (Vec::new(), line_end(at)),
            b'"' => match unquote(&list[at..]) {
                Some((entry, used)) => (entry, at + used),
                None => (list[at..line_end(at)].to_vec(), line_end(at)),
            },
            _ => (list[at..line_end(at)].to_vec(), line_end(at)),
        };
        // git steps over one byte after an entry, whatever it is (normally the line break).
        at = if end < list.len() { end + 1 } else { end };
        if !entry.is_empty() {
            out.push(entry);
        }
    }
    out
}

/// git's `unquote_c_style`: the text of a `"`-quoted string at the start of `s` and the
/// bytes it took (with both quotes), or `None` when the quoting is broken.
fn unquote(s: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let mut i = 1;
    loop {
        match *s.get(i)? {
            b'"' => return Some((out, i + 1)),
            b'\\' => {
                let c = *s.get(i + 1)?;
                i += 2;
                out.push(match c {
                    b'a' => 0x07,
                    b'b' => 0x08,
                    b'f' => 0x0c,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'v' => 0x0b,
                    b'\\' | b'"' => c,
                    b'0'..=b'3' => {
                        let digit =
                            |at: usize| s.get(at).copied().filter(|b| (b'0'..=b'7').contains(b));
                        let (d2, d3) = (digit(i)?, digit(i + 1)?);
                        i += 2;
                        ((c - b'0') << 6) | ((d2 - b'0') << 3) | (d3 - b'0')
                    }
                    _ => return None,
                });
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternates_split_as_git_splits_them() {
        let got = alternates(
            b"/abs/objects\n# a comment\n\nrel/objects\n\"/quo\\164ed\\nline\"\n\
              \"broken\\q\n\"/x\"yz\n/after\0/hidden\n",
        );
        let want: Vec<&[u8]> = vec![
            b"/abs/objects",
            b"rel/objects",
            b"/quoted\nline",
            b"\"broken\\q",
            b"/x",
            b"z",
            b"/after",
        ];
        assert_eq!(got, want);
        assert!(alternates(b"").is_empty());
        assert_eq!(alternates(b"\"a\"").len(), 1);
        assert_eq!(alternates(b"\"unterminated").len(), 1);
    }
}
