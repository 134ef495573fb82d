//! The session holder: owns one session's PTY, screen and recording, and serves them to
//! whichever agent connects ([`vibemesh_core::proto::holder`]).
//!
//! As its own process (`vibemesh-holder`, see [`main`]) it outlives the agent: it forks
//! away from it, starts its own Unix session, and listens on a socket in the agent's
//! folder, where a restarted agent finds and adopts it. While no agent is connected it
//! keeps reading the program's output into its screen (bounded by size and scrollback)
//! and its recording, so nothing is lost. It uses threads and blocking I/O only: no async
//! runtime, no network. It exits when the agent removes the session, or when its socket
//! file is deleted (its folder is gone, so nobody could ever adopt it).
//!
//! Output is never held up by the screen: the reader thread forwards each chunk at once
//! and appends it to a bounded backlog ([`BACKLOG_LIMIT`]) that a parser thread feeds
//! to vt100. A parser more than that behind skips to the newest output (from a line
//! boundary, ending whatever escape sequence the skip cut off), which for a flood of
//! text gives the same screen. Whatever the program prints, every message to the agent
//! fits a frame (titles are cut, snapshots sent in pieces, text cut), so no output can
//! break the link; should a send fail anyway, the connection is shut down, never left
//! silent, and the agent connects again. Consistency: anything
//! sent to the agent is sent under the state lock; a snapshot takes the state lock,
//! then the screen lock, and renders the screen plus the unparsed backlog; the parser
//! takes the screen lock before it lets go of the state lock. So a snapshot is exactly
//! the output sent before it. The first attach asks for a replay instead: the output
//! from the program's first byte, kept (bounded) until then ([`super::head`]).
//!
//! The same code also runs inside the agent ([`spawn_in_process`]) when no holder binary
//! is installed next to it: then sessions end with the agent, as they used to.

