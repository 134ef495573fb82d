//! Live terminals between two real agents, driven through the real `vibemesh` CLI in
//! real PTYs: what a user types, and what their screen then shows.

use vibemesh_tests::{SHELL, TestAgent, pair};

/// Agent `a` (the laptop) paired as owner with agent `b` (the server, "build-box").
fn laptop_and_server() -> (TestAgent, TestAgent) {
    let a = TestAgent::start("laptop");
    let b = TestAgent::start("server");
    pair(&a, &b, "build-box", "owner");
    (a, b)
}

fn session_id(a: &TestAgent, peer: &str) -> String {
    let list = a.json(&["ls", peer]);
    list[0]["id"].as_str().expect("a session").to_string()
}

/// The lines of `screen` up to and including the first that contains `marker`.
fn upto(screen: &str, marker: &str) -> String {
    let mut out = Vec::new();
    for line in screen.lines() {
        out.push(line.trim_end());
        if line.contains(marker) {
            return out.join("\n");
        }
    }
    panic!("{marker} not on screen:\n{screen}");
}

#[test]
fn open_type_resize_watch_detach_reattach_and_exit_code() {
    let (a, _b) = laptop_and_server();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let open = [&["open", "build-box", "--path", path, "--"][..], SHELL].concat();
    let mut t = a.term(&open, 24, 80);

    // The shell starts in the folder asked for and runs what we type.
    t.line("pwd; echo out-$((6*7))");
    let screen = t.wait_text("out-42");
    assert!(screen.contains(path), "not started in {path}:\n{screen}");
    t.line("stty size");
    t.wait_text("24 80");

    // The remote terminal follows our size.
    t.resize(30, 100);
    t.line("stty size");
    t.wait_text("30 100");

    // A second viewer sees the same screen, and both see new output.
    let id = session_id(&a, "build-box");
    let mut t2 = a.term(&["attach", "build-box", &id], 30, 100);
    t2.wait_text("out-42");
    t.line("echo both-$((2+3))");
    t.wait_text("both-5");
    t2.wait_text("both-5");
    let list = a.json(&["ls", "build-box"]);
    assert_eq!(list[0]["viewers"], 2, "{list}");

    // Detach the second viewer with Enter ~ . : the session goes on.
    t2.send("\r~.");
    assert_eq!(t2.wait_exit(), 0);
    assert!(t2.screen().contains("detached from"), "{}", t2.screen());

    // Re-attaching brings the same screen back.
    t.line("echo marker-$((1+1))");
    let live = upto(&t.wait_text("marker-2"), "marker-2");
    let t3 = a.term(&["attach", "build-box", &id[..5]], 30, 100);
    let again = upto(&t3.wait_text("marker-2"), "marker-2");
    assert_eq!(live, again, "re-attached screen differs");

    // The program's exit code comes back to the user and stays in the listing.
    t.line("exit 7");
    assert_eq!(t.wait_exit(), 7);
    assert!(t.screen().contains("ended: exit 7"), "{}", t.screen());
    let list = a.json(&["ls", "build-box"]);
    assert_eq!(list[0]["status"]["exited"]["code"], 7, "{list}");

    // Killing an exited session forgets it.
    a.ok(&["kill", "build-box", &id]);
    assert_eq!(a.json(&["ls", "build-box"]), serde_json::json!([]));
}

