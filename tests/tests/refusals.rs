//! Everything the agent must refuse, and the words the user then reads.

use vibemesh_agent::config::Home;
use vibemesh_core::{
    ErrorCode,
    client::{ClientError, local},
    proto::{Role, local::AdminRequest},
    ticket::Ticket,
};
use vibemesh_tests::{InProcPeer, SHELL, TestAgent, pair};

#[test]
fn tickets_work_once_expire_and_must_match() {
    let server = TestAgent::start("server");
    let a = TestAgent::start("a");
    let c = TestAgent::start("c");

    let ticket = server.ticket(&[]);
    a.ok(&["join", &ticket, "--name", "srv"]);
    let err = c.fails(&["join", &ticket, "--name", "srv"]);
    assert!(err.contains("used already"), "{err}");

    let expired = server.expired_ticket();
    let err = c.fails(&["join", &expired]);
    assert!(err.contains("expired"), "{err}");

    let mut wrong = Ticket::parse(&server.ticket(&[])).unwrap();
    wrong.secret[0] ^= 0xff;
    let err = c.fails(&["join", &wrong.to_text()]);
    assert!(err.contains("not valid here"), "{err}");

    // Mistakes in the text are caught before anything is dialed: no attempt reaches the
    // server, and a typo in the id is not a TLS error.
    let refusals = |log: &str| log.matches("pairing refused").count();
    server.wait_log("the three refusals above", |log| refusals(log) == 3);
    let good = server.ticket(&[]);
    let err = c.fails(&["join", &good[..good.len() - 6]]);
    assert!(err.contains("mistyped"), "{err}");
    let mut typo = good.clone().into_bytes();
    typo[10] = if typo[10] == b'A' { b'B' } else { b'A' };
    let err = c.fails(&["join", std::str::from_utf8(&typo).unwrap()]);
    assert!(
        err.contains("mistyped") && err.contains("copy it again"),
        "{err}"
    );
    let err = c.fails(&["join", "hello"]);
    assert!(err.contains("not a VibeMesh ticket"), "{err}");
    assert_eq!(refusals(&server.log()), 3, "{}", server.log());

    // None of that let c in.
    let err = c.fails(&["ls", "srv"]);
    assert!(err.contains("no peer called"), "{err}");
}

