//! Stamps the commit the binaries were built from, for `--version`.
//!
//! `VIBEMESH_COMMIT` wins (a build from a source tarball has no repository); else
//! `git rev-parse`; else "unknown". Reruns when the checked-out commit moves.

use std::{path::Path, process::Command};

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (out.status.success() && !text.is_empty()).then(|| text.to_string())
}

/// Tells cargo to rerun when `git_path` (as `git rev-parse --git-path` names it) changes,
/// if it exists: a missing file would rerun this on every build.
fn watch(git_path: &str) {
    if let Some(path) = git(&["rev-parse", "--git-path", git_path])
        && Path::new(&path).exists()
    {
        println!("cargo:rerun-if-changed={path}");
    }
}

fn main() {
    println!("cargo:rerun-if-env-changed=VIBEMESH_COMMIT");
    let commit = std::env::var("VIBEMESH_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    watch("HEAD");
    watch("packed-refs");
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch(&branch);
    }
    println!("cargo:rustc-env=VIBEMESH_COMMIT={commit}");
}
