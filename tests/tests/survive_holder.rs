//! Nothing a program prints, nor a holder that stops answering, wedges a session: a
//! title of a megabyte, titles and command lines too large to list together, a holder
//! frozen with SIGSTOP. Viewers keep seeing output, listings keep working for everyone,
//! restarts do not wait on a frozen holder, and `kill` answers in time and says what it
//! did.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use vibemesh_core::{
    proto::{bounds::FIELD_MAX, bounds::TITLE_MAX, control::Event},
    text::CUT_MARK,
};
use vibemesh_tests::{TIMEOUT, TestAgent, pair};

/// Prints BEFORE, waits for a line, prints a title of 1.1 MB, then AFTER lines forever.
const HUGE_TITLE: &str = r#"import sys, time
print('BEFORE', flush=True)
sys.stdin.readline()
sys.stdout.write('\x1b]0;' + 'T' * 1100000 + '\x07')
sys.stdout.flush()
for i in range(100000):
    print('AFTER', i, flush=True)
    time.sleep(0.2)
"#;

/// Sets a title of 600 KB and waits.
const BIG_TITLE: &str = r#"import time
print('\x1b]2;' + 'T' * 600000 + '\x07', flush=True)
time.sleep(600)
"#;

/// How long an agent may take to start: far less than the 10 s an unanswered adoption
/// used to cost.
const QUICK_START: Duration = Duration::from_secs(7);
/// How long a kill may take to answer.
const KILL_BOUND: Duration = Duration::from_secs(6);

/// The highest `AFTER n` on a screen.
fn last_after(screen: &str) -> Option<u32> {
    screen
        .lines()
        .filter_map(|l| l.trim().strip_prefix("AFTER ")?.parse().ok())
        .max()
}

/// Waits until `ls --json` on `agent` satisfies `done`; returns that listing.
fn wait_listing(
    agent: &TestAgent,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let ls = agent.json(&["ls", "local"]);
        if done(&ls) {
            return ls;
        }
        assert!(Instant::now() < deadline, "never {what}: {ls}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until process `pid` is gone (or a zombie nobody needs).
fn wait_gone(pid: u32, what: &str) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|s| s.split_whitespace().next());
        if matches!(state, None | Some("Z")) {
            return;
        }
        assert!(Instant::now() < deadline, "{what} (pid {pid}) still runs");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The program a holder runs: its child.
fn child_of(holder: u32) -> u32 {
    std::fs::read_dir(format!("/proc/{holder}/task"))
        .expect("the holder's threads")
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .find_map(|c| c.split_whitespace().next()?.parse().ok())
        .expect("the holder has a child")
}

fn signal(pid: u32, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig).expect("signal");
}

