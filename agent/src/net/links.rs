//! Connections this agent makes to the agents it paired with: one per peer, reused.

use std::{collections::HashMap, time::Duration};

use iroh::{Endpoint, EndpointAddr, endpoint::Connection};
use vibemesh_core::{ErrorCode, WireError, client::close_reason, proto::ALPN_MAIN};

use crate::access::KnownAgent;

/// How long dialing a peer may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Outgoing connections by peer.
pub struct Links {
    ep: Endpoint,
    conns: tokio::sync::Mutex<HashMap<iroh::EndpointId, Connection>>,
}

impl Links {
    /// No connections yet.
    pub fn new(ep: Endpoint) -> Self {
        Self {
            ep,
            conns: Default::default(),
        }
    }

    /// The live connection to `agent`, dialing it when there is none.
    pub async fn get(&self, agent: &KnownAgent) -> Result<Connection, WireError> {
        let mut conns = self.conns.lock().await;
        if let Some(c) = conns.get(&agent.id)
            && c.close_reason().is_none()
        {
            return Ok(c.clone());
        }
        let conn =
            tokio::time::timeout(CONNECT_TIMEOUT, self.ep.connect(addr_of(agent), ALPN_MAIN))
                .await
                .map_err(|_| {
                    WireError::new(
                        ErrorCode::Unreachable,
                        format!(
                            "{} did not answer within {}s",
                            agent.name,
                            CONNECT_TIMEOUT.as_secs()
                        ),
                    )
                })?
                .map_err(|e| {
                    WireError::new(
                        ErrorCode::Unreachable,
                        format!("cannot reach {}: {e}", agent.name),
                    )
                })?;
        conns.insert(agent.id, conn.clone());
        Ok(conn)
    }

    /// The connection if one is up, without dialing.
    pub async fn current(&self, id: &iroh::EndpointId) -> Option<Connection> {
        self.conns
            .lock()
            .await
            .get(id)
            .filter(|c| c.close_reason().is_none())
            .cloned()
    }

    /// Drops the connection to a peer we forgot.
    pub async fn forget(&self, id: &iroh::EndpointId) {
        if let Some(c) = self.conns.lock().await.remove(id) {
            c.close(0u32.into(), b"peer removed");
        }
    }
}

/// Where to dial a known agent.
pub fn addr_of(agent: &KnownAgent) -> EndpointAddr {
    vibemesh_core::client::dial_addr(agent.id, &agent.addrs, agent.relay.as_deref())
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
