//! A conversation tab's connection to a structured AI session, on core's reconnecting
//! conversation stream ([`vibemesh_core::client::reattach_conversation`]): entries go
//! into one [`Conversation`] (core's reducer), prompts and answers go out. When the
//! connection drops the tab says so while the stream dials again with backoff and
//! re-attaches after the last entry it has, so nothing is shown twice.

use std::sync::{Arc, Mutex};

use vibemesh_core::{
    client::{Backoff, ConvEvent, ConvHandle, Conversation, reattach_conversation},
    proto::{
        SessionId,
        ai::{ConvClientFrame, ConversationOpen},
        local::Target,
    },
};

use crate::{
    backend::Backend,
    model::{Notifier, lock},
    tab::{Link, dialer, run_stream},
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
    handle: ConvHandle,
    tasks: [tokio::task::JoinHandle<()>; 2],
}

impl std::fmt::Debug for ConvLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConvLink").finish_non_exhaustive()
    }
}

impl Drop for ConvLink {
    fn drop(&mut self) {
        // Closing a tab detaches; the session and its CLI go on.
        self.handle.detach();
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl ConvLink {
    /// Attaches to structured session `session` on `target` and keeps attached, on
    /// core's reconnecting conversation stream.
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
        let open = ConversationOpen {
            session,
            after: None,
            watch_only,
        };
        let (handle, events, driver) =
            reattach_conversation(dialer(backend, target), open, Backoff::default());
        let tasks = run_stream(rt, driver, events, state.clone(), apply, notify);
        Self {
            state,
            watch_only,
            handle,
            tasks,
        }
    }

    /// Sends a prompt, an approval answer or an interrupt.
    pub fn send(&self, frame: ConvClientFrame) {
        lock(&self.state).notice = None;
        self.handle.send(frame);
    }
}

/// Applies one event to the tab; `true` when nothing follows.
fn apply(state: &Mutex<ConvState>, ev: ConvEvent) -> bool {
    let mut s = lock(state);
    match ev {
        ConvEvent::Attached { .. } => s.link = Link::Live,
        ConvEvent::Entry(e) => {
            if s.conv.apply(&e) {
                s.unseen = true;
            } else {
                s.replayed += 1;
            }
        }
        ConvEvent::Notice(e) => s.notice = Some(e.message),
        ConvEvent::Reconnecting {
            attempt,
            delay,
            error,
        } => {
            s.link = Link::Reconnecting(format!(
                "{error}; try {attempt} in {:.1} s",
                delay.as_secs_f32()
            ))
        }
        ConvEvent::NotSent(_) => {
            s.notice = Some("Not sent: there is no connection right now.".into())
        }
        ConvEvent::Unconfirmed(_) => {
            s.notice = Some("The connection dropped while sending; it may not have arrived.".into())
        }
        ConvEvent::Closed(e) => {
            s.link = Link::Closed(e.message);
            return true;
        }
        ConvEvent::Detached => return true,
    }
    false
}
