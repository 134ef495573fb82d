//! The agent's side of a session holder: a connection that fans the holder's output out
//! to viewers and carries keys, sizes and snapshot requests to it.
//!
//! Snapshots stay consistent with live output because both travel on one ordered
//! socket: a request is queued and sent under one lock, the holder answers in order
//! after all output it sent before, and the reading task (the only one that broadcasts)
//! subscribes the requester exactly when the answer arrives. So snapshot + subscription
//! lose and double nothing.
//!
//! The link also notices a holder in trouble, and mends what it can:
//! - a holder that does not greet within [`HELLO_WAIT`], or answer a request within
//!   [`ANSWER_WAIT`], is reported as not answering ([`LinkEvent::Trouble`]); the report
//!   is withdrawn as soon as it sends anything again;
//! - a connection that breaks (a frame over the limit or that does not decode, a failed
//!   write) is made again on the holder's socket: the holder greets anew, requests it had
//!   not answered are asked again, and viewers get a fresh screen ([`Output::Reset`]).
//!   A holder that cannot be reached again, or a link that keeps breaking, is reported,
//!   and viewers are told the session ended;
//! - a holder that closes the connection cleanly has exited (or another agent took it
//!   over): the same.

use std::{
    collections::VecDeque,
    io::Write,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::{Bytes, BytesMut};
use tokio::{
    net::{
        UnixStream,
        unix::{OwnedReadHalf, OwnedWriteHalf},
    },
    sync::{broadcast, mpsc, oneshot, watch},
};
use vibemesh_core::{
    frame::{self, FrameReader, FrameWriter},
    proto::{
        ExitInfo,
        holder::{
            FromHolder, HOLDER_MIN_VERSION, HOLDER_VERSION, HolderHello, HolderSpawn, ToHolder,
        },
    },
};

use super::hub::{Output, Subscription};
use vibemesh_core::sync::lock;

/// How long a fresh holder has to answer a spawn.
const HANDSHAKE: Duration = Duration::from_secs(10);
/// How long a running holder has to greet a connecting agent before it is reported as
/// not answering (adoption waits this long at most, for all holders at once).
pub const HELLO_WAIT: Duration = Duration::from_secs(3);
/// How long a holder has to answer a request (a snapshot, the screen's text).
pub const ANSWER_WAIT: Duration = Duration::from_secs(10);
/// Broadcast slots per session: what a viewer may lag before it is re-snapshotted.
pub(crate) const RING: usize = 256;
/// Connections made again within [`BREAKS_WINDOW`] before the link gives up.
const REPAIRS: u32 = 3;
const BREAKS_WINDOW: Duration = Duration::from_secs(60);

/// What the link reports to the session manager.
pub enum LinkEvent {
    /// The holder greeted (late, when adoption could not wait for it, or again after
    /// the connection was made anew): the session as it holds it.
    Hello(Box<HolderHello>),
    /// The program set a title.
    Title(String),
    /// The program ended.
    Exited(ExitInfo),
    /// The recording stopped early.
    RecordingFailed(String),
    /// The holder cannot be reached, or can again: [`Link::trouble`] says which, and why.
    Trouble,
    /// The recording's parts and size (holder protocol 2).
    Recording(vibemesh_core::proto::RecordingState),
}

/// Called by the link's task for each [`LinkEvent`].
pub type EventHook = Box<dyn Fn(LinkEvent) + Send + Sync>;

enum Pending {
    /// A snapshot after this many lines of history; a replay of the program's first
    /// output instead when `true` (holder protocol 3).
    Snapshot(u32, bool, oneshot::Sender<(Bytes, Subscription)>),
}

impl Pending {
    /// The request this waits for the answer to.
    fn request(&self) -> ToHolder {
        match self {
            Pending::Snapshot(scrollback, false, _) => ToHolder::Snapshot {
                scrollback: *scrollback,
            },
            Pending::Snapshot(scrollback, true, _) => ToHolder::Replay {
                scrollback: *scrollback,
            },
        }
    }
}

/// Requests waiting for their answers, oldest first.
#[derive(Default)]
struct Requests {
    queue: VecDeque<Pending>,
    /// How many at the front were taken by the writer of the current connection: the
    /// ones to ask again when it is made anew (the rest are still in the queue to it).
    taken: usize,
}

type Outgoing = (ToHolder, Option<oneshot::Sender<bool>>);

/// How a link ended, for whoever has to clean up after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Still connected.
    No,
    /// The holder closed the connection or cannot be reached: it is gone.
    HolderGone,
    /// The link gave up on a holder that may still run.
    GaveUp,
}

