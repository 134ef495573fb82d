//! Commands whose reader goes away (`vibemesh ls --json | head -c1`) end quietly: no
//! panic, no message, and the exit `ls` and `git log` have there (killed by SIGPIPE,
//! which a shell shows as 141).

use std::{
    os::unix::process::ExitStatusExt,
    process::{Command, Stdio},
};

use nix::sys::signal::Signal;
use vibemesh_tests::{TestAgent, files::write_random, vibemesh_bin};

/// Runs `vibemesh <args>` with a stdout pipe whose reader is gone before anything is
/// printed, and checks it ends as `ls` would.
fn reader_gone(agent: &TestAgent, args: &[&str]) {
    let mut child = Command::new(vibemesh_bin())
        .args(args)
        .env("VIBEMESH_HOME", agent.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run vibemesh");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for vibemesh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.is_empty(), "vibemesh {args:?} said: {err}");
    assert_eq!(
        out.status.signal(),
        Some(Signal::SIGPIPE as i32),
        "vibemesh {args:?} ended with {}",
        out.status
    );
}

#[test]
fn every_kind_of_output_ends_quietly_when_its_reader_goes_away() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let agent = TestAgent::start_with("box", &format!("roots = [{:?}]", root.to_str().unwrap()));
    let git = Command::new("git")
        .args(["init", "-q"])
        .arg(&root)
        .status()
        .expect("git init");
    assert!(git.success());
    let file = root.join("big");
    write_random(&file, 1 << 20, 3);
    let cast = root.join("rec.cast");
    std::fs::write(
        &cast,
        "{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.0, \"o\", \"hello\\r\\n\"]\n",
    )
    .unwrap();
    let (root, file, cast) = (
        root.to_str().unwrap(),
        file.to_str().unwrap(),
        cast.to_str().unwrap(),
    );
    for args in [
        &["ls", "--json"][..],
        &["ls"],
        &["status"],
        &["peers", "--json"],
        &["ls-files", "local", root],
        &["cat", "local", file],
        &["play", cast],
        &["git", "local", root, "status"],
        &["open", "local", "--detached", "--", "true"],
        &["run", "--", "seq", "1", "100000"],
    ] {
        reader_gone(&agent, args);
    }
}
