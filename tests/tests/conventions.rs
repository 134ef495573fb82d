//! The command line follows the conventions of its ecosystem where a real agent is needed
//! to see it: plain-text logs off a terminal, and a `~` the local shell expanded explained.

use std::process::Command;

use vibemesh_tests::{TestAgent, pair, vibemesh_bin};

#[test]
fn agent_logs_are_plain_text_when_stderr_is_not_a_terminal() {
    // The test harness reads the agent's stderr through a pipe, as journald does.
    let agent = TestAgent::start("plain");
    let log = agent.log();
    assert!(log.contains("agent started"), "{log}");
    assert!(!log.contains('\x1b'), "colour codes in a log: {log:?}");
}

#[test]
fn a_home_the_local_shell_expanded_is_explained() {
    let laptop = TestAgent::start("laptop");
    let server = TestAgent::start("server");
    pair(&laptop, &server, "box", "owner");
    // This machine's home, as the shell would have expanded `~/src/app`; the peer's home
    // (the test's own) has no such folder.
    let home = tempfile::tempdir().unwrap();
    let expanded = home.path().join("src/app");
    let run = |args: &[&str]| {
        let out = Command::new(vibemesh_bin())
            .args(args)
            .env("VIBEMESH_HOME", laptop.path())
            .env("HOME", home.path())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let path = expanded.to_str().unwrap();
    for args in [
        &["ls-files", "box", path][..],
        &["cat", "box", path],
        &["open", "box", "--path", path, "--detached"],
    ] {
        let err = run(args);
        assert!(
            err.contains("quote it: '~/src/app'") && err.contains("box's home"),
            "{args:?}: {err}"
        );
    }
    // The same path on this machine is what the user meant: no hint.
    let err = run(&["ls-files", "local", path]);
    assert!(!err.contains("hint:"), "{err}");
}
