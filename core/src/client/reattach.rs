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

use super::{AttachReader, AttachWriter, BoxRead, BoxWrite, ClientError, open_attach};
use crate::{
    ErrorCode, WireError,
    proto::{
        ExitInfo, SessionInfo, TermSize,
        attach::{AttachRequest, ServerFrame},
    },
};

/// How long one try (dial and attach) may take before it counts as failed.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(15);

/// How a [`reattach`] retries.
#[derive(Debug, Clone)]
pub struct Backoff {
    /// The wait before the first retry; it doubles with each failure.
    pub first: Duration,
    /// The longest wait between tries.
    pub max: Duration,
    /// Give up after this many failed tries in a row (`None`: never).
    pub max_tries: Option<u32>,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            first: Duration::from_millis(100),
            max: Duration::from_secs(5),
            max_tries: None,
        }
    }
}

impl Backoff {
    /// The wait before try number `attempt` (1 for the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.first.saturating_mul(factor).min(self.max)
    }
}

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

enum Cmd {
    Keys(Bytes),
    Resize(TermSize),
    Detach,
}

/// Sends keys and sizes to a [`reattach`] driver. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ReattachHandle {
    cmds: mpsc::UnboundedSender<Cmd>,
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Cmd::Keys(_) => "Keys",
            Cmd::Resize(_) => "Resize",
            Cmd::Detach => "Detach",
        })
    }
}

impl ReattachHandle {
    /// Types `bytes` (see the module docs for what happens when the connection drops).
    pub fn input(&self, bytes: impl Into<Bytes>) {
        let _ = self.cmds.send(Cmd::Keys(bytes.into()));
    }

    /// The client's terminal size changed (also used for the next re-attach).
    pub fn resize(&self, size: TermSize) {
        let _ = self.cmds.send(Cmd::Resize(size));
    }

    /// Detaches; the session keeps running.
    pub fn detach(&self) {
        let _ = self.cmds.send(Cmd::Detach);
    }
}

/// Whether an error from the agent means trying again is pointless (the session is
/// gone, access was refused), as opposed to a connection that may come back.
pub fn is_final(e: &WireError) -> bool {
    !matches!(
        e.code,
        ErrorCode::Unreachable | ErrorCode::Internal | ErrorCode::Shutdown | ErrorCode::Unknown(_)
    )
}

/// Attaches with `req` over streams from `dial` (a fresh stream to the agent per try:
/// the local socket, or an iroh stream on a fresh or existing connection), and keeps
/// re-attaching until the program ends, the session is gone, or the user detaches.
/// Returns the handle for keys, the events (bounded: a slow reader slows the stream,
/// never grows memory) and the driver to run.
pub fn reattach<D, F>(
    mut dial: D,
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
    let (cmd_tx, mut cmds) = mpsc::unbounded_channel();
    let (events, events_rx) = mpsc::channel(64);
    let driver = async move {
        let mut req = req;
        let mut attempt = 0u32;
        let mut attached_once = false;
        loop {
            // Keys typed while this try is under way are refused, not queued: they
            // would arrive late, after the user saw they were not connected.
            let attempt_req = req.clone();
            let connect = async {
                let tried = n0_future::time::timeout(DIAL_TIMEOUT, async {
                    let (r, w) = dial().await?;
                    open_attach(r, w, attempt_req).await
                })
                .await;
                Some(tried.unwrap_or_else(|_| {
                    Err(ClientError::Connect(format!(
                        "no answer within {} s",
                        DIAL_TIMEOUT.as_secs()
                    )))
                }))
            };
            let detached = async {
                offline(&mut cmds, &events, &mut req).await;
                None
            };
            let Some(tried) = connect.or(detached).await else {
                let _ = events.send(AttachEvent::Detached).await;
                return;
            };
            let error = match tried {
                Ok((info, reader, writer)) => {
                    attempt = 0;
                    let ev = AttachEvent::Attached {
                        info,
                        reconnected: attached_once,
                    };
                    attached_once = true;
                    if events.send(ev).await.is_err() {
                        return;
                    }
                    match run(reader, writer, &mut cmds, &events, &mut req).await {
                        End::Final(ev) => {
                            let _ = events.send(*ev).await;
                            return;
                        }
                        End::Lost(error) => error,
                    }
                }
                Err(e) if e.wire().is_some_and(is_final) => {
                    let e = e
                        .wire()
                        .cloned()
                        .unwrap_or_else(|| WireError::new(ErrorCode::Unknown(0), e.to_string()));
                    let _ = events.send(AttachEvent::Closed(e)).await;
                    return;
                }
                Err(e) => e.to_string(),
            };
            attempt += 1;
            if backoff.max_tries.is_some_and(|m| attempt > m) {
                let msg = format!("gave up reconnecting after {} tries: {error}", attempt - 1);
                let e = WireError::new(ErrorCode::Unreachable, msg);
                let _ = events.send(AttachEvent::Closed(e)).await;
                return;
            }
            let delay = backoff.delay(attempt);
            let ev = AttachEvent::Reconnecting {
                attempt,
                delay,
                error,
            };
            if events.send(ev).await.is_err() {
                return;
            }
            if wait_offline(delay, &mut cmds, &events, &mut req).await {
                let _ = events.send(AttachEvent::Detached).await;
                return;
            }
        }
    };
    (ReattachHandle { cmds: cmd_tx }, events_rx, driver)
}

