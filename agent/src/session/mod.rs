//! The session engine: programs in PTYs, their screens, viewers and recordings.
//!
//! It knows nothing of the network: the serving code asks it to create, list, attach and
//! kill, and gets plain values back. Each session's PTY, screen and recording live in a
//! holder ([`holder`]): a small process of its own when the `vibemesh-holder` binary is
//! installed next to the agent, so sessions outlive the agent and a restarted (or
//! upgraded) agent adopts them ([`SessionManager::adopt`]); otherwise threads in this
//! process, and sessions end with it. The agent talks to either over a Unix socket
//! ([`link`]).

mod flood;
pub mod head;
pub mod holder;
pub mod hub;
pub mod link;
mod pty;
pub mod recorder;
pub mod screen;

use std::{
    collections::BTreeMap,
    os::unix::net::UnixStream,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock},
    time::Duration,
};

use bytes::Bytes;
use tokio::sync::{broadcast, watch};
use vibemesh_core::{
    ErrorCode, WireError,
    proto::{
        ExitInfo, Provider, SessionId, SessionInfo, SessionStatus, TermSize,
        control::{CreateSession, Event},
        holder::{HOLDER_VERSION, HolderHello, HolderSpawn, ToHolder},
    },
};

use hub::Subscription;
use link::{Link, LinkEvent};

/// Names the holder binary to use; empty keeps sessions inside the agent process.
pub const HOLDER_ENV: &str = "VIBEMESH_HOLDER";

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
    /// Where session holders put their sockets (the agent's folder), so a restarted
    /// agent finds them; `None` keeps every session inside this process.
    pub holders: Option<PathBuf>,
}

/// One session.
pub struct Session {
    id: SessionId,
    provider: Provider,
    command: Vec<String>,
    cwd: String,
    created_ms: u64,
    pid: Option<u32>,
    link: Arc<Link>,
    meta: Mutex<Meta>,
    recording: Option<String>,
    /// Held by a holder process: it survives this agent.
    detached: bool,
    /// Its holder keeps the output from the start for the first attach (version 2+).
    replays: bool,
    exited: watch::Receiver<Option<ExitInfo>>,
}

