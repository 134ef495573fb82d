//! `vibemesh ls-files`, `cat` and `cp`: files on a peer from the command line.
//!
//! SKELETON: being implemented.

use std::process::ExitCode;

use vibemesh_core::proto::local::Target;

use crate::config::Home;

/// `vibemesh ls-files <peer> [path]`: a folder's entries with sizes, times and git marks.
pub async fn ls_files(
    home: &Home,
    target: Target,
    path: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let _ = (home, target, path, json);
    anyhow::bail!("ls-files is not available yet")
}

/// `vibemesh cat <peer> <path>`: a file's bytes to stdout (streamed, any size).
pub async fn cat(home: &Home, target: Target, path: &str) -> anyhow::Result<ExitCode> {
    let _ = (home, target, path);
    anyhow::bail!("cat is not available yet")
}

/// `vibemesh cp <from> <to>`: one side is `peer:path`, the other a local path.
pub async fn cp(home: &Home, from: &str, to: &str) -> anyhow::Result<ExitCode> {
    let _ = (home, from, to);
    anyhow::bail!("cp is not available yet")
}
