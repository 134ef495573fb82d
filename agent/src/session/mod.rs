//! The session engine: programs in PTYs, their screens, viewers and recordings.
//!
//! It knows nothing of the network: the serving code asks it to create, list, attach and
//! kill, and gets plain values back. That keeps it separable, so the PTYs can later move
//! into a holder process that outlives the agent.

pub mod hub;
mod pty;
pub mod recorder;

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard, RwLock},
    time::Duration,
};

use bytes::Bytes;
use tokio::sync::{broadcast, watch};
use vibemesh_core::{
    ErrorCode, WireError,
    proto::{
        ExitInfo, Provider, SessionId, SessionInfo, SessionStatus, TermSize,
        control::{CreateSession, Event},
    },
};

use hub::{Hub, Subscription};
use recorder::Recorder;

/// How long a killed session gets between SIGHUP/SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// Settings the engine needs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Lines of scrollback kept per session.
    pub scrollback: usize,
    /// Write a `.cast` per session.
    pub record: bool,
    /// Include typed input in recordings.
    pub record_input: bool,
    /// Where recordings go.
    pub recordings_dir: PathBuf,
    /// Most sessions at once.
    pub max_sessions: usize,
}

/// One session.
pub struct Session {
    id: SessionId,
    provider: Provider,
    command: Vec<String>,
    cwd: String,
    created_ms: u64,
    pid: Option<u32>,
    hub: Arc<Hub>,
    meta: Mutex<Meta>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    master: Mutex<Box<dyn portable_pty::MasterPty + Send>>,
    recorder: Option<Arc<Mutex<Recorder>>>,
    record_input: bool,
    exited: watch::Receiver<Option<ExitInfo>>,
}

struct Meta {
    title: String,
    size: TermSize,
    status: SessionStatus,
    viewers: u32,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Session {
    /// Its id.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// What a listing shows.
    pub fn info(&self) -> SessionInfo {
        let m = lock(&self.meta);
        SessionInfo {
            id: self.id,
            title: m.title.clone(),
            provider: self.provider,
            command: self.command.clone(),
            cwd: self.cwd.clone(),
            size: m.size,
            created_ms: self.created_ms,
            status: m.status.clone(),
            viewers: m.viewers,
            recording: self
                .recorder
                .as_ref()
                .map(|r| lock(r).path().display().to_string()),
            conversation: None,
        }
    }

    /// The screen and a subscription to what follows it.
    pub fn snapshot(&self, scrollback: u32) -> (Bytes, Subscription) {
        self.hub.snapshot(scrollback)
    }

    /// The screen's text (for tests and previews).
    pub fn screen_text(&self) -> String {
        self.hub.contents()
    }

    /// Types `bytes` into the program. Runs on the blocking pool because a program that
    /// does not read its input blocks the write.
    pub async fn write_input(&self, bytes: Bytes) -> Result<(), WireError> {
        if self.exited.borrow().is_some() {
            return Ok(());
        }
        if self.record_input
            && let Some(r) = &self.recorder
        {
            lock(r).input(&bytes);
        }
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            let mut w = lock(&writer);
            w.write_all(&bytes).and_then(|()| w.flush())
        })
        .await
        .map_err(|e| WireError::new(ErrorCode::Internal, e.to_string()))?
        .map_err(|e| {
            WireError::new(
                ErrorCode::Internal,
                format!("cannot type into session: {e}"),
            )
        })
    }

    /// Changes the terminal size; returns whether it changed.
    pub fn resize(&self, size: TermSize) -> Result<bool, WireError> {
        if !size.is_valid() {
            return Err(WireError::new(
                ErrorCode::BadRequest,
                format!("invalid size {size}"),
            ));
        }
        let mut m = lock(&self.meta);
        if m.size == size || self.exited.borrow().is_some() {
            return Ok(false);
        }
        lock(&self.master)
            .resize(pty::pty_size(size))
            .map_err(|e| WireError::new(ErrorCode::Internal, format!("resize failed: {e}")))?;
        m.size = size;
        drop(m);
        self.hub.resize(size);
        if let Some(r) = &self.recorder {
            lock(r).resize(size);
        }
        Ok(true)
    }

    /// Counts a viewer in or out.
    pub fn add_viewers(&self, delta: i32) {
        let mut m = lock(&self.meta);
        m.viewers = m.viewers.saturating_add_signed(delta);
    }

    /// Resolves when the program has ended.
    pub async fn wait_exit(&self) -> ExitInfo {
        let mut rx = self.exited.clone();
        match rx.wait_for(|e| e.is_some()).await {
            Ok(e) => e.clone().unwrap_or(ExitInfo {
                code: None,
                signal: None,
            }),
            Err(_) => ExitInfo {
                code: None,
                signal: None,
            },
        }
    }

    fn is_running(&self) -> bool {
        self.exited.borrow().is_none()
    }
}

