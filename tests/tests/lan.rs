//! Paired agents on a LAN with no internet and no relay find each other by multicast DNS:
//! after one moves to another address (a new DHCP lease) and port, the other reaches it
//! again without a new ticket. Two network namespaces alone on one link; needs root.

use std::time::Instant;

use vibemesh_tests::{TIMEOUT, TestAgent, netns::Netns, pair};

/// `status --json`'s entry for `peer`.
fn peer_status(agent: &TestAgent, peer: &str) -> serde_json::Value {
    let status = agent.json(&["status"]);
    status["peers"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == peer).cloned())
        .unwrap_or_default()
}

#[test]
fn a_peer_that_moved_on_the_lan_is_found_again_without_a_ticket() {
    let Some((a_ns, mut b_ns)) = Netns::lan_pair("lan") else {
        eprintln!("SKIPPED: cannot create network namespaces here (needs root and `ip`)");
        return;
    };
    let laptop = a_ns.agent("laptop", 0, "");
    let server = b_ns.agent("server", 4100, "");
    pair(&laptop, &server, "box", "owner");
    let s = peer_status(&laptop, "box");
    assert_eq!(s["online"], true, "{s}");

    // The server moves: a new address and a new port; the ticket's address is gone.
    let home = server.stop();
    b_ns.change_ip(7);
    let started = Instant::now();
    let _server = b_ns.agent_on(home, "server", 4200, "");
    let moved = format!("{}:4200", b_ns.ns_ip);

    // The laptop reaches it at the new address, found on the LAN. (`status` asks the
    // peer each time; the first asks may come before the server announced itself.)
    let found = loop {
        let s = peer_status(&laptop, "box");
        let at_new_address = s["lan"].as_str().is_some_and(|at| at.contains(&moved));
        if s["online"] == true && at_new_address {
            break s;
        }
        assert!(
            started.elapsed() < TIMEOUT,
            "never found again: {s}\n{}",
            laptop.log()
        );
    };
    eprintln!(
        "found again {:.2} s after the move: {found}",
        started.elapsed().as_secs_f64()
    );
    let out = laptop.ok(&["status"]);
    assert!(out.contains(&format!("on this LAN at {moved}")), "{out}");
    // And a session opens there.
    let id = laptop.ok(&["open", "box", "--detached", "--", "sleep", "30"]);
    assert_eq!(id.trim().len(), 8, "{id}");
}

#[test]
fn an_agent_with_no_internet_says_so_once_instead_of_at_every_retry() {
    let Some(ns) = Netns::create("off") else {
        eprintln!("SKIPPED: cannot create a network namespace here (needs root and `ip`)");
        return;
    };
    // n0's relay and address lookup, in a namespace with no route out.
    let home = tempfile::Builder::new().prefix("vm-").tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        format!("name = \"offline\"\nlisten = [\"{}:0\"]\n", ns.ns_ip),
    )
    .unwrap();
    let agent = ns.spawn(home, "offline");
    let log = agent.wait_log("that the relay cannot be reached", |l| {
        l.contains("the relay cannot be reached")
    });
    // By then iroh had retried publishing its address several times (after 1, 2, 3 s…):
    // none of those reached the log.
    assert!(!log.contains("pkarr"), "{log}");
    assert_eq!(log.matches("cannot be reached").count(), 1, "{log}");
}
