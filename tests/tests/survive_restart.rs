//! Sessions outlive the agent: kill -9 it mid-output, stop it, swap its binary, and the
//! next agent adopts every session with its screen and scrollback, while an attached CLI
//! reconnects by itself.

use std::path::{Path, PathBuf};

use vibemesh_tests::{SHELL, Term, TestAgent, vibemesh_bin};

/// The inodes of every IP socket on the machine (TCP and UDP, v4 and v6).
fn ip_socket_inodes() -> Vec<String> {
    ["tcp", "tcp6", "udp", "udp6"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(format!("/proc/net/{f}")).ok())
        .flat_map(|t| {
            t.lines()
                .skip(1)
                .filter_map(|l| l.split_whitespace().nth(9).map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn attach(agent: &TestAgent, bin: &Path, id: &str, extra: &[&str]) -> Term {
    let mut args = vec!["attach", "local", id];
    args.extend_from_slice(extra);
    Term::spawn(bin, &args, &[("VIBEMESH_HOME", agent.path())], 24, 80)
}

/// A screen's text without the CLI's own status lines.
fn program_screen(text: &str) -> String {
    text.lines()
        .filter(|l| !l.contains("[vibemesh"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_string()
}

#[test]
fn kill_9_mid_output_keeps_the_session_and_the_attached_cli_reconnects() {
    let agent = TestAgent::start("box");
    let dir = tempfile::tempdir().unwrap();
    let script = "read go; seq 1 2000000; echo SEQ-DONE; exec bash --norc --noprofile";
    let id = agent.open_detached("local", dir.path(), &["sh", "-c", script]);
    let holder = agent
        .holder_pid(&id)
        .expect("the session has a holder process");
    let mut t = attach(&agent, &vibemesh_bin(), &id, &[]);
    t.line("go");
    // Output is flowing: kill the agent in the middle of it.
    t.wait_for("output flowing", |s| {
        s.lines().any(|l| l.trim().parse::<u32>().is_ok())
    });
    let home = agent.crash();
    t.wait_text("reconnecting");
    // The program kept running without an agent: it finishes on its own.
    let agent = TestAgent::spawn(home, "box");
    // The CLI reconnected by itself, and nothing was lost at the end of the flood.
    let s = t.wait_text("SEQ-DONE");
    assert!(s.contains("1999999\n2000000\nSEQ-DONE"), "{s}");
    t.line("echo alive-$((40+2))");
    t.wait_text("alive-42");
    assert_eq!(agent.holder_pid(&id), Some(holder), "same holder");
    let ls = agent.json(&["ls", "local"]);
    assert_eq!(ls[0]["id"], id.as_str());
    assert_eq!(ls[0]["status"], "running", "{ls}");

    // Quiet now: the screen after a second crash is exactly the screen before it.
    t.line("clear; for i in $(seq 1 60); do echo history-$i; done; echo quiet");
    t.wait_for("quiet prompt", |s| s.contains("quiet\n"));
    let before = program_screen(&t.screen());
    let home = agent.crash();
    t.wait_text("reconnecting");
    let agent = TestAgent::spawn(home, "box");
    let after = t.wait_for("the same screen", |s| program_screen(s) == before);
    assert!(after.contains("history-60"), "{after}");
    // Scrollback came back too: a fresh attach asking for 50 lines gets history-10.
    let fresh = attach(&agent, &vibemesh_bin(), &id, &["--scrollback", "50"]);
    fresh.wait_text("history-60");
    let history = fresh.scrollback_text();
    assert!(
        history.contains("history-20") && history.contains("history-11"),
        "{history}"
    );
    // Typed after the restart, typed once.
    t.line("echo once-$((1+1))");
    let s = t.wait_text("once-2\n");
    assert_eq!(s.matches("once-2\n").count(), 1, "{s}");
    agent.ok(&["kill", "local", &id]);
}

#[test]
fn a_stopped_agent_replaced_by_a_new_binary_adopts_the_sessions() {
    let agent = TestAgent::start("box");
    let dir = tempfile::tempdir().unwrap();
    let id = agent.open_detached("local", dir.path(), SHELL);
    let mut t = attach(&agent, &vibemesh_bin(), &id, &[]);
    t.line("export MARK=kept-$((6*7)); echo $MARK");
    t.wait_text("kept-42");

    // The holder is small and has no network: no IP sockets, and it is not the agent.
    let holder = agent.holder_pid(&id).expect("holder");
    let inodes = ip_socket_inodes();
    let fds: Vec<String> = std::fs::read_dir(format!("/proc/{holder}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .map(|l| l.display().to_string())
        .collect();
    for fd in &fds {
        if let Some(inode) = fd
            .strip_prefix("socket:[")
            .and_then(|s| s.strip_suffix(']'))
        {
            assert!(
                !inodes.iter().any(|i| i == inode),
                "the holder has an IP socket: {fds:?}"
            );
        }
    }

    // An upgrade: a clean stop (what systemd's restart does), then another binary.
    let home = agent.stop();
    t.wait_text("reconnecting");
    let new_bin = tempfile::tempdir().unwrap();
    let copy = |name: &str| -> PathBuf {
        let src = vibemesh_bin().with_file_name(name);
        let dst = new_bin.path().join(name);
        std::fs::copy(&src, &dst).unwrap();
        dst
    };
    let bin = copy("vibemesh");
    copy("vibemesh-holder");
    let agent = TestAgent::spawn_bin(home, "box", &bin, &[]);
    t.wait_for("reattached", |s| !s.contains("reconnecting in"));
    t.line("echo still-$MARK");
    t.wait_text("still-kept-42");
    assert_eq!(agent.holder_pid(&id), Some(holder), "same holder");
    // Sessions the new agent starts work as well.
    let other = agent.open_detached("local", dir.path(), &["sh", "-c", "echo new-one; sleep 60"]);
    let t2 = attach(&agent, &bin, &other, &[]);
    t2.wait_text("new-one");
    agent.ok(&["kill", "local", &id]);
    agent.ok(&["kill", "local", &other]);
    assert_eq!(
        agent.holder_pid(&id),
        None,
        "the holder exits with its session"
    );
}
