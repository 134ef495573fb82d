//! Reaching an agent over iroh.

use iroh::{
    Endpoint, EndpointAddr,
    endpoint::{Connection, ConnectionError},
};

use super::{
    AttachReader, AttachWriter, BoxRead, BoxWrite, ClientError, ControlClient, ControlDriver,
    Events, open_attach, open_control,
};
use crate::sync::lock;
use crate::{
    ErrorCode, WireError,
    frame::{FrameReader, FrameWriter},
    proto::{
        ALPN_MAIN, ALPN_PAIR, SessionInfo,
        attach::AttachRequest,
        pair::{PairAccepted, PairRequest, PairResponse},
    },
    ticket::Ticket,
};

/// A connection to an agent on the main protocol.
#[derive(Debug, Clone)]
pub struct PeerConnection {
    conn: Connection,
}

impl PeerConnection {
    /// Connects to the agent at `addr`.
    pub async fn connect(
        ep: &Endpoint,
        addr: impl Into<EndpointAddr>,
    ) -> Result<Self, ClientError> {
        let conn = ep
            .connect(addr, ALPN_MAIN)
            .await
            .map_err(|e| ClientError::Connect(e.to_string()))?;
        Ok(Self { conn })
    }

    /// Wraps a connection made elsewhere.
    pub fn from_connection(conn: Connection) -> Self {
        Self { conn }
    }

    /// The underlying iroh connection (paths, round-trip time, close).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Opens a raw bidirectional stream (the caller sends the [`crate::proto::StreamOpen`]).
    /// When the agent closes the connection on purpose (access revoked, not paired, too
    /// many connections), reading the stream fails with the agent's reason
    /// ([`ClientError::wire`] finds it), not with a bare "connection lost".
    pub async fn open_stream(&self) -> Result<(BoxRead, BoxWrite), ClientError> {
        let (send, recv) = self.conn.open_bi().await.map_err(|e| self.lost(e))?;
        let recv = Explained {
            inner: recv,
            conn: self.conn.clone(),
        };
        // An agent that is gone never answers what is sent: found out in seconds.
        let send = super::WatchedSend::new(send, self.conn.clone());
        Ok((Box::new(recv), Box::new(send)))
    }

    /// Opens a control stream.
    pub async fn control(&self) -> Result<(ControlClient, Events, ControlDriver), ClientError> {
        let (r, w) = self.open_stream().await?;
        open_control(r, w).await
    }

    /// Attaches to a session.
    pub async fn attach(
        &self,
        req: AttachRequest,
    ) -> Result<(SessionInfo, AttachReader, AttachWriter), ClientError> {
        let (r, w) = self.open_stream().await?;
        open_attach(r, w, req).await.map_err(|e| match e {
            ClientError::Frame(_) | ClientError::Closed => self.closed_or(e),
            e => e,
        })
    }

    /// Attaches to a structured AI session's conversation.
    pub async fn conversation(
        &self,
        req: crate::proto::ai::ConversationOpen,
    ) -> Result<(SessionInfo, super::ConvReader, super::ConvWriter), ClientError> {
        let (r, w) = self.open_stream().await?;
        super::open_conversation(r, w, req)
            .await
            .map_err(|e| match e {
                ClientError::Frame(_) | ClientError::Closed => self.closed_or(e),
                e => e,
            })
    }

    fn lost(&self, e: ConnectionError) -> ClientError {
        close_reason(&e)
            .map(ClientError::Remote)
            .unwrap_or_else(|| ClientError::Connect(e.to_string()))
    }

    /// The agent's reason when the connection was closed by it, else `e`.
    pub fn closed_or(&self, e: ClientError) -> ClientError {
        match self.conn.close_reason().as_ref().and_then(close_reason) {
            Some(w) => ClientError::Remote(w),
            None => e,
        }
    }
}

/// A stream's read half whose errors carry the agent's reason when it closed the
/// connection on purpose.
struct Explained {
    inner: iroh::endpoint::RecvStream,
    conn: Connection,
}

impl tokio::io::AsyncRead for Explained {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        match polled {
            std::task::Poll::Ready(Err(e)) => {
                let why = self.conn.close_reason().as_ref().and_then(close_reason);
                std::task::Poll::Ready(Err(match why {
                    Some(w) => std::io::Error::new(e.kind(), w),
                    None => e,
                }))
            }
            other => other,
        }
    }
}

