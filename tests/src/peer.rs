//! An in-process iroh client, for tests that must speak the wire protocol directly
//! (unpaired keys, garbage frames, a viewer that never reads).

use std::net::SocketAddr;

use iroh::{
    Endpoint, EndpointAddr, RelayMode,
    endpoint::{PortmapperConfig, presets},
};
use vibemesh_core::{
    EndpointId,
    client::{ClientError, ControlClient, Events, PeerConnection},
    ticket::Ticket,
};

use crate::TestAgent;

/// A client paired with an agent, connected, with a control stream whose driver runs on
/// the runtime. The peer and the connection are kept so the stream stays up.
pub struct Paired {
    /// Requests.
    pub control: ControlClient,
    /// Pushed events.
    pub events: Events,
    /// The connection.
    pub conn: PeerConnection,
    /// The client's endpoint.
    pub peer: InProcPeer,
}

/// Pairs a fresh in-process client with `agent` as `role` and opens a control stream.
/// Waits one round trip, so the agent has subscribed it to events before this returns.
pub async fn paired(agent: &TestAgent, role: &str) -> Paired {
    let peer = InProcPeer::bind().await;
    peer.pair(agent, role).await.expect("pair");
    let conn = peer.connect(agent).await.expect("connect");
    let (control, events, driver) = conn.control().await.expect("control");
    tokio::spawn(driver.run());
    control.list_sessions().await.expect("a first answer");
    Paired {
        control,
        events,
        conn,
        peer,
    }
}

/// A client endpoint on 127.0.0.1 with relays and address lookup off.
pub struct InProcPeer {
    /// The endpoint.
    pub ep: Endpoint,
}

impl InProcPeer {
    /// Binds a fresh endpoint with a new key.
    pub async fn bind() -> Self {
        Self::bind_on("127.0.0.1:0").await
    }

    /// Like [`InProcPeer::bind`], on `addr` (`0.0.0.0:0` to reach a network namespace).
    pub async fn bind_on(addr: &str) -> Self {
        let ep = Endpoint::builder(presets::Minimal)
            .relay_mode(RelayMode::Disabled)
            .portmapper_config(PortmapperConfig::Disabled)
            .transport_config(vibemesh_core::client::transport_config())
            .clear_ip_transports()
            .bind_addr(addr.parse::<SocketAddr>().expect("addr"))
            .expect("bind addr")
            .bind()
            .await
            .expect("bind endpoint");
        Self { ep }
    }

    /// Pairs with `agent` using a fresh ticket of `role`.
    pub async fn pair(&self, agent: &TestAgent, role: &str) -> Result<(), ClientError> {
        let ticket = Ticket::parse(&agent.ticket(&["--role", role])).expect("ticket parses");
        vibemesh_core::client::pair(&self.ep, &ticket, "inproc")
            .await
            .map(|_| ())
    }

    /// Connects to `agent` on the main protocol (paired or not).
    pub async fn connect(&self, agent: &TestAgent) -> Result<PeerConnection, ClientError> {
        PeerConnection::connect(&self.ep, addr_of(agent)).await
    }
}

/// Where `agent` listens, from `vibemesh status --json`.
pub fn addr_of(agent: &TestAgent) -> EndpointAddr {
    let status = agent.json(&["status"]);
    let id: EndpointId = status["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("valid id");
    let mut addr = EndpointAddr::new(id);
    for a in status["addrs"].as_array().expect("addrs") {
        addr = addr.with_ip_addr(a.as_str().expect("addr").parse().expect("socket addr"));
    }
    addr
}