struct Meta {
    title: String,
    size: TermSize,
    status: SessionStatus,
    viewers: u32,
    recording_error: Option<String>,
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
            recording: self.recording.clone(),
            recording_error: m.recording_error.clone(),
            conversation: None,
        }
    }

    /// The screen and a subscription to what follows it.
    pub async fn snapshot(&self, scrollback: u32) -> (Bytes, Subscription) {
        self.link.snapshot(scrollback).await
    }

    /// For an attach that may be the session's first: the program's output from its
    /// first byte, once ([`head`]); the screen after `scrollback` lines of history, as
    /// [`Session::snapshot`], for later ones and from holders too old to keep it.
    pub async fn replay(&self, scrollback: u32) -> (Bytes, Subscription) {
        if self.replays {
            self.link.replay(scrollback).await
        } else {
            self.link.snapshot(scrollback).await
        }
    }

    /// The screen's text (for tests and previews).
    pub async fn screen_text(&self) -> String {
        self.link.text().await
    }

    /// Whether the session is held by a process of its own, so it outlives this agent.
    pub fn survives_agent(&self) -> bool {
        self.detached
    }

    /// Types `bytes` into the program. Resolves once the holder has them: from then on
    /// they are typed even if this agent dies.
    pub async fn write_input(&self, bytes: Bytes) -> Result<(), WireError> {
        if self.exited.borrow().is_some() {
            return Ok(());
        }
        if self.link.input(bytes).await {
            Ok(())
        } else {
            Err(WireError::new(
                ErrorCode::Internal,
                "cannot type into the session: its holder is gone",
            ))
        }
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
        self.link.send(ToHolder::Resize(size));
        m.size = size;
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

    /// Starts a session. Waits (briefly, on this thread) for its holder to start the
    /// program, so a command that cannot start is refused here.
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
        while self.read().contains_key(&id) || self.socket_of(id).is_some_and(|p| p.exists()) {
            id = SessionId::random();
        }
        let title = req
            .title
            .clone()
            .unwrap_or_else(|| default_title(&req.command));
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
        let (mut conn, detached) = match self.socket_of(id) {
            Some(sock) => (start_holder_process(&sock).map_err(internal)?, true),
            None => (holder::spawn_in_process().map_err(internal)?, false),
        };
        let hello = link::handshake_spawn(&mut conn, &spawn)
            .map_err(|m| WireError::new(ErrorCode::SpawnFailed, m))?;
        if let Some(path) = &spawn.recording
            && let Some(e) = &hello.state.recording_error
        {
            tracing::warn!("session {id} is not recorded to {path}: {e}");
        }
        let session = self.install(conn, hello, detached)?;
        self.emit(Event::SessionCreated(session.info()));
        Ok(session)
    }

    /// Adopts the sessions whose holders outlived an earlier agent (their sockets in
    /// the holders folder), and removes sockets nobody answers on. Returns how many.
    pub fn adopt(self: &Arc<Self>) -> usize {
        let Some(dir) = &self.config.holders else {
            return 0;
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        let mut adopted = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "sock") {
                continue;
            }
            let Some(id) = path
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<SessionId>().ok())
            else {
                continue;
            };
            if self.read().contains_key(&id) {
                continue;
            }
            let mut conn = match UnixStream::connect(&path) {
                Ok(c) => c,
                Err(_) => {
                    // Left over from a holder that died (a reboot, a kill -9).
                    let _ = std::fs::remove_file(&path);
                    continue;
                }
            };
            let hello = match link::handshake_adopt(&mut conn) {
                Ok(h) if h.state.id == id => h,
                Ok(h) => {
                    tracing::warn!("{} holds session {}, not {id}", path.display(), h.state.id);
                    continue;
                }
                Err(e) => {
                    tracing::warn!("cannot adopt the session at {}: {e}", path.display());
                    continue;
                }
            };
            match self.install(conn, hello, true) {
                Ok(s) => {
                    tracing::info!(session = %id, "adopted a running session");
                    self.emit(Event::SessionCreated(s.info()));
                    adopted += 1;
                }
                Err(e) => tracing::warn!("cannot adopt session {id}: {e}"),
            }
        }
        adopted
    }

    /// Where the holder of `id` listens, when sessions get holder processes.
    fn socket_of(&self, id: SessionId) -> Option<PathBuf> {
        let dir = self.config.holders.as_ref()?;
        holder_binary()?;
        Some(dir.join(format!("{id}.sock")))
    }

    /// Makes a session of a holder that said hello, and lists it.
    fn install(
        self: &Arc<Self>,
        conn: UnixStream,
        hello: HolderHello,
        detached: bool,
    ) -> Result<Arc<Session>, WireError> {
        let replays = hello.version >= 2;
        let st = hello.state;
        let id = st.id;
        let (exit_tx, exit_rx) = watch::channel(st.exited.clone());
        let weak = Arc::downgrade(self);
        let on_event = Box::new(move |ev: LinkEvent| {
            let Some(mgr) = weak.upgrade() else { return };
            let Ok(s) = mgr.get(id) else {
                if let LinkEvent::Exited(info) = ev {
                    let _ = exit_tx.send(Some(info));
                }
                return;
            };
            match ev {
                LinkEvent::Title(t) => lock(&s.meta).title = t,
                LinkEvent::Exited(info) => {
                    lock(&s.meta).status = SessionStatus::Exited(info.clone());
                    let _ = exit_tx.send(Some(info));
                }
                LinkEvent::RecordingFailed(e) => {
                    tracing::warn!(session = %id, "recording stopped: {e}");
                    lock(&s.meta).recording_error = Some(e);
                }
            }
            mgr.updated(&s);
        });
        // Insert while holding the map, so an instant exit finds the session.
        let mut map = self.write();
        let link = Link::start(conn, st.exited.clone(), on_event)
            .map_err(|e| WireError::new(ErrorCode::Internal, format!("session holder: {e}")))?;
        let session = Arc::new(Session {
            id,
            provider: st.provider,
            command: st.command,
            cwd: st.cwd,
            created_ms: st.created_ms,
            pid: st.pid,
            link,
            meta: Mutex::new(Meta {
                title: st.title,
                size: st.size,
                status: match st.exited {
                    Some(info) => SessionStatus::Exited(info),
                    None => SessionStatus::Running,
                },
                viewers: 0,
                recording_error: st.recording_error,
            }),
            recording: st.recording,
            detached,
            replays,
            exited: exit_rx,
        });
        map.insert(id, session.clone());
        Ok(session)
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
        s.link.send(ToHolder::Remove);
        if s.detached {
            // A holder process exits on Remove: answer once it has, so "killed" means
            // gone (bounded, in case a holder is wedged).
            let _ = tokio::time::timeout(KILL_GRACE, s.link.closed()).await;
        }
        self.write().remove(&id);
        self.emit(Event::SessionRemoved(id));
        Ok(())
    }

    /// Kills every session at once, so it takes one grace period however many there are.
    pub async fn kill_all(&self) {
        let ids: Vec<_> = self.read().keys().copied().collect();
        n0_future::join_all(ids.into_iter().map(|id| self.kill(id))).await;
    }

    /// Agent shutdown: sessions held in this process end; those with holder processes
    /// keep running for the next agent to adopt.
    pub async fn shutdown(&self) {
        let ids: Vec<_> = self
            .read()
            .values()
            .filter(|s| !s.detached)
            .map(|s| s.id)
            .collect();
        n0_future::join_all(ids.into_iter().map(|id| self.kill(id))).await;
    }
}

/// The holder binary: `$VIBEMESH_HOLDER`, else `vibemesh-holder` next to this program
/// (or one folder up, where cargo puts binaries when this is a test). `None` when there
/// is none: sessions are then held inside this process.
pub fn holder_binary() -> Option<&'static Path> {
    static BIN: OnceLock<Option<PathBuf>> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os(HOLDER_ENV) {
            return (!p.is_empty()).then(|| PathBuf::from(p));
        }
        let exe = std::env::current_exe().ok()?;
        let dir = exe.parent()?;
        let found = [dir, dir.parent()?]
            .into_iter()
            .map(|d| d.join("vibemesh-holder"))
            .find(|p| p.is_file());
        if found.is_none() {
            tracing::warn!(
                "no vibemesh-holder next to {}: sessions end when this agent does",
                exe.display()
            );
        }
        found
    })
    .as_deref()
}

/// Starts a holder process that will listen on `sock`; returns our end of the socket
/// pair it was given as standard input.
fn start_holder_process(sock: &Path) -> std::io::Result<UnixStream> {
    use std::process::{Command, Stdio};
    let bin = holder_binary().ok_or_else(|| std::io::Error::other("no holder binary"))?;
    if let Some(dir) = sock.parent() {
        std::fs::create_dir_all(dir)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let (ours, theirs) = UnixStream::pair()?;
    let mut child = Command::new(bin)
        .arg(sock)
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    // It forks its long-lived self away and exits at once: reap it now.
    let status = child.wait()?;
    if !status.success() {
        return Err(std::io::Error::other(format!(
            "{} failed: {status}",
            bin.display()
        )));
    }
    Ok(ours)
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
