//! Connections to many agents at once: one per agent, dialed on first use, shared while
//! it lives, dialed again once it is gone.
//!
//! Each agent has a slot of its own, so a dial to an agent that is down (it may take the
//! whole dial timeout) never holds up anyone who wants another agent, and callers who
//! want the same agent at the same moment share one dial and its outcome.
//!
//! A connection whose agent is gone is found out by the first stream sent on it
//! ([`super::close_if_silent`]), and the next caller dials again.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use iroh::{Endpoint, EndpointAddr, EndpointId, endpoint::Connection};
use tokio::sync::OnceCell;

use crate::sync::lock;
use crate::{ErrorCode, WireError, proto::ALPN_MAIN};

/// One dial and what came of it, shared by everyone who asked while it ran.
type Attempt = OnceCell<Result<Connection, WireError>>;

/// The connections of one endpoint to the agents it reaches, by agent.
#[derive(Debug)]
pub struct Peers {
    ep: Endpoint,
    timeout: Duration,
    slots: Mutex<HashMap<EndpointId, Arc<Mutex<Arc<Attempt>>>>>,
}

impl Peers {
    /// Connections from `ep`; a dial that takes longer than `timeout` fails.
    pub fn new(ep: Endpoint, timeout: Duration) -> Self {
        Self {
            ep,
            timeout,
            slots: Mutex::default(),
        }
    }

    /// The endpoint connections are made from.
    pub fn endpoint(&self) -> &Endpoint {
        &self.ep
    }

    fn slot(&self, id: EndpointId) -> Arc<Mutex<Arc<Attempt>>> {
        lock(&self.slots).entry(id).or_default().clone()
    }

    /// The live connection to the agent at `addr` (called `name` in messages), dialing
    /// it when there is none. A failed dial is shared by the callers that waited for it
    /// and tried afresh by the next one.
    pub async fn connection(
        &self,
        addr: EndpointAddr,
        name: &str,
    ) -> Result<Connection, WireError> {
        let slot = self.slot(addr.id);
        let attempt = {
            let mut current = lock(&slot);
            let spent = match current.get() {
                Some(Ok(c)) => c.close_reason().is_some(),
                Some(Err(_)) => true,
                None => false,
            };
            if spent {
                *current = Arc::default();
            }
            current.clone()
        };
        attempt
            .get_or_init(|| dial(&self.ep, addr, name, self.timeout))
            .await
            .clone()
    }

    /// The connection to `id` if one is up, without dialing.
    pub fn current(&self, id: &EndpointId) -> Option<Connection> {
        let slot = lock(&self.slots).get(id).cloned()?;
        let attempt = lock(&slot).clone();
        match attempt.get() {
            Some(Ok(c)) if c.close_reason().is_none() => Some(c.clone()),
            _ => None,
        }
    }

    /// Closes and forgets the connection to `id` (a peer removed, or one that stopped
    /// answering), saying `why`; the next caller dials again.
    pub fn forget(&self, id: &EndpointId, why: &[u8]) {
        let Some(slot) = lock(&self.slots).remove(id) else {
            return;
        };
        let attempt = lock(&slot).clone();
        if let Some(Ok(c)) = attempt.get() {
            c.close(0u32.into(), why);
        }
    }

    /// Closes and forgets every connection (the machine slept: they may be dead without
    /// knowing it).
    pub fn forget_all(&self, why: &[u8]) {
        let ids: Vec<EndpointId> = lock(&self.slots).keys().copied().collect();
        for id in ids {
            self.forget(&id, why);
        }
    }
}

async fn dial(
    ep: &Endpoint,
    addr: EndpointAddr,
    name: &str,
    timeout: Duration,
) -> Result<Connection, WireError> {
    let conn = n0_future::time::timeout(timeout, ep.connect(addr, ALPN_MAIN))
        .await
        .map_err(|_| {
            WireError::new(
                ErrorCode::Unreachable,
                format!("{name} did not answer within {} s", timeout.as_secs()),
            )
        })?
        .map_err(|e| WireError::new(ErrorCode::Unreachable, format!("cannot reach {name}: {e}")))?;
    Ok(conn)
}