/// A live connection to one holder.
pub struct Link {
    out: mpsc::UnboundedSender<Outgoing>,
    requests: Mutex<Requests>,
    tx: broadcast::Sender<Output>,
    exited: Mutex<Option<ExitInfo>>,
    /// Why the holder cannot be reached, while it cannot.
    trouble: Mutex<Option<String>>,
    /// Set once the link's task has ended.
    ended: watch::Sender<Ended>,
    /// Set once the holder has greeted (at once for a fresh holder).
    greeted: watch::Sender<bool>,
    /// The session is being removed: the holder closing is expected.
    removing: AtomicBool,
    /// Where the holder listens, to connect again (a holder process).
    socket: Option<PathBuf>,
    /// The holder's process id, when it runs apart from the agent.
    holder_pid: Mutex<Option<u32>>,
    on_event: EventHook,
}

fn lost() -> ExitInfo {
    ExitInfo {
        code: None,
        signal: None,
    }
}

/// Sends `spawn` on a fresh holder's socket and waits for its hello (blocking, bounded).
pub fn handshake_spawn(
    conn: &mut std::os::unix::net::UnixStream,
    spawn: &HolderSpawn,
) -> Result<HolderHello, String> {
    let bytes = frame::encode(spawn).map_err(|e| e.to_string())?;
    conn.write_all(&bytes)
        .map_err(|e| format!("the session holder did not start: {e}"))?;
    let _ = conn.set_read_timeout(Some(HANDSHAKE));
    let hello = match frame::read_blocking::<FromHolder>(conn) {
        Ok(Some(FromHolder::Hello(h))) => h,
        Ok(Some(FromHolder::Refused(msg))) => return Err(msg),
        Ok(Some(_)) => return Err("the session holder answered out of turn".into()),
        Ok(None) => return Err("the session holder closed the connection".into()),
        Err(e) => return Err(format!("the session holder did not answer: {e}")),
    };
    let _ = conn.set_read_timeout(None);
    check_version(&hello)?;
    Ok(hello)
}

fn check_version(hello: &HolderHello) -> Result<(), String> {
    if (HOLDER_MIN_VERSION..=HOLDER_VERSION).contains(&hello.version) {
        return Ok(());
    }
    Err(format!(
        "the session holder speaks version {}, this agent {HOLDER_MIN_VERSION} to {HOLDER_VERSION}",
        hello.version
    ))
}

/// Why one connection ended.
enum ConnEnd {
    /// The holder closed it between frames.
    Closed,
    /// It broke: the reason.
    Broken(String),
    /// The holder is not one this agent can serve (its version, a refusal): the reason.
    Unusable(String),
}

impl Link {
    /// Serves a connected holder. `greeted` when the handshake is done (a fresh holder);
    /// otherwise the link says hello first and reads the holder's hello as its first
    /// frame, whenever it comes (adoption). Must be called inside a tokio runtime.
    pub fn start(
        conn: UnixStream,
        greeted: bool,
        socket: Option<PathBuf>,
        holder_pid: Option<u32>,
        exited: Option<ExitInfo>,
        on_event: EventHook,
    ) -> Arc<Self> {
        let (out, out_rx) = mpsc::unbounded_channel();
        let link = Arc::new(Self {
            out,
            requests: Mutex::default(),
            tx: broadcast::channel(RING).0,
            exited: Mutex::new(exited),
            trouble: Mutex::new(None),
            ended: watch::channel(Ended::No).0,
            greeted: watch::channel(greeted).0,
            removing: AtomicBool::new(false),
            socket,
            holder_pid: Mutex::new(holder_pid),
            on_event,
        });
        tokio::spawn(link.clone().run(conn, greeted, out_rx));
        link
    }

