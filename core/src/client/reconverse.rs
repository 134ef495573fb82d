//! A conversation that survives: the reconnecting stream ([`super::reconnecting`]) for
//! structured AI sessions. Each re-attach asks only for the entries after the last one
//! that came (`after: Some(last_seq)`), so nothing is shown twice and nothing is
//! missed. What the user sends while no connection is up is refused and reported
//! ([`ConvEvent::NotSent`]); a frame whose write failed is reported too
//! ([`ConvEvent::Unconfirmed`]) and never sent again: the user decides.

use std::{future::Future, time::Duration};

use n0_future::FutureExt;
use tokio::sync::mpsc;

use super::{
    BoxRead, BoxWrite, ClientError, ConvReader, ConvWriter, open_conversation,
    resume::{Backoff, Command, Ended, Resumable, Status, StreamHandle, is_final, reconnecting},
};
use crate::{
    WireError,
    proto::{
        SessionInfo,
        ai::{ConvClientFrame, ConvServerFrame, ConversationOpen, Entry},
    },
};

/// What a reconnecting conversation reports, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum ConvEvent {
    /// Attached (again, when `reconnected`); the entries not seen yet follow.
    Attached {
        /// The session as it is now.
        info: SessionInfo,
        /// Whether this is a reconnection.
        reconnected: bool,
    },
    /// An entry, replayed or live: apply it to a [`super::Conversation`].
    Entry(Entry),
    /// Something the agent told this client (a prompt refused while watching, say).
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
    /// Sent while no connection was up: not sent, and it will not be.
    NotSent(ConvClientFrame),
    /// The connection dropped while this was being sent: it may or may not have
    /// arrived, and is not sent again.
    Unconfirmed(ConvClientFrame),
    /// The session is gone or access was refused; nothing follows.
    Closed(WireError),
    /// Detached on request; nothing follows.
    Detached,
}

impl From<Status<SessionInfo>> for ConvEvent {
    fn from(s: Status<SessionInfo>) -> Self {
        match s {
            Status::Attached { info, reconnected } => ConvEvent::Attached { info, reconnected },
            Status::Reconnecting {
                attempt,
                delay,
                error,
            } => ConvEvent::Reconnecting {
                attempt,
                delay,
                error,
            },
            Status::Closed(e) => ConvEvent::Closed(e),
            Status::Detached => ConvEvent::Detached,
        }
    }
}

/// Sends prompts, approval answers and interrupts to a [`reattach_conversation`]
/// driver; detaching leaves the session running. Cheap to clone.
pub type ConvHandle = StreamHandle<ConvClientFrame>;

/// Attaches to the conversation `open` names over streams from `dial`, and keeps
/// re-attaching, from the last entry that came, until the session is gone, access is
/// refused or the user detaches. Returns the handle, the events (bounded: a slow
/// reader slows the stream, never grows memory) and the driver to run.
pub fn reattach_conversation<D, F>(
    dial: D,
    open: ConversationOpen,
    backoff: Backoff,
) -> (
    ConvHandle,
    mpsc::Receiver<ConvEvent>,
    impl Future<Output = ()>,
)
where
    D: FnMut() -> F,
    F: Future<Output = Result<(BoxRead, BoxWrite), ClientError>>,
{
    reconnecting(Conv { open }, dial, backoff)
}

/// The conversation kind; its resume state is the open request, `after` the last
/// entry that came.
struct Conv {
    open: ConversationOpen,
}

impl Resumable for Conv {
    type Cmd = ConvClientFrame;
    type Event = ConvEvent;
    type Info = SessionInfo;
    type Conn = (ConvReader, ConvWriter);
    type Open = ConversationOpen;

    fn next_open(&self) -> ConversationOpen {
        self.open.clone()
    }

    async fn open(
        open: ConversationOpen,
        reader: BoxRead,
        writer: BoxWrite,
    ) -> Result<(SessionInfo, Self::Conn), ClientError> {
        let (info, r, w) = open_conversation(reader, writer, open).await?;
        Ok((info, (r, w)))
    }

    fn run(
        &mut self,
        (reader, writer): Self::Conn,
        cmds: &mut mpsc::UnboundedReceiver<Command<ConvClientFrame>>,
        events: &mpsc::Sender<ConvEvent>,
    ) -> impl Future<Output = Ended<ConvEvent>> {
        run(reader, writer, cmds, events, &mut self.open.after)
    }

    fn offline(&mut self, frame: ConvClientFrame) -> Option<ConvEvent> {
        Some(ConvEvent::NotSent(frame))
    }
}

/// Serves one connection until it ends; `after` follows the entries that came.
async fn run(
    mut reader: ConvReader,
    mut writer: ConvWriter,
    cmds: &mut mpsc::UnboundedReceiver<Command<ConvClientFrame>>,
    events: &mpsc::Sender<ConvEvent>,
    after: &mut Option<u64>,
) -> Ended<ConvEvent> {
    let read = async {
        loop {
            let ev = match reader.next().await {
                Ok(Some(ConvServerFrame::Entry(e))) => {
                    *after = Some(after.unwrap_or(0).max(e.seq));
                    ConvEvent::Entry(e)
                }
                Ok(Some(ConvServerFrame::Notice(e))) => ConvEvent::Notice(e),
                Ok(Some(ConvServerFrame::Closed(e) | ConvServerFrame::Refused(e))) => {
                    if is_final(&e) {
                        return Ended::Final(ConvEvent::Closed(e));
                    }
                    return Ended::Lost(e.to_string());
                }
                Ok(Some(ConvServerFrame::Attached(_))) => continue,
                Ok(None) => return Ended::Lost("the conversation stream ended".into()),
                Err(e) => match e.wire() {
                    Some(w) if is_final(w) => return Ended::Final(ConvEvent::Closed(w.clone())),
                    _ => return Ended::Lost(e.to_string()),
                },
            };
            if events.send(ev).await.is_err() {
                return Ended::Detached;
            }
        }
    };
    let write = async {
        loop {
            match cmds.recv().await {
                Some(Command::Send(frame)) => {
                    if let Err(e) = writer.send(frame.clone()).await {
                        let _ = events.send(ConvEvent::Unconfirmed(frame)).await;
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
    read.race(write).await
}
