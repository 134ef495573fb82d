//! Two relays of one's own, and one of them stops: a client that reaches an agent only
//! through relays keeps its session. The agent lives in a network namespace whose UDP is
//! dropped (no direct path, only the relays' TCP); both agents list both relays
//! (`relay = [...]`). When the agent's home relay stops, it moves to the other at once
//! (`vibemesh_core::client::relays`), the client's attach notices the silence, dials again
//! through the ticket's other relay, and the same session answers. The test prints how
//! long the switch took. Needs root; elsewhere it says why it did not run.

use std::time::{Duration, Instant};

use vibemesh_core::ticket::Ticket;
use vibemesh_tests::{PROMPT_SHELL, TestAgent, netns::Netns, relay::start_relay_on};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_only_session_survives_its_relay_stopping() {
    let Some(ns) = Netns::create("rf") else {
        eprintln!("SKIPPED: cannot create network namespaces here (needs root and `ip`)");
        return;
    };
    let host = ns.host_ip().parse().expect("an address");
    let relays = [start_relay_on(host).await, start_relay_on(host).await];
    let urls: Vec<String> = relays.iter().map(|r| r.url()).collect();
    // Relays only: no UDP in or out of the agent's namespace.
    for chain in ["INPUT", "OUTPUT"] {
        assert!(ns.iptables(&["-A", chain, "-p", "udp", "-j", "DROP"]));
    }
    let server = ns.agent_relayed("server", &urls);
    let laptop = TestAgent::start_relays("laptop", &urls);
    let ticket = server.ticket(&[]);
    let parsed = Ticket::parse(&ticket).expect("a ticket");
    let home = parsed
        .relay
        .clone()
        .expect("the ticket names the home relay");
    assert_eq!(parsed.other_relays.len(), 1, "and the other: {parsed:?}");
    laptop.ok(&["join", &ticket, "--name", "box"]);

    let mut args = vec!["open", "box", "--"];
    args.extend_from_slice(PROMPT_SHELL);
    let mut term = laptop.term(&args, 24, 80);
    term.line("echo before-$((6*7))");
    term.wait_text("before-42");

    // The agent's home relay stops.
    let (dead, _alive): (Vec<_>, Vec<_>) = relays.into_iter().partition(|r| {
        r.url().parse::<iroh::RelayUrl>().ok() == home.parse::<iroh::RelayUrl>().ok()
    });
    assert_eq!(dead.len(), 1, "the home relay {home} is one of {urls:?}");
    let status = laptop.json(&["status"]);
    assert_eq!(status["peers"][0]["path"], "relay", "relays only: {status}");
    let stopped = Instant::now();
    for r in dead {
        r.shutdown().await;
    }
    // Keys typed while the client finds out are refused and said so, never replayed:
    // type a line until one comes back.
    let mut n = 0;
    let back = loop {
        n += 1;
        term.line(&format!("echo after-{n}-$((6*7))"));
        let want = format!("after-{n}-42");
        if term
            .try_wait_for(Duration::from_secs(1), |s| s.contains(&want))
            .is_ok()
        {
            break stopped.elapsed();
        }
        // iroh alone keeps a dead home relay for about a minute (54 s measured here
        // without moving off it); moving at once takes seconds.
        assert!(
            stopped.elapsed() < Duration::from_secs(20),
            "the session never came back through the other relay; screen:\n{}\n--- server ---\n{}",
            term.screen(),
            server.log()
        );
    };
    eprintln!(
        "the session answered through the other relay {:.1} s after the home relay stopped ({n} lines typed)",
        back.as_secs_f64()
    );
    // It is the same session: what was on its screen is still there.
    assert!(term.screen().contains("before-42"), "{}", term.screen());
    drop(server);
}
