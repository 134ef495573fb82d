//! An attached structured AI session: core's reducer builds the conversation from the
//! agent's events, and the app hears what changed; messages, approvals and interrupts
//! go back on the same stream.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use vibemesh_core::{
    client::{ConvEvent, ConvHandle, Conversation, Item, reattach_conversation},
    proto::ai::{ConvClientFrame, ConversationOpen, Entry},
};

use crate::{
    ApprovalDecision, ConvItem, ConvStatus, MeshError,
    conv_items::nonempty,
    runtime::run_on,
    session::lock,
    stream::{self, Attachment, First, Target},
};

/// What a [`ConversationHandle`] tells the app. Called on the mesh's own threads, never
/// on the app's; hop to the main thread before touching UI.
#[uniffi::export(with_foreign)]
pub trait ConversationListener: Send + Sync {
    /// The items from index `from` on are now `items`: drop yours from `from` and append
    /// these. Covers a new item, one that changed (a streaming answer, an approval
    /// answered, a tool's result) and queued messages that went away. The first call
    /// has `from` 0 and the conversation so far; after a re-attach only what was
    /// missed meanwhile comes.
    fn on_items(&self, from: u32, items: Vec<ConvItem>);
    /// Working, needs approval or your turn, the queue and the usage changed.
    fn on_status(&self, status: ConvStatus);
    /// Something to tell the user that is not part of the conversation (watching only,
    /// an answer that came too late).
    fn on_notice(&self, message: String);
    /// The stream ended (session gone, access revoked, connection lost): the reason,
    /// or `None` when the agent gave none. [`ConversationHandle::reattach`] picks up
    /// where it stopped.
    fn on_closed(&self, error: Option<String>);
}

/// The conversation as built so far, and what the app was last told.
struct State {
    conv: Conversation,
    /// The items as the app has them (what it was sent), to send only what changed.
    told: Vec<Item>,
    status: Option<ConvStatus>,
}

/// Everything the event task and the handle share.
struct Shared {
    listener: Arc<dyn ConversationListener>,
    state: Mutex<State>,
    /// Attached, or meant to be (a resume re-attaches it).
    wanted: Arc<AtomicBool>,
}

/// One attached structured session: core's reconnecting conversation
/// (`client::reattach_conversation`). Re-attaching asks only for the events after the
/// last one seen, so nothing repeats.
#[derive(uniffi::Object)]
pub struct ConversationHandle {
    /// The session and the way to it.
    pub(crate) target: Target,
    shared: Arc<Shared>,
    /// The current attach (a resume silences it and attaches again).
    pub(crate) attachment: Attachment<ConvHandle>,
}

impl ConversationHandle {
    /// A handle, not yet attached.
    pub(crate) fn new(target: Target, listener: Arc<dyn ConversationListener>) -> Arc<Self> {
        let wanted = Arc::new(AtomicBool::new(false));
        Arc::new(Self {
            target,
            shared: Arc::new(Shared {
                listener,
                state: Mutex::new(State {
                    conv: Conversation::new(),
                    told: Vec::new(),
                    status: None,
                }),
                wanted: wanted.clone(),
            }),
            attachment: Attachment::new(wanted),
        })
    }

    /// Attaches (again), asking only for the events after the last one applied. Runs
    /// on the runtime.
    pub(crate) async fn attach_now(self: Arc<Self>) -> Result<(), MeshError> {
        let last = lock(&self.shared.state).conv.last_seq;
        let req = ConversationOpen {
            session: self.target.session,
            after: (last > 0).then_some(last),
            watch_only: false,
        };
        let dial = self.target.dialer();
        let stream = reattach_conversation(dial, req, stream::backoff());
        let shared = self.shared.clone();
        let on_event = move |ev| on_event(&shared, ev);
        self.attachment.attach(stream, first, on_event).await
    }

    /// Tells the listener the conversation could not be brought back.
    pub(crate) fn report_closed(&self, why: String) {
        self.attachment.give_up();
        self.shared.listener.on_closed(Some(why));
    }