#[test]
fn kill_ends_the_whole_process_group_even_when_it_ignores_hangups() {
    let (a, _b) = laptop_and_server();
    let dir = tempfile::tempdir().unwrap();
    let id = a.open_detached(
        "build-box",
        dir.path(),
        &[
            "bash",
            "--norc",
            "-c",
            "trap '' HUP TERM; sleep 1000 & echo bg=$!; wait",
        ],
    );
    let t = a.term(&["attach", "build-box", &id], 24, 80);
    let screen = t.wait_text("bg=");
    let pid: u32 = screen
        .split("bg=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .expect("background pid");
    let out = a.ok(&["kill", "build-box", &id]);
    assert!(out.contains("Killed session"), "{out}");
    // The viewer is told, and the background job that ignored SIGHUP and SIGTERM is gone.
    t.wait_text("ended");
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let alive = state
        .split(") ")
        .nth(1)
        .is_some_and(|s| !s.starts_with('Z'));
    assert!(!alive, "background job {pid} survived: {state}");
    assert_eq!(a.json(&["ls", "build-box"]), serde_json::json!([]));
}

#[test]
fn run_shares_a_local_command_with_paired_peers() {
    let a = TestAgent::start("laptop");
    let b = TestAgent::start("server");
    // b watches a: b joins a's ticket.
    pair(&b, &a, "laptop", "viewer");
    let run = [&["run", "--title", "shared", "--"][..], SHELL].concat();
    let mut local = a.term(&run, 24, 80);
    local.line("echo shared-$((40+2))");
    local.wait_text("shared-42");
    let list = b.json(&["ls", "laptop"]);
    assert_eq!(list[0]["title"], "shared", "{list}");
    let id = list[0]["id"].as_str().unwrap().to_string();
    let watcher = b.term(&["attach", "laptop", &id], 24, 80);
    watcher.wait_text("shared-42");
    local.line("echo later");
    watcher.wait_text("later");
    local.line("exit");
    assert_eq!(local.wait_exit(), 0);
    watcher.wait_text("ended: exit 0");
}

#[test]
fn status_and_peers_show_both_directions() {
    let (a, b) = laptop_and_server();
    let status = a.json(&["status"]);
    assert_eq!(status["name"], "laptop");
    assert_eq!(status["relay"], "none");
    let peer = &status["peers"][0];
    assert_eq!(peer["name"], "build-box");
    assert_eq!(peer["online"], true, "{status}");
    assert_eq!(peer["path"], "direct", "{status}");
    assert!(peer["rtt_us"].as_u64().is_some(), "{status}");
    let text = a.ok(&["status"]);
    assert!(
        text.contains("build-box") && text.contains("online") && text.contains("direct"),
        "{text}"
    );

    let on_b = b.json(&["peers"]);
    assert_eq!(on_b[0]["name"], "laptop");
    assert_eq!(on_b[0]["allowed"], "owner");
    assert!(on_b[0]["last_seen_ms"].as_u64().is_some(), "{on_b}");
    let on_a = a.json(&["peers"]);
    assert_eq!(on_a[0]["name"], "build-box");
    assert_eq!(on_a[0]["our_role"], "owner");
}

#[test]
fn the_session_takes_the_size_of_the_owner_who_typed_last() {
    let (a, _b) = laptop_and_server();
    let dir = tempfile::tempdir().unwrap();
    let id = a.open_detached("build-box", dir.path(), SHELL);
    let mut small = a.term(&["attach", "build-box", &id], 24, 80);
    // Attached (its size applied) before the big one comes and types.
    small.wait_for("the prompt", |s| !s.trim().is_empty());
    let mut big = a.term(&["attach", "build-box", &id], 40, 120);
    big.line("stty size");
    big.wait_text("40 120");
    small.line("stty size");
    small.wait_text("24 80");
    let list = a.json(&["ls", "build-box"]);
    assert_eq!(
        list[0]["size"],
        serde_json::json!({"rows": 24, "cols": 80}),
        "{list}"
    );
}

#[test]
fn pair_prints_a_ticket_and_a_qr_code_that_fit_80x24() {
    let b = TestAgent::start("server");
    let out = b.ok(&["pair"]);
    let lines: Vec<&str> = out.lines().collect();
    let rows: usize = lines
        .iter()
        .map(|l| l.chars().count().max(1).div_ceil(80))
        .sum();
    assert!(
        rows <= 24,
        "pair output takes {rows} rows of 80 columns:\n{out}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains('\u{2580}') || l.contains('\u{2588}')),
        "no QR code:\n{out}"
    );
    let cmd = lines.last().unwrap();
    assert!(cmd.starts_with("vibemesh join VM2"), "{out}");
}

/// A session opened with no command runs the login shell, and its title names the shell
/// that really runs, also where `$SHELL` names no program (or is unset, as under CI):
/// then the password database's shell runs, and the title once said "zsh" or "sh".
#[test]
fn a_default_session_is_titled_by_the_shell_it_runs() {
    let agent = TestAgent::start_env("box", "", &[("SHELL", "/nonexistent/zsh")]);
    let dir = tempfile::tempdir().unwrap();
    let id = agent.open_detached("local", dir.path(), &[]);
    let mut viewer = agent.term(&["attach", "local", &id], 24, 80);
    viewer.line("echo RUNS-$((6*7))-$(basename $(readlink /proc/$$/exe))");
    let screen = viewer.wait_for("the shell's name", |s| s.contains("RUNS-42-"));
    let running: String = screen
        .split("RUNS-42-")
        .nth(1)
        .unwrap_or_default()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    assert!(!running.is_empty(), "{screen}");
    let ls = agent.json(&["ls", "local"]);
    assert_eq!(ls[0]["title"], running.as_str(), "{ls}");
}
