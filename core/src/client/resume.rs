//! One reconnecting stream for every kind of stream a client keeps open: a terminal
//! attach ([`super::reattach`]), a conversation ([`super::reattach_conversation`]), a
//! control stream. When the connection drops (the agent restarted, the laptop slept,
//! the network changed) it dials again with backoff and opens the stream again with the
//! state carried from the last connection (the terminal's size, the last entry seen),
//! so the user sees the same thing go on. Errors that say trying again is pointless
//! (the session is gone, access was refused) end it.
//!
//! A kind ([`Resumable`]) says how to open its stream on fresh halves, how to serve an
//! open one, and what to do with what the user sends while no connection is up. The
//! loop ([`reconnecting`]) does the rest: the timeout per try, the backoff, the link
//! events ([`Status`]) and the handle ([`StreamHandle`]).
//!
//! Like the control client it needs no runtime of its own: [`reconnecting`] returns a
//! driver future the caller runs on its executor (tokio, or the browser's).

use std::{future::Future, time::Duration};

use n0_future::FutureExt;
use tokio::sync::mpsc;

use super::{BoxRead, BoxWrite, ClientError};
use crate::{ErrorCode, WireError};

/// How long one try (dial and open) may take before it counts as failed.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(15);

/// How a reconnecting stream retries.
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

/// Whether an error from the agent means trying again is pointless (the session is
/// gone, access was refused), as opposed to a connection that may come back.
pub fn is_final(e: &WireError) -> bool {
    !matches!(
        e.code,
        ErrorCode::Unreachable | ErrorCode::Internal | ErrorCode::Shutdown | ErrorCode::Unknown(_)
    )
}

/// What every reconnecting stream reports about its link; each kind's event type is
/// made from these ([`Resumable::Event`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Status<I> {
    /// The stream is open (again, when `reconnected`).
    Attached {
        /// What the agent answered on opening (the session as it is now).
        info: I,
        /// Whether this is a reconnection.
        reconnected: bool,
    },
    /// The connection is down; the next try comes after `delay`.
    Reconnecting {
        /// Failed tries in a row so far.
        attempt: u32,
        /// The wait before the next try.
        delay: Duration,
        /// Why the last connection or try failed.
        error: String,
    },
    /// The stream ended for good (the session is gone, access was refused, or the
    /// tries ran out); nothing follows.
    Closed(WireError),
    /// Detached on request; nothing follows.
    Detached,
}

/// How one connection of a [`Resumable`] ended.
#[derive(Debug)]
pub enum Ended<E> {
    /// Report this (the program exited, the session closed) and stop.
    Final(E),
    /// The user detached, or nobody reads the events any more: stop.
    Detached,
    /// The connection dropped for this reason; try again.
    Lost(String),
}

/// What a [`StreamHandle`] sends to the driver.
#[derive(Debug)]
pub enum Command<C> {
    /// Something of the kind's own (keys, a prompt).
    Send(C),
    /// Stop; the session goes on.
    Detach,
}

/// One kind of reconnecting stream, holding the state carried from one connection to
/// the next (the resume state).
pub trait Resumable {
    /// What the user sends (keys, a prompt).
    type Cmd;
    /// What the stream reports, link changes included.
    type Event: From<Status<Self::Info>>;
    /// What the agent answers on opening.
    type Info;
    /// An open stream.
    type Conn;
    /// What opens the stream, taken from the resume state before each try (the
    /// resume state itself stays free to change while the try is under way).
    type Open;

    /// What to open the next stream with.
    fn next_open(&self) -> Self::Open;

    /// Opens the stream on fresh halves.
    fn open(
        open: Self::Open,
        reader: BoxRead,
        writer: BoxWrite,
    ) -> impl Future<Output = Result<(Self::Info, Self::Conn), ClientError>>;

    /// Serves one open stream until it ends: reports what comes, sends what `cmds`
    /// brings, and keeps the resume state current. Reading and writing go side by side,
    /// and a frame read is never cancelled half-way while the other works.
    fn run(
        &mut self,
        conn: Self::Conn,
        cmds: &mut mpsc::UnboundedReceiver<Command<Self::Cmd>>,
        events: &mpsc::Sender<Self::Event>,
    ) -> impl Future<Output = Ended<Self::Event>>;

    /// A command came while no connection is up: keep what is state (a size), refuse
    /// the rest. What it returns is reported. Nothing is queued: it would arrive late,
    /// after the user saw they were not connected.
    fn offline(&mut self, cmd: Self::Cmd) -> Option<Self::Event>;

    /// Whether an error on opening means trying again is pointless; [`is_final`]
    /// unless the kind knows better.
    fn is_final(&self, e: &WireError) -> bool {
        is_final(e)
    }
}

/// Sends commands to a [`reconnecting`] driver. Cheap to clone.
#[derive(Debug)]
pub struct StreamHandle<C> {
    cmds: mpsc::UnboundedSender<Command<C>>,
}

