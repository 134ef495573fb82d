//! Network loss: the agent runs in a network namespace this test creates, joined to the
//! test by a veth link that the test takes down and brings back. A client on a
//! reconnecting attach gets its screen back by itself, and every key is either
//! confirmed or reported as not sent: none is typed twice or lost silently.
//! Needs root (network namespaces); skips with a message where that is not allowed.

use std::time::Duration;

use vibemesh_core::{
    client::{AttachEvent, Backoff, Redialer, reattach},
    proto::attach::AttachRequest,
};
use vibemesh_tests::{InProcPeer, TIMEOUT, netns::Netns, peer_addr};

/// The next event that is not output; output on the way is applied to `screen`.
async fn next_event(
    rx: &mut tokio::sync::mpsc::Receiver<AttachEvent>,
    screen: &mut String,
) -> AttachEvent {
    loop {
        match next_any(rx, screen).await {
            Some(ev) => return ev,
            None => continue,
        }
    }
}

/// The next event; `None` for output, which is applied to `screen`.
async fn next_any(
    rx: &mut tokio::sync::mpsc::Receiver<AttachEvent>,
    screen: &mut String,
) -> Option<AttachEvent> {
    let ev = tokio::time::timeout(TIMEOUT, rx.recv())
        .await
        .expect("an attach event in time")
        .expect("the attach goes on");
    match ev {
        AttachEvent::Output(b) => screen.push_str(&String::from_utf8_lossy(&b)),
        AttachEvent::Screen(b) => *screen = String::from_utf8_lossy(&b).into_owned(),
        other => return Some(other),
    }
    None
}

/// Reads events until `screen` contains `text`; other events are kept in `seen`.
async fn wait_output(
    rx: &mut tokio::sync::mpsc::Receiver<AttachEvent>,
    screen: &mut String,
    text: &str,
    seen: &mut Vec<AttachEvent>,
) {
    while !screen.contains(text) {
        if let Some(ev) = next_any(rx, screen).await {
            seen.push(ev);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_rides_out_link_drops_and_never_types_twice() {
    let Some(ns) = Netns::create("surv") else {
        eprintln!("SKIPPED: cannot create a network namespace here (needs root and `ip`)");
        return;
    };
    let agent = ns.agent("far", 0, "record = false");
    let peer = InProcPeer::bind_on("0.0.0.0:0").await;
    peer.pair(&agent, "owner")
        .await
        .expect("pair across the link");
    let dir = tempfile::tempdir().unwrap();
    // `cat` echoes each line back once: a key typed twice would show twice.
    let id = agent.open_detached(
        "local",
        dir.path(),
        &["sh", "-c", "stty -echo; echo READY; exec cat"],
    );
    let dial = Redialer::new(peer.ep.clone(), peer_addr(&agent));
    let (keys, mut events, driver) = reattach(
        move || {
            let d = dial.clone();
            async move { d.open_stream().await }
        },
        AttachRequest {
            session: id.parse().unwrap(),
            size: None,
            scrollback: 0,
            watch_only: false,
        },
        Backoff {
            first: Duration::from_millis(200),
            max: Duration::from_secs(1),
            max_tries: None,
        },
    );
    tokio::spawn(driver);
    let mut screen = String::new();
    let mut seen = Vec::new();
    assert!(matches!(
        next_event(&mut events, &mut screen).await,
        AttachEvent::Attached {
            reconnected: false,
            ..
        }
    ));
    eprintln!("attached");
    // Echo is off before anything is typed.
    wait_output(&mut events, &mut screen, "READY", &mut seen).await;
    keys.input("before\r");
    wait_output(&mut events, &mut screen, "before", &mut seen).await;

    // A short drop (under the 3 s path timeout): the connection rides it out, and a key
    // typed meanwhile arrives once, when the link is back.
    eprintln!("before ok");
    ns.link(false);
    keys.input("blip\r");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    ns.link(true);
    wait_output(&mut events, &mut screen, "blip", &mut seen).await;

    eprintln!("blip ok");
    // A long drop: the connection times out, the client says so and keeps trying; keys
    // typed meanwhile are refused, not queued.
    ns.link(false);
    let mut reconnecting = false;
    while !reconnecting {
        match next_event(&mut events, &mut screen).await {
            AttachEvent::Reconnecting { .. } => reconnecting = true,
            other => seen.push(other),
        }
    }
    eprintln!("reconnecting seen");
    keys.input("offline\r");
    let not_sent = loop {
        match next_event(&mut events, &mut screen).await {
            AttachEvent::NotSent { bytes } => break bytes,
            other => seen.push(other),
        }
    };
    assert_eq!(not_sent, "offline\r".len());
    ns.link(true);
    let restored = loop {
        match next_event(&mut events, &mut screen).await {
            AttachEvent::Attached {
                reconnected: true, ..
            } => break true,
            other => seen.push(other),
        }
    };
    assert!(restored);
    eprintln!("restored");
    keys.input("after\r");
    wait_output(&mut events, &mut screen, "after", &mut seen).await;

    // What the program saw: each key exactly once, nothing typed while offline.
    let text = agent.json(&["ls", "local"]);
    assert_eq!(text[0]["status"], "running", "{text}");
    let d = Redialer::new(peer.ep.clone(), peer_addr(&agent));
    let (r, w) = d.open_stream().await.unwrap();
    let req = AttachRequest {
        session: id.parse().unwrap(),
        size: None,
        scrollback: 100,
        watch_only: true,
    };
    let (_, mut r, mut w) = vibemesh_core::client::open_attach(r, w, req).await.unwrap();
    let _ = w.finish().await;
    let snap = match r.next().await.unwrap().unwrap() {
        vibemesh_core::proto::attach::ServerFrame::Snapshot(b) => {
            String::from_utf8_lossy(&b).into_owned()
        }
        other => panic!("{other:?}"),
    };
    for word in ["before", "blip", "after"] {
        assert_eq!(snap.matches(word).count(), 1, "{word} once in:\n{snap}");
    }
    assert!(!snap.contains("offline"), "{snap}");
    keys.detach();
    agent.ok(&["kill", "local", &id]);
    peer.ep.close().await;
}