use std::{
    collections::VecDeque,
    io::{Read, Write},
    os::unix::net::{UnixListener, UnixStream},
    path::{Path, PathBuf},
    sync::{
        Arc, Condvar, Mutex,
        mpsc::{SyncSender, sync_channel},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use vibemesh_core::sync::lock;
use vibemesh_core::{
    frame,
    proto::{
        ExitInfo, TermSize,
        bounds::TITLE_MAX,
        holder::{
            FromHolder, HOLDER_VERSION, HolderHello, HolderSpawn, HolderState, SNAPSHOT_CHUNK,
            ToHolder,
        },
    },
    text::cut,
};

use super::{
    flood::{AGENT_BEHIND, FloodGuard},
    head::{Claimed, Head},
    pty,
    recorder::Recorder,
    screen::{CLEAR, Screen},
};

/// How long a connecting agent has to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(5);
/// Typed chunks queued for a program that does not read its input.
const INPUT_QUEUE: usize = 256;
/// Bytes of output not yet parsed into the screen before the parser skips ahead.
pub const BACKLOG_LIMIT: usize = 4 << 20;
/// Bytes the parser takes per turn, so a snapshot waits at most one batch.
const PARSE_BATCH: usize = 128 << 10;

enum Item {
    Data(Bytes),
    Resize(TermSize),
}

struct Shared {
    state: Mutex<State>,
    screen: Mutex<Screen>,
    /// Wakes the parser when output arrives.
    wake: Condvar,
    input: SyncSender<Bytes>,
    master: Mutex<Box<dyn portable_pty::MasterPty + Send>>,
    pid: Option<u32>,
    spawn: HolderSpawn,
    socket: Option<PathBuf>,
}

struct State {
    /// Output not yet parsed into the screen, its size, and whether some was dropped.
    backlog: VecDeque<Item>,
    backlog_bytes: usize,
    skipped: bool,
    /// The connected agent, with a number that tells connections apart.
    conn: Option<(u64, UnixStream)>,
    next_conn: u64,
    size: TermSize,
    title: String,
    exited: Option<ExitInfo>,
    recorder: Option<Recorder>,
    recording_error: Option<String>,
    /// The connection that asked for recording reports (holder protocol 2).
    recording_conn: Option<u64>,
    /// Lowers the session's scheduling weight while it floods.
    flood: FloodGuard,
    /// The output from the start, for the first attach.
    head: Head,
}

impl State {
    /// Sends to the connected agent, if any. A failed write means it is gone; a message
    /// that cannot be encoded (every one is bounded to fit a frame, so never) must not
    /// leave the agent waiting on a connection nobody writes to. Either way the
    /// connection is shut down for both sides: the agent sees the link end at once and
    /// connects again, and gets a fresh hello.
    fn send(&mut self, msg: &FromHolder) {
        let Some((_, conn)) = self.conn.as_mut() else {
            return;
        };
        let ok = frame::encode(msg)
            .map_err(std::io::Error::other)
            .and_then(|b| conn.write_all(&b));
        if ok.is_err() {
            let _ = conn.shutdown(std::net::Shutdown::Both);
            self.conn = None;
        }
    }

    /// Sends a snapshot (or replay) in pieces that each fit a frame.
    fn send_snapshot(&mut self, out: Vec<u8>) {
        let mut rest = Bytes::from(out);
        loop {
            let bytes = rest.split_to(rest.len().min(SNAPSHOT_CHUNK));
            let more = !rest.is_empty();
            self.send(&FromHolder::Snapshot { bytes, more });
            if !more {
                break;
            }
        }
    }

    /// Writes to the recording; the first failure is reported and recording stops.
    fn record(&mut self, f: impl FnOnce(&mut Recorder)) {
        let Some(r) = self.recorder.as_mut() else {
            return;
        };
        if r.error().is_some() {
            return;
        }
        f(r);
        if let Some(e) = r.error() {
            let e = e.to_string();
            self.recording_error = Some(e.clone());
            self.send(&FromHolder::RecordingFailed(e));
            self.report_recording(true);
        } else {
            self.report_recording(false);
        }
    }

    /// Tells the agent that asked (holder protocol 2) about the recording's parts, when
    /// they changed ([`Recorder::report`]) or with `force`.
    fn report_recording(&mut self, force: bool) {
        let Some(r) = self.recorder.as_mut() else {
            return;
        };
        let Some(state) = r.report(force) else {
            return;
        };
        let asked = self.recording_conn;
        if asked.is_some() && self.conn.as_ref().map(|(n, _)| *n) == asked {
            self.send(&FromHolder::Recording(state));
        }
    }
}

impl Shared {
    fn hello(&self, st: &State) -> FromHolder {
        FromHolder::Hello(HolderHello {
            version: HOLDER_VERSION,
            holder_pid: std::process::id(),
            state: HolderState {
                id: self.spawn.id,
                provider: self.spawn.provider,
                command: self.spawn.command.clone(),
                cwd: self.spawn.cwd.clone(),
                created_ms: self.spawn.created_ms,
                pid: self.pid,
                title: st.title.clone(),
                size: st.size,
                exited: st.exited.clone(),
                recording: self.spawn.recording.clone(),
                recording_error: st.recording_error.clone(),
            },
        })
    }

    /// The screen after `scrollback` lines of history, then the output not yet parsed
    /// into it: exactly the output sent before (see the module docs). Call with the state
    /// lock held.
    fn redraw(&self, st: &State, scrollback: u32) -> Vec<u8> {
        let mut out = lock(&self.screen).render(scrollback);
        for item in &st.backlog {
            if let Item::Data(c) = item {
                out.extend_from_slice(c);
            }
        }
        out
    }

    /// Everything the program printed from its first byte ([`super::head`]); past the
    /// head's limit, its start, a notice and the screen as it is now. Call with the state
    /// lock held.
    fn replay(&self, st: &State, head: Claimed) -> Vec<u8> {
        let mut out = CLEAR.as_bytes().to_vec();
        out.extend_from_slice(&head.bytes);
        if head.missed > 0 {
            out.extend_from_slice(&head.notice());
            // Without its clear: the start shown above stays in the terminal's history.
            let now = self.redraw(st, u32::MAX);
            out.extend_from_slice(now.strip_prefix(CLEAR.as_bytes()).unwrap_or(&now));
        }
        out
    }

    /// Makes `conn` the connected agent (replacing any other) and greets it.
    fn connect(self: &Arc<Self>, conn: UnixStream) -> std::io::Result<()> {
        let reader = conn.try_clone()?;
        let n = {
            let mut st = lock(&self.state);
            if let Some((_, old)) = st.conn.take() {
                let _ = old.shutdown(std::net::Shutdown::Both);
            }
            st.next_conn += 1;
            let n = st.next_conn;
            st.conn = Some((n, conn));
            let hello = self.hello(&st);
            st.send(&hello);
            n
        };
        let me = self.clone();
        std::thread::Builder::new()
            .name("holder-conn".into())
            .stack_size(256 * 1024)
            .spawn(move || me.serve(n, reader))?;
        Ok(())
    }

    /// Serves one agent's requests until it goes.
    fn serve(self: Arc<Self>, n: u64, mut conn: UnixStream) {
        loop {
            let msg = match frame::read_blocking::<ToHolder>(&mut conn) {
                Ok(Some(m)) => m,
                Ok(None) | Err(_) => break,
            };
            match msg {
                ToHolder::Hello { .. } => {}
                ToHolder::Input(b) => {
                    if self.spawn.record_input {
                        lock(&self.state).record(|r| r.input(&b));
                    }
                    if self.input.send(b).is_err() {
                        break;
                    }
                }
                ToHolder::Resize(size) => self.resize(size),
                ToHolder::Snapshot { scrollback } => {
                    let mut st = lock(&self.state);
                    let out = self.redraw(&st, scrollback);
                    st.send_snapshot(out);
                }
                ToHolder::Replay { scrollback } => {
                    let mut st = lock(&self.state);
                    let out = match st.head.claim() {
                        Some(head) => self.replay(&st, head),
                        None => self.redraw(&st, scrollback),
                    };
                    st.send_snapshot(out);
                }
                // Agents no longer ask (the variant keeps its number on the wire).
                ToHolder::Text => {}
                ToHolder::Remove => {
                    self.remove();
                    return;
                }
                ToHolder::Recording(limits) => {
                    let mut st = lock(&self.state);
                    st.recording_conn = Some(n);
                    if let Some(r) = st.recorder.as_mut() {
                        r.set_limits(limits);
                    }
                    st.report_recording(true);
                }
            }
        }
        let mut st = lock(&self.state);
        if st.conn.as_ref().is_some_and(|(m, _)| *m == n) {
            st.conn = None;
        }
    }

    fn resize(&self, size: TermSize) {
        if !size.is_valid() {
            return;
        }
        let mut st = lock(&self.state);
        if st.size == size || st.exited.is_some() {
            return;
        }
        if lock(&self.master).resize(pty::pty_size(size)).is_err() {
            return;
        }
        st.size = size;
        st.backlog.push_back(Item::Resize(size));
        st.record(|r| r.resize(size));
        st.send(&FromHolder::Resized(size));
        self.wake.notify_one();
    }

    /// Ends the program if it still runs; a holder process then exits.
    fn remove(&self) {
        let running = lock(&self.state).exited.is_none();
        if running && let Some(pid) = self.pid {
            pty::signal_group(pid, nix::sys::signal::Signal::SIGKILL);
        }
        if let Some(sock) = &self.socket {
            let _ = std::fs::remove_file(sock);
            std::process::exit(0);
        }
    }

    /// Reads the program's output until it ends, then reaps it.
    fn read_output(
        self: Arc<Self>,
        mut reader: Box<dyn Read + Send>,
        mut child: Box<dyn portable_pty::Child + Send + Sync>,
    ) {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let chunk = Bytes::copy_from_slice(&buf[..n]);
                    let mut st = lock(&self.state);
                    st.record(|r| r.output(&chunk));
                    st.head.record(&chunk);
                    let sent = Instant::now();
                    st.send(&FromHolder::Output(chunk.clone()));
                    let now = Instant::now();
                    st.flood
                        .output(n, now, now.duration_since(sent) >= AGENT_BEHIND);
                    st.backlog_bytes += chunk.len();
                    st.backlog.push_back(Item::Data(chunk));
                    while st.backlog_bytes > BACKLOG_LIMIT {
                        match st.backlog.pop_front() {
                            Some(Item::Data(c)) => {
                                st.backlog_bytes -= c.len();
                                st.skipped = true;
                            }
                            Some(Item::Resize(s)) => lock(&self.screen).resize(s),
                            None => break,
                        }
                    }
                    drop(st);
                    self.wake.notify_one();
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // Linux reports EIO once the last slave fd closes.
                Err(_) => break,
            }
        }
        let info = match child.wait() {
            Ok(st) => match st.signal() {
                Some(sig) => ExitInfo {
                    code: None,
                    signal: Some(sig.to_string()),
                },
                None => ExitInfo {
                    code: Some(st.exit_code() as i32),
                    signal: None,
                },
            },
            Err(_) => ExitInfo {
                code: None,
                signal: None,
            },
        };
        let mut st = lock(&self.state);
        st.exited = Some(info.clone());
        st.send(&FromHolder::Exited(info));
        drop(st);
        self.wake.notify_one();
    }

    /// Feeds the backlog to the screen until the program has ended and all is parsed.
    fn parse(self: Arc<Self>) {
        loop {
            let mut st = lock(&self.state);
            while st.backlog.is_empty() {
                if st.exited.is_some() {
                    st.flood.quiet();
                    return;
                }
                if !st.flood.lowered() {
                    st = self.wake.wait(st).unwrap_or_else(|p| p.into_inner());
                    continue;
                }
                // A lowered session that stops printing gets its weight back, even if
                // it keeps computing silently.
                let (g, timeout) = self
                    .wake
                    .wait_timeout(st, super::flood::CALM)
                    .unwrap_or_else(|p| p.into_inner());
                st = g;
                if timeout.timed_out() && st.backlog.is_empty() {
                    st.flood.quiet();
                }
            }
            let skipped = std::mem::take(&mut st.skipped);
            let mut batch = Vec::new();
            let mut taken = 0;
            while taken < PARSE_BATCH {
                let Some(item) = st.backlog.pop_front() else {
                    break;
                };
                if let Item::Data(c) = &item {
                    taken += c.len();
                    st.backlog_bytes -= c.len();
                }
                batch.push(item);
            }
            // Take the screen before letting go of the state: see the module docs.
            let mut screen = lock(&self.screen);
            drop(st);
            let mut title = None;
            if skipped {
                // What the parser was in the middle of (an endless title, say) was cut
                // off: end it, or it would swallow everything that follows.
                title = screen.resume();
            }
            for (i, item) in batch.into_iter().enumerate() {
                match item {
                    Item::Data(c) if i == 0 && skipped => {
                        // Resume after a line break so we do not start inside a sequence.
                        let from = c
                            .iter()
                            .position(|&x| x == b'\n')
                            .map_or(c.len(), |i| i + 1);
                        title = screen.process(&c[from..]).or(title);
                    }
                    Item::Data(c) => title = screen.process(&c).or(title),
                    Item::Resize(s) => screen.resize(s),
                }
            }
            drop(screen);
            if let Some(t) = title {
                let mut st = lock(&self.state);
                st.title = t.clone();
                st.send(&FromHolder::Title(t));
            }
        }
    }
}

