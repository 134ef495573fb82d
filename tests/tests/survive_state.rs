//! State on disk survives `kill -9` at any moment: the agent is killed again and again
//! while it writes `peers.json`, and every time the file parses and lists every peer.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use vibemesh_tests::{InProcPeer, TestAgent, peer_addr};

const ROUNDS: u64 = 10;
const PEERS: usize = 3;

fn read_peers(home: &std::path::Path) -> serde_json::Value {
    let path = home.join("peers.json");
    let text = std::fs::read_to_string(&path).expect("peers.json exists");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("peers.json is damaged ({e}):\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_files_always_parse_however_often_the_agent_is_killed_while_writing() {
    let mut agent = TestAgent::start("box");
    let mut peers = Vec::new();
    for _ in 0..PEERS {
        let p = InProcPeer::bind().await;
        p.pair(&agent, "owner").await.expect("pair");
        peers.push(Arc::new(p));
    }
    let key_before = std::fs::read(agent.path().join("key")).unwrap();
    let mut last_seen_before = Vec::new();
    let mut rounds_with_writes = 0;
    for round in 0..ROUNDS {
        // Every connection makes the agent save when the peer was last seen: keep the
        // agent writing from several peers at once.
        let addr = peer_addr(&agent);
        let stop = Arc::new(AtomicBool::new(false));
        let connects = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = peers
            .iter()
            .map(|p| {
                let (p, addr, stop, n) = (p.clone(), addr.clone(), stop.clone(), connects.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        if let Ok(c) =
                            vibemesh_core::client::PeerConnection::connect(&p.ep, addr.clone())
                                .await
                        {
                            n.fetch_add(1, Ordering::Relaxed);
                            c.connection().close(0u32.into(), b"again");
                        }
                    }
                })
            })
            .collect();
        // Wait until writes are under way, then kill at a different moment each round.
        while connects.load(Ordering::Relaxed) < 3 {
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(3 + 7 * (round % 5))).await;
        let home = agent.crash();
        stop.store(true, Ordering::Relaxed);
        // A dial to the dead agent would only time out: drop them.
        for t in &tasks {
            t.abort();
        }
        let book = read_peers(home.path());
        let allowed = book["allowed"].as_array().expect("allowed list");
        assert_eq!(allowed.len(), PEERS, "{book}");
        let seen: Vec<_> = allowed.iter().map(|c| c["last_seen_ms"].clone()).collect();
        if seen != last_seen_before {
            rounds_with_writes += 1;
        }
        last_seen_before = seen;
        assert_eq!(std::fs::read(home.path().join("key")).unwrap(), key_before);
        agent = TestAgent::spawn(home, "box");
    }
    // The kills did land while the agent was writing.
    assert!(
        rounds_with_writes >= ROUNDS / 2,
        "only {rounds_with_writes} of {ROUNDS} rounds wrote"
    );
    // The agent that comes back still knows every peer.
    let c = peers[0].connect(&agent).await;
    assert!(c.is_ok(), "a paired peer gets in after {ROUNDS} kills");
}
