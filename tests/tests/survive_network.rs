//! Network loss: the agent runs in a network namespace this test creates, joined to the
//! test by a veth link that the test takes down and brings back. A client on a
//! reconnecting attach gets its screen back by itself, and every key is either
//! confirmed or reported as not sent: none is typed twice or lost silently.
//! Needs root (network namespaces); skips with a message where that is not allowed.

use std::{path::Path, process::Command, time::Duration};

use vibemesh_core::{
    client::{AttachEvent, Backoff, Redialer, reattach},
    proto::attach::AttachRequest,
};
use vibemesh_tests::{InProcPeer, TIMEOUT, TestAgent, peer_addr};

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A namespace with one veth link to ours; deleted on drop.
struct Netns {
    name: String,
    host_if: String,
    ns_ip: String,
}

impl Netns {
    fn create() -> Option<Self> {
        let id = std::process::id();
        let net = format!("10.{}.{}", 100 + (id >> 8) % 100, id % 250);
        let ns = Self {
            name: format!("vmsurv-{id}"),
            host_if: format!("vmh{id}"),
            ns_ip: format!("{net}.2"),
        };
        let peer_if = format!("vmn{id}");
        let ok = ip(&["netns", "add", &ns.name])
            && ip(&["-n", &ns.name, "link", "set", "lo", "up"])
            && ip(&[
                "link",
                "add",
                &ns.host_if,
                "type",
                "veth",
                "peer",
                "name",
                &peer_if,
            ])
            && ip(&["link", "set", &peer_if, "netns", &ns.name])
            && ip(&["addr", "add", &format!("{net}.1/24"), "dev", &ns.host_if])
            && ip(&["link", "set", &ns.host_if, "up"])
            && ip(&[
                "-n",
                &ns.name,
                "addr",
                "add",
                &format!("{net}.2/24"),
                "dev",
                &peer_if,
            ])
            && ip(&["-n", &ns.name, "link", "set", &peer_if, "up"]);
        // Dropped (and cleaned up) if any step failed.
        ok.then_some(ns)
    }

    fn link(&self, up: bool) {
        let state = if up { "up" } else { "down" };
        assert!(ip(&["link", "set", &self.host_if, state]), "link {state}");
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        ip(&["link", "del", &self.host_if]);
        ip(&["netns", "del", &self.name]);
    }
}

/// An agent started inside `ns`, listening on its side of the link.
fn agent_in(ns: &Netns) -> TestAgent {
    let home = tempfile::Builder::new().prefix("vm-").tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "name = \"far\"\nrelay = \"none\"\nlisten = [\"{}:0\"]\nrecord = false\n",
            ns.ns_ip
        ),
    )
    .unwrap();
    // The agent binary, run inside the namespace (holders stay in there with it).
    let wrapper = home.path().join("in-netns.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec ip netns exec {} {} \"$@\"\n",
            ns.name,
            vibemesh_tests::vibemesh_bin().display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = wrapper.clone();
    TestAgent::spawn_bin(home, "far", Path::new(&bin), &[])
}

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
    let Some(ns) = Netns::create() else {
        eprintln!("SKIPPED: cannot create a network namespace here (needs root and `ip`)");
        return;
    };
    let agent = agent_in(&ns);
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
    assert_eq!(text[0]["status"], "Running", "{text}");
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
