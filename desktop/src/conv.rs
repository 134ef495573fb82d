//! A conversation tab's connection to a structured AI session: frames from the agent go
//! into one [`Conversation`] (core's reducer), prompts and answers go out. When the
//! connection drops the tab says so and dials again with backoff, re-attaching with
//! `after: Some(last_seq)` so only newer entries come and nothing is shown twice.

use std::{
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::mpsc;
use vibemesh_core::{
    client::{
        Backoff, BoxRead, BoxWrite, ClientError, ConvReader, ConvWriter, Conversation,
        DIAL_TIMEOUT, is_final, open_conversation,
    },
    proto::{
        SessionId,
        ai::{ConvClientFrame, ConvServerFrame, ConversationOpen},
        local::Target,
    },
};

use crate::{
    backend::Backend,
    model::{Notifier, lock},
    tab::Link,
};

/// What the window and the connection task share about a conversation tab.
#[derive(Debug)]
pub struct ConvState {
    /// The conversation as drawn.
    pub conv: Conversation,
    /// The connection ([`Link::Exited`] is never used: a conversation outlives its CLI).
    pub link: Link,
    /// Something the agent told this client (a prompt refused while busy, say).
    pub notice: Option<String>,
    /// Entries arrived since the tab was last looked at.
    pub unseen: bool,
    /// Entries that came again though already applied: a re-attach asks for those after
    /// the last one it has, so this stays 0.
    pub replayed: u64,
}

/// An open conversation tab's connection.
pub struct ConvLink {
    /// Shared with the task.
    pub state: Arc<Mutex<ConvState>>,
    /// Attached to watch only (the agent refuses steering either way for viewers).
    pub watch_only: bool,
    sends: mpsc::UnboundedSender<ConvClientFrame>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for ConvLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConvLink").finish_non_exhaustive()
    }
}

impl Drop for ConvLink {
    fn drop(&mut self) {
        // Closing a tab detaches; the session and its CLI go on.
        self.task.abort();
    }
}

impl ConvLink {
    /// Attaches to structured session `session` on `target` and keeps attached.
    pub fn open(
        rt: &tokio::runtime::Handle,
        backend: Arc<Backend>,
        target: Target,
        session: SessionId,
        watch_only: bool,
        notify: Notifier,
    ) -> Self {
        let state = Arc::new(Mutex::new(ConvState {
            conv: Conversation::new(),
            link: Link::Connecting,
            notice: None,
            unseen: false,
            replayed: 0,
        }));
        let dial = move || {
            let (backend, target) = (backend.clone(), target.clone());
            async move { backend.open(&target).await.map_err(ClientError::Remote) }
        };
        let (sends, rx) = mpsc::unbounded_channel();
        let shared = Shared {
            state: state.clone(),
            notify,
        };
        let task = rt.spawn(drive(dial, session, watch_only, shared, rx));
        Self {
            state,
            watch_only,
            sends,
            task,
        }
    }

    /// Sends a prompt, an approval answer or an interrupt.
    pub fn send(&self, frame: ConvClientFrame) {
        lock(&self.state).notice = None;
        let _ = self.sends.send(frame);
    }
}

/// The state and the wake-up, together, for the task.
struct Shared {
    state: Arc<Mutex<ConvState>>,
    notify: Notifier,
}

impl Shared {
    /// Changes the state and repaints.
    fn set(&self, f: impl FnOnce(&mut ConvState)) {
        f(&mut lock(&self.state));
        self.notify.notify();
    }
}

/// How one connection ended.
enum End {
    /// The session is gone or may not be watched: show why and stop.
    Final(String),
    /// The tab closed.
    Detached,
    /// The connection dropped for this reason; try again.
    Lost(String),
}