/// Starts the session `spawn` describes and greets the agent on `conn`. `socket` is
/// where later agents reach it (a holder process); `None` inside the agent.
fn start(
    spawn: HolderSpawn,
    mut conn: UnixStream,
    socket: Option<PathBuf>,
) -> Result<(Arc<Shared>, Option<UnixListener>), String> {
    let refuse = |conn: &mut UnixStream, msg: String| {
        if let Ok(b) = frame::encode(&FromHolder::Refused(msg.clone())) {
            let _ = conn.write_all(&b);
        }
        msg
    };
    let spawned = match pty::spawn(
        spawn.id,
        &spawn.command,
        Path::new(&spawn.cwd),
        &spawn.env,
        spawn.size,
    ) {
        Ok(s) => s,
        Err(m) => return Err(refuse(&mut conn, m)),
    };
    let listener = match &socket {
        Some(path) => {
            let _ = std::fs::remove_file(path);
            match UnixListener::bind(path) {
                Ok(l) => {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
                    Some(l)
                }
                Err(e) => {
                    if let Some(pid) = spawned.pid {
                        pty::signal_group(pid, nix::sys::signal::Signal::SIGKILL);
                    }
                    let msg = format!("cannot listen on {}: {e}", path.display());
                    return Err(refuse(&mut conn, msg));
                }
            }
        }
        None => None,
    };
    let (recorder, recording_error) = match &spawn.recording {
        Some(path) => {
            match Recorder::create(Path::new(path), spawn.size, &spawn.title, &spawn.command) {
                Ok(r) => (Some(r), None),
                Err(e) => (None, Some(format!("cannot write {path}: {e}"))),
            }
        }
        None => (None, None),
    };
    let (input, input_rx) = sync_channel::<Bytes>(INPUT_QUEUE);
    let mut writer = spawned.writer;
    let spawn_err = |e: std::io::Error| e.to_string();
    std::thread::Builder::new()
        .name("holder-input".into())
        .stack_size(128 * 1024)
        .spawn(move || {
            for b in input_rx {
                // A program that ended takes no more input; keep draining.
                let _ = writer.write_all(&b).and_then(|()| writer.flush());
            }
        })
        .map_err(spawn_err)?;
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            backlog: VecDeque::new(),
            backlog_bytes: 0,
            skipped: false,
            conn: None,
            next_conn: 0,
            size: spawn.size,
            title: cut(&spawn.title, TITLE_MAX).into_owned(),
            exited: None,
            recorder,
            recording_error,
            recording_conn: None,
            flood: FloodGuard::new(spawned.pid, socket.is_some()),
            head: Head::new(),
        }),
        screen: Mutex::new(Screen::new(spawn.size, spawn.scrollback as usize)),
        wake: Condvar::new(),
        input,
        master: Mutex::new(spawned.master),
        pid: spawned.pid,
        spawn,
        socket,
    });
    // Greet first, so the hello comes before any output.
    shared.connect(conn).map_err(spawn_err)?;
    let me = shared.clone();
    let (reader, child) = (spawned.reader, spawned.child);
    std::thread::Builder::new()
        .name("holder-output".into())
        .stack_size(256 * 1024)
        .spawn(move || me.read_output(reader, child))
        .map_err(spawn_err)?;
    let me = shared.clone();
    std::thread::Builder::new()
        .name("holder-parse".into())
        .stack_size(512 * 1024)
        .spawn(move || me.parse())
        .map_err(spawn_err)?;
    Ok((shared, listener))
}

