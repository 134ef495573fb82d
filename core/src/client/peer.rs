//! [`Peer`]: one agent, however it is reached, so a front end holds a `Peer` and opens
//! control, terminal, conversation and transfer streams on it without caring whether
//! they go through the agent on this machine or straight over iroh.

use std::sync::Arc;

use iroh::EndpointAddr;

#[cfg(not(target_arch = "wasm32"))]
use super::LocalRoute;
use super::{
    AttachReader, AttachWriter, BoxRead, BoxWrite, ClientError, ControlClient, ControlDriver,
    ConvReader, ConvWriter, Download, Events, PeerConnection, Peers, Upload, open_attach,
    open_control, open_conversation, open_download, open_upload,
};
use crate::proto::{
    SessionInfo, ai::ConversationOpen, attach::AttachRequest, files::FileMeta, files::UploadRequest,
};

/// One agent and the way to it.
#[derive(Debug, Clone)]
pub enum Peer {
    /// Through the agent on this machine: each stream is a connection to its socket,
    /// routed to the route's target (the agent itself or one of its peers).
    #[cfg(not(target_arch = "wasm32"))]
    Local(LocalRoute),
    /// Straight over iroh, on the one connection `peers` keeps to the agent (dialed on
    /// first use, dialed again once it is gone).
    Direct {
        /// The connections of this endpoint, shared with every other `Peer` on it.
        peers: Arc<Peers>,
        /// Where the agent is.
        addr: EndpointAddr,
        /// What to call it in messages.
        name: String,
    },
}

/// A fresh stream, and the connection it is on when it went over iroh (whose close
/// reason explains a stream that fails).
type Opened = (BoxRead, BoxWrite, Option<PeerConnection>);

impl Peer {
    async fn open(&self) -> Result<Opened, ClientError> {
        match self {
            #[cfg(not(target_arch = "wasm32"))]
            Peer::Local(route) => {
                let (r, w) = route.open_stream().await?;
                Ok((r, w, None))
            }
            Peer::Direct { peers, addr, name } => {
                let conn = peers.connection(addr.clone(), name).await?;
                let conn = PeerConnection::from_connection(conn);
                let (r, w) = conn.open_stream().await?;
                Ok((r, w, Some(conn)))
            }
        }
    }

    /// A fresh main-protocol stream (the caller sends the [`crate::proto::StreamOpen`]).
    pub async fn open_stream(&self) -> Result<(BoxRead, BoxWrite), ClientError> {
        let (r, w, _) = self.open().await?;
        Ok((r, w))
    }

    /// Opens a control stream; the caller runs the driver on its executor.
    pub async fn control(&self) -> Result<(ControlClient, Events, ControlDriver), ClientError> {
        let (r, w, conn) = self.open().await?;
        open_control(r, w).await.map_err(|e| explain(&conn, e))
    }

    /// Attaches to a terminal session.
    pub async fn attach(
        &self,
        req: AttachRequest,
    ) -> Result<(SessionInfo, AttachReader, AttachWriter), ClientError> {
        let (r, w, conn) = self.open().await?;
        open_attach(r, w, req).await.map_err(|e| explain(&conn, e))
    }

    /// Attaches to a structured AI session's conversation.
    pub async fn conversation(
        &self,
        req: ConversationOpen,
    ) -> Result<(SessionInfo, ConvReader, ConvWriter), ClientError> {
        let (r, w, conn) = self.open().await?;
        open_conversation(r, w, req)
            .await
            .map_err(|e| explain(&conn, e))
    }

    /// Starts downloading the file at `path`.
    pub async fn download(&self, path: &str) -> Result<(FileMeta, Download), ClientError> {
        let (r, w, conn) = self.open().await?;
        open_download(r, w, path)
            .await
            .map_err(|e| explain(&conn, e))
    }

    /// Starts an upload.
    pub async fn upload(&self, req: UploadRequest) -> Result<Upload, ClientError> {
        let (r, w, conn) = self.open().await?;
        open_upload(r, w, req).await.map_err(|e| explain(&conn, e))
    }
}

/// A stream that broke or ended early on an iroh connection the agent closed on purpose
/// fails with the agent's reason, not with "connection lost".
fn explain(conn: &Option<PeerConnection>, e: ClientError) -> ClientError {
    match (conn, e) {
        (Some(c), e @ (ClientError::Frame(_) | ClientError::Closed)) => c.closed_or(e),
        (_, e) => e,
    }
}
