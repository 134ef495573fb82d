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

#[test]
fn version_names_the_commit() {
    let home = tempfile::tempdir().unwrap();
    let out = vibemesh(home.path(), &["--version"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    // `vibemesh 0.1.0 (commit 1a2b3c4d5e6f)`: the commit of this checkout; then the JSON
    // schema (tests/tests/conventions.rs).
    let commit = text
        .lines()
        .next()
        .unwrap_or_default()
        .strip_suffix(')')
        .and_then(|t| t.rsplit_once("(commit "))
        .map(|(_, c)| c.to_string())
        .unwrap_or_default();
    assert!(
        text.starts_with(concat!("vibemesh ", env!("CARGO_PKG_VERSION"), " (commit "))
            && commit.len() == 12
            && commit.bytes().all(|b| b.is_ascii_hexdigit()),
        "{text}"
    );
}

#[test]
fn completions_come_from_the_command_line_itself() {
    let home = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F _vibemesh"),
        ("zsh", "#compdef vibemesh"),
        ("fish", "complete -c vibemesh"),
    ] {
        let out = vibemesh(home.path(), &["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        // Every command completes, including ones added later (`ls-files`, `wait-path`).
        for cmd in ["open", "attach", "ls-files", "wait-path", "completions"] {
            assert!(script.contains(cmd), "{shell} lacks {cmd}");
        }
    }
    let out = vibemesh(home.path(), &["completions", "tcsh"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values"));
}

#[test]
fn man_pages_cover_every_command() {
    let home = tempfile::tempdir().unwrap();
    let out = vibemesh(home.path(), &["man"]);
    assert!(out.status.success());
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.contains(".TH vibemesh 1") && page.contains("open"),
        "{page}"
    );

    let dir = home.path().join("man1");
    std::fs::create_dir(&dir).unwrap();
    let out = vibemesh(home.path(), &["man", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in [
        "vibemesh.1",
        "vibemesh-open.1",
        "vibemesh-peers-remove.1",
        "vibemesh-git-diff.1",
    ] {
        let page = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        assert!(
            page.starts_with(".ie") && page.contains(".TH"),
            "{name}: {page}"
        );
        // Pages are for every user of the machine (they were written 0600 once).
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(name)).map_or(0, |m| m.permissions().mode());
        assert_eq!(mode & 0o044, 0o044, "{name}: {mode:o}");
    }
    // Nothing half-written is left beside them.
    let stray: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().ends_with(".1"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}
