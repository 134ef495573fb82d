//! One machine that is away must not hold up calls to another: the phone's connections
//! are per machine (core's `Peers`), so a dial that waits out its timeout for one
//! machine leaves every other machine's calls alone.

use std::sync::Arc;

use vibemesh_core::ticket::Ticket;
use vibemesh_ios::{Mesh, MeshError};
use vibemesh_tests::TestAgent;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_machine_does_not_hold_up_another() {
    let online = TestAgent::start("online");
    let away = TestAgent::start("away");
    let dir = tempfile::tempdir().expect("tempdir");
    let mesh = Mesh::open(
        dir.path().display().to_string(),
        "phone".into(),
        "none".into(),
        Some("127.0.0.1:0".into()),
    )
    .await
    .expect("open");
    mesh.pair(online.ticket(&[])).await.expect("pair online");
    let ticket = away.ticket(&[]);
    mesh.pair(ticket.clone()).await.expect("pair away");
    let addr = Ticket::parse(&ticket).expect("ticket").addrs[0];
    // Connected and answering before the other machine goes away.
    mesh.sessions("online".into()).await.expect("online lists");

    // The away machine's address now swallows every packet: a dial to it waits out its
    // whole timeout, as one to a machine that is off does.
    drop(away.stop());
    let hole = tokio::net::UdpSocket::bind(addr)
        .await
        .expect("bind the hole");
    let mesh = Arc::new(mesh);
    let m = mesh.clone();
    let mut stuck = tokio::spawn(async move { m.sessions("away".into()).await });
    let mut buf = [0u8; 2048];
    hole.recv_from(&mut buf)
        .await
        .expect("the dial's first packet");

    // The away machine is being dialed now; the online one still answers at once.
    tokio::select! {
        listed = mesh.sessions("online".into()) => {
            listed.expect("online lists while the other is dialed");
        }
        r = &mut stuck => panic!(
            "the call to the away machine ended ({r:?}) before the online one answered: \
             the online machine waited for the other's dial"
        ),
    }
    assert!(!stuck.is_finished(), "the away machine's dial ended early");
    let r = stuck.await.expect("join");
    assert!(matches!(r, Err(MeshError::Unreachable { .. })), "{r:?}");
    mesh.close().await.expect("close");
}
