//! The session engine: programs in PTYs, their screens, viewers and recordings.
//!
//! It knows nothing of the network: the serving code asks it to create, list, attach and
//! kill, and gets plain values back. Each session's PTY, screen and recording live in a
//! holder ([`holder`]): a small process of its own when the `vibemesh-holder` binary is
//! installed next to the agent, so sessions outlive the agent and a restarted (or
//! upgraded) agent adopts them ([`SessionManager::adopt`]); otherwise threads in this
//! process, and sessions end with it. The agent talks to either over a Unix socket
//! ([`link`]).

mod adopt;
mod flood;
pub mod head;
mod held;
pub mod holder;
pub mod hub;
mod kill;
pub mod link;
mod osc;
pub mod process;
mod pty;
pub mod recorder;
pub mod screen;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use tokio::sync::{broadcast, watch};
use vibemesh_core::{
    ErrorCode, WireError,
    proto::{
        Provider, SessionId, SessionInfo, SessionKind,
        bounds::TITLE_MAX,
        control::{CreateSession, Event},
        holder::{HOLDER_VERSION, HolderHello, HolderSpawn, RecordingLimits, ToHolder},
    },
    text::cut,
};

pub use held::Session;
use held::{Meta, lock};
use link::{Link, LinkEvent};
pub use process::holder_binary;
use vibemesh_core::{sync, time::now_ms};

/// Names the holder binary to use; empty keeps sessions inside the agent process.
pub const HOLDER_ENV: &str = "VIBEMESH_HOLDER";

/// The most memory the agent holds for terminal output, above what it holds at rest,
/// with `sessions` sessions and `viewers` attached viewers in all, however fast the
/// programs print and however slowly (or never) the viewers read: every session's
/// broadcast ring full of the largest frames a holder sends, and per viewer the frame
/// being gathered and the one being written (each at most
/// [`vibemesh_core::proto::attach::MAX_OUTPUT_CHUNK`]) and, for a viewer on this
/// machine, its in-process stream's buffer. A viewer that falls out of its ring holds
/// nothing more: it is sent a fresh snapshot when it reads again.
pub fn output_memory_bound(sessions: usize, viewers: usize) -> u64 {
    let ring = link::RING * holder::outbox::MERGE_MAX;
    let viewer = 2 * vibemesh_core::proto::attach::MAX_OUTPUT_CHUNK + crate::route::DUPLEX_BUFFER;
    (sessions * ring + viewers * viewer) as u64
}

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
    /// How big each session's recording may grow.
    pub recording_limits: RecordingLimits,
    /// Most sessions at once.
    pub max_sessions: usize,
    /// Where session holders put their sockets (the agent's folder), so a restarted
    /// agent finds them; `None` keeps every session inside this process.
    pub holders: Option<PathBuf>,
}

/// All sessions of this agent.
pub struct SessionManager {
    sessions: RwLock<BTreeMap<SessionId, Arc<Session>>>,
    events: broadcast::Sender<Event>,
    config: EngineConfig,
}

impl SessionManager {
    /// An empty manager. Must be called inside a tokio runtime.
    pub fn new(config: EngineConfig) -> Arc<Self> {
        Arc::new(Self {
            sessions: RwLock::new(BTreeMap::new()),
            events: broadcast::channel(1024).0,
            config,
        })
    }

    /// Events for control streams.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    fn emit(&self, ev: Event) {
        // Each must fit a frame, whatever a session holds.
        let ev = match ev {
            Event::SessionCreated(s) => Event::SessionCreated(s.bounded()),
            Event::SessionUpdated(s) => Event::SessionUpdated(s.bounded()),
            ev => ev,
        };
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

