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
//! silent, and the agent connects again. Nor is output held up by the agent: messages
//! are queued (bounded) and written by a thread of their own ([`outbox`]), so no lock is
//! held while the agent drains its socket. Consistency: anything
//! sent to the agent is queued under the state lock; a snapshot takes the state lock,
//! then the screen lock, and renders the screen plus the unparsed backlog; the parser
//! takes the screen lock before it lets go of the state lock. So a snapshot is exactly
//! the output sent before it. The first attach asks for a replay instead: the output
//! from the program's first byte, kept (bounded) until then ([`super::head`]).
//!
//! Queries: the program's terminal queries (cursor position, device attributes,
//! colours: [`vibemesh_term::QueryFilter`]) are taken out of its output as it is read,
//! before anything else sees it (agent, recording, first-attach replay, backlog), and
//! queued in the backlog where they were; the parser thread answers each from the
//! screen as it stands at that point, writing the reply to the program's input. So every
//! query gets exactly one answer, with or without viewers, and no viewer answers again.
//!
//! The same code also runs inside the agent ([`spawn_in_process`]) when no holder binary
//! is installed next to it: then sessions end with the agent, as they used to.

mod memory;
pub(crate) mod outbox;
mod start;

use std::{
    collections::VecDeque,
    io::Read,
    os::unix::net::UnixStream,
    path::PathBuf,
    sync::{Arc, Condvar, Mutex, mpsc::SyncSender},
};

use bytes::Bytes;
use vibemesh_core::{
    frame,
    proto::{
        ExitInfo, TermSize,
        holder::{
            FromHolder, HOLDER_VERSION, HolderHello, HolderSpawn, HolderState, SNAPSHOT_CHUNK,
            ToHolder,
        },
    },
    sync::lock,
};
use vibemesh_term::{Query, QueryFilter};

pub use start::{main, spawn_in_process};

use super::{
    flood::FloodGuard,
    head::{Claimed, Head},
    pty,
    recorder::Recorder,
    screen::{CLEAR, Screen},
};

/// Typed chunks queued for a program that does not read its input.
const INPUT_QUEUE: usize = 256;
/// Bytes of output not yet parsed into the screen before the parser skips ahead.
pub const BACKLOG_LIMIT: usize = 4 << 20;
/// Bytes the parser takes per turn, so a snapshot waits at most one batch.
const PARSE_BATCH: usize = 128 << 10;

enum Item {
    Data(Bytes),
    Resize(TermSize),
    /// A query taken out of the output here: answered once the screen is parsed to it.
    Query(Query),
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
    /// The connected agent and what waits to be written to it.
    conn: Option<outbox::Conn>,
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
        if asked.is_some() && self.conn.as_ref().map(|c| c.n) == asked {
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
        let n = self.attach(&mut lock(&self.state), conn)?;
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
                    let mut st = self.wait_room(n, lock(&self.state));
                    let out = self.redraw(&st, scrollback);
                    st.send_snapshot(out);
                }
                ToHolder::Replay { scrollback } => {
                    let mut st = self.wait_room(n, lock(&self.state));
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
        if let Some(c) = lock(&self.state).conn.take_if(|c| c.n == n) {
            c.close();
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

    /// Writes the answer to `q` from `screen` to the program's input, behind what was
    /// typed before. Never waits: with the input queue full (a program not reading its
    /// input), the answer is dropped like a reply lost on a real line.
    fn reply(&self, screen: &Screen, q: Query) {
        let _ = self.input.try_send(Bytes::from(screen.answer(q)));
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
        // At the allocator's mmap threshold (memory::configure), so it is mapped apart,
        // zeroed by the kernel: an idle session's holder keeps only the pages its reads
        // touched, not 64 KiB that the heap's calloc would have cleared.
        let mut buf = vec![0u8; memory::MMAP_THRESHOLD];
        let mut queries = QueryFilter::default();
        let mut found = Vec::new();
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let mut chunk = Vec::with_capacity(n);
                    queries.filter(&buf[..n], &mut chunk, &mut found);
                    self.take_output(n, chunk.into(), &mut found);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // Linux reports EIO once the last slave fd closes.
                Err(_) => break,
            }
        }
        // The start of a sequence held back at the end was no query.
        let mut rest = Vec::new();
        queries.flush(&mut rest);
        self.take_output(0, rest.into(), &mut found);
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

    /// Passes on `chunk`, output read (`read` bytes before its queries were taken out),
    /// and queues it for the parser with the queries `found` in it (drained).
    fn take_output(&self, read: usize, chunk: Bytes, found: &mut Vec<(usize, Query)>) {
        if chunk.is_empty() && found.is_empty() {
            return;
        }
        let mut st = lock(&self.state);
        // Everything downstream (agent, recording, first-attach replay) gets the same
        // bytes, queries taken out; the flood guard counts what the program printed.
        let behind = st.conn.as_ref().is_some_and(outbox::Conn::behind);
        if !chunk.is_empty() {
            st.record(|r| r.output(&chunk));
            st.head.record(&chunk);
            st.send(&FromHolder::Output(chunk.clone()));
        }
        if read > 0 {
            st.flood.output(read, std::time::Instant::now(), behind);
        }
        st.backlog_bytes += chunk.len();
        let mut from = 0;
        for (at, q) in found.drain(..) {
            if at > from {
                st.backlog.push_back(Item::Data(chunk.slice(from..at)));
            }
            st.backlog.push_back(Item::Query(q));
            from = at;
        }
        if from < chunk.len() {
            st.backlog.push_back(Item::Data(chunk.slice(from..)));
        }
        while st.backlog_bytes > BACKLOG_LIMIT {
            match st.backlog.pop_front() {
                Some(Item::Data(c)) => {
                    st.backlog_bytes -= c.len();
                    st.skipped = true;
                }
                Some(Item::Resize(s)) => lock(&self.screen).resize(s),
                // The screen is behind, but a program waiting for its answer gets one.
                Some(Item::Query(q)) => self.reply(&lock(&self.screen), q),
                None => break,
            }
        }
        drop(st);
        self.wake.notify_one();
    }

    /// Feeds the backlog to the screen until the program has ended and all is parsed.
    fn parse(self: Arc<Self>) {
        // The start is a burst too: spawning the program and the first attach leave
        // freed memory in the heap, which an idle holder would keep for good.
        let mut since_release = memory::RELEASE_AFTER;
        loop {
            let mut st = lock(&self.state);
            while st.backlog.is_empty() {
                if st.exited.is_some() {
                    st.flood.quiet();
                    return;
                }
                if since_release >= memory::RELEASE_AFTER {
                    // A burst is over once nothing comes for a moment: give back what it
                    // took. (A flood of small reads grows the queues to hundreds of
                    // thousands of entries, and they keep that room until told.)
                    let (g, timeout) = self
                        .wake
                        .wait_timeout(st, memory::SETTLE)
                        .unwrap_or_else(|p| p.into_inner());
                    st = g;
                    if timeout.timed_out() && st.backlog.is_empty() {
                        since_release = 0;
                        st.backlog.shrink_to(memory::QUEUE_KEEP);
                        if let Some(c) = st.conn.as_mut() {
                            c.shrink();
                        }
                        drop(st);
                        memory::release();
                        st = lock(&self.state);
                    }
                    continue;
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
                    Item::Query(q) => self.reply(&screen, q),
                }
            }
            drop(screen);
            if let Some(t) = title {
                let mut st = lock(&self.state);
                st.title = t.clone();
                st.send(&FromHolder::Title(t));
            }
            since_release += taken;
        }
    }
}