#[test]
fn a_title_of_a_megabyte_wedges_nothing() {
    let agent = TestAgent::start("box");
    let dir = tempfile::tempdir().unwrap();
    let id = agent.open_detached("local", dir.path(), &["python3", "-c", HUGE_TITLE]);
    let mut viewer = agent.term(&["attach", "local", &id], 24, 80);
    viewer.wait_text("BEFORE");
    viewer.line("go");
    // The viewer sees what the program prints after its title...
    viewer.wait_text("AFTER 2");
    // ...the listing shows the title, cut...
    let ls = wait_listing(&agent, "a cut title", |ls| {
        ls[0]["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("TTT"))
    });
    let title = ls[0]["title"].as_str().unwrap_or_default();
    assert!(title.len() <= TITLE_MAX, "{} bytes", title.len());
    assert!(title.ends_with(CUT_MARK), "{title}");
    assert_eq!(ls[0]["status"], "running", "{ls}");
    // ...and a new viewer gets the screen.
    let fresh = agent.term(&["attach", "local", &id, "--watch"], 24, 80);
    let screen = fresh.wait_for("AFTER lines", |s| last_after(s).is_some());
    drop(fresh);

    // A restart adopts it at once, as it was.
    let home = agent.stop();
    let started = Instant::now();
    let agent = TestAgent::spawn(home, "box");
    let took = started.elapsed();
    assert!(took < QUICK_START, "the agent took {took:?} to start");
    assert!(!agent.log().contains("cannot adopt"), "{}", agent.log());
    let ls = agent.json(&["ls", "local"]);
    assert_eq!(ls[0]["id"], id.as_str(), "{ls}");
    assert_eq!(ls[0]["status"], "running", "{ls}");
    assert_eq!(ls[0]["title"], title, "{ls}");
    // The viewer reconnected by itself, and output goes on.
    let before = last_after(&screen).unwrap_or(0);
    viewer.wait_for("output after the restart", |s| {
        last_after(s).is_some_and(|n| n > before + 2)
    });

    let started = Instant::now();
    let out = agent.ok(&["kill", "local", &id]);
    let took = started.elapsed();
    assert!(took < KILL_BOUND, "kill took {took:?}");
    assert!(
        out.contains("Killed session") && out.contains("stopped"),
        "{out}"
    );
    assert!(agent.ok(&["ls"]).contains("No sessions"));
    assert_eq!(
        agent.holder_pid(&id),
        None,
        "the holder exits with its session"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_titles_and_commands_never_break_a_listing() {
    let server = TestAgent::start("server");
    let client = TestAgent::start("client");
    pair(&client, &server, "box", "owner");
    // A viewer with a control stream, subscribed before anything happens.
    let vibemesh_tests::Paired {
        control,
        mut events,
        conn: _conn,
        peer,
    } = vibemesh_tests::paired(&server, "viewer").await;

    let dir = tempfile::tempdir().unwrap();
    let a = server.open_detached("local", dir.path(), &["python3", "-c", BIG_TITLE]);
    let b = server.open_detached("local", dir.path(), &["python3", "-c", BIG_TITLE]);
    // A command line of 360 KB: the owner's own, and still more than a listing can
    // carry three times.
    let words: Vec<String> = ["A", "B", "C"].iter().map(|c| c.repeat(120_000)).collect();
    let mut long = vec!["sh", "-c", "sleep 600", "sh"];
    long.extend(words.iter().map(String::as_str));
    let c = server.open_detached("local", dir.path(), &long);

    // Both programs set their titles.
    let mut titled = HashSet::new();
    while titled.len() < 2 {
        let ev = tokio::time::timeout(TIMEOUT, events.recv())
            .await
            .expect("an event in time")
            .expect("the event stream is open");
        if let Event::SessionUpdated(s) = ev
            && s.title.starts_with("TTT")
        {
            titled.insert(s.id);
        }
    }
    let list = control.list_sessions().await.expect("a listing");
    assert_eq!(list.len(), 3);
    for s in &list {
        assert!(s.title.len() <= TITLE_MAX, "{} bytes", s.title.len());
    }
    let cmd = &list
        .iter()
        .find(|s| s.id.to_string() == c)
        .expect("the long command's session")
        .command;
    assert!(cmd.iter().map(String::len).sum::<usize>() <= FIELD_MAX);
    assert_eq!(cmd[..3], ["sh", "-c", "sleep 600"]);
    assert!(cmd.last().is_some_and(|w| w.ends_with(CUT_MARK)), "{cmd:?}");
    // The stream is still there.
    assert_eq!(control.list_sessions().await.expect("served").len(), 3);

    // The CLI lists them too, here and from a paired machine.
    for out in [server.ok(&["ls"]), client.ok(&["ls", "box"])] {
        for id in [&a, &b, &c] {
            assert!(out.contains(id.as_str()), "{out}");
        }
    }
    for id in [&a, &b, &c] {
        server.ok(&["kill", "local", id]);
    }
    peer.ep.close().await;
}

#[test]
fn a_holder_that_stops_answering_is_listed_and_killed() {
    let agent = TestAgent::start("box");
    let dir = tempfile::tempdir().unwrap();
    let id = agent.open_detached("local", dir.path(), &["sh", "-c", "exec sleep 600"]);
    let holder = agent.holder_pid(&id).expect("a holder process");
    let program = child_of(holder);
    signal(holder, nix::sys::signal::Signal::SIGSTOP);

    // Whoever asks for its screen is told why there is none, and so is every listing.
    let err = agent.fails(&["attach", "local", &id, "--watch"]);
    assert!(err.contains("did not answer"), "{err}");
    let ls = agent.json(&["ls", "local"]);
    let why = ls[0]["status"]["unreachable"].as_str().unwrap_or_default();
    assert!(why.contains(&format!("pid {holder}")), "{ls}");

    // A restart does not wait on it, and still lists it.
    let home = agent.stop();
    let started = Instant::now();
    let agent = TestAgent::spawn(home, "box");
    let took = started.elapsed();
    assert!(took < QUICK_START, "the agent took {took:?} to start");
    let ls = agent.json(&["ls", "local"]);
    assert_eq!(ls[0]["id"], id.as_str(), "{ls}");
    assert!(ls[0]["status"]["unreachable"].is_string(), "{ls}");
    let out = agent.ok(&["ls"]);
    assert!(out.contains("unreachable: its holder"), "{out}");

    // Killing it answers in time, says what it did, and leaves nothing running.
    let started = Instant::now();
    let out = agent.ok(&["kill", "local", &id]);
    let took = started.elapsed();
    assert!(took < KILL_BOUND, "kill took {took:?}");
    assert!(
        out.contains("stopped") && out.contains(&format!("holder (pid {holder}) did not answer")),
        "{out}"
    );
    wait_gone(program, "the program");
    wait_gone(holder, "the holder");
    assert!(agent.ok(&["ls"]).contains("No sessions"));
    let sock = agent.path().join("holders").join(format!("{id}.sock"));
    assert!(!sock.exists(), "its socket is removed");
}