    /// Sends `frame` on the current attach. While the connection is down it is not
    /// sent, and the listener hears so (`on_notice`).
    fn send(&self, frame: ConvClientFrame) -> Result<(), MeshError> {
        self.attachment.current()?.send(frame);
        Ok(())
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl ConversationHandle {
    /// The session's id, as 8 hex digits.
    pub fn session_id(&self) -> String {
        self.target.session.to_string()
    }

    /// Sends a message. While a turn runs it is queued (a `Queued` item) and sent when
    /// the turn ends.
    pub async fn send_message(&self, text: String) -> Result<(), MeshError> {
        nonempty(&text)?;
        self.send(ConvClientFrame::Prompt(text))
    }

    /// Answers the approval request `approval_id` (an `Approval` item's `id`); the
    /// first answer from any client wins.
    pub async fn answer(
        &self,
        approval_id: String,
        decision: ApprovalDecision,
    ) -> Result<(), MeshError> {
        self.send(ConvClientFrame::Answer {
            approval: approval_id,
            decision: decision.into(),
        })
    }

    /// Stops the running turn; the session goes on.
    pub async fn interrupt(&self) -> Result<(), MeshError> {
        self.send(ConvClientFrame::Interrupt)
    }

    /// Ends the AI's process; the conversation stays, and the next message resumes it.
    pub async fn end(&self) -> Result<(), MeshError> {
        self.send(ConvClientFrame::End)
    }

    /// Detaches; the session goes on. No further callbacks come.
    pub async fn detach(&self) -> Result<(), MeshError> {
        self.attachment.detach();
        Ok(())
    }

    /// Attaches again (after a detach, or when the stream was lost): only the events
    /// missed meanwhile come.
    pub async fn reattach(self: Arc<Self>) -> Result<(), MeshError> {
        let rt = self.target.rt.clone();
        run_on(&rt, self.attach_now()).await
    }

    /// The whole conversation as it stands.
    pub fn items(&self) -> Vec<ConvItem> {
        let state = lock(&self.shared.state);
        state.conv.items.iter().map(ConvItem::from).collect()
    }

    /// Working, needs approval or your turn, with the queue and the usage.
    pub fn status(&self) -> ConvStatus {
        ConvStatus::from(&lock(&self.shared.state).conv)
    }
}

/// Whether an attach succeeded, failed, or is still trying.
fn first(ev: &ConvEvent) -> First {
    match ev {
        ConvEvent::Attached { .. } => First::Attached,
        ConvEvent::Closed(e) => First::Failed(e.clone()),
        _ => First::Undecided,
    }
}

/// Tells the listener about one event of the current attach.
fn on_event(shared: &Shared, ev: ConvEvent) {
    let listener = &shared.listener;
    match ev {
        ConvEvent::Entry(e) => apply(shared, &e),
        ConvEvent::Notice(e) => listener.on_notice(MeshError::from(e).to_string()),
        ConvEvent::NotSent(_) => {
            listener.on_notice("not sent: the connection is down; try again".into())
        }
        ConvEvent::Unconfirmed(_) => listener
            .on_notice("the connection dropped while sending: it may not have arrived".into()),
        ConvEvent::Closed(e) => {
            shared.wanted.store(false, Ordering::SeqCst);
            listener.on_closed(Some(MeshError::from(e).to_string()));
        }
        ConvEvent::Reconnecting { error, .. } => tracing::debug!("re-attaching: {error}"),
        ConvEvent::Attached { .. } | ConvEvent::Detached => {}
    }
}

/// Applies one entry and tells the listener what changed (nothing, for one already
/// applied).
fn apply(shared: &Shared, entry: &Entry) {
    let mut state = lock(&shared.state);
    if !state.conv.apply(entry) {
        return;
    }
    let State { conv, told, status } = &mut *state;
    // The first item that differs from what the app has; everything from there is sent.
    let from = told
        .iter()
        .zip(&conv.items)
        .position(|(a, b)| a != b)
        .unwrap_or(told.len().min(conv.items.len()));
    let changed = from < conv.items.len() || told.len() != conv.items.len();
    told.truncate(from);
    told.extend_from_slice(&conv.items[from..]);
    let items: Vec<ConvItem> = conv.items[from..].iter().map(ConvItem::from).collect();
    let now = ConvStatus::from(&*conv);
    let new_status = (status.as_ref() != Some(&now)).then(|| {
        *status = Some(now.clone());
        now
    });
    drop(state);
    if changed {
        shared
            .listener
            .on_items(crate::conv_items::count(from), items);
    }
    if let Some(s) = new_status {
        shared.listener.on_status(s);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use vibemesh_core::proto::ai::{AiEvent, Decision};

    use super::*;

    /// Keeps the items the way an app does: from `from` on, replaced.
    #[derive(Default)]
    struct App {
        items: Mutex<Vec<ConvItem>>,
        calls: AtomicU64,
    }

    impl ConversationListener for App {
        fn on_items(&self, from: u32, items: Vec<ConvItem>) {
            let mut mine = lock(&self.items);
            mine.truncate(from as usize);
            mine.extend(items);
            self.calls.fetch_add(1, Ordering::SeqCst);
        }
        fn on_status(&self, _: ConvStatus) {}
        fn on_notice(&self, _: String) {}
        fn on_closed(&self, _: Option<String>) {}
    }

    /// Streaming, queueing, inserting before the queue, answering an approval far back
    /// and dropping the queue: after every event the app's list is the reducer's, and a
    /// replayed event costs no call.
    #[test]
    fn the_app_list_follows_the_reducer_through_every_kind_of_change() {
        let app = Arc::new(App::default());
        let shared = Shared {
            listener: app.clone(),
            state: Mutex::new(State {
                conv: Conversation::new(),
                told: Vec::new(),
                status: None,
            }),
            wanted: Arc::new(AtomicBool::new(true)),
        };
        let events = [
            AiEvent::User { text: "a".into() },
            AiEvent::AssistantDelta { text: "x".into() },
            AiEvent::Queued { text: "b".into() },
            AiEvent::AssistantDelta { text: "y".into() },
            AiEvent::Approval {
                id: "p".into(),
                tool: "Bash".into(),
                input: "{}".into(),
                description: None,
            },
            AiEvent::Queued { text: "c".into() },
            AiEvent::Settled {
                id: "p".into(),
                decision: Decision::Allow,
            },
            AiEvent::QueueDropped {
                reason: "dropped".into(),
            },
        ];
        for (i, event) in events.into_iter().enumerate() {
            let entry = Entry {
                seq: i as u64 + 1,
                at_ms: 0,
                event,
            };
            apply(&shared, &entry);
            let reducer: Vec<ConvItem> = lock(&shared.state)
                .conv
                .items
                .iter()
                .map(ConvItem::from)
                .collect();
            assert_eq!(*lock(&app.items), reducer, "after event {}", i + 1);
            let calls = app.calls.load(Ordering::SeqCst);
            apply(&shared, &entry);
            assert_eq!(
                app.calls.load(Ordering::SeqCst),
                calls,
                "a replay is silent"
            );
        }
        assert_eq!(
            lock(&app.items).last(),
            Some(&ConvItem::Notice {
                text: "dropped".into()
            })
        );
    }
}