/// Runs a holder inside this process, on threads: for agents without a holder binary.
/// Returns the agent's end of the connection, on which the caller sends the spawn.
pub fn spawn_in_process() -> std::io::Result<UnixStream> {
    let (agent_end, holder_end) = UnixStream::pair()?;
    std::thread::Builder::new()
        .name("holder-start".into())
        .spawn(move || {
            let mut conn = holder_end;
            if let Ok(Some(spawn)) = frame::read_blocking::<HolderSpawn>(&mut conn) {
                let _ = start(spawn, conn, None);
            }
        })?;
    Ok(agent_end)
}

/// The holder process: `vibemesh-holder SOCKET`, started by the agent with its end of a
/// socket pair as standard input. Never returns while the session is held.
pub fn main() -> std::process::ExitCode {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let Some(socket) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: vibemesh-holder SOCKET (started by the vibemesh agent)");
        return std::process::ExitCode::from(2);
    };
    // Leave the agent's process group and session: its restart, its Ctrl-C and its
    // terminal closing must not reach us. Forking first makes us not a group leader
    // (so setsid works) and lets the agent reap its direct child at once.
    // SAFETY: no other thread exists yet in this process.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Parent { .. }) => return std::process::ExitCode::SUCCESS,
        Ok(nix::unistd::ForkResult::Child) => {}
        Err(e) => {
            eprintln!("vibemesh-holder: fork failed: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    let _ = nix::unistd::setsid();
    // SAFETY: the agent gave us our end of the socket pair as stdin, and nothing else in
    // this process uses fd 0.
    let stdin = unsafe { OwnedFd::from_raw_fd(std::io::stdin().as_raw_fd()) };
    let mut conn = UnixStream::from(stdin);
    let _ = conn.set_read_timeout(Some(HELLO_TIMEOUT));
    let spawn = match frame::read_blocking::<HolderSpawn>(&mut conn) {
        Ok(Some(s)) => s,
        _ => return std::process::ExitCode::FAILURE,
    };
    let _ = conn.set_read_timeout(None);
    let (shared, listener) = match start(spawn, conn, Some(socket.clone())) {
        Ok((s, Some(l))) => (s, l),
        _ => return std::process::ExitCode::FAILURE,
    };
    let _watcher = exit_when_deleted(&socket, shared.pid);
    for conn in listener.incoming() {
        let Ok(mut conn) = conn else { continue };
        let _ = conn.set_read_timeout(Some(HELLO_TIMEOUT));
        match frame::read_blocking::<ToHolder>(&mut conn) {
            Ok(Some(ToHolder::Hello { .. })) => {
                let _ = conn.set_read_timeout(None);
                let _ = shared.connect(conn);
            }
            _ => continue,
        }
    }
    std::process::ExitCode::SUCCESS
}

/// Watches the socket file: when it is deleted (the agent's folder went away), nobody
/// can adopt this session any more, so end it rather than leave it running unseen.
fn exit_when_deleted(socket: &Path, pid: Option<u32>) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let dir = socket.parent()?.to_path_buf();
    let sock = socket.to_path_buf();
    let mut watcher = notify::recommended_watcher(move |_: notify::Result<notify::Event>| {
        if !sock.exists() {
            if let Some(pid) = pid {
                pty::signal_group(pid, nix::sys::signal::Signal::SIGHUP);
                pty::signal_group(pid, nix::sys::signal::Signal::SIGKILL);
            }
            std::process::exit(0);
        }
    })
    .ok()?;
    watcher
        .watch(&dir, notify::RecursiveMode::NonRecursive)
        .ok()?;
    Some(watcher)
}
