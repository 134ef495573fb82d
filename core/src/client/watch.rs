//! A control stream that survives: the reconnecting stream ([`super::reconnecting`])
//! for watching an agent. Each connection starts with what the agent is and the
//! sessions it has ([`Watched`]), then the events it pushes; events missed while the
//! connection was down are made up for by that fresh list, and events missed while it
//! was up (the client fell behind) by listing again ([`WatchEvent::Relisted`]).
//!
//! A watch never gives up on its own: a machine that refuses us today may be paired
//! again tomorrow, so every error counts as one to retry, with backoff.

use std::{convert::Infallible, future::Future, time::Duration};

use n0_future::{FutureExt, boxed::BoxFuture};
use tokio::sync::mpsc;

use super::{
    BoxRead, BoxWrite, ClientError, ControlClient, Events, open_control,
    resume::{Backoff, Command, Ended, Resumable, Status, StreamHandle, reconnecting},
};
use crate::{
    WireError,
    proto::{
        SessionInfo,
        control::{AgentInfo, Event},
    },
};

/// What a connection of a watch starts with.
#[derive(Debug, Clone)]
pub struct Watched {
    /// Requests to the agent, while this connection lasts.
    pub control: ControlClient,
    /// What the agent says about itself.
    pub agent: AgentInfo,
    /// Its sessions, as they are now.
    pub sessions: Vec<SessionInfo>,
}

/// What a watch reports, in order.
#[derive(Debug, Clone)]
pub enum WatchEvent {
    /// Connected (again, when `reconnected`), with the agent's state now.
    Attached {
        /// The agent, its sessions and the client for requests.
        info: Watched,
        /// Whether this is a reconnection.
        reconnected: bool,
    },
    /// Something the agent pushed.
    Event(Event),
    /// The sessions, listed again after this client fell behind and missed events.
    Relisted(Vec<SessionInfo>),
    /// The connection is down; the next try comes after `delay`.
    Reconnecting {
        /// Failed tries in a row so far.
        attempt: u32,
        /// The wait before the next try.
        delay: Duration,
        /// Why the last connection or try failed.
        error: String,
    },
    /// The tries ran out ([`Backoff::max_tries`]); nothing follows.
    Closed(WireError),
    /// Stopped on request; nothing follows.
    Detached,
}

impl From<Status<Watched>> for WatchEvent {
    fn from(s: Status<Watched>) -> Self {
        match s {
            Status::Attached { info, reconnected } => WatchEvent::Attached { info, reconnected },
            Status::Reconnecting {
                attempt,
                delay,
                error,
            } => WatchEvent::Reconnecting {
                attempt,
                delay,
                error,
            },
            Status::Closed(e) => WatchEvent::Closed(e),
            Status::Detached => WatchEvent::Detached,
        }
    }
}

/// Stops a [`watch`] (its only command is [`StreamHandle::detach`]).
pub type WatchHandle = StreamHandle<Infallible>;

/// Watches the agent behind `dial`: opens a control stream, lists, follows the events,
/// and does it all again when the connection drops, until stopped. Returns the handle,
/// the events (bounded) and the driver to run.
pub fn watch<D, F>(
    dial: D,
    backoff: Backoff,
) -> (
    WatchHandle,
    mpsc::Receiver<WatchEvent>,
    impl Future<Output = ()>,
)
where
    D: FnMut() -> F,
    F: Future<Output = Result<(BoxRead, BoxWrite), ClientError>>,
{
    reconnecting(Watch, dial, backoff)
}

/// The watch kind: nothing carries over, each connection lists afresh.
struct Watch;

/// An open control stream: its client, its events, and its driver, already polled
/// while the first requests were answered.
type Open = (ControlClient, Events, BoxFuture<Result<(), ClientError>>);

impl Resumable for Watch {
    type Cmd = Infallible;
    type Event = WatchEvent;
    type Info = Watched;
    type Conn = Open;
    type Open = ();

    fn next_open(&self) {}

    async fn open(
        (): (),
        reader: BoxRead,
        writer: BoxWrite,
    ) -> Result<(Watched, Open), ClientError> {
        let (control, events, driver) = open_control(reader, writer).await?;
        let mut driver: BoxFuture<_> = Box::pin(driver.run());
        let listed = async { Ok((control.info().await?, control.list_sessions().await?)) };
        // The driver routes the answers; if it ends first, so did the stream.
        let (agent, sessions) = listed.or(ended(&mut driver)).await?;
        let watched = Watched {
            control: control.clone(),
            agent,
            sessions,
        };
        Ok((watched, (control, events, driver)))
    }

    async fn run(
        &mut self,
        (control, mut events, mut driver): Open,
        cmds: &mut mpsc::UnboundedReceiver<Command<Infallible>>,
        out: &mpsc::Sender<WatchEvent>,
    ) -> Ended<WatchEvent> {
        {
            let follow = async {
                while let Some(ev) = events.recv().await {
                    let ev = match ev {
                        Event::Lagged => match control.list_sessions().await {
                            Ok(sessions) => WatchEvent::Relisted(sessions),
                            Err(e) => return Ended::Lost(e.to_string()),
                        },
                        ev => WatchEvent::Event(ev),
                    };
                    if out.send(ev).await.is_err() {
                        return Ended::Detached;
                    }
                }
                Ended::Lost("the control stream ended".into())
            };
            let stopped = async {
                match cmds.recv().await {
                    Some(Command::Send(never)) => match never {},
                    Some(Command::Detach) | None => Ended::Detached,
                }
            };
            let lost = async {
                match ended::<()>(&mut driver).await {
                    Err(e) => Ended::Lost(e.to_string()),
                    Ok(()) => Ended::Lost("the control stream ended".into()),
                }
            };
            let end = follow.or(stopped).or(lost).await;
            if matches!(end, Ended::Detached) {
                let _ = control.finish().await;
            }
            end
        }
    }

    fn offline(&mut self, never: Infallible) -> Option<WatchEvent> {
        match never {}
    }

    fn is_final(&self, _: &WireError) -> bool {
        false
    }
}

/// Waits for the control driver to end; always an error for whoever waited on an
/// answer.
async fn ended<T>(driver: &mut BoxFuture<Result<(), ClientError>>) -> Result<T, ClientError> {
    driver.await?;
    Err(ClientError::Closed)
}
