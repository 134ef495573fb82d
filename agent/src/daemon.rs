//! The agent: one iroh endpoint, the session engine, the allow-list, and the local
//! socket, wired together. The `vibemesh agent` command and the desktop app both start
//! it through [`Agent::start`].

use std::{sync::Arc, time::Duration};

use iroh::{Endpoint, protocol::Router};
use tokio::net::UnixListener;
use vibemesh_core::{
    proto::{ALPN_MAIN, ALPN_PAIR},
    sync::lock,
};

use crate::{
    access::{Access, AccessError},
    config::{Config, Home},
    net::{
        endpoint::{self, EndpointError},
        links::Links,
        main_proto::MainProtocol,
        pairing::{PairProtocol, Tickets},
    },
    serve::Services,
    session::{EngineConfig, SessionManager},
};

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The key could not be loaded.
    #[error(transparent)]
    Identity(#[from] vibemesh_core::identity::IdentityError),
    /// The peer list could not be loaded.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The network endpoint did not start.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// Another agent already serves this folder.
    #[error("an agent is already running for {0} (set VIBEMESH_HOME to run another)")]
    AlreadyRunning(String),
    /// The folders for its state could not be made private.
    #[error("cannot make the state folders private (owner only): {0}")]
    Folders(std::io::Error),
    /// The local socket could not be set up.
    #[error("cannot listen on {path}: {source}")]
    Socket {
        /// The socket path.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
}

/// A running agent.
pub struct Agent {
    /// Where its files are.
    pub(crate) home: Home,
    /// Its settings.
    pub(crate) config: Config,
    /// Its one iroh endpoint.
    pub(crate) endpoint: Endpoint,
    /// Its sessions.
    pub(crate) sessions: Arc<SessionManager>,
    /// Who may connect, and whom it can reach.
    pub(crate) access: Arc<Access>,
    /// Pairing tickets it minted.
    pub(crate) tickets: Arc<Tickets>,
    /// Its connections to other agents.
    pub(crate) links: Links,
    /// Peers seen on the LAN, when LAN discovery is on.
    pub(crate) lan: Option<crate::net::lan::Lan>,
    /// What streams are served with.
    pub(crate) services: Arc<Services>,
    router: Router,
    ipc: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Set when shutting down: ends the streams this agent serves without iroh (the
    /// local socket's and in-process ones), which closing the endpoint does not reach.
    closing: tokio::sync::watch::Sender<bool>,
}

impl Agent {
    /// Starts an agent: loads (or creates) its key and peers, binds the endpoint, and
    /// listens on the local socket.
    pub async fn start(home: Home, config: Config) -> Result<Arc<Self>, StartError> {
        raise_fd_limit();
        home.secure().map_err(StartError::Folders)?;
        let key = vibemesh_core::identity::load_or_create(&home.key)?;
        let access = Arc::new(Access::load(home.peers.clone())?);
        let listener = bind_socket(&home).await?;
        let endpoint = endpoint::bind(key, &config).await?;
        if !config.relay.is_none() {
            let ep = endpoint.clone();
            tokio::spawn(async move { crate::net::relay_watch::watch(&ep).await });
        }
        let lan = match config.lan_discovery {
            true => crate::net::lan::Lan::start(&endpoint),
            false => None,
        };
        let name = config.display_name();
        let sessions = SessionManager::new(EngineConfig {
            scrollback: config.scrollback,
            record: config.record,
            record_input: config.record_input,
            recordings_dir: config
                .recordings_dir
                .clone()
                .unwrap_or_else(|| home.recordings.clone()),
            recording_limits: config.recording_limits(),
            max_sessions: config.max_sessions,
            holders: Some(home.holders()),
        });
        // Sessions whose holders outlived the last agent (a restart, an upgrade, a crash).
        let adopted = sessions.adopt().await;
        if adopted > 0 {
            tracing::info!("adopted {adopted} running sessions");
        }
        let ai = crate::ai::AiSessions::new(
            home.conversations.clone(),
            crate::ai::discover::ProviderConfig {
                claude: config.claude.clone(),
                codex: config.codex.clone(),
            },
            sessions.clone(),
        )
        .await;
        let services = Arc::new(Services {
            ai,
            sessions: sessions.clone(),
            id: endpoint.id(),
            name: name.clone(),
            files: crate::files::Files::new(config.file_roots(), config.secrets(&home)),
            watch_budget: Default::default(),
        });
        let tickets = Arc::new(Tickets::default());
        let router = Router::builder(endpoint.clone())
            .accept(
                ALPN_MAIN,
                MainProtocol {
                    services: services.clone(),
                    access: access.clone(),
                },
            )
            .accept(
                ALPN_PAIR,
                PairProtocol {
                    tickets: tickets.clone(),
                    access: access.clone(),
                    name,
                },
            )
            .spawn();
        let agent = Arc::new(Agent {
            home,
            config,
            links: Links::new(endpoint.clone()),
            lan,
            endpoint,
            sessions,
            access,
            tickets,
            services,
            router,
            ipc: std::sync::Mutex::new(None),
            closing: tokio::sync::watch::Sender::new(false),
        });
        // Serve the socket only once the agent is whole: a client that connected early
        // (it waited in the listen backlog) must find it, not a half-built one.
        let ipc = tokio::spawn(crate::ipc::serve(listener, Arc::downgrade(&agent)));
        *lock(&agent.ipc) = Some(ipc);
        tracing::info!(id = %agent.endpoint.id(), "agent started");
        Ok(agent)
    }

    /// The settings it runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The name it gives itself to peers.
    pub fn name(&self) -> &str {
        &self.services.name
    }

    /// Its identity: the iroh endpoint id peers pair with.
    pub fn id(&self) -> iroh::EndpointId {
        self.endpoint.id()
    }

    /// Stops serving: closes connections and removes the socket. Sessions with holder
    /// processes keep running for the next agent; sessions held in-process end.
    pub async fn shutdown(&self) {
        if let Some(ipc) = lock(&self.ipc).take() {
            ipc.abort();
        }
        // Before the sessions let go of their holders: a stream still attached would
        // otherwise see its session "end" when the next agent adopts the holder.
        self.closing.send_replace(true);
        let _ = std::fs::remove_file(&self.home.socket);
        tokio::join!(self.sessions.shutdown(), self.services.ai.shutdown());
        // Closing can take a while when peers are gone; do not hang the user's Ctrl-C.
        let _ = tokio::time::timeout(Duration::from_secs(3), self.router.shutdown()).await;
        let _ = tokio::time::timeout(Duration::from_secs(3), self.endpoint.close()).await;
    }

    /// Runs `work` until it ends or this agent shuts down, whichever comes first.
    pub(crate) fn until_shutdown<F>(
        &self,
        work: F,
    ) -> impl std::future::Future<Output = ()> + use<F>
    where
        F: std::future::Future<Output = ()>,
    {
        let mut closing = self.closing.subscribe();
        async move {
            tokio::select! {
                () = work => {}
                // An error means the agent is gone: stop too.
                _ = closing.wait_for(|c| *c) => {}
            }
        }
    }
}

/// Every session holds a socket to its holder and every viewer a stream: lift the soft
/// limit on open files (often 1024) to the hard one, as servers do.
fn raise_fd_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let lim = getrlimit(Resource::Nofile);
    // `None` is unlimited.
    let below = match (lim.current, lim.maximum) {
        (Some(current), Some(maximum)) => current < maximum,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if below {
        let raised = rustix::process::Rlimit {
            current: lim.maximum,
            maximum: lim.maximum,
        };
        if let Err(e) = setrlimit(Resource::Nofile, raised) {
            tracing::debug!("could not raise the open-file limit: {e}");
        }
    }
}

/// Binds the local socket, owner-only. A socket file nobody answers on is left over
/// from a crash and is replaced; one that answers means an agent already runs.
async fn bind_socket(home: &Home) -> Result<UnixListener, StartError> {
    let path = &home.socket;
    let shown = path.display().to_string();
    let sock_err = |source| StartError::Socket {
        path: shown.clone(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(sock_err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
    if path.exists() {
        if tokio::net::UnixStream::connect(path).await.is_ok() {
            return Err(StartError::AlreadyRunning(shown));
        }
        std::fs::remove_file(path).map_err(sock_err)?;
    }
    let listener = UnixListener::bind(path).map_err(sock_err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(sock_err)?;
    }
    Ok(listener)
}