    /// One session.
    pub fn get(&self, id: SessionId) -> Result<Arc<Session>, WireError> {
        self.read()
            .get(&id)
            .cloned()
            .ok_or_else(|| WireError::new(ErrorCode::NotFound, format!("no session {id}")))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<SessionId, Arc<Session>>> {
        sync::read(&self.sessions)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<SessionId, Arc<Session>>> {
        sync::write(&self.sessions)
    }

    /// Refuses a request that cannot make a session.
    fn check(&self, req: &CreateSession) -> Result<(), WireError> {
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
        Ok(())
    }

    /// Starts a session and tells control streams. Waits (briefly) for its holder to start the program, so a
    /// command that cannot start is refused here.
    pub async fn create(self: &Arc<Self>, req: CreateSession) -> Result<Arc<Session>, WireError> {
        // Starting a holder waits on a process, a socket and the disk: not on an async
        // thread.
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.create_blocking(req))
            .await
            .map_err(|e| WireError::new(ErrorCode::Internal, format!("starting a session: {e}")))?
    }

    /// [`Self::create`], on a thread that may block.
    fn create_blocking(self: &Arc<Self>, req: CreateSession) -> Result<Arc<Session>, WireError> {
        self.check(&req)?;
        let cwd = resolve_cwd(req.cwd.as_deref())?;
        let mut id = SessionId::random(SessionKind::Terminal);
        while self.read().contains_key(&id) || self.socket_of(id).is_some_and(|p| p.exists()) {
            id = SessionId::random(SessionKind::Terminal);
        }
        let title = match &req.title {
            Some(t) => cut(t, TITLE_MAX).into_owned(),
            None => default_title(&req.command),
        };
        let recording = self.config.record.then(|| {
            let name = format!("{}-{id}.cast", now_ms());
            self.config.recordings_dir.join(name).display().to_string()
        });
        let spawn = HolderSpawn {
            version: HOLDER_VERSION,
            id,
            provider: req.provider,
            command: req.command,
            cwd: cwd.display().to_string(),
            env: req.env,
            size: req.size,
            title,
            scrollback: u32::try_from(self.config.scrollback).unwrap_or(u32::MAX),
            recording,
            record_input: self.config.record_input,
            created_ms: now_ms(),
        };
        let internal = |e: std::io::Error| {
            WireError::new(
                ErrorCode::SpawnFailed,
                format!("cannot start a session holder: {e}"),
            )
        };
        let socket = self.socket_of(id);
        let mut conn = match &socket {
            Some(sock) => process::start_holder(sock).map_err(internal)?,
            None => holder::spawn_in_process().map_err(internal)?,
        };
        let hello = link::handshake_spawn(&mut conn, &spawn)
            .map_err(|m| WireError::new(ErrorCode::SpawnFailed, m))?;
        if let Some(path) = &spawn.recording
            && let Some(e) = &hello.state.recording_error
        {
            tracing::warn!("session {id} is not recorded to {path}: {e}");
        }
        let conn = conn
            .set_nonblocking(true)
            .and_then(|()| tokio::net::UnixStream::from_std(conn))
            .map_err(|e| WireError::new(ErrorCode::Internal, format!("session holder: {e}")))?;
        Ok(self.install(conn, id, Some(hello), socket, 0))
    }

    /// Where the holder of `id` listens, when sessions get holder processes.
    fn socket_of(&self, id: SessionId) -> Option<PathBuf> {
        let dir = self.config.holders.as_ref()?;
        holder_binary()?;
        Some(dir.join(format!("{id}.sock")))
    }

    /// Makes a session of a holder connection and tells control streams of it, before
    /// any news of it: with its `hello` when it has greeted (a fresh holder), or with
    /// placeholders until it does (adoption). A `socket` means a holder process, which
    /// outlives this agent; `created_ms` is when it started, as far as is known before
    /// its hello says.
    fn install(
        self: &Arc<Self>,
        conn: tokio::net::UnixStream,
        id: SessionId,
        hello: Option<HolderHello>,
        socket: Option<PathBuf>,
        created_ms: u64,
    ) -> Arc<Session> {
        let detached = socket.is_some();
        let exited = hello.as_ref().and_then(|h| h.state.exited.clone());
        let (exit_tx, exit_rx) = watch::channel(exited.clone());
        let holder_pid = match (&hello, detached) {
            (Some(h), true) => Some(h.holder_pid),
            // In this process: its pid is ours, and must never be signalled.
            (_, false) => None,
            (None, true) => conn
                .peer_cred()
                .ok()
                .and_then(|c| c.pid())
                .and_then(|p| u32::try_from(p).ok()),
        };
        let mut meta = Meta::unknown(created_ms);
        if let Some(h) = hello.clone() {
            meta.version = h.version;
            meta.learn(h.state);
        }
        let weak = Arc::downgrade(self);
        let limits = self.config.recording_limits;
        let on_event = Box::new(move |ev: LinkEvent| {
            if let LinkEvent::Exited(info) = &ev {
                let _ = exit_tx.send(Some(info.clone()));
            }
            let Some(mgr) = weak.upgrade() else { return };
            let Ok(s) = mgr.get(id) else { return };
            match ev {
                LinkEvent::Hello(h) if h.state.id != id => {
                    tracing::warn!("the holder of session {id} holds {}", h.state.id);
                }
                LinkEvent::Hello(h) => {
                    ask_recording(&s, &h, limits);
                    let mut m = lock(&s.meta);
                    m.version = h.version;
                    m.learn(h.state);
                }
                LinkEvent::Recording(st) => {
                    // New parts are news for clients; the same parts again (after a
                    // stop, told already) only update the listing.
                    let mut m = lock(&s.meta);
                    let news = m
                        .recording_state
                        .as_ref()
                        .is_none_or(|old| old.parts != st.parts);
                    m.recording_state = Some(Box::new(st));
                    drop(m);
                    if !news {
                        return;
                    }
                }
                LinkEvent::Title(t) => lock(&s.meta).set_title(&t),
                LinkEvent::RecordingFailed(e) => {
                    tracing::warn!(session = %id, "recording stopped: {e}");
                    lock(&s.meta).recording_error = Some(e);
                }
                // The session reads these from its link.
                LinkEvent::Exited(_) | LinkEvent::Trouble => {}
            }
            mgr.updated(&s);
        });
        // Insert while holding the map, so the link's first news finds the session.
        let mut map = self.write();
        let link = Link::start(
            conn,
            hello.is_some(),
            socket.clone(),
            holder_pid,
            exited,
            on_event,
        );
        let session = Arc::new(Session {
            id,
            link,
            meta: std::sync::Mutex::new(meta),
            detached,
            socket,
            exited: exit_rx,
        });
        map.insert(id, session.clone());
        // Told while the map is still held: the link's first news (a title, the
        // recording) needs the map to find the session, so no client hears of an update
        // to a session it was not told of yet.
        self.emit(Event::SessionCreated(session.info()));
        drop(map);
        if let Some(h) = &hello {
            ask_recording(&session, h, limits);
        }
        session
    }
}

/// Asks a holder that speaks protocol 2 and records for its recording's state (with the
/// limits it records within); it answers, then tells every change.
fn ask_recording(session: &Session, hello: &HolderHello, limits: RecordingLimits) {
    if hello.version >= 2 && hello.state.recording.is_some() {
        session.link.send(ToHolder::Recording(limits));
    }
}

/// When the holder listening on `socket` started: its socket's time, in milliseconds
/// since the Unix epoch.
pub(super) fn created_ms(socket: &Path) -> u64 {
    std::fs::metadata(socket)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as u64)
}

/// A session's title until its program sets one: the program's file name, or the login
/// shell's when the command is empty (the same shell `pty::spawn` starts).
fn default_title(command: &[String]) -> String {
    let prog = command.first().cloned().unwrap_or_else(pty::login_shell);
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