    /// How the program ended, if it has (as its holder said).
    pub fn exit_info(&self) -> Option<ExitInfo> {
        lock(&self.exited).clone()
    }

    /// Why the holder cannot be reached now, if it cannot.
    pub fn trouble(&self) -> Option<String> {
        lock(&self.trouble).clone()
    }

    /// The holder's process id, when it runs apart from the agent.
    pub fn holder_pid(&self) -> Option<u32> {
        *lock(&self.holder_pid)
    }

    /// Types `bytes`; resolves once they are on their way to the holder (which then
    /// types them even if this agent dies), or fails when the holder is gone.
    pub async fn input(&self, bytes: Bytes) -> bool {
        let (done, rx) = oneshot::channel();
        if self.out.send((ToHolder::Input(bytes), Some(done))).is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// Sends a message that needs no answer.
    pub fn send(&self, msg: ToHolder) {
        let _ = self.out.send((msg, None));
    }

    /// Tells the holder the session is removed (it ends the program and exits); its
    /// closing the connection is expected from now on.
    pub fn remove(&self) {
        self.removing.store(true, Ordering::SeqCst);
        self.send(ToHolder::Remove);
    }

    /// Queues a request and waits (at most [`ANSWER_WAIT`]) for its answer. `Ok(None)`
    /// when the link ended without one; `Err` when the holder does not answer.
    async fn ask<T>(
        &self,
        pending: impl FnOnce(oneshot::Sender<T>) -> Pending,
    ) -> Result<Option<T>, String> {
        let (tx, rx) = oneshot::channel();
        {
            let mut r = lock(&self.requests);
            let p = pending(tx);
            if self.out.send((p.request(), None)).is_ok() {
                r.queue.push_back(p);
            }
        }
        match tokio::time::timeout(ANSWER_WAIT, rx).await {
            Ok(answer) => Ok(answer.ok()),
            Err(_) => {
                // The answer may still come; it then goes nowhere.
                let why = self.not_answering(ANSWER_WAIT);
                self.set_trouble(Some(why.clone()));
                Err(why)
            }
        }
    }

    /// The screen and a subscription that continues exactly after it; `Err` says why
    /// the holder gave neither.
    pub async fn snapshot(&self, scrollback: u32) -> Result<(Bytes, Subscription), String> {
        self.redraw(scrollback, false).await
    }

    /// Like [`Link::snapshot`], but the first time it is asked: the program's output
    /// from its first byte ([`super::head`]). Only for holders of version 3 or later.
    pub async fn replay(&self, scrollback: u32) -> Result<(Bytes, Subscription), String> {
        self.redraw(scrollback, true).await
    }

    /// Asks for a snapshot or a replay and subscribes exactly after it.
    async fn redraw(&self, scrollback: u32, replay: bool) -> Result<(Bytes, Subscription), String> {
        match self
            .ask(|tx| Pending::Snapshot(scrollback, replay, tx))
            .await?
        {
            Some(v) => Ok(v),
            None => match self.exit_info() {
                Some(info) => Ok((Bytes::new(), Subscription::Exited(info))),
                None => Err(self
                    .trouble()
                    .unwrap_or_else(|| "its holder is gone".to_string())),
            },
        }
    }

    /// Resolves once the link has ended (a holder process: it has exited, or the link
    /// gave up on it); says how.
    pub async fn closed(&self) -> Ended {
        let mut rx = self.ended.subscribe();
        match rx.wait_for(|e| *e != Ended::No).await {
            Ok(e) => *e,
            Err(_) => Ended::HolderGone,
        }
    }

    /// Resolves once the holder has greeted (never, if it does not).
    pub async fn greeted(&self) {
        let mut rx = self.greeted.subscribe();
        if rx.wait_for(|g| *g).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// How the link ended, if it has.
    #[cfg(test)]
    pub fn ended(&self) -> Ended {
        *self.ended.borrow()
    }

    fn not_answering(&self, waited: Duration) -> String {
        let who = match self.holder_pid() {
            Some(pid) => format!("its holder (pid {pid})"),
            None => "its holder".to_string(),
        };
        format!("{who} did not answer within {} s", waited.as_secs())
    }

    fn set_trouble(&self, why: Option<String>) {
        {
            let mut t = lock(&self.trouble);
            if *t == why {
                return;
            }
            t.clone_from(&why);
        }
        match &why {
            Some(w) => tracing::warn!("a session holder is in trouble: {w}"),
            None => tracing::info!("a session holder answers again"),
        }
        (self.on_event)(LinkEvent::Trouble);
    }

    /// Runs connections to the holder, making them anew when they break, until it is
    /// gone or removed.
    async fn run(
        self: Arc<Self>,
        mut conn: UnixStream,
        mut greeted: bool,
        mut out_rx: mpsc::UnboundedReceiver<Outgoing>,
    ) {
        let mut repairs: Vec<Instant> = Vec::new();
        let ended = loop {
            let first = self.preamble(greeted);
            let (r, w) = conn.into_split();
            let end = tokio::select! {
                end = self.read(FrameReader::new(r), greeted) => end,
                end = write(FrameWriter::new(w), first, &mut out_rx, &self) => end,
            };
            if self.removing.load(Ordering::SeqCst) {
                break Ended::HolderGone;
            }
            let why = match end {
                ConnEnd::Closed => {
                    self.set_trouble(Some("its holder closed the connection".into()));
                    break Ended::HolderGone;
                }
                ConnEnd::Unusable(why) => {
                    self.set_trouble(Some(why));
                    break Ended::GaveUp;
                }
                ConnEnd::Broken(why) => why,
            };
            let Some(socket) = &self.socket else {
                self.set_trouble(Some(format!("the link to its holder broke: {why}")));
                break Ended::GaveUp;
            };
            repairs.retain(|t| t.elapsed() < BREAKS_WINDOW);
            if repairs.len() >= REPAIRS as usize {
                let msg = format!("the link to its holder keeps breaking ({why})");
                self.set_trouble(Some(msg));
                break Ended::GaveUp;
            }
            repairs.push(Instant::now());
            tracing::warn!("the link to a session holder broke ({why}); connecting again");
            match UnixStream::connect(socket).await {
                Ok(c) => {
                    conn = c;
                    greeted = false;
                }
                Err(e) => {
                    let msg = format!("its holder is gone ({why}; cannot connect again: {e})");
                    self.set_trouble(Some(msg));
                    break Ended::HolderGone;
                }
            }
        };
        // Viewers learn the session ended; requests waiting for answers get none.
        if self.exit_info().is_none() {
            let _ = self.tx.send(Output::Exited(lost()));
        }
        *lock(&self.requests) = Requests::default();
        self.ended.send_replace(ended);
    }

    /// What a connection starts with: our hello when the holder has not greeted on it,
    /// then the requests the last connection took and left unanswered, in order.
    fn preamble(&self, greeted: bool) -> Vec<ToHolder> {
        let mut first = Vec::new();
        if !greeted {
            first.push(ToHolder::Hello {
                version: HOLDER_VERSION,
            });
        }
        let r = lock(&self.requests);
        first.extend(r.queue.iter().take(r.taken).map(Pending::request));
        first
    }

    /// Reads one connection until it ends.
    async fn read(&self, mut reader: FrameReader<OwnedReadHalf>, greeted: bool) -> ConnEnd {
        let mut snap = BytesMut::new();
        let mut awaiting_hello = !greeted;
        loop {
            let next = if awaiting_hello {
                match tokio::time::timeout(HELLO_WAIT, reader.recv::<FromHolder>()).await {
                    Ok(next) => next,
                    Err(_) => {
                        // Reported; keep waiting (reading is cancel-safe): a holder
                        // that was only slow, or stopped and resumed, is adopted late.
                        self.set_trouble(Some(self.not_answering(HELLO_WAIT)));
                        reader.recv().await
                    }
                }
            } else {
                reader.recv().await
            };
            let msg = match next {
                Ok(Some(m)) => m,
                Ok(None) => return ConnEnd::Closed,
                Err(e) => return ConnEnd::Broken(e.to_string()),
            };
            if !awaiting_hello {
                self.set_trouble(None);
            }
            match msg {
                FromHolder::Hello(h) => {
                    if let Err(e) = check_version(&h) {
                        return ConnEnd::Unusable(e);
                    }
                    awaiting_hello = false;
                    self.greet(h);
                }
                FromHolder::Refused(msg) => return ConnEnd::Unusable(msg),
                // Nothing else comes before the hello; a holder that says otherwise
                // is not one we understand.
                _ if awaiting_hello => {
                    return ConnEnd::Broken("the session holder answered out of turn".into());
                }
                FromHolder::Output(b) => {
                    let _ = self.tx.send(Output::Data(b));
                }
                FromHolder::Resized(s) => {
                    let _ = self.tx.send(Output::Resized(s));
                }
                FromHolder::Title(t) => (self.on_event)(LinkEvent::Title(t)),
                FromHolder::RecordingFailed(e) => (self.on_event)(LinkEvent::RecordingFailed(e)),
                FromHolder::Recording(st) => (self.on_event)(LinkEvent::Recording(st)),
                FromHolder::Exited(info) => self.mark_exited(info),
                FromHolder::Snapshot { bytes, more } => {
                    snap.extend_from_slice(&bytes);
                    if more {
                        continue;
                    }
                    let bytes = std::mem::take(&mut snap).freeze();
                    let sub = match self.exit_info() {
                        Some(info) => Subscription::Exited(info),
                        None => Subscription::Live(self.tx.subscribe()),
                    };
                    if let Some(Pending::Snapshot(_, _, tx)) = self.answered() {
                        let _ = tx.send((bytes, sub));
                    }
                }
                // Only ever the answer to a question this agent does not ask.
                FromHolder::Text(_) => {}
            }
        }
    }

    /// Takes in a holder's hello: what it holds, and that it answers.
    fn greet(&self, h: HolderHello) {
        self.set_trouble(None);
        *lock(&self.holder_pid) = Some(h.holder_pid);
        let exited = h.state.exited.clone();
        (self.on_event)(LinkEvent::Hello(Box::new(h)));
        self.greeted.send_replace(true);
        // Output may have been missed: viewers start on a fresh screen, and only then
        // hear that the program ended (the holder tells an exit after a loss only here),
        // so the screen they redraw is the last one.
        let _ = self.tx.send(Output::Reset);
        if let Some(info) = exited
            && self.exit_info().is_none()
        {
            self.mark_exited(info);
        }
    }

    /// The request just answered.
    fn answered(&self) -> Option<Pending> {
        let mut r = lock(&self.requests);
        r.taken = r.taken.saturating_sub(1);
        r.queue.pop_front()
    }

    fn mark_exited(&self, info: ExitInfo) {
        *lock(&self.exited) = Some(info.clone());
        let _ = self.tx.send(Output::Exited(info.clone()));
        (self.on_event)(LinkEvent::Exited(info));
    }
}

/// Writes `first`, then whatever is queued, to one connection until it fails.
async fn write(
    mut writer: FrameWriter<OwnedWriteHalf>,
    first: Vec<ToHolder>,
    rx: &mut mpsc::UnboundedReceiver<Outgoing>,
    link: &Link,
) -> ConnEnd {
    for msg in first {
        if let Err(e) = writer.send(&msg).await {
            return ConnEnd::Broken(e.to_string());
        }
    }
    // The link itself holds a sender, so the queue never closes while this runs.
    while let Some((msg, done)) = rx.recv().await {
        if matches!(msg, ToHolder::Snapshot { .. } | ToHolder::Replay { .. }) {
            lock(&link.requests).taken += 1;
        }
        let sent = writer.send(&msg).await;
        if let Some(d) = done {
            let _ = d.send(sent.is_ok());
        }
        if let Err(e) = sent {
            return ConnEnd::Broken(e.to_string());
        }
    }
    std::future::pending().await
}

#[cfg(test)]
#[path = "link_tests.rs"]
mod tests;
