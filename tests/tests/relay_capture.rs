//! The relay path: two real agents and a relay-only client (what a browser is) pair and
//! work through a `vibemesh-relay` on 127.0.0.1, while a tap in front of the relay keeps
//! every byte it forwards. The typed commands and their output must not be in there.

use std::time::Duration;

use bytes::Bytes;
use iroh::{Endpoint, RelayMode, endpoint::presets};
use vibemesh_core::{
    client::{self, PeerConnection},
    proto::{
        Provider, TermSize,
        attach::{AttachRequest, ServerFrame},
        control::CreateSession,
    },
    ticket::Ticket,
};
use vibemesh_tests::{
    SHELL, TIMEOUT, TestAgent,
    relay::{Tap, start_relay},
};

/// A client with no UDP sockets at all: like a browser, only the relay reaches it.
async fn relay_only_client(relay_url: &str) -> Endpoint {
    Endpoint::builder(presets::Minimal)
        .relay_mode(RelayMode::custom([relay_url.parse().expect("relay url")]))
        .clear_ip_transports()
        .bind()
        .await
        .expect("bind relay-only endpoint")
}

/// The ticket text with its direct addresses removed: only the relay leads to the agent.
fn relay_only_ticket(text: &str) -> Ticket {
    let mut t = Ticket::parse(text).expect("ticket parses");
    t.addrs.clear();
    assert!(t.relay.is_some(), "the ticket names the agent's relay");
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_forwards_only_ciphertext() {
    let relay = start_relay(None).await;
    let tap = Tap::start(relay.addr()).await;
    let server = TestAgent::start_relayed("relay-srv", &tap.url());
    let laptop = TestAgent::start_relayed("relay-laptop", &tap.url());

    // A real agent pairs with the other through the relay alone and opens a shell there.
    let ticket = relay_only_ticket(&server.ticket(&[]));
    laptop.ok(&["join", &ticket.to_text(), "--name", "srv"]);
    let mut args = vec!["open", "srv", "--"];
    args.extend_from_slice(SHELL);
    let mut term = laptop.term(&args, 24, 80);
    term.line("PS1='$ '");
    term.wait_text("$ ");
    term.line("echo typed$((6*7))word");
    term.wait_text("typed42word");

    // The browser-like client: pairs, attaches to the same session, pastes a command.
    let ep = relay_only_client(&tap.url()).await;
    let ticket = relay_only_ticket(&server.ticket(&[]));
    client::pair(&ep, &ticket, "relay-only")
        .await
        .expect("pair through the relay");
    let addr = client::dial_addr(ticket.id, &[], ticket.relay.as_deref());
    let conn = PeerConnection::connect(&ep, addr)
        .await
        .expect("connect through the relay");
    let (control, _events, driver) = conn.control().await.expect("control");
    tokio::spawn(driver.run());
    let sessions = control.list_sessions().await.expect("list");
    assert_eq!(
        sessions.len(),
        1,
        "the laptop's shell is listed: {sessions:?}"
    );
    let (_, mut reader, mut writer) = conn
        .attach(AttachRequest {
            session: sessions[0].id,
            size: None,
            scrollback: 0,
            watch_only: false,
        })
        .await
        .expect("attach");
    let before = tap.captured().len();
    writer
        .input(Bytes::from_static(b"echo pasted$((6*7))text\r"))
        .await
        .expect("paste");
    let mut seen = Vec::new();
    tokio::time::timeout(TIMEOUT, async {
        while !String::from_utf8_lossy(&seen).contains("pasted42text") {
            match reader.next().await.expect("attach stream") {
                Some(ServerFrame::Output(b)) | Some(ServerFrame::Snapshot(b)) => {
                    seen.extend_from_slice(&b)
                }
                Some(_) => {}
                None => panic!("attach stream ended"),
            }
        }
    })
    .await
    .expect("the pasted command's output arrives through the relay");
    term.wait_text("pasted42text");

    // The relay-only client's only path is the relay, so its keys and output went
    // through the tap.
    let paths: Vec<String> = conn
        .connection()
        .paths()
        .iter()
        .map(|p| format!("{:?}", p.remote_addr()))
        .collect();
    assert!(
        conn.connection().paths().iter().all(|p| p.is_relay()),
        "{paths:?}"
    );
    let grown = tap.captured().len() - before;
    assert!(
        grown > 200,
        "only {grown} bytes crossed the relay after pasting"
    );
    // A new session opened from the relay-only client goes the same way.
    control
        .create_session(CreateSession {
            provider: Provider::Shell,
            cwd: None,
            command: SHELL.iter().map(|s| s.to_string()).collect(),
            size: TermSize::DEFAULT,
            title: Some("relay-made".into()),
            env: vec![],
        })
        .await
        .expect("create through the relay");

    // The tap does see plaintext where there is some (the WebSocket upgrade), so the
    // absence of the commands below means something.
    assert!(tap.saw(b"GET /relay"), "the tap sees the relay handshake");
    for secret in [
        "typed$((6*7))word",
        "typed42word",
        "pasted$((6*7))text",
        "pasted42text",
        "relay-made",
    ] {
        assert!(
            !tap.saw(secret.as_bytes()),
            "{secret:?} crossed the relay in plaintext"
        );
    }
    let laptop_path = laptop.json(&["status"]);
    eprintln!(
        "relay forwarded {} bytes; relay-only client paths {paths:?}; laptop->server: {}",
        tap.captured().len(),
        laptop_path["peers"]
    );
    conn.connection().close(0u32.into(), b"done");
    tokio::time::timeout(Duration::from_secs(5), ep.close())
        .await
        .ok();
}
