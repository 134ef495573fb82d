//! Pushed events, and what survives agent restarts and crashes.

use vibemesh_core::proto::{SessionStatus, control::Event};
use vibemesh_tests::{SHELL, TestAgent, free_port, pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_are_told_about_sessions_without_asking() {
    let server = TestAgent::start("server");
    // A viewer with a control stream, subscribed before anything happens.
    let vibemesh_tests::Paired {
        control: _control,
        mut events,
        conn: _conn,
        peer,
    } = vibemesh_tests::paired(&server, "viewer").await;

    let dir = tempfile::tempdir().unwrap();
    let script = "printf '\\033]2;build logs\\007'; read line; exit 4";
    let id = server.open_detached("local", dir.path(), &["sh", "-c", script]);
    let mut next = async || {
        tokio::time::timeout(vibemesh_tests::TIMEOUT, events.recv())
            .await
            .expect("an event in time")
            .expect("stream open")
    };
    match next().await {
        Event::SessionCreated(s) => assert_eq!(s.id.to_string(), id),
        other => panic!("expected SessionCreated, got {other:?}"),
    }
    // The program sets its title: pushed as an update.
    loop {
        if let Event::SessionUpdated(s) = next().await
            && s.title == "build logs"
        {
            break;
        }
    }
    let mut t = server.term(&["attach", "local", &id], 24, 80);
    t.line("done");
    // It exits with code 4: pushed too.
    loop {
        if let Event::SessionUpdated(s) = next().await
            && let SessionStatus::Exited(e) = &s.status
        {
            assert_eq!(e.code, Some(4));
            break;
        }
    }
    server.ok(&["kill", "local", &id]);
    loop {
        if let Event::SessionRemoved(gone) = next().await {
            assert_eq!(gone.to_string(), id);
            break;
        }
    }
    peer.ep.close().await;
}

#[test]
fn pairings_survive_restarts_and_a_crash_leaves_nothing_stuck() {
    let a_port = free_port();
    let b_port = free_port();
    let a = TestAgent::start_with("laptop", "");
    let b = TestAgent::start_with("server", "");
    // Restart both on fixed ports: relays are off here, so peers find each other only
    // by the addresses in the ticket.
    let (a_home, b_home) = (a.stop(), b.stop());
    for (home, port) in [(&a_home, a_port), (&b_home, b_port)] {
        let cfg = home.path().join("config.toml");
        let text = std::fs::read_to_string(&cfg).unwrap().replace(
            "listen = [\"127.0.0.1:0\"]",
            &format!("listen = [\"127.0.0.1:{port}\"]"),
        );
        std::fs::write(cfg, text).unwrap();
    }
    let a = TestAgent::spawn(a_home, "laptop");
    let b = TestAgent::spawn(b_home, "server");
    pair(&a, &b, "build-box", "owner");
    let id_before = a.json(&["status"])["id"].clone();

    // Both stop cleanly and come back: same keys, same pairing.
    let (a_home, b_home) = (a.stop(), b.stop());
    let b = TestAgent::spawn(b_home, "server");
    let a = TestAgent::spawn(a_home, "laptop");
    assert_eq!(a.json(&["status"])["id"], id_before);
    let dir = tempfile::tempdir().unwrap();
    let id = a.open_detached("build-box", dir.path(), SHELL);
    assert_eq!(a.json(&["ls", "build-box"])[0]["id"], id.as_str());

    // A crash (SIGKILL) leaves a stale socket behind; the next start replaces it.
    let a_home = a.crash();
    assert!(a_home.path().join("agent.sock").exists());
    let a = TestAgent::spawn(a_home, "laptop");
    assert_eq!(a.json(&["ls", "build-box"])[0]["id"], id.as_str());

    // A second agent on the same folder is refused instead of stealing the socket.
    let out = std::process::Command::new(vibemesh_tests::vibemesh_bin())
        .arg("agent")
        .env("VIBEMESH_HOME", a.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already running"), "{err}");
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_connects_the_moment_the_socket_appears_is_answered() {
    use notify::Watcher;
    use vibemesh_core::{
        frame::{FrameReader, FrameWriter},
        proto::local::{AdminReply, AdminRequest, AdminResponse, LocalOpen},
    };
    // The race needs the client to be early; a few rounds make a miss unlikely.
    for _ in 0..5 {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            home.path().join("config.toml"),
            "relay = \"none\"\nlisten = [\"127.0.0.1:0\"]\n",
        )
        .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let mut watcher = notify::recommended_watcher(move |ev| {
            let _ = tx.send(ev);
        })
        .unwrap();
        watcher
            .watch(home.path(), notify::RecursiveMode::NonRecursive)
            .unwrap();
        let mut agent = std::process::Command::new(vibemesh_tests::vibemesh_bin())
            .arg("agent")
            .env("VIBEMESH_HOME", home.path())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let sock = home.path().join("agent.sock");
        loop {
            let ev = rx
                .recv_timeout(vibemesh_tests::TIMEOUT)
                .expect("socket appears");
            if ev.is_ok_and(|e| e.paths.contains(&sock)) {
                break;
            }
        }
        // Connect at once (bind creates the file a moment before listen).
        let stream = loop {
            match tokio::net::UnixStream::connect(&sock).await {
                Ok(s) => break s,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    tokio::task::yield_now().await
                }
                Err(e) => panic!("connect: {e}"),
            }
        };
        let (r, w) = stream.into_split();
        let mut w = FrameWriter::new(w);
        let mut r = FrameReader::new(r);
        w.send(&LocalOpen::Admin(AdminRequest::Status))
            .await
            .unwrap();
        let reply = tokio::time::timeout(vibemesh_tests::TIMEOUT, r.recv::<AdminResponse>())
            .await
            .expect("answered in time")
            .expect("a frame");
        assert!(
            matches!(reply, Some(Ok(AdminReply::Status(_)))),
            "{reply:?}"
        );
        let _ = agent.kill();
        let _ = agent.wait();
    }
}

/// Every session holds a socket and every viewer a stream: an agent started under a low
/// soft limit on open files (1024 is common) lifts it to the hard limit.
#[test]
fn the_agent_lifts_its_open_file_limit_to_the_hard_one() {
    let home = TestAgent::start("limits").stop();
    // util-linux's prlimit execs the agent with the soft limit at 256.
    let agent = TestAgent::spawn_wrapped(home, "limits", &["prlimit", "--nofile=256:"]);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", agent.pid())).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("a Max open files line");
    let fields: Vec<&str> = line.split_whitespace().collect();
    // "Max open files  <soft>  <hard>  files"
    assert_eq!(fields[3], fields[4], "{line}");
    assert_ne!(fields[3], "256", "{line}");
}
