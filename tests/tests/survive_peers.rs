//! Peers that are down, restarted or hostile never hold up the others: one agent's
//! connections to several peers are dialed independently, a connection the peer dropped
//! without saying so is dialed again for a request that is safe to send twice, every
//! stream that breaks ends with a last frame its reader understands, and `status` says
//! who answered and who refused.

use std::{
    net::UdpSocket,
    process::{Command, Stdio},
    time::Instant,
};

use vibemesh_tests::{TestAgent, free_port, pair, vibemesh_bin};

/// An agent listening on a fixed port, so a restart comes back at the same address.
fn agent_on(name: &str, port: u16) -> TestAgent {
    TestAgent::start_at(name, &format!("127.0.0.1:{port}"))
}

#[test]
fn an_offline_peer_never_holds_up_another() {
    let a = TestAgent::start("a");
    let up = TestAgent::start("box");
    let port = free_port();
    let gone = agent_on("gone", port);
    pair(&a, &up, "box", "owner");
    pair(&a, &gone, "gone", "owner");
    drop(gone);
    // Whatever dials `gone` now reaches this socket, which never answers: the dial hangs
    // for its whole timeout, and the first datagram says it has begun.
    let trap = UdpSocket::bind(("127.0.0.1", port)).expect("gone's port is free again");
    let slow = Command::new(vibemesh_bin())
        .args(["ls", "gone"])
        .env("VIBEMESH_HOME", a.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 2048];
    trap.recv(&mut buf).expect("a dials gone");

    let t = Instant::now();
    let out = a.ok(&["ls", "box"]);
    let took = t.elapsed();
    assert!(out.contains("No sessions"), "{out}");
    // The dial to gone gives up after 10 s; `ls box` must not wait for it (it takes
    // milliseconds; the bound leaves room for a loaded machine).
    assert!(
        took < std::time::Duration::from_secs(5),
        "`ls box` waited for the dial to gone to give up ({took:?})"
    );
    let status = a.json(&["status"]);
    let peers = status["peers"].as_array().unwrap();
    let box_ = peers.iter().find(|p| p["name"] == "box").unwrap();
    assert_eq!(box_["online"], true, "{status}");
    println!("ls box took {took:?} while gone was being dialed");

    let failed = slow.wait_with_output().unwrap();
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains("gone"), "{err}");
}

#[test]
fn a_peer_restarted_at_the_same_address_answers_the_first_request() {
    let a = TestAgent::start("a");
    let port = free_port();
    let b = agent_on("box", port);
    pair(&a, &b, "box", "owner");
    assert!(a.ok(&["ls", "box"]).contains("No sessions"));
    // Crash and come back on the same port: `a`'s connection is dead without knowing it.
    let home = b.crash();
    let b = TestAgent::spawn(home, "box");
    let t = Instant::now();
    let out = a.cli(&["ls", "box"]);
    let took = t.elapsed();
    assert!(
        out.status.success(),
        "the first request after the restart failed after {took:?}: {}\n--- a ---\n{}",
        String::from_utf8_lossy(&out.stderr),
        a.log()
    );
    println!("the first `ls` after a restart took {took:?}");
    // The second one goes straight through on the fresh connection.
    assert!(a.ok(&["ls", "box"]).contains("No sessions"));
    drop(b);
}

#[test]
fn status_says_which_peer_refused_us() {
    let a = TestAgent::start("a");
    let b = TestAgent::start("box");
    pair(&a, &b, "box", "owner");
    let status = a.json(&["status"]);
    assert_eq!(status["peers"][0]["online"], true, "{status}");
    // `box` revokes `a`.
    let peers = b.json(&["peers"]);
    let entry = peers
        .as_array()
        .unwrap()
        .iter()
        .find(|p| !p["allowed"].is_null())
        .cloned()
        .unwrap_or_else(|| panic!("a is on box's list: {peers}"));
    let name = entry["name"].as_str().unwrap().to_string();
    b.ok(&["peers", "remove", &name]);
    let status = a.json(&["status"]);
    let p = &status["peers"][0];
    assert_eq!(p["online"], false, "{status}");
    let why = p["error"].as_str().unwrap_or_default();
    assert!(
        why.contains("refused us") && (why.contains("revoked") || why.contains("not paired")),
        "{status}"
    );
}

#[test]
fn a_download_cut_by_a_crash_says_why() {
    let a = TestAgent::start("a");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let big = root.join("big");
    vibemesh_tests::files::write_random(&big, 400 << 20, 3);
    let b = TestAgent::start_with("box", &format!("roots = [{:?}]", root.to_str().unwrap()));
    pair(&a, &b, "box", "viewer");
    let dest = tempfile::tempdir().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |ev| {
        let _ = tx.send(ev);
    })
    .unwrap();
    notify::Watcher::watch(
        &mut watcher,
        dest.path(),
        notify::RecursiveMode::NonRecursive,
    )
    .unwrap();
    let mut cp = Command::new(vibemesh_bin())
        .args(["cp", &format!("box:{}", big.display())])
        .arg(dest.path())
        .env("VIBEMESH_HOME", a.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until bytes arrive, then take the peer away mid-transfer.
    let arrived = || {
        std::fs::read_dir(dest.path())
            .unwrap()
            .flatten()
            .any(|e| e.metadata().is_ok_and(|m| m.len() > (1 << 20)))
    };
    while !arrived() {
        let _ = rx
            .recv_timeout(vibemesh_tests::TIMEOUT)
            .expect("bytes arrive");
        assert!(cp.try_wait().unwrap().is_none(), "cp ended before the cut");
    }
    drop(b.crash());
    let cut = Instant::now();
    let out = cp.wait_with_output().unwrap();
    println!("cp gave up {:?} after the cut", cut.elapsed());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(!err.contains("malformed frame"), "{err}");
    assert!(err.contains("box"), "{err}");
    // It tried again (the peer may come back), then gave up, and said so.
    assert!(err.contains("gave up reconnecting"), "{err}");
    assert!(
        vibemesh_tests::files::leftovers(dest.path()).is_empty(),
        "nothing half-written is left: {:?}",
        vibemesh_tests::files::leftovers(dest.path())
    );
}