/// All sessions of this agent.
pub struct SessionManager {
    sessions: RwLock<BTreeMap<SessionId, Arc<Session>>>,
    events: broadcast::Sender<Event>,
    config: EngineConfig,
    rt: tokio::runtime::Handle,
}

impl SessionManager {
    /// An empty manager. Must be called inside a tokio runtime.
    pub fn new(config: EngineConfig) -> Arc<Self> {
        Arc::new(Self {
            sessions: RwLock::new(BTreeMap::new()),
            events: broadcast::channel(1024).0,
            config,
            rt: tokio::runtime::Handle::current(),
        })
    }

    /// Events for control streams.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    fn emit(&self, ev: Event) {
        let _ = self.events.send(ev);
    }

    /// Pushes an event about a session kept elsewhere (a structured AI session).
    pub fn notify(&self, ev: Event) {
        self.emit(ev);
    }

    /// Tells control streams that a session changed.
    pub fn updated(&self, s: &Session) {
        self.emit(Event::SessionUpdated(s.info()));
    }

    /// Every session, oldest first.
    pub fn list(&self) -> Vec<SessionInfo> {
        let mut v: Vec<_> = self.read().values().map(|s| s.info()).collect();
        v.sort_by_key(|s| s.created_ms);
        v
    }

    /// How many sessions exist.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One session.
    pub fn get(&self, id: SessionId) -> Result<Arc<Session>, WireError> {
        self.read()
            .get(&id)
            .cloned()
            .ok_or_else(|| WireError::new(ErrorCode::NotFound, format!("no session {id}")))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<SessionId, Arc<Session>>> {
        self.sessions.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<SessionId, Arc<Session>>> {
        self.sessions.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a session.
    pub fn create(self: &Arc<Self>, req: CreateSession) -> Result<Arc<Session>, WireError> {
        // An AI provider's terminal session runs its CLI (filled in by `crate::ai`).
        if req.provider != Provider::Shell && req.command.is_empty() {
            return Err(WireError::new(
                ErrorCode::BadRequest,
                format!("provider {} needs its program", req.provider),
            ));
        }
        if !req.size.is_valid() {
            return Err(WireError::new(
                ErrorCode::BadRequest,
                format!("invalid size {}", req.size),
            ));
        }
        if self.len() >= self.config.max_sessions {
            return Err(WireError::new(
                ErrorCode::Limit,
                format!(
                    "this agent runs its limit of {} sessions",
                    self.config.max_sessions
                ),
            ));
        }
        let cwd = resolve_cwd(req.cwd.as_deref())?;
        let mut id = SessionId::random();
        while self.read().contains_key(&id) {
            id = SessionId::random();
        }
        let command = req.command.clone();
        let title = req.title.clone().unwrap_or_else(|| default_title(&command));
        let spawned = pty::spawn(id, &command, &cwd, &req.env, req.size)
            .map_err(|m| WireError::new(ErrorCode::SpawnFailed, m))?;
        let recorder = if self.config.record {
            let name = format!("{}-{id}.cast", now_ms());
            match Recorder::create(
                &self.config.recordings_dir.join(name),
                req.size,
                &title,
                &command,
            ) {
                Ok(r) => Some(Arc::new(Mutex::new(r))),
                Err(e) => {
                    tracing::warn!("session {id} is not recorded: {e}");
                    None
                }
            }
        } else {
            None
        };
        let weak = Arc::downgrade(self);
        let on_title = Box::new(move |title: String| {
            if let Some(mgr) = weak.upgrade()
                && let Ok(s) = mgr.get(id)
            {
                lock(&s.meta).title = title;
                mgr.updated(&s);
            }
        });
        let hub = Hub::new(req.size, self.config.scrollback, on_title, self.rt.clone());
        let (exit_tx, exit_rx) = watch::channel(None);
        let weak = Arc::downgrade(self);
        let hub2 = hub.clone();
        let on_exit = move |info: ExitInfo| {
            hub2.exit(info.clone());
            if let Some(mgr) = weak.upgrade()
                && let Ok(s) = mgr.get(id)
            {
                lock(&s.meta).status = SessionStatus::Exited(info.clone());
                mgr.updated(&s);
            }
            let _ = exit_tx.send(Some(info));
        };
        // Insert before the reader starts so an instant exit finds the session.
        let running = {
            let mut map = self.write();
            let running = spawned
                .start_reader(hub.clone(), recorder.clone(), on_exit)
                .map_err(|e| WireError::new(ErrorCode::SpawnFailed, e.to_string()))?;
            let session = Arc::new(Session {
                id,
                provider: req.provider,
                command,
                cwd: cwd.display().to_string(),
                created_ms: now_ms(),
                pid: running.pid,
                hub,
                meta: Mutex::new(Meta {
                    title,
                    size: req.size,
                    status: SessionStatus::Running,
                    viewers: 0,
                }),
                writer: Arc::new(Mutex::new(running.writer)),
                master: Mutex::new(running.master),
                recorder,
                record_input: self.config.record_input,
                exited: exit_rx,
            });
            map.insert(id, session.clone());
            session
        };
        self.emit(Event::SessionCreated(running.info()));
        Ok(running)
    }

    /// Stops a running session (SIGHUP and SIGTERM to its process group, SIGKILL after a
    /// grace period) and removes it; an exited one is just removed.
    pub async fn kill(&self, id: SessionId) -> Result<(), WireError> {
        let s = self.get(id)?;
        if s.is_running()
            && let Some(pid) = s.pid
        {
            use nix::sys::signal::Signal;
            pty::signal_group(pid, Signal::SIGHUP);
            pty::signal_group(pid, Signal::SIGTERM);
            if tokio::time::timeout(KILL_GRACE, s.wait_exit())
                .await
                .is_err()
            {
                pty::signal_group(pid, Signal::SIGKILL);
                s.wait_exit().await;
            }
        }
        self.write().remove(&id);
        self.emit(Event::SessionRemoved(id));
        Ok(())
    }

    /// Kills every session at once (agent shutdown), so shutdown takes one grace
    /// period however many sessions there are.
    pub async fn kill_all(&self) {
        let ids: Vec<_> = self.read().keys().copied().collect();
        n0_future::join_all(ids.into_iter().map(|id| self.kill(id))).await;
    }
}

fn default_title(command: &[String]) -> String {
    let prog = command
        .first()
        .cloned()
        .unwrap_or_else(|| std::env::var("SHELL").unwrap_or_else(|_| "sh".into()));
    Path::new(&prog)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or(prog)
}

/// Expands `~` and checks the folder exists.
pub(crate) fn resolve_cwd(cwd: Option<&str>) -> Result<PathBuf, WireError> {
    let home = directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf());
    let path = match cwd {
        None | Some("") | Some("~") => home.clone().unwrap_or_else(|| PathBuf::from("/")),
        Some(p) if p.starts_with("~/") => match &home {
            Some(h) => h.join(&p[2..]),
            None => PathBuf::from(p),
        },
        Some(p) => PathBuf::from(p),
    };
    match std::fs::metadata(&path) {
        Ok(m) if m.is_dir() => Ok(path),
        Ok(_) => Err(WireError::new(
            ErrorCode::BadRequest,
            format!("{} is not a folder", path.display()),
        )),
        Err(e) => Err(WireError::new(
            ErrorCode::BadRequest,
            format!("cannot use folder {}: {e}", path.display()),
        )),
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