/// Opens streams to one agent over a connection it keeps, dialing again whenever that
/// connection is gone (idle timeout after a network change, the agent restarted): the
/// `dial` a [`super::reattach`] over iroh needs. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Redialer {
    ep: Endpoint,
    addr: EndpointAddr,
    conn: std::sync::Arc<std::sync::Mutex<Option<PeerConnection>>>,
}

impl Redialer {
    /// Streams to the agent at `addr`; nothing is dialed until the first stream.
    pub fn new(ep: Endpoint, addr: impl Into<EndpointAddr>) -> Self {
        Self {
            ep,
            addr: addr.into(),
            conn: Default::default(),
        }
    }

    /// Streams to the agent at `addr` over `conn` while it lives, so a client that is
    /// already connected keeps one connection per agent.
    pub fn with_connection(
        ep: Endpoint,
        addr: impl Into<EndpointAddr>,
        conn: PeerConnection,
    ) -> Self {
        Self {
            ep,
            addr: addr.into(),
            conn: std::sync::Arc::new(std::sync::Mutex::new(Some(conn))),
        }
    }

    /// The live connection, dialing a new one if there is none.
    pub async fn connection(&self) -> Result<PeerConnection, ClientError> {
        let live = lock(&self.conn)
            .clone()
            .filter(|c| c.connection().close_reason().is_none());
        if let Some(c) = live {
            return Ok(c);
        }
        let c = PeerConnection::connect(&self.ep, self.addr.clone()).await?;
        *lock(&self.conn) = Some(c.clone());
        Ok(c)
    }

    /// A fresh stream (the caller sends the [`crate::proto::StreamOpen`]).
    pub async fn open_stream(&self) -> Result<(BoxRead, BoxWrite), ClientError> {
        let conn = self.connection().await?;
        match conn.open_stream().await {
            Ok(s) => Ok(s),
            Err(e) => {
                // The connection died under us: forget it, so the next try dials.
                *lock(&self.conn) = None;
                Err(e)
            }
        }
    }
}

/// The typed reason inside a connection the agent closed on purpose.
pub fn close_reason(e: &ConnectionError) -> Option<WireError> {
    match e {
        ConnectionError::ApplicationClosed(close) => {
            let code = ErrorCode::from(u32::try_from(close.error_code.into_inner()).ok()?);
            Some(WireError::new(
                code,
                String::from_utf8_lossy(&close.reason).into_owned(),
            ))
        }
        _ => None,
    }
}

/// Pairs with the agent a ticket names: proves the ticket's secret and tells the agent
/// our name. The agent then lets our key in.
pub async fn pair(ep: &Endpoint, ticket: &Ticket, name: &str) -> Result<PairAccepted, ClientError> {
    let relays = ticket.relay.iter().chain(&ticket.other_relays);
    let addr = dial_addr(ticket.id, &ticket.addrs, relays);
    let conn = ep
        .connect(addr, ALPN_PAIR)
        .await
        .map_err(|e| ClientError::Connect(e.to_string()))?;
    let result = async {
        let (send, recv) = conn
            .open_bi()
            .await
            .map_err(|e| ClientError::Connect(e.to_string()))?;
        let mut w = FrameWriter::new(send);
        let mut r = FrameReader::new(recv);
        w.send(&PairRequest {
            secret: ticket.secret,
            name: name.to_string(),
        })
        .await?;
        match r.recv::<PairResponse>().await? {
            Some(Ok(acc)) => Ok(acc),
            Some(Err(e)) => Err(ClientError::Remote(e)),
            None => Err(ClientError::Closed),
        }
    }
    .await;
    let result =
        result.map_err(
            |e| match (&e, conn.close_reason().as_ref().and_then(close_reason)) {
                (ClientError::Remote(_), _) => e,
                (_, Some(w)) => ClientError::Remote(w),
                _ => e,
            },
        );
    conn.close(0u32.into(), b"paired");
    result
}

/// Where to dial a peer known by its id, direct addresses and relays (its home relay
/// first; an unparsable one is left out: the others may still work).
pub fn dial_addr(
    id: iroh::EndpointId,
    addrs: &[std::net::SocketAddr],
    relays: impl IntoIterator<Item = impl AsRef<str>>,
) -> EndpointAddr {
    let mut addr = EndpointAddr::new(id);
    for a in addrs {
        addr = addr.with_ip_addr(*a);
    }
    for url in relays {
        if let Ok(url) = url.as_ref().parse() {
            addr = addr.with_relay_url(url);
        }
    }
    addr
}
