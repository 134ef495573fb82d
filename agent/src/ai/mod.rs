//! AI providers (Claude Code, Codex): which ones this machine can run, their
//! full-screen interfaces as terminal sessions, and structured sessions, where the
//! agent drives the CLI's machine interface and keeps the conversation as typed events.
//!
//! - [`discover`]: programs on `PATH` or configured, and why one is unavailable.
//! - [`session`]: one structured session (conversation, approvals, its process).
//! - [`claude`], [`codex`] and [`codex_exec`]: the drivers that turn each CLI's JSON
//!   into events (`codex exec --json` where `codex app-server` is missing).
//! - `driver`: the run loop all three share; each provider gives its own parts.
//! - [`stream`]: serves a conversation stream to a client.
//! - `log`: the conversation on disk; `process`: the provider's child process;
//!   `entries` and `history`: what is kept in memory; `queue`: messages sent while a turn runs.

pub mod claude;
pub mod codex;
pub mod codex_exec;
pub mod discover;
mod driver;
mod entries;
mod history;
mod log;
mod process;
mod queue;
pub mod session;
pub mod stream;

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{Arc, RwLock},
    time::Duration,
};

use vibemesh_core::{
    ErrorCode, WireError,
    proto::{
        Provider, SessionId, SessionInfo, SessionKind,
        ai::StartConversation,
        control::{CreateSession, Event, ProviderStatus},
    },
};

use crate::session::{SessionManager, resolve_cwd};
use discover::ProviderConfig;
use history::History;
use log::{Log, Meta};
use session::Conv;
use vibemesh_core::sync;
use vibemesh_core::time::now_ms;

/// How long a killed session's provider gets to end before it is killed hard.
const END_GRACE: Duration = Duration::from_secs(3);

/// Every structured session of this agent.
pub struct AiSessions {
    convs: RwLock<BTreeMap<SessionId, Arc<Conv>>>,
    dir: PathBuf,
    providers: Arc<ProviderConfig>,
    sessions: Arc<SessionManager>,
}

