//! The `vibemesh` binary's plain command-line behaviour: help, and clear errors when
//! there is nothing to talk to or the input is wrong. (Also makes cargo build the binary
//! that the cross-crate tests in `tests/` drive.)

use std::process::Command;

fn vibemesh(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vibemesh"))
        .args(args)
        .env("VIBEMESH_HOME", home)
        .output()
        .expect("run vibemesh")
}

#[test]
fn help_lists_every_command() {
    let home = tempfile::tempdir().unwrap();
    let out = vibemesh(home.path(), &["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "agent", "pair", "join", "status", "peers", "open", "ls", "attach", "kill", "run", "play",
    ] {
        assert!(text.contains(cmd), "help lacks {cmd}:\n{text}");
    }
}

#[test]
fn commands_without_an_agent_say_how_to_start_one() {
    let home = tempfile::tempdir().unwrap();
    for args in [&["ls"][..], &["status"], &["pair"], &["peers"]] {
        let out = vibemesh(home.path(), args);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no agent is running") && err.contains("vibemesh agent"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_broken_config_stops_the_agent_with_the_line_to_fix() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("config.toml"), "relay = 5\n").unwrap();
    let out = vibemesh(home.path(), &["agent"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("config.toml") && err.contains("relay"),
        "{err}"
    );
}

#[test]
fn play_refuses_a_file_that_is_not_a_recording() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("x.cast");
    std::fs::write(&file, "hello\n").unwrap();
    let out = vibemesh(home.path(), &["play", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("x.cast") && err.contains("line 1"), "{err}");
}
