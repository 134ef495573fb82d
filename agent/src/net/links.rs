//! Connections this agent makes to the agents it paired with: one per peer, reused.

use std::time::Duration;

use iroh::{Endpoint, EndpointAddr, endpoint::Connection};
use vibemesh_core::{
    ErrorCode, WireError,
    client::{Peers, close_reason},
};

use crate::access::KnownAgent;

/// How long dialing a peer may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Outgoing connections by peer: one per peer, each dialed on its own (a peer that is
/// down never holds up requests to the others).
#[derive(Clone)]
pub struct Links {
    peers: std::sync::Arc<Peers>,
}

impl Links {
    /// No connections yet.
    pub fn new(ep: Endpoint) -> Self {
        Self {
            peers: std::sync::Arc::new(Peers::new(ep, CONNECT_TIMEOUT)),
        }
    }

    /// The live connection to `agent`, dialing it when there is none.
    pub async fn get(&self, agent: &KnownAgent) -> Result<Connection, WireError> {
        self.peers.connection(addr_of(agent), &agent.name).await
    }

    /// Drops the connection to a peer we forgot.
    pub fn forget(&self, id: &iroh::EndpointId) {
        self.peers.forget(id, b"peer removed");
    }
}

/// Where to dial a known agent.
pub fn addr_of(agent: &KnownAgent) -> EndpointAddr {
    let relays = agent.relay.iter().chain(&agent.other_relays);
    vibemesh_core::client::dial_addr(agent.id, &agent.addrs, relays)
}

/// The agent's reason when it closed `conn`, in words for the user.
pub fn why_closed(conn: &Connection, name: &str) -> WireError {
    match conn.close_reason().as_ref().and_then(close_reason) {
        Some(w) => WireError::new(
            w.code,
            format!("{name} closed the connection: {}", w.message),
        ),
        None => WireError::new(ErrorCode::Unreachable, format!("connection to {name} lost")),
    }
}
