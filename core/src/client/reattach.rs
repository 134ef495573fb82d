//! An attach that survives: when the connection drops (the agent restarted, the laptop
//! slept, the network changed) it dials again with backoff and re-attaches, and the
//! fresh snapshot restores the screen. Keys are numbered and acknowledged by the agent
//! ([`ClientFrame::Keys`], [`ServerFrame::Typed`]); keys whose fate is unknown when a
//! connection drops are reported ([`AttachEvent::Unconfirmed`]) and keys typed while
//! no connection is up are refused ([`AttachEvent::NotSent`]): nothing is ever typed
//! twice, and nothing is lost silently.
//!
//! Like the control client it needs no runtime of its own: [`reattach`] returns a driver
//! future the caller runs on its executor.

use std::{
    collections::VecDeque,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use bytes::Bytes;
use n0_future::FutureExt;
use tokio::sync::mpsc;

use super::{
    AttachReader, AttachWriter, BoxRead, BoxWrite, ClientError, open_attach,
    resume::{Backoff, Command, Ended, Resumable, Status, StreamHandle, is_final, reconnecting},
};
use crate::{
    WireError,
    proto::{
        ExitInfo, SessionInfo, TermSize,
        attach::{AttachRequest, ServerFrame},
    },
};

/// What a reconnecting attach reports, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum AttachEvent {
    /// Attached (again, when `reconnected`); a [`AttachEvent::Screen`] follows.
    Attached {
        /// The session as it is now.
        info: SessionInfo,
        /// Whether this is a reconnection.
        reconnected: bool,
    },
    /// Bytes that redraw the whole screen from scratch: reset the terminal first.
    Screen(Bytes),
    /// Terminal output.
    Output(Bytes),
    /// The session's size changed.
    Resized(TermSize),
    /// Something to tell the user (typing while watching, say).
    Notice(WireError),
    /// The connection is down; the next try comes after `delay`.
    Reconnecting {
        /// Failed tries in a row so far.
        attempt: u32,
        /// The wait before the next try.
        delay: Duration,
        /// Why the last connection or try failed.
        error: String,
    },
    /// Keys typed while no connection was up: they were not sent and will not be.
    NotSent {
        /// How many bytes.
        bytes: usize,
    },
    /// Keys sent just before the connection dropped that the agent never confirmed:
    /// they may or may not have reached the session, and are not sent again.
    Unconfirmed {
        /// How many bytes.
        bytes: usize,
    },
    /// The program ended; nothing follows.
    Exited(ExitInfo),
    /// The session is gone or access was refused; nothing follows.
    Closed(WireError),
    /// Detached on request; nothing follows.
    Detached,
}

impl From<Status<SessionInfo>> for AttachEvent {
    fn from(s: Status<SessionInfo>) -> Self {
        match s {
            Status::Attached { info, reconnected } => AttachEvent::Attached { info, reconnected },
            Status::Reconnecting {
                attempt,
                delay,
                error,
            } => AttachEvent::Reconnecting {
                attempt,
                delay,
                error,
            },
            Status::Closed(e) => AttachEvent::Closed(e),
            Status::Detached => AttachEvent::Detached,
        }
    }
}

/// What a [`ReattachHandle`] sends.
#[derive(Debug)]
pub enum TermCmd {
    /// Keys.
    Keys(Bytes),
    /// The client's terminal size.
    Resize(TermSize),
}

/// Sends keys and sizes to a [`reattach`] driver. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ReattachHandle {
    inner: StreamHandle<TermCmd>,
}

impl ReattachHandle {
    /// Types `bytes` (see the module docs for what happens when the connection drops).
    pub fn input(&self, bytes: impl Into<Bytes>) {
        self.inner.send(TermCmd::Keys(bytes.into()));
    }

    /// The client's terminal size changed (also used for the next re-attach).
    pub fn resize(&self, size: TermSize) {
        self.inner.send(TermCmd::Resize(size));
    }

    /// Detaches; the session keeps running.
    pub fn detach(&self) {
        self.inner.detach();
    }
}

/// Attaches with `req` over streams from `dial` (a fresh stream to the agent per try:
/// the local socket, or an iroh stream on a fresh or existing connection), and keeps
/// re-attaching until the program ends, the session is gone, or the user detaches.
/// Returns the handle for keys, the events (bounded: a slow reader slows the stream,
/// never grows memory) and the driver to run.
pub fn reattach<D, F>(
    dial: D,
    req: AttachRequest,
    backoff: Backoff,
) -> (
    ReattachHandle,
    mpsc::Receiver<AttachEvent>,
    impl Future<Output = ()>,
)
where
    D: FnMut() -> F,
    F: Future<Output = Result<(BoxRead, BoxWrite), ClientError>>,
{
    let (inner, events, driver) = reconnecting(Terminal { req }, dial, backoff);
    (ReattachHandle { inner }, events, driver)
}

