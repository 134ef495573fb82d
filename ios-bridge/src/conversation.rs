//! An attached structured AI session: core's reducer builds the conversation from the
//! agent's events, and the app hears what changed; messages, approvals and interrupts
//! go back on the same stream.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

use tokio::{runtime::Handle, task::JoinHandle};
use vibemesh_core::{
    client::{ConvReader, ConvWriter, Conversation, Item},
    proto::{
        SessionId,
        ai::{ConvClientFrame, ConvServerFrame, ConversationOpen},
    },
};

use crate::{
    ApprovalDecision, ConvItem, ConvStatus, MeshError, conv_items::nonempty,
    error::is_connection_lost, links::Links, runtime::run_on, session::lock, store::Known,
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

/// Everything a reader task and the handle share.
struct Shared {
    listener: Arc<dyn ConversationListener>,
    state: Mutex<State>,
    /// Bumped on every attach and detach; a reader from an older attach stays quiet.
    generation: AtomicU64,
    /// Attached, or meant to be (a resume re-attaches it).
    wanted: AtomicBool,
}

/// One attached structured session. Re-attaching asks only for the events after the
/// last one seen, so nothing repeats.
#[derive(uniffi::Object)]
pub struct ConversationHandle {
    rt: Handle,
    links: Arc<Links>,
    machine: Known,
    session: SessionId,
    shared: Arc<Shared>,
    writer: Arc<tokio::sync::Mutex<Option<ConvWriter>>>,
    reader: Mutex<Option<JoinHandle<()>>>,
}

impl ConversationHandle {
    /// A handle, not yet attached.
    pub(crate) fn new(
        rt: Handle,
        links: Arc<Links>,
        machine: Known,
        session: SessionId,
        listener: Arc<dyn ConversationListener>,
    ) -> Arc<Self> {
        Arc::new(Self {
            rt,
            links,
            machine,
            session,
            shared: Arc::new(Shared {
                listener,
                state: Mutex::new(State {
                    conv: Conversation::new(),
                    told: Vec::new(),
                    status: None,
                }),
                generation: AtomicU64::new(0),
                wanted: AtomicBool::new(false),
            }),
            writer: Arc::new(tokio::sync::Mutex::new(None)),
            reader: Mutex::new(None),
        })
    }

    /// Whether this handle belongs to machine `id`.
    pub(crate) fn machine_id(&self) -> vibemesh_core::EndpointId {
        self.machine.id
    }

    /// Attaches (again), asking only for the events after the last one applied. Runs
    /// on the runtime.
    pub(crate) async fn attach_now(self: Arc<Self>) -> Result<(), MeshError> {
        let generation = self.shared.generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.stop_reader();
        if let Some(mut w) = self.writer.lock().await.take() {
            let _ = w.finish().await;
        }
        let last = lock(&self.shared.state).conv.last_seq;
        let req = ConversationOpen {
            session: self.session,
            after: (last > 0).then_some(last),
            watch_only: false,
        };
        let conn = self.links.connection(&self.machine).await?;
        let opened = match conn.conversation(req.clone()).await {
            Err(e) if is_connection_lost(&e) => {
                self.links.drop_link(&self.machine.id, b"stale");
                let conn = self.links.connection(&self.machine).await?;
                conn.conversation(req).await.map_err(|e| conn.closed_or(e))
            }
            r => r,
        };
        let (_info, reader, writer) = opened?;
        *self.writer.lock().await = Some(writer);
        let task = tokio::spawn(read_frames(self.shared.clone(), reader, generation));
        *lock(&self.reader) = Some(task);
        self.shared.wanted.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Whether a resume should re-attach this handle.
    pub(crate) fn wants_attached(&self) -> bool {
        self.shared.wanted.load(Ordering::SeqCst)
    }

    /// Silences the current reader (its stream is about to be dropped on purpose).
    pub(crate) fn quiesce(&self) {
        self.shared.generation.fetch_add(1, Ordering::SeqCst);
        self.stop_reader();
    }

    /// Tells the listener the conversation could not be brought back.
    pub(crate) fn report_closed(&self, why: String) {
        self.shared.wanted.store(false, Ordering::SeqCst);
        self.shared.listener.on_closed(Some(why));
    }

    fn stop_reader(&self) {
        if let Some(t) = lock(&self.reader).take() {
            t.abort();
        }
    }

    async fn send(&self, frame: ConvClientFrame) -> Result<(), MeshError> {
        let writer = self.writer.clone();
        run_on(&self.rt, async move {
            let mut w = writer.lock().await;
            let w = w
                .as_mut()
                .ok_or_else(|| MeshError::other("detached: attach again first"))?;
            w.send(frame).await.map_err(MeshError::from)
        })
        .await
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl ConversationHandle {
    /// The session's id, as 8 hex digits.
    pub fn session_id(&self) -> String {
        self.session.to_string()
    }

    /// Sends a message. While a turn runs it is queued (a `Queued` item) and sent when
    /// the turn ends.
    pub async fn send_message(&self, text: String) -> Result<(), MeshError> {
        nonempty(&text)?;
        self.send(ConvClientFrame::Prompt(text)).await
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
        .await
    }

    /// Stops the running turn; the session goes on.
    pub async fn interrupt(&self) -> Result<(), MeshError> {
        self.send(ConvClientFrame::Interrupt).await
    }

    /// Ends the AI's process; the conversation stays, and the next message resumes it.
    pub async fn end(&self) -> Result<(), MeshError> {
        self.send(ConvClientFrame::End).await
    }

    /// Detaches; the session goes on. No further callbacks come.
    pub async fn detach(&self) -> Result<(), MeshError> {
        self.shared.wanted.store(false, Ordering::SeqCst);
        self.quiesce();
        let writer = self.writer.clone();
        run_on(&self.rt, async move {
            if let Some(mut w) = writer.lock().await.take() {
                let _ = w.finish().await;
            }
            Ok(())
        })
        .await
    }

    /// Attaches again (after a detach, or when the stream was lost): only the events
    /// missed meanwhile come.
    pub async fn reattach(self: Arc<Self>) -> Result<(), MeshError> {
        let rt = self.rt.clone();
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

impl Drop for ConversationHandle {
    fn drop(&mut self) {
        self.stop_reader();
    }
}

/// Applies one frame and tells the listener what changed. Returns why the stream ends,
/// when it does.
fn apply(shared: &Shared, frame: &ConvServerFrame) -> Option<Option<String>> {
    let mut state = lock(&shared.state);
    match frame {
        ConvServerFrame::Entry(e) => {
            if !state.conv.apply(e) {
                return None;
            }
        }
        ConvServerFrame::Attached(_) => return None,
        ConvServerFrame::Notice(e) => {
            drop(state);
            shared
                .listener
                .on_notice(MeshError::from(e.clone()).to_string());
            return None;
        }
        ConvServerFrame::Refused(e) | ConvServerFrame::Closed(e) => {
            return Some(Some(MeshError::from(e.clone()).to_string()));
        }
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
    None
}

/// Reads one conversation stream until it ends.
async fn read_frames(shared: Arc<Shared>, mut reader: ConvReader, generation: u64) {
    let current = |s: &Shared| s.generation.load(Ordering::SeqCst) == generation;
    let end = loop {
        let frame = reader.next().await;
        if !current(&shared) {
            return;
        }
        match frame {
            Ok(Some(f)) => {
                if let Some(end) = apply(&shared, &f) {
                    break end;
                }
            }
            Ok(None) => break None,
            Err(e) => break Some(MeshError::from(e).to_string()),
        }
    };
    if current(&shared) {
        shared.wanted.store(false, Ordering::SeqCst);
        shared.listener.on_closed(end);
    }
}

#[cfg(test)]
mod tests {
    use vibemesh_core::proto::ai::{AiEvent, Decision, Entry};

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
            generation: AtomicU64::new(0),
            wanted: AtomicBool::new(true),
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
            let frame = ConvServerFrame::Entry(entry);
            assert_eq!(apply(&shared, &frame), None);
            let reducer: Vec<ConvItem> = lock(&shared.state)
                .conv
                .items
                .iter()
                .map(ConvItem::from)
                .collect();
            assert_eq!(*lock(&app.items), reducer, "after event {}", i + 1);
            let calls = app.calls.load(Ordering::SeqCst);
            assert_eq!(apply(&shared, &frame), None);
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