enum End {
    /// Report this and stop (boxed: an event can carry a whole session's info).
    Final(Box<AttachEvent>),
    /// The connection dropped for this reason; try again.
    Lost(String),
}

/// Answers commands while no connection is up: keys are refused, sizes remembered.
/// Returns only when the user detaches.
async fn offline(
    cmds: &mut mpsc::UnboundedReceiver<Cmd>,
    events: &mpsc::Sender<AttachEvent>,
    req: &mut AttachRequest,
) {
    loop {
        match cmds.recv().await {
            Some(Cmd::Keys(b)) => {
                let _ = events.send(AttachEvent::NotSent { bytes: b.len() }).await;
            }
            Some(Cmd::Resize(s)) => req.size = Some(s),
            Some(Cmd::Detach) | None => return,
        }
    }
}

/// Waits out a backoff delay with no connection. Returns whether the user detached.
async fn wait_offline(
    delay: Duration,
    cmds: &mut mpsc::UnboundedReceiver<Cmd>,
    events: &mpsc::Sender<AttachEvent>,
    req: &mut AttachRequest,
) -> bool {
    let handle = async {
        offline(cmds, events, req).await;
        true
    };
    let sleep = async {
        n0_future::time::sleep(delay).await;
        false
    };
    handle.race(sleep).await
}

/// Serves one connection until it ends.
async fn run(
    mut reader: AttachReader,
    mut writer: AttachWriter,
    cmds: &mut mpsc::UnboundedReceiver<Cmd>,
    events: &mpsc::Sender<AttachEvent>,
    req: &mut AttachRequest,
) -> End {
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
                    ServerFrame::Exited(info) => {
                        return End::Final(Box::new(AttachEvent::Exited(info)));
                    }
                    ServerFrame::Closed(e) | ServerFrame::Refused(e) => {
                        if is_final(&e) {
                            return End::Final(Box::new(AttachEvent::Closed(e)));
                        }
                        return End::Lost(e.to_string());
                    }
                    ServerFrame::Attached(_) => continue,
                },
                Ok(None) => return End::Lost("the session stream ended".into()),
                Err(e) => match e.wire() {
                    // The agent closed the connection for good (access revoked).
                    Some(w) if is_final(w) => {
                        return End::Final(Box::new(AttachEvent::Closed(w.clone())));
                    }
                    _ => return End::Lost(e.to_string()),
                },
            };
            if events.send(ev).await.is_err() {
                return End::Final(Box::new(AttachEvent::Detached));
            }
        }
    };
    let write = async {
        let mut seq = 0u64;
        loop {
            match cmds.recv().await {
                Some(Cmd::Keys(bytes)) => {
                    seq += 1;
                    unacked
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push_back((seq, bytes.len()));
                    if let Err(e) = writer.keys(seq, bytes).await {
                        return End::Lost(e.to_string());
                    }
                }
                Some(Cmd::Resize(s)) => {
                    req.size = Some(s);
                    if let Err(e) = writer.resize(s).await {
                        return End::Lost(e.to_string());
                    }
                }
                Some(Cmd::Detach) | None => {
                    let _ = writer.finish().await;
                    return End::Final(Box::new(AttachEvent::Detached));
                }
            }
        }
    };
    let end = read.race(write).await;
    if let End::Lost(_) = &end {
        let bytes: usize = lock(&unacked).iter().map(|(_, n)| n).sum();
        if bytes > 0 {
            let _ = events.send(AttachEvent::Unconfirmed { bytes }).await;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_limit() {
        let b = Backoff::default();
        assert_eq!(b.delay(1), Duration::from_millis(100));
        assert_eq!(b.delay(2), Duration::from_millis(200));
        assert_eq!(b.delay(4), Duration::from_millis(800));
        assert_eq!(b.delay(30), Duration::from_secs(5));
    }
}