impl AiSessions {
    /// Loads the sessions kept under `dir` (their providers start again on the next
    /// message). Events go out through `sessions`' event channel.
    pub async fn new(
        dir: PathBuf,
        providers: ProviderConfig,
        sessions: Arc<SessionManager>,
    ) -> Arc<Self> {
        let this = Arc::new(Self {
            convs: RwLock::new(BTreeMap::new()),
            dir,
            providers: Arc::new(providers),
            sessions,
        });
        // Reading every conversation's log waits on the disk: not on an async thread.
        let me = this.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || me.load()).await {
            tracing::warn!("cannot load the conversations: {e}");
        }
        this
    }

    /// Loads every conversation kept under this agent's folder.
    fn load(&self) {
        for dir in Log::dirs(&self.dir) {
            // One entry at a time into a bounded history: a long conversation is never
            // held in memory whole.
            let mut entries = History::default();
            let (meta, log) = match Log::load(dir.clone(), |e| entries.push(e)) {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!("skipping conversation {}: {e}", dir.display());
                    continue;
                }
            };
            let conv = Conv::new(
                meta,
                entries,
                Some(log),
                self.providers.clone(),
                self.on_change(),
            );
            conv.close_interrupted_turn();
            self.write().insert(conv.id, conv);
        }
    }

    fn on_change(&self) -> Box<dyn Fn(SessionInfo) + Send + Sync> {
        let sessions = Arc::downgrade(&self.sessions);
        Box::new(move |info| {
            if let Some(s) = sessions.upgrade() {
                s.notify(Event::SessionUpdated(info));
            }
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<SessionId, Arc<Conv>>> {
        sync::read(&self.convs)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<SessionId, Arc<Conv>>> {
        sync::write(&self.convs)
    }

    /// Each AI provider, found or not.
    pub fn statuses(&self) -> Vec<ProviderStatus> {
        self.providers.statuses()
    }

    /// Every structured session.
    pub fn list(&self) -> Vec<SessionInfo> {
        self.read().values().map(|c| c.info()).collect()
    }

    /// One structured session, if `id` is one.
    pub fn get(&self, id: SessionId) -> Option<Arc<Conv>> {
        self.read().get(&id).cloned()
    }

    /// Starts a structured session (its provider starts with the first message).
    pub async fn start(self: &Arc<Self>, req: StartConversation) -> Result<SessionInfo, WireError> {
        // Its folder and files are made on the disk: not on an async thread.
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.start_blocking(req))
            .await
            .map_err(|e| WireError::new(ErrorCode::Internal, format!("starting a session: {e}")))?
    }

    /// [`Self::start`], on a thread that may block.
    fn start_blocking(&self, req: StartConversation) -> Result<SessionInfo, WireError> {
        if req.provider == Provider::Shell {
            return Err(WireError::new(
                ErrorCode::BadRequest,
                "a structured session needs an AI provider (claude or codex)",
            ));
        }
        if self.providers.program(req.provider).is_none() {
            return Err(WireError::new(
                ErrorCode::SpawnFailed,
                format!(
                    "{} is not installed on this machine (not on PATH, not configured)",
                    req.provider
                ),
            ));
        }
        let cwd = resolve_cwd(req.cwd.as_deref())?;
        let mut id = SessionId::random(SessionKind::Conversation);
        while self.read().contains_key(&id) || self.sessions.get(id).is_ok() {
            id = SessionId::random(SessionKind::Conversation);
        }
        let title = req.title.unwrap_or_else(|| {
            let folder = cwd
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| cwd.display().to_string());
            format!("{} in {folder}", req.provider)
        });
        let meta = Meta {
            id,
            provider: req.provider,
            cwd: cwd.display().to_string(),
            title,
            created_ms: now_ms(),
            provider_session: None,
        };
        let log = Log::create(&self.dir, &meta).map_err(|e| {
            WireError::new(
                ErrorCode::Internal,
                format!(
                    "cannot keep the conversation in {}: {e}",
                    self.dir.display()
                ),
            )
        })?;
        let conv = Conv::new(
            meta,
            History::default(),
            Some(log),
            self.providers.clone(),
            self.on_change(),
        );
        self.write().insert(id, conv.clone());
        self.sessions.notify(Event::SessionCreated(conv.info()));
        if let Some(p) = req.prompt {
            conv.prompt(p)?;
        }
        Ok(conv.info())
    }

    /// Fills in the program of an AI provider's full-screen interface, for a terminal
    /// session (any other provider's request is left alone).
    pub fn terminal_command(&self, req: &mut CreateSession) -> Result<(), WireError> {
        if req.provider == Provider::Shell || !req.command.is_empty() {
            return Ok(());
        }
        let program = self.providers.program(req.provider).ok_or_else(|| {
            WireError::new(
                ErrorCode::SpawnFailed,
                format!("{} is not installed on this machine", req.provider),
            )
        })?;
        req.command = vec![program.display().to_string()];
        if req.title.is_none() {
            req.title = Some(req.provider.to_string());
        }
        Ok(())
    }

    /// Ends a structured session's provider and forgets the session and its files.
    /// `Ok(false)` when `id` is not a structured session.
    pub async fn kill(&self, id: SessionId) -> Result<bool, WireError> {
        let Some(conv) = self.write().remove(&id) else {
            return Ok(false);
        };
        stop(&conv).await;
        // Removing its folder waits on the disk: not on an async thread.
        let c = conv.clone();
        let _ = tokio::task::spawn_blocking(move || c.forget()).await;
        self.sessions.notify(Event::SessionRemoved(id));
        Ok(true)
    }

    /// Ends every provider process (agent shutdown); conversations stay on disk.
    pub async fn shutdown(&self) {
        let all: Vec<_> = self.read().values().cloned().collect();
        n0_future::join_all(all.iter().map(|c| stop(c))).await;
    }
}

/// Ends a provider process: closes its input, then kills it after a grace period.
async fn stop(conv: &Conv) {
    let mut live = conv.live_watch();
    if !*live.borrow() {
        return;
    }
    conv.end(false);
    if tokio::time::timeout(END_GRACE, live.wait_for(|l| !*l))
        .await
        .is_err()
    {
        conv.end(true);
        let _ = tokio::time::timeout(END_GRACE, live.wait_for(|l| !*l)).await;
    }
}

/// A random UUID (version 4), the form Claude Code wants for session ids. The bytes come
/// from the OS (a failure is an error, not a guessable id); `uuid` sets the version and
/// variant bits and spells it.
pub fn uuid_v4() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b)?;
    Ok(uuid::Builder::from_random_bytes(b).into_uuid().to_string())
}

#[cfg(test)]
mod uuid_tests {
    #[test]
    fn session_ids_are_random_version_4_uuids() {
        let a = super::uuid_v4().expect("randomness");
        let b = super::uuid_v4().expect("randomness");
        assert_ne!(a, b);
        let parsed = uuid::Uuid::parse_str(&a).expect("a UUID");
        assert_eq!(parsed.get_version_num(), 4, "{a}");
        assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122, "{a}");
        assert_eq!(a, parsed.hyphenated().to_string(), "lower-case, hyphenated");
    }
}
