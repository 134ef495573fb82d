//! One connection per paired machine, dialed on first use and reused, with a control
//! stream on it for requests. A lost connection is dialed again on the next call.

use std::{collections::HashMap, future::Future, time::Duration};

use iroh::Endpoint;
use vibemesh_core::{
    EndpointId,
    client::{ClientError, ControlClient, PeerConnection},
};

use crate::{MeshError, error::is_connection_lost, store::Known};

/// How long dialing a machine may take before it counts as unreachable.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request that is safe to repeat may wait for its answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// A live connection and its control stream.
#[derive(Clone, Debug)]
pub(crate) struct Link {
    /// The connection.
    pub conn: PeerConnection,
    /// Requests on its control stream.
    pub control: ControlClient,
}

impl Link {
    fn is_alive(&self) -> bool {
        self.conn.connection().close_reason().is_none()
    }
}

/// The connections, by machine.
pub(crate) struct Links {
    ep: Endpoint,
    links: tokio::sync::Mutex<HashMap<EndpointId, Link>>,
}

impl Links {
    /// No connections yet.
    pub fn new(ep: Endpoint) -> Self {
        Self {
            ep,
            links: Default::default(),
        }
    }

    /// The endpoint connections are made from.
    pub fn endpoint(&self) -> &Endpoint {
        &self.ep
    }

    /// The live link to `m`, dialing it when there is none. Must run on the runtime.
    pub async fn get(&self, m: &Known) -> Result<Link, MeshError> {
        let mut links = self.links.lock().await;
        if let Some(l) = links.get(&m.id)
            && l.is_alive()
        {
            return Ok(l.clone());
        }
        let link = tokio::time::timeout(CONNECT_TIMEOUT, dial(&self.ep, m))
            .await
            .map_err(|_| {
                MeshError::unreachable(format!(
                    "{} did not answer within {}s",
                    m.name,
                    CONNECT_TIMEOUT.as_secs()
                ))
            })??;
        links.insert(m.id, link.clone());
        Ok(link)
    }

    /// Closes and forgets the link to `id`.
    pub async fn drop_link(&self, id: &EndpointId, why: &[u8]) {
        if let Some(l) = self.links.lock().await.remove(id) {
            l.conn.connection().close(0u32.into(), why);
        }
    }

    /// Closes and forgets every link (the app was suspended: they may be dead without
    /// knowing it).
    pub async fn drop_all(&self, why: &[u8]) {
        for (_, l) in self.links.lock().await.drain() {
            l.conn.connection().close(0u32.into(), why);
        }
    }

    /// Runs a control request on `m`'s link; when the connection turns out to be gone,
    /// dials again and retries once (so only for requests that are safe to repeat).
    pub async fn call<T, F, Fut>(&self, m: &Known, f: F) -> Result<T, MeshError>
    where
        F: Fn(ControlClient) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let link = self.get(m).await?;
        let first = tokio::time::timeout(REQUEST_TIMEOUT, f(link.control.clone())).await;
        match first {
            Ok(Err(e)) if is_connection_lost(&e) => {}
            // A connection that went silent (a network change, a suspended app) may not
            // know it is dead yet: treat no answer like a lost connection.
            Err(_) => {}
            Ok(r) => return r.map_err(|e| link.conn.closed_or(e).into()),
        }
        self.drop_link(&m.id, b"stale").await;
        let link = self.get(m).await?;
        match tokio::time::timeout(REQUEST_TIMEOUT, f(link.control.clone())).await {
            Ok(r) => r.map_err(|e| link.conn.closed_or(e).into()),
            Err(_) => Err(MeshError::unreachable(format!(
                "{} did not answer within {}s",
                m.name,
                REQUEST_TIMEOUT.as_secs()
            ))),
        }
    }
}

async fn dial(ep: &Endpoint, m: &Known) -> Result<Link, MeshError> {
    let conn = PeerConnection::connect(ep, m.addr()).await.map_err(|e| {
        MeshError::unreachable(format!("cannot reach {}: {}", m.name, MeshError::from(e)))
    })?;
    let (control, _events, driver) = conn.control().await.map_err(|e| conn.closed_or(e))?;
    tokio::spawn(async move {
        if let Err(e) = driver.run().await {
            tracing::debug!("control stream ended: {e}");
        }
    });
    Ok(Link { conn, control })
}