/// A pairing attempt from `peer` that must be refused, and the agent's reason.
async fn refused(peer: &InProcPeer, ticket: &Ticket) -> vibemesh_core::WireError {
    let err = vibemesh_core::client::pair(&peer.ep, ticket, "guesser")
        .await
        .expect_err("this attempt must be refused");
    err.wire()
        .cloned()
        .unwrap_or_else(|| panic!("untyped error: {err}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guesser_is_rate_limited_but_cannot_shut_pairing_for_others() {
    let server = TestAgent::start("server");
    // The attacker comes from an address of its own (Linux answers on all of 127/8), so
    // the count per address is its own too.
    let attacker = InProcPeer::bind_on("127.0.0.2:0").await;
    let mut ticket = Ticket::parse(&server.ticket(&[])).unwrap();
    let good = ticket.secret;
    ticket.secret = [0; 16];
    for i in 0..30 {
        let w = refused(&attacker, &ticket).await;
        let want = if i < 10 {
            ErrorCode::TicketInvalid
        } else {
            ErrorCode::RateLimited
        };
        assert_eq!(w.code, want, "attempt {i}: {w}");
    }
    // Its own key stays limited even with the right secret, which is not used up by that.
    ticket.secret = good;
    let w = refused(&attacker, &ticket).await;
    assert_eq!(w.code, ErrorCode::RateLimited, "{w}");
    assert!(w.message.contains("wait a minute"), "{w}");

    // Meanwhile another device, from another address, pairs with a fresh ticket.
    let other = InProcPeer::bind().await;
    other
        .pair(&server, "viewer")
        .await
        .expect("the guesser must not keep pairing shut for everyone");
    attacker.ep.close().await;
    other.ep.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_keys_from_one_address_share_its_limit() {
    let server = TestAgent::start("server");
    let mut ticket = Ticket::parse(&server.ticket(&[])).unwrap();
    let good = ticket.secret;
    ticket.secret = [0; 16];
    for i in 0..10 {
        let peer = InProcPeer::bind_on("127.0.0.3:0").await;
        let w = refused(&peer, &ticket).await;
        assert_eq!(w.code, ErrorCode::TicketInvalid, "key {i}: {w}");
        peer.ep.close().await;
    }
    ticket.secret = good;
    let late = InProcPeer::bind_on("127.0.0.3:0").await;
    let w = refused(&late, &ticket).await;
    assert_eq!(w.code, ErrorCode::RateLimited, "{w}");
    late.ep.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_lifetime_out_of_bounds_is_refused_and_the_agent_stays_up() {
    let server = TestAgent::start("server");
    for ttl in [
        "0s",
        "18000000000000000000s",
        "169h",
        "99999999999999999999h",
    ] {
        let err = server.fails(&["pair", "--ttl", ttl]);
        assert!(
            err.contains("at least 1 second and at most 7 days"),
            "--ttl {ttl}: {err}"
        );
    }
    // The agent refuses them itself too (its local API has other clients than the CLI),
    // with a reason and not a panic.
    let home = Home::under(server.path());
    for secs in [0, 18_000_000_000_000_000_000, u64::MAX] {
        let pair = AdminRequest::Pair {
            role: Role::Owner,
            ttl_secs: Some(secs),
        };
        let err = local::admin(&home.socket, pair)
            .await
            .expect_err("an absurd lifetime must be refused");
        let ClientError::Remote(wire) = &err else {
            panic!("not the agent's refusal: {err}")
        };
        assert_eq!(wire.code, ErrorCode::BadRequest, "{wire}");
        assert!(wire.message.contains("7 days"), "{wire}");
    }
    let ticket = server.ticket(&["--ttl", "168h"]);
    assert!(Ticket::parse(&ticket).is_ok(), "{ticket}");
    server.ticket(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaired_key_gets_a_typed_refusal_before_any_request() {
    let server = TestAgent::start("server");
    let stranger = InProcPeer::bind().await;
    let conn = stranger
        .connect(&server)
        .await
        .expect("the handshake itself completes");
    let err = match conn.control().await {
        Ok((control, _events, driver)) => {
            tokio::spawn(driver.run());
            control
                .list_sessions()
                .await
                .map(|_| ())
                .map_err(|e| conn.closed_or(e))
        }
        Err(e) => Err(conn.closed_or(e)),
    }
    .expect_err("a stranger must not list sessions");
    let ClientError::Remote(w) = &err else {
        panic!("untyped error: {err}")
    };
    assert_eq!(w.code, ErrorCode::NotPaired);
    assert!(w.message.contains("vibemesh pair"), "{w}");
    stranger.ep.close().await;
}

#[test]
fn a_viewer_may_watch_but_not_type_start_or_kill() {
    let server = TestAgent::start("server");
    let a = TestAgent::start("a");
    pair(&a, &server, "srv", "viewer");
    let dir = tempfile::tempdir().unwrap();
    let err = a.fails(&[
        "open",
        "srv",
        "--path",
        dir.path().to_str().unwrap(),
        "--detached",
    ]);
    assert!(err.contains("viewer may not start sessions"), "{err}");

    let id = server.open_detached("local", dir.path(), SHELL);
    let mut owner = server.term(&["attach", "local", &id], 24, 80);
    owner.line("echo owner-$((1+1))");
    owner.wait_text("owner-2");

    let mut viewer = a.term(&["attach", "srv", &id], 24, 80);
    viewer.wait_text("owner-2");
    viewer.line("echo hacked-$((1+1))");
    viewer.wait_text("input refused");
    // The owner's next line shows up for both; the viewer's never reached the shell.
    owner.line("echo after-$((1+2))");
    viewer.wait_text("after-3");
    assert!(
        !owner.wait_text("after-3").contains("hacked"),
        "{}",
        owner.screen()
    );

    let err = a.fails(&["kill", "srv", &id]);
    assert!(err.contains("viewer may not kill"), "{err}");
}

#[test]
fn revoking_a_peer_ends_its_open_session_stream_at_once() {
    let server = TestAgent::start("server");
    let a = TestAgent::start("a");
    pair(&a, &server, "srv", "owner");
    let dir = tempfile::tempdir().unwrap();
    let id = a.open_detached("srv", dir.path(), SHELL);
    let mut t = a.term(&["attach", "srv", &id], 24, 80);
    // The shell's answer, not the terminal's echo of what was typed.
    t.line("echo before-''revoke");
    t.wait_text("before-revoke");

    let out = server.ok(&["peers", "remove", "a"]);
    assert!(out.contains("Removed a"), "{out}");
    t.wait_text("access revoked");
    assert_eq!(t.wait_exit(), 1);

    let err = a.fails(&["ls", "srv"]);
    assert!(err.contains("not paired"), "{err}");
    // The session itself is the server's and keeps running.
    let list = server.json(&["ls"]);
    assert_eq!(list[0]["status"], "running", "{list}");
}
