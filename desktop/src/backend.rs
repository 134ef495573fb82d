//! How the app reaches agents: this machine's running agent through its local socket, or
//! an agent started inside the app when none runs. Either way the app asks for admin
//! requests and main-protocol streams to a [`Target`]; the agent carries streams to peers.

use std::sync::{Arc, RwLock};

use vibemesh_agent::{
    Agent,
    config::{Config, Home},
};
use vibemesh_core::sync;
use vibemesh_core::{
    WireError,
    client::{BoxRead, BoxWrite, local},
    proto::local::{AdminReply, AdminRequest, Target},
};

/// The agent the app works through.
pub enum Backend {
    /// An agent running inside the app.
    Embedded(Embedded),
    /// The agent already running on this machine, over its socket.
    Socket(Home),
}

/// An agent running inside the app, which the app can restart.
pub struct Embedded {
    home: Home,
    agent: RwLock<Arc<Agent>>,
    /// Held while restarting, so two restarts never overlap.
    restarting: tokio::sync::Mutex<()>,
}

impl Embedded {
    /// The agent serving now.
    fn agent(&self) -> Arc<Agent> {
        sync::read(&self.agent).clone()
    }

    /// Stops the agent and starts it again from the config on disk. Sessions with
    /// holder processes go on and the new agent adopts them; if the saved config cannot
    /// start an agent, the one it had starts again and the error is returned.
    async fn restart(&self) -> Result<String, String> {
        let _one = self.restarting.lock().await;
        let config = Config::load(&self.home.config)
            .map_err(|e| format!("{e}; the agent was not restarted"))?;
        let old = self.agent();
        let previous = old.config().clone();
        old.shutdown().await;
        drop(old);
        let (fresh, outcome) = match Agent::start(self.home.clone(), config).await {
            Ok(a) => {
                let relay = a.config().relay.to_string();
                (a, Ok(relay))
            }
            Err(e) => {
                let why = format!("the saved settings did not start: {e}");
                let a = Agent::start(self.home.clone(), previous)
                    .await
                    .map_err(|e2| format!("{why}; nor did the previous ones: {e2}"))?;
                (
                    a,
                    Err(format!("{why}; the previous settings are back in force")),
                )
            }
        };
        *sync::write(&self.agent) = fresh;
        outcome
    }
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::Embedded(_) => f.write_str("Backend::Embedded"),
            Backend::Socket(h) => write!(f, "Backend::Socket({})", h.socket.display()),
        }
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
        let agent = Agent::start(home.clone(), config)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Backend::Embedded(Embedded {
            home,
            agent: RwLock::new(agent),
            restarting: Default::default(),
        }))
    }

    /// The agent's files.
    pub fn home(&self) -> &Home {
        match self {
            Backend::Embedded(e) => &e.home,
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
            Backend::Embedded(e) => e.agent().admin(req).await,
            Backend::Socket(h) => local::admin(&h.socket, req).await.map_err(WireError::from),
        }
    }

    /// A fresh main-protocol stream to `target`.
    pub async fn open(&self, target: &Target) -> Result<(BoxRead, BoxWrite), WireError> {
        match self {
            Backend::Embedded(e) => e.agent().open_stream(target).await.map(|(_, r, w)| (r, w)),
            Backend::Socket(h) => local::route(&h.socket, target.clone())
                .await
                .map(|(_, r, w)| (r, w))
                .map_err(WireError::from),
        }
    }

    /// Restarts the agent inside the app with its saved settings, so those that need a
    /// new endpoint (the relay) take effect; returns the relay now in force. Sessions go
    /// on; connections drop for a moment and reconnect by themselves. An agent running
    /// on its own is restarted where it runs, not from here.
    pub async fn restart(&self) -> Result<String, String> {
        match self {
            Backend::Embedded(e) => e.restart().await,
            Backend::Socket(_) => Err("this machine's agent runs on its own (as a service): \
                 restart it there, e.g. `systemctl --user restart vibemesh-agent`"
                .into()),
        }
    }

    /// Stops an embedded agent (sessions with holder processes go on, for the next
    /// start); a socket needs nothing.
    pub async fn shutdown(&self) {
        if let Backend::Embedded(e) = self {
            e.agent().shutdown().await;
        }
    }
}
