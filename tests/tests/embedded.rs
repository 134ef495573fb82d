//! The agent as a library, the way the desktop app embeds it: start it in-process, then
//! talk to it and to its peers through in-process streams and the core client API.

use vibemesh_agent::{
    Agent,
    config::{Config, Home},
};
use vibemesh_core::{
    client::{LocalRoute, Peer, Peers, open_attach, open_control},
    proto::{
        Provider, TermSize,
        attach::{AttachRequest, ServerFrame},
        control::CreateSession,
        local::{AdminReply, AdminRequest, Target},
    },
};
use vibemesh_tests::{InProcPeer, TestAgent, pair, peer_addr};

async fn screen_until(reader: &mut vibemesh_core::client::AttachReader, text: &str) -> String {
    let mut parser = vt100::Parser::new(
        std::num::NonZeroU16::new(24).unwrap(),
        std::num::NonZeroU16::new(80).unwrap(),
        0,
    );
    loop {
        let frame = tokio::time::timeout(vibemesh_tests::TIMEOUT, reader.next())
            .await
            .expect("output in time")
            .expect("stream ok")
            .expect("stream open");
        if let ServerFrame::Snapshot(b) | ServerFrame::Output(b) = frame {
            parser.process(&b);
        }
        let screen = parser.screen().contents();
        if screen.contains(text) {
            return screen;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_agent_serves_its_owner_and_reaches_its_peers() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        name: Some("desktop".into()),
        relay: "none".into(),
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        ..Config::default()
    };
    let agent = Agent::start(Home::under(dir.path()), config)
        .await
        .expect("agent starts");

    // Its own sessions, in-process.
    let (info, r, w) = agent
        .open_stream(&Target::Local)
        .await
        .expect("local route");
    assert_eq!(info.name, "local");
    let (control, _events, driver) = open_control(r, w).await.unwrap();
    tokio::spawn(driver.run());
    let created = control
        .create_session(CreateSession {
            provider: Provider::Shell,
            cwd: Some(dir.path().display().to_string()),
            command: vec![
                "sh".into(),
                "-c".into(),
                "echo embedded-ok; exec cat".into(),
            ],
            size: TermSize::DEFAULT,
            title: None,
            env: vec![],
        })
        .await
        .expect("create");
    let (_, r, w) = agent.open_stream(&Target::Local).await.unwrap();
    let req = AttachRequest {
        session: created.id,
        size: None,
        scrollback: 0,
        watch_only: false,
    };
    let (_, mut reader, mut writer) = open_attach(r, w, req).await.expect("attach");
    screen_until(&mut reader, "embedded-ok").await;
    writer.input(&b"typed-in-process\r"[..]).await.unwrap();
    screen_until(&mut reader, "typed-in-process").await;

    // A peer it joined, through the same API.
    let server = TestAgent::start("server");
    let ticket = server.ticket(&[]);
    let joined = agent
        .admin(AdminRequest::Join {
            ticket,
            name: Some("srv".into()),
        })
        .await
        .expect("join");
    assert!(matches!(joined, AdminReply::Joined(p) if p.name == "srv"));
    let (info, r, w) = agent
        .open_stream(&Target::Peer("srv".into()))
        .await
        .expect("route to srv");
    assert_eq!(info.name, "srv");
    let (control, _events, driver) = open_control(r, w).await.unwrap();
    tokio::spawn(driver.run());
    assert_eq!(control.info().await.unwrap().name, "server");
    agent.shutdown().await;
}

/// A front end holds a [`Peer`] and does not care how it is reached: the same agent
/// through this machine's agent (its socket, routed to the peer) and straight over iroh
/// shows the same sessions, and a session started one way is typed into the other way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_peer_type_reaches_an_agent_through_the_local_socket_or_directly() {
    let server = TestAgent::start("server");
    let client = TestAgent::start("client");
    pair(&client, &server, "srv", "owner");
    let routed = Peer::Local(LocalRoute::new(
        Home::under(client.path()).socket,
        Target::Peer("srv".into()),
    ));
    let me = InProcPeer::bind().await;
    me.pair(&server, "owner").await.expect("pair");
    let direct = Peer::Direct {
        peers: std::sync::Arc::new(Peers::new(me.ep.clone(), vibemesh_tests::TIMEOUT)),
        addr: peer_addr(&server),
        name: "server".into(),
    };

    let (control, _events, driver) = routed.control().await.expect("control, routed");
    tokio::spawn(driver.run());
    let created = control
        .create_session(CreateSession {
            provider: Provider::Shell,
            cwd: None,
            command: vec!["sh".into(), "-c".into(), "echo either-way; exec cat".into()],
            size: TermSize::DEFAULT,
            title: None,
            env: vec![],
        })
        .await
        .expect("create");
    let (direct_control, _events, driver) = direct.control().await.expect("control, direct");
    tokio::spawn(driver.run());
    let ids =
        |l: Vec<vibemesh_core::proto::SessionInfo>| l.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(
        ids(direct_control.list_sessions().await.unwrap()),
        ids(control.list_sessions().await.unwrap())
    );

    let req = AttachRequest {
        session: created.id,
        size: None,
        scrollback: 0,
        watch_only: false,
    };
    // (Dropping a writer detaches; this viewer only reads.)
    let (_, mut seen, _keep) = routed.attach(req.clone()).await.expect("attach, routed");
    let (_, mut reader, mut writer) = direct.attach(req).await.expect("attach, direct");
    screen_until(&mut reader, "either-way").await;
    writer.input(&b"typed-directly\r"[..]).await.unwrap();
    screen_until(&mut seen, "typed-directly").await;
}
