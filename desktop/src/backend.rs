//! How the app reaches agents: this machine's running agent through its local socket, or
//! an agent started inside the app when none runs. Either way the app asks for admin
//! requests and main-protocol streams to a [`Target`]; the agent carries streams to peers.

use std::sync::Arc;

use vibemesh_agent::{
    Agent,
    config::{Config, Home},
};
use vibemesh_core::{
    ErrorCode, WireError,
    client::{BoxRead, BoxWrite},
    proto::local::{AdminReply, AdminRequest, Target},
};

/// The agent the app works through.
pub enum Backend {
    /// An agent running inside the app.
    Embedded(Arc<Agent>),
    /// The agent already running on this machine, over its socket.
    Socket(Home),
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::Embedded(_) => f.write_str("Backend::Embedded"),
            Backend::Socket(h) => write!(f, "Backend::Socket({})", h.socket.display()),
        }
    }
}

fn plain(e: anyhow::Error) -> WireError {
    match e.downcast::<WireError>() {
        Ok(w) => w,
        Err(e) => WireError::new(ErrorCode::Unreachable, e.to_string()),
    }
}

impl Backend {
    /// Uses the agent that answers on `home`'s socket, or starts one in-process with the
    /// config in `home` (so "this machine" always works).
    pub async fn start(home: Home) -> Result<Self, String> {
        if tokio::net::UnixStream::connect(&home.socket).await.is_ok() {
            return Ok(Backend::Socket(home));
        }
        let config = Config::load(&home.config).map_err(|e| e.to_string())?;
        Self::embed(home, config).await
    }

    /// Starts an agent in-process with `config`.
    pub async fn embed(home: Home, config: Config) -> Result<Self, String> {
        let agent = Agent::start(home, config)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Backend::Embedded(agent))
    }

    /// The agent's files.
    pub fn home(&self) -> &Home {
        match self {
            Backend::Embedded(a) => &a.home,
            Backend::Socket(h) => h,
        }
    }

    /// Whether the agent runs inside the app.
    pub fn is_embedded(&self) -> bool {
        matches!(self, Backend::Embedded(_))
    }

    /// One administrative request.
    pub async fn admin(&self, req: AdminRequest) -> Result<AdminReply, WireError> {
        match self {
            Backend::Embedded(a) => a.admin(req).await,
            Backend::Socket(h) => vibemesh_agent::cli::local::admin(h, req)
                .await
                .map_err(plain),
        }
    }

    /// A fresh main-protocol stream to `target`.
    pub async fn open(&self, target: &Target) -> Result<(BoxRead, BoxWrite), WireError> {
        match self {
            Backend::Embedded(a) => a.open_stream(target).await.map(|(_, r, w)| (r, w)),
            Backend::Socket(h) => vibemesh_agent::cli::local::route(h, target.clone())
                .await
                .map(|(_, r, w)| (r, w))
                .map_err(plain),
        }
    }

    /// Stops an embedded agent (its sessions end with the app); a socket needs nothing.
    pub async fn shutdown(&self) {
        if let Backend::Embedded(a) = self {
            a.shutdown().await;
        }
    }
}