/// The terminal kind of reconnecting stream; its resume state is the attach request,
/// with the size the client last reported.
struct Terminal {
    req: AttachRequest,
}

impl Resumable for Terminal {
    type Cmd = TermCmd;
    type Event = AttachEvent;
    type Info = SessionInfo;
    type Conn = (AttachReader, AttachWriter);
    type Open = AttachRequest;

    fn next_open(&self) -> AttachRequest {
        self.req.clone()
    }

    async fn open(
        req: AttachRequest,
        reader: BoxRead,
        writer: BoxWrite,
    ) -> Result<(SessionInfo, Self::Conn), ClientError> {
        let (info, r, w) = open_attach(reader, writer, req).await?;
        Ok((info, (r, w)))
    }

    fn run(
        &mut self,
        (reader, writer): Self::Conn,
        cmds: &mut mpsc::UnboundedReceiver<Command<TermCmd>>,
        events: &mpsc::Sender<AttachEvent>,
    ) -> impl Future<Output = Ended<AttachEvent>> {
        run(reader, writer, cmds, events, &mut self.req)
    }

    /// Keys are refused, sizes remembered for the next attach.
    fn offline(&mut self, cmd: TermCmd) -> Option<AttachEvent> {
        match cmd {
            TermCmd::Keys(b) => Some(AttachEvent::NotSent { bytes: b.len() }),
            TermCmd::Resize(s) => {
                self.req.size = Some(s);
                None
            }
        }
    }
}

/// Serves one connection until it ends.
async fn run(
    mut reader: AttachReader,
    mut writer: AttachWriter,
    cmds: &mut mpsc::UnboundedReceiver<Command<TermCmd>>,
    events: &mpsc::Sender<AttachEvent>,
    req: &mut AttachRequest,
) -> Ended<AttachEvent> {
    // Keys sent and not yet confirmed: (number, bytes).
    let unacked: Arc<Mutex<VecDeque<(u64, usize)>>> = Arc::default();
    let lock = |m: &Mutex<VecDeque<(u64, usize)>>| {
        std::mem::take(&mut *m.lock().unwrap_or_else(|p| p.into_inner()))
    };
    let read = async {
        loop {
            let ev = match reader.next().await {
                Ok(Some(frame)) => match frame {
                    ServerFrame::Snapshot(b) => AttachEvent::Screen(b),
                    ServerFrame::Output(b) => AttachEvent::Output(b),
                    ServerFrame::Resized(s) => AttachEvent::Resized(s),
                    ServerFrame::Notice(e) => AttachEvent::Notice(e),
                    ServerFrame::Typed(seq) => {
                        let mut q = unacked.lock().unwrap_or_else(|p| p.into_inner());
                        while q.front().is_some_and(|(n, _)| *n <= seq) {
                            q.pop_front();
                        }
                        continue;
                    }
                    ServerFrame::Exited(info) => return Ended::Final(AttachEvent::Exited(info)),
                    ServerFrame::Closed(e) | ServerFrame::Refused(e) => {
                        if is_final(&e) {
                            return Ended::Final(AttachEvent::Closed(e));
                        }
                        return Ended::Lost(e.to_string());
                    }
                    ServerFrame::Attached(_) => continue,
                },
                Ok(None) => return Ended::Lost("the session stream ended".into()),
                Err(e) => match e.wire() {
                    // The agent closed the connection for good (access revoked).
                    Some(w) if is_final(w) => return Ended::Final(AttachEvent::Closed(w.clone())),
                    _ => return Ended::Lost(e.to_string()),
                },
            };
            if events.send(ev).await.is_err() {
                return Ended::Detached;
            }
        }
    };
    let write = async {
        let mut seq = 0u64;
        loop {
            match cmds.recv().await {
                Some(Command::Send(TermCmd::Keys(bytes))) => {
                    seq += 1;
                    unacked
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push_back((seq, bytes.len()));
                    if let Err(e) = writer.keys(seq, bytes).await {
                        return Ended::Lost(e.to_string());
                    }
                }
                Some(Command::Send(TermCmd::Resize(s))) => {
                    req.size = Some(s);
                    if let Err(e) = writer.resize(s).await {
                        return Ended::Lost(e.to_string());
                    }
                }
                Some(Command::Detach) | None => {
                    let _ = writer.finish().await;
                    return Ended::Detached;
                }
            }
        }
    };
    let end = read.race(write).await;
    if let Ended::Lost(_) = &end {
        let bytes: usize = lock(&unacked).iter().map(|(_, n)| n).sum();
        if bytes > 0 {
            let _ = events.send(AttachEvent::Unconfirmed { bytes }).await;
        }
    }
    end
}
