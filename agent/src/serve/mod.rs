//! Serving main-protocol streams, whoever carries them: an iroh connection from a paired
//! peer, or the local socket of this machine's owner.

mod attach;
mod control;
mod transfer;

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use vibemesh_core::{
    EndpointId,
    frame::{FrameReader, FrameWriter},
    proto::{Provider, Role, StreamOpen, control::AgentInfo, files::DownloadFromRequest},
};

use crate::session::SessionManager;

/// Who is asking, as established by the carrier of the stream.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    /// The peer's key; `None` for this machine's owner on the local socket.
    pub id: Option<EndpointId>,
    /// What it may do.
    pub role: Role,
}

impl Caller {
    /// This machine's owner.
    pub const LOCAL: Caller = Caller {
        id: None,
        role: Role::Owner,
    };
}

/// What serving needs.
pub struct Services {
    /// The sessions.
    pub sessions: Arc<SessionManager>,
    /// This agent's id.
    pub id: EndpointId,
    /// This agent's name.
    pub name: String,
    /// Files under the allowed roots.
    pub files: crate::files::Files,
    /// Structured AI sessions.
    pub ai: Arc<crate::ai::AiSessions>,
    /// How many folder watches each peer may still open.
    pub watch_budget: crate::watch::WatchBudget,
}

impl Services {
    /// Who this agent is, as `caller` sees it.
    pub fn info(&self, caller: Caller) -> AgentInfo {
        let statuses = self.ai.statuses();
        AgentInfo {
            id: self.id,
            name: self.name.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            os: std::env::consts::OS.to_string(),
            providers: std::iter::once(Provider::Shell)
                .chain(
                    statuses
                        .iter()
                        .filter(|s| s.program.is_some())
                        .map(|s| s.provider),
                )
                .collect(),
            provider_status: statuses,
            your_role: caller.role,
        }
    }
}

/// Serves one stream: reads its [`StreamOpen`] and runs it to the end. Errors end the
/// stream (with a typed frame where possible), never the agent.
pub async fn serve_stream<R, W>(svc: Arc<Services>, caller: Caller, reader: R, writer: W)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let mut reader = FrameReader::new(reader);
    let mut writer = FrameWriter::new(writer);
    match reader.recv::<StreamOpen>().await {
        Ok(Some(StreamOpen::Control)) => control::run(svc, caller, reader, writer).await,
        Ok(Some(StreamOpen::Attach(req))) => attach::run(svc, caller, req, reader, writer).await,
        Ok(Some(StreamOpen::Download(req))) => {
            let from = DownloadFromRequest {
                path: req.path,
                offset: 0,
                modified_ms: 0,
                size: 0,
            };
            transfer::download(svc, caller, from, writer).await
        }
        Ok(Some(StreamOpen::DownloadFrom(req))) => {
            transfer::download(svc, caller, req, writer).await
        }
        Ok(Some(StreamOpen::Upload(req))) => {
            transfer::upload(svc, caller, req, reader, writer).await
        }
        Ok(Some(StreamOpen::Conversation(req))) => {
            let steer = caller.role == Role::Owner;
            crate::ai::stream::run(&svc.ai, steer, req, reader, writer).await
        }
        Ok(None) => {}
        Err(e) => {
            tracing::debug!("bad stream opening: {e}");
            // The peer does not know what kind of stream this is; a control-style closing
            // frame is as good as any, then the stream ends.
            let _ = writer
                .send(&vibemesh_core::proto::control::ControlFrame::Closing(
                    e.to_wire(),
                ))
                .await;
            let _ = writer.finish().await;
        }
    }
}
