//! A session tab's connection, on the core's reconnecting attach
//! ([`vibemesh_core::client::reattach`]): output goes into the tab's terminal, keys and
//! size changes go out, and when the connection drops the tab says so while the attach
//! dials again with backoff; the agent's fresh snapshot restores the screen.

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
};

use vibemesh_core::{
    client::{AttachEvent, Backoff, BoxRead, BoxWrite, ClientError, ReattachHandle, reattach},
    proto::{ExitInfo, SessionId, TermSize, attach::AttachRequest, local::Target},
};

use crate::{
    backend::Backend,
    model::{Notifier, lock},
    term::{DEFAULT_SCROLLBACK, Terminal},
};

/// Lines of history asked for on attach.
const ATTACH_SCROLLBACK: u32 = 1000;

/// Where a tab's connection is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Attaching.
    Connecting,
    /// Attached and live.
    Live,
    /// The connection dropped; trying again.
    Reconnecting(String),
    /// The program ended.
    Exited(ExitInfo),
    /// The session is gone or may not be watched, with why.
    Closed(String),
}

/// What the window and the connection task share about a tab.
#[derive(Debug)]
pub struct TabState {
    /// The screen.
    pub term: Terminal,
    /// The connection.
    pub link: Link,
    /// Output arrived since the tab was last looked at.
    pub unseen: bool,
    /// The bell rang since the tab was last looked at.
    pub bell: bool,
    /// Something to tell the user about this tab (typing while watching, keys lost).
    pub notice: Option<String>,
    /// The size the agent last reported.
    pub size: Option<TermSize>,
}

/// What the window sends to the connection.
#[derive(Debug)]
pub enum TabInput {
    /// Keys or pasted text.
    Bytes(Vec<u8>),
    /// The widget changed size.
    Resize(TermSize),
}

/// An open tab's connection.
pub struct TabLink {
    /// Shared with the task.
    pub state: Arc<Mutex<TabState>>,
    handle: ReattachHandle,
    tasks: [tokio::task::JoinHandle<()>; 2],
}

impl std::fmt::Debug for TabLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TabLink").finish_non_exhaustive()
    }
}

impl Drop for TabLink {
    fn drop(&mut self) {
        // Closing a tab detaches; the session keeps running on its machine.
        self.handle.detach();
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl TabLink {
    /// Attaches to `session` on `target` and keeps attached.
    pub fn open(
        rt: &tokio::runtime::Handle,
        backend: Arc<Backend>,
        target: Target,
        session: SessionId,
        size: TermSize,
        notify: Notifier,
    ) -> Self {
        let state = Arc::new(Mutex::new(TabState {
            term: Terminal::new(size.rows, size.cols, DEFAULT_SCROLLBACK),
            link: Link::Connecting,
            unseen: false,
            bell: false,
            notice: None,
            size: None,
        }));
        let req = AttachRequest {
            session,
            size: Some(size),
            scrollback: ATTACH_SCROLLBACK,
            watch_only: false,
        };
        let (handle, events, driver) = reattach(dialer(backend, target), req, Backoff::default());
        let tasks = run_stream(rt, driver, events, state.clone(), apply, notify);
        Self {
            state,
            handle,
            tasks,
        }
    }

    /// Sends keys, paste or a size change.
    pub fn send(&self, input: TabInput) {
        match input {
            TabInput::Bytes(b) => self.handle.input(b),
            TabInput::Resize(s) => self.handle.resize(s),
        }
    }
}

/// Applies one event to the tab; `true` when nothing follows.
fn apply(state: &Mutex<TabState>, ev: AttachEvent) -> bool {
    let mut s = lock(state);
    match ev {
        AttachEvent::Attached { info, .. } => {
            s.link = Link::Live;
            s.size = Some(info.size);
        }
        AttachEvent::Screen(b) => s.term.reset_to(&b),
        AttachEvent::Output(b) => {
            s.term.feed(&b);
            s.unseen = true;
            if s.term.take_bell() {
                s.bell = true;
            }
        }
        AttachEvent::Resized(size) => s.size = Some(size),
        AttachEvent::Notice(e) => s.notice = Some(e.message),
        AttachEvent::Reconnecting {
            attempt,
            delay,
            error,
        } => {
            s.link = Link::Reconnecting(format!(
                "{error}; try {attempt} in {:.1} s",
                delay.as_secs_f32()
            ))
        }
        AttachEvent::NotSent { bytes } => {
            s.notice = Some(format!(
                "{bytes} typed bytes were not sent: there was no connection."
            ))
        }
        AttachEvent::Unconfirmed { bytes } => {
            s.notice = Some(format!(
                "The connection dropped before {bytes} typed bytes were confirmed; \
                 they may not have arrived and are not sent again."
            ))
        }
        AttachEvent::Exited(info) => {
            s.link = Link::Exited(info);
            return true;
        }
        AttachEvent::Closed(e) => {
            s.link = Link::Closed(e.message);
            return true;
        }
        AttachEvent::Detached => return true,
    }
    false
}

/// A stream to a session's agent, on its way.
type Dialled = Pin<Box<dyn Future<Output = Result<(BoxRead, BoxWrite), ClientError>> + Send>>;

/// A fresh stream to `target` for each try of a reconnecting stream.
pub(crate) fn dialer(
    backend: Arc<Backend>,
    target: Target,
) -> impl FnMut() -> Dialled + Send + 'static {
    move || {
        let (backend, target) = (backend.clone(), target.clone());
        Box::pin(async move { backend.open(&target).await.map_err(ClientError::Remote) })
    }
}

/// Runs a reconnecting stream's `driver`, and applies each of its `events` to a tab's
/// `state` with `apply` (`true`: nothing follows), repainting after each. Both tasks are
/// the tab's, aborted when it closes.
pub(crate) fn run_stream<S, E>(
    rt: &tokio::runtime::Handle,
    driver: impl Future<Output = ()> + Send + 'static,
    mut events: tokio::sync::mpsc::Receiver<E>,
    state: Arc<Mutex<S>>,
    apply: fn(&Mutex<S>, E) -> bool,
    notify: Notifier,
) -> [tokio::task::JoinHandle<()>; 2]
where
    S: Send + 'static,
    E: Send + 'static,
{
    let driver = rt.spawn(driver);
    let pump = rt.spawn(async move {
        while let Some(ev) = events.recv().await {
            let done = apply(&state, ev);
            notify.notify();
            if done {
                return;
            }
        }
    });
    [driver, pump]
}