/// Attaches, serves, and re-attaches until the session is gone or the tab closes.
async fn drive<D, F>(
    mut dial: D,
    session: SessionId,
    watch_only: bool,
    shared: Shared,
    mut sends: mpsc::UnboundedReceiver<ConvClientFrame>,
) where
    D: FnMut() -> F,
    F: Future<Output = Result<(BoxRead, BoxWrite), ClientError>>,
{
    let backoff = Backoff::default();
    let mut attempt = 0u32;
    loop {
        let last = lock(&shared.state).conv.last_seq;
        let req = ConversationOpen {
            session,
            after: (last > 0).then_some(last),
            watch_only,
        };
        let tried = tokio::time::timeout(DIAL_TIMEOUT, async {
            let (r, w) = dial().await?;
            open_conversation(r, w, req).await
        })
        .await
        .unwrap_or_else(|_| {
            Err(ClientError::Connect(format!(
                "no answer within {} s",
                DIAL_TIMEOUT.as_secs()
            )))
        });
        let why = match tried {
            Ok((_info, reader, writer)) => {
                attempt = 0;
                shared.set(|s| s.link = Link::Live);
                match serve(reader, writer, &shared, &mut sends).await {
                    End::Final(why) => {
                        shared.set(|s| s.link = Link::Closed(why));
                        return;
                    }
                    End::Detached => return,
                    End::Lost(why) => why,
                }
            }
            Err(ClientError::Remote(e)) if is_final(&e) => {
                shared.set(|s| s.link = Link::Closed(e.message));
                return;
            }
            Err(e) => e.to_string(),
        };
        attempt += 1;
        let delay = backoff.delay(attempt);
        shared.set(|s| {
            s.link = Link::Reconnecting(format!(
                "{why}; try {attempt} in {:.1} s",
                delay.as_secs_f32()
            ))
        });
        if offline(delay, &shared, &mut sends).await {
            return;
        }
    }
}

/// Waits out `delay` with no connection. What the user sends meanwhile is refused, not
/// queued: it would arrive late, after they saw they were not connected. Returns
/// whether the tab closed.
async fn offline(
    delay: Duration,
    shared: &Shared,
    sends: &mut mpsc::UnboundedReceiver<ConvClientFrame>,
) -> bool {
    let sleep = tokio::time::sleep(delay);
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            _ = &mut sleep => return false,
            got = sends.recv() => match got {
                Some(_) => shared.set(|s| {
                    s.notice = Some("Not sent: there is no connection right now.".into())
                }),
                None => return true,
            },
        }
    }
}

/// Serves one connection until it ends. Reading and writing run side by side, neither
/// cancelled mid-frame while the other works (a frame read is not cancel-safe).
async fn serve(
    mut reader: ConvReader,
    mut writer: ConvWriter,
    shared: &Shared,
    sends: &mut mpsc::UnboundedReceiver<ConvClientFrame>,
) -> End {
    let read = async {
        loop {
            let frame = match reader.next().await {
                Ok(Some(f)) => f,
                Ok(None) => return End::Lost("the conversation stream ended".into()),
                Err(e) => return End::Lost(e.to_string()),
            };
            let ended = {
                let mut s = lock(&shared.state);
                match s.conv.apply_frame(&frame) {
                    Ok(applied) => {
                        s.unseen |= applied;
                        if !applied && matches!(frame, ConvServerFrame::Entry(_)) {
                            s.replayed += 1;
                        }
                        None
                    }
                    Err(e) if matches!(frame, ConvServerFrame::Notice(_)) => {
                        s.notice = Some(e.message);
                        None
                    }
                    Err(e) if is_final(&e) => Some(End::Final(e.message)),
                    Err(e) => Some(End::Lost(e.to_string())),
                }
            };
            if let Some(end) = ended {
                return end;
            }
            shared.notify.notify();
        }
    };
    let write = async {
        loop {
            let Some(frame) = sends.recv().await else {
                let _ = writer.finish().await;
                return End::Detached;
            };
            if let Err(e) = writer.send(frame).await {
                shared.set(|s| {
                    s.notice = Some(
                        "The connection dropped while sending; it may not have arrived.".into(),
                    )
                });
                return End::Lost(e.to_string());
            }
        }
    };
    tokio::select! {
        end = read => end,
        end = write => end,
    }
}