impl<C> Clone for StreamHandle<C> {
    fn clone(&self) -> Self {
        Self {
            cmds: self.cmds.clone(),
        }
    }
}

impl<C> StreamHandle<C> {
    /// Sends `cmd` (or reports it refused, when no connection is up).
    pub fn send(&self, cmd: C) {
        let _ = self.cmds.send(Command::Send(cmd));
    }

    /// Detaches; the session goes on. What was sent before is sent first.
    pub fn detach(&self) {
        let _ = self.cmds.send(Command::Detach);
    }
}

/// Opens `kind`'s stream over streams from `dial` (a fresh stream to the agent per try:
/// the local socket, or an iroh stream on a fresh or existing connection), and keeps
/// opening it again until it ends for good or the user detaches. Returns the handle for
/// commands, the events (bounded: a slow reader slows the stream, never grows memory)
/// and the driver to run.
pub fn reconnecting<K, D, F>(
    mut kind: K,
    mut dial: D,
    backoff: Backoff,
) -> (
    StreamHandle<K::Cmd>,
    mpsc::Receiver<K::Event>,
    impl Future<Output = ()>,
)
where
    K: Resumable,
    D: FnMut() -> F,
    F: Future<Output = Result<(BoxRead, BoxWrite), ClientError>>,
{
    let (cmd_tx, mut cmds) = mpsc::unbounded_channel();
    let (events, events_rx) = mpsc::channel(64);
    let driver = async move {
        let mut attempt = 0u32;
        let mut attached_once = false;
        loop {
            let open = kind.next_open();
            let connect = async {
                let tried = n0_future::time::timeout(DIAL_TIMEOUT, async {
                    let (r, w) = dial().await?;
                    K::open(open, r, w).await
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
                offline(&mut kind, &mut cmds, &events).await;
                None
            };
            let Some(tried) = connect.or(detached).await else {
                let _ = events.send(Status::Detached.into()).await;
                return;
            };
            let error = match tried {
                Ok((info, conn)) => {
                    attempt = 0;
                    let ev = Status::Attached {
                        info,
                        reconnected: attached_once,
                    };
                    attached_once = true;
                    if events.send(ev.into()).await.is_err() {
                        return;
                    }
                    match kind.run(conn, &mut cmds, &events).await {
                        Ended::Final(ev) => {
                            let _ = events.send(ev).await;
                            return;
                        }
                        Ended::Detached => {
                            let _ = events.send(Status::Detached.into()).await;
                            return;
                        }
                        Ended::Lost(error) => error,
                    }
                }
                Err(e) if e.wire().is_some_and(|w| kind.is_final(w)) => {
                    let e = e
                        .wire()
                        .cloned()
                        .unwrap_or_else(|| WireError::new(ErrorCode::Unknown(0), e.to_string()));
                    let _ = events.send(Status::Closed(e).into()).await;
                    return;
                }
                Err(e) => e.to_string(),
            };
            attempt += 1;
            if backoff.max_tries.is_some_and(|m| attempt > m) {
                let msg = format!("gave up reconnecting after {} tries: {error}", attempt - 1);
                let e = WireError::new(ErrorCode::Unreachable, msg);
                let _ = events.send(Status::Closed(e).into()).await;
                return;
            }
            let delay = backoff.delay(attempt);
            let ev = Status::Reconnecting {
                attempt,
                delay,
                error,
            };
            if events.send(ev.into()).await.is_err() {
                return;
            }
            if wait_offline(delay, &mut kind, &mut cmds, &events).await {
                let _ = events.send(Status::Detached.into()).await;
                return;
            }
        }
    };
    (StreamHandle { cmds: cmd_tx }, events_rx, driver)
}

/// Answers commands while no connection is up (see [`Resumable::offline`]). Returns
/// only when the user detaches.
async fn offline<K: Resumable>(
    kind: &mut K,
    cmds: &mut mpsc::UnboundedReceiver<Command<K::Cmd>>,
    events: &mpsc::Sender<K::Event>,
) {
    loop {
        match cmds.recv().await {
            Some(Command::Send(c)) => {
                if let Some(ev) = kind.offline(c) {
                    let _ = events.send(ev).await;
                }
            }
            Some(Command::Detach) | None => return,
        }
    }
}

/// Waits out a backoff delay with no connection. Returns whether the user detached.
async fn wait_offline<K: Resumable>(
    delay: Duration,
    kind: &mut K,
    cmds: &mut mpsc::UnboundedReceiver<Command<K::Cmd>>,
    events: &mpsc::Sender<K::Event>,
) -> bool {
    let handle = async {
        offline(kind, cmds, events).await;
        true
    };
    let sleep = async {
        n0_future::time::sleep(delay).await;
        false
    };
    handle.race(sleep).await
}

#[cfg(test)]
pub(crate) mod tests;
