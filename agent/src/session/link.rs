//! The agent's side of a session holder: a connection that fans the holder's output out
//! to viewers and carries keys, sizes and snapshot requests to it.
//!
//! Snapshots stay consistent with live output because both travel on one ordered
//! socket: a request is queued and sent under one lock, the holder answers in order
//! after all output it sent before, and the reading task (the only one that broadcasts)
//! subscribes the requester exactly when the answer arrives. So snapshot + subscription
//! lose and double nothing.

use std::{
    collections::VecDeque,
    io::Write,
    os::unix::net::UnixStream,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use bytes::{Bytes, BytesMut};
use tokio::sync::{broadcast, mpsc, oneshot};
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

/// How long a holder has to answer a spawn or a hello.
const HANDSHAKE: Duration = Duration::from_secs(10);
/// Broadcast slots per session: what a viewer may lag before it is re-snapshotted.
const RING: usize = 256;

/// What the link reports to the session manager.
pub enum LinkEvent {
    /// The program set a title.
    Title(String),
    /// The program ended (or the holder vanished).
    Exited(ExitInfo),
    /// The recording stopped early.
    RecordingFailed(String),
}

/// Called by the reading task for each [`LinkEvent`].
pub type EventHook = Box<dyn Fn(LinkEvent) + Send + Sync>;

enum Pending {
    Snapshot(oneshot::Sender<(Bytes, Subscription)>),
    Text(oneshot::Sender<String>),
}

type Outgoing = (ToHolder, Option<oneshot::Sender<bool>>);

/// A live connection to one holder.
pub struct Link {
    out: mpsc::UnboundedSender<Outgoing>,
    pending: Mutex<VecDeque<Pending>>,
    tx: broadcast::Sender<Output>,
    exited: Mutex<Option<ExitInfo>>,
    /// Set once the holder's end of the socket has closed.
    gone: tokio::sync::watch::Sender<bool>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn lost() -> ExitInfo {
    ExitInfo {
        code: None,
        signal: None,
    }
}

/// Sends `spawn` on a fresh holder's socket and waits for its hello (blocking, bounded).
pub fn handshake_spawn(conn: &mut UnixStream, spawn: &HolderSpawn) -> Result<HolderHello, String> {
    let bytes = frame::encode(spawn).map_err(|e| e.to_string())?;
    conn.write_all(&bytes)
        .map_err(|e| format!("the session holder did not start: {e}"))?;
    read_hello(conn)
}

/// Says hello to a running holder (adoption) and reads its state (blocking, bounded).
pub fn handshake_adopt(conn: &mut UnixStream) -> Result<HolderHello, String> {
    let bytes = frame::encode(&ToHolder::Hello {
        version: HOLDER_VERSION,
    })
    .map_err(|e| e.to_string())?;
    conn.write_all(&bytes).map_err(|e| e.to_string())?;
    read_hello(conn)
}

fn read_hello(conn: &mut UnixStream) -> Result<HolderHello, String> {
    let _ = conn.set_read_timeout(Some(HANDSHAKE));
    let hello = match frame::read_blocking::<FromHolder>(conn) {
        Ok(Some(FromHolder::Hello(h))) => h,
        Ok(Some(FromHolder::Refused(msg))) => return Err(msg),
        Ok(Some(_)) => return Err("the session holder answered out of turn".into()),
        Ok(None) => return Err("the session holder closed the connection".into()),
        Err(e) => return Err(format!("the session holder did not answer: {e}")),
    };
    let _ = conn.set_read_timeout(None);
    if !(HOLDER_MIN_VERSION..=HOLDER_VERSION).contains(&hello.version) {
        return Err(format!(
            "the session holder speaks version {}, this agent {HOLDER_MIN_VERSION} to {HOLDER_VERSION}",
            hello.version
        ));
    }
    Ok(hello)
}

impl Link {
    /// Serves a connected holder. Must be called inside a tokio runtime.
    pub fn start(
        conn: UnixStream,
        exited: Option<ExitInfo>,
        on_event: EventHook,
    ) -> std::io::Result<Arc<Self>> {
        conn.set_nonblocking(true)?;
        let conn = tokio::net::UnixStream::from_std(conn)?;
        let (r, w) = conn.into_split();
        let (out, out_rx) = mpsc::unbounded_channel();
        let link = Arc::new(Self {
            out,
            pending: Mutex::new(VecDeque::new()),
            tx: broadcast::channel(RING).0,
            exited: Mutex::new(exited),
            gone: tokio::sync::watch::channel(false).0,
        });
        tokio::spawn(write_task(FrameWriter::new(w), out_rx));
        tokio::spawn(link.clone().read_task(FrameReader::new(r), on_event));
        Ok(link)
    }

    /// How the program ended, if it has.
    pub fn exit_info(&self) -> Option<ExitInfo> {
        lock(&self.exited).clone()
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

    /// The screen and a subscription that continues exactly after it.
    pub async fn snapshot(&self, scrollback: u32) -> (Bytes, Subscription) {
        self.redraw(ToHolder::Snapshot { scrollback }).await
    }

    /// Like [`Link::snapshot`], but the first time it is asked: the program's output
    /// from its first byte ([`super::head`]). Only for holders of version 2 or later.
    pub async fn replay(&self, scrollback: u32) -> (Bytes, Subscription) {
        self.redraw(ToHolder::Replay { scrollback }).await
    }

    /// Asks for a snapshot or a replay and subscribes exactly after it.
    async fn redraw(&self, ask: ToHolder) -> (Bytes, Subscription) {
        let (tx, rx) = oneshot::channel();
        {
            let mut p = lock(&self.pending);
            if self.out.send((ask, None)).is_ok() {
                p.push_back(Pending::Snapshot(tx));
            }
        }
        match rx.await {
            Ok(v) => v,
            Err(_) => (
                Bytes::new(),
                Subscription::Exited(self.exit_info().unwrap_or_else(lost)),
            ),
        }
    }

    /// The screen's text.
    pub async fn text(&self) -> String {
        let (tx, rx) = oneshot::channel();
        {
            let mut p = lock(&self.pending);
            if self.out.send((ToHolder::Text, None)).is_ok() {
                p.push_back(Pending::Text(tx));
            }
        }
        rx.await.unwrap_or_default()
    }

    /// Resolves once the holder has closed its end (a holder process: it has exited).
    pub async fn closed(&self) {
        let mut rx = self.gone.subscribe();
        let _ = rx.wait_for(|gone| *gone).await;
    }

    /// How many viewers are subscribed to live output.
    pub fn receivers(&self) -> usize {
        self.tx.receiver_count()
    }

    async fn read_task(
        self: Arc<Self>,
        mut reader: FrameReader<tokio::net::unix::OwnedReadHalf>,
        on_event: EventHook,
    ) {
        let mut snap = BytesMut::new();
        loop {
            let msg = match reader.recv::<FromHolder>().await {
                Ok(Some(m)) => m,
                Ok(None) | Err(_) => break,
            };
            match msg {
                FromHolder::Output(b) => {
                    let _ = self.tx.send(Output::Data(b));
                }
                FromHolder::Resized(s) => {
                    let _ = self.tx.send(Output::Resized(s));
                }
                FromHolder::Title(t) => on_event(LinkEvent::Title(t)),
                FromHolder::RecordingFailed(e) => on_event(LinkEvent::RecordingFailed(e)),
                FromHolder::Exited(info) => self.mark_exited(info, &on_event),
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
                    if let Some(Pending::Snapshot(tx)) = lock(&self.pending).pop_front() {
                        let _ = tx.send((bytes, sub));
                    }
                }
                FromHolder::Text(t) => {
                    if let Some(Pending::Text(tx)) = lock(&self.pending).pop_front() {
                        let _ = tx.send(t);
                    }
                }
                FromHolder::Hello(_) | FromHolder::Refused(_) => {}
            }
        }
        // The holder is gone (killed, or removed): the session with it.
        if self.exit_info().is_none() {
            self.mark_exited(lost(), &on_event);
        }
        lock(&self.pending).clear();
        self.gone.send_replace(true);
    }

    fn mark_exited(&self, info: ExitInfo, on_event: &EventHook) {
        *lock(&self.exited) = Some(info.clone());
        let _ = self.tx.send(Output::Exited(info.clone()));
        on_event(LinkEvent::Exited(info));
    }
}

async fn write_task(
    mut writer: FrameWriter<tokio::net::unix::OwnedWriteHalf>,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
) {
    while let Some((msg, done)) = rx.recv().await {
        let ok = writer.send(&msg).await.is_ok();
        if let Some(d) = done {
            let _ = d.send(ok);
        }
        if !ok {
            break;
        }
    }
}
