//! The phone's connections: core's [`Peers`] dials, reuses and re-dials one connection
//! per paired machine (each machine in a slot of its own, so a machine that is away
//! holds up nobody who wants another one); on top of it this keeps one control stream
//! per machine for requests.

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    time::Duration,
};

use iroh::Endpoint;
use vibemesh_core::{
    EndpointId,
    client::{BoxRead, BoxWrite, ClientError, ControlClient, Peer, PeerConnection, Peers},
};

use crate::{MeshError, error::is_connection_lost, session::lock, store::Known};

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

/// A stream being opened by [`Links::dialer`].
pub(crate) type Dialed =
    Pin<Box<dyn Future<Output = Result<(BoxRead, BoxWrite), ClientError>> + Send + 'static>>;

/// One machine's control stream, opened by the first caller that wants it; callers for
/// the same machine wait for that one, callers for other machines do not.
type ControlSlot = Arc<tokio::sync::Mutex<Option<Link>>>;

/// The connections and control streams, by machine.
pub(crate) struct Links {
    peers: Arc<Peers>,
    controls: Mutex<HashMap<EndpointId, ControlSlot>>,
}

impl Links {
    /// No connections yet.
    pub fn new(ep: Endpoint) -> Self {
        Self {
            peers: Arc::new(Peers::new(ep, CONNECT_TIMEOUT)),
            controls: Mutex::default(),
        }
    }

    /// The endpoint connections are made from.
    pub fn endpoint(&self) -> &Endpoint {
        self.peers.endpoint()
    }

    /// The one way to machine `m`: its live connection, dialed when there is none. Every
    /// stream the phone opens (control, attach, conversation) is opened on what this
    /// returns. Must run on the runtime.
    pub async fn connection(&self, m: &Known) -> Result<PeerConnection, MeshError> {
        let conn = self.peers.connection(m.addr(), &m.name).await?;
        Ok(PeerConnection::from_connection(conn))
    }

    /// Machine `m` as core's [`Peer`]: streams on the one connection kept to it.
    pub fn peer(&self, m: &Known) -> Peer {
        Peer::Direct {
            peers: self.peers.clone(),
            addr: m.addr(),
            name: m.name.clone(),
        }
    }

    /// Fresh streams to machine `m`, one per call, for core's reconnecting streams
    /// (terminals, conversations). A call after the first is a retry: the connection
    /// the last try was on failed it, and may be dead without knowing it, so it is
    /// dropped first and the retry dials afresh.
    pub fn dialer(self: &Arc<Self>, m: &Known) -> impl FnMut() -> Dialed + Send + 'static {
        let links = self.clone();
        let peer = self.peer(m);
        let id = m.id;
        let mut tries = 0u32;
        move || {
            tries += 1;
            if tries > 1 {
                links.drop_link(&id, b"stale");
            }
            let peer = peer.clone();
            Box::pin(async move { peer.open_stream().await })
        }
    }

    /// The live link (connection and control stream) to `m`, opening what is missing.
    pub async fn get(&self, m: &Known) -> Result<Link, MeshError> {
        let slot = lock(&self.controls).entry(m.id).or_default().clone();
        let mut slot = slot.lock().await;
        if let Some(l) = slot.as_ref()
            && l.is_alive()
        {
            return Ok(l.clone());
        }
        let conn = self.connection(m).await?;
        // An agent that took the connection but never answers must not hold this
        // machine's slot (and every caller waiting on it) forever.
        let (control, _events, driver) = tokio::time::timeout(CONNECT_TIMEOUT, conn.control())
            .await
            .map_err(|_| {
                MeshError::unreachable(format!(
                    "{} did not open a control stream within {}s",
                    m.name,
                    CONNECT_TIMEOUT.as_secs()
                ))
            })?
            .map_err(|e| conn.closed_or(e))?;
        tokio::spawn(async move {
            if let Err(e) = driver.run().await {
                tracing::debug!("control stream ended: {e}");
            }
        });
        let link = Link { conn, control };
        *slot = Some(link.clone());
        Ok(link)
    }

    /// Closes and forgets the connection to `id`; the next call dials again.
    pub fn drop_link(&self, id: &EndpointId, why: &[u8]) {
        lock(&self.controls).remove(id);
        self.peers.forget(id, why);
    }

    /// Closes and forgets every connection (the app was suspended: they may be dead
    /// without knowing it).
    pub fn drop_all(&self, why: &[u8]) {
        lock(&self.controls).clear();
        self.peers.forget_all(why);
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
        self.drop_link(&m.id, b"stale");
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
