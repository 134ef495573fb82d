//! A session tab's connection, on the core's reconnecting attach
//! ([`vibemesh_core::client::reattach`]): output goes into the tab's terminal, keys and
//! size changes go out, and when the connection drops the tab says so while the attach
//! dials again with backoff; the agent's fresh snapshot restores the screen.
//!
//! Reading output never waits on drawing: output goes into a buffer of its own, parsed
//! into the screen by the connection when the screen is free and by the window before
//! it draws otherwise, so a window busy drawing never holds the program back.

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard, TryLockError},
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

/// Output that arrived while the window held the screen, waiting to be parsed.
type Pending = Arc<Mutex<Vec<u8>>>;

/// An open tab's connection.
pub struct TabLink {
    /// Shared with the task; read it through [`TabLink::lock`], which parses output
    /// that is still waiting first.
    pub state: Arc<Mutex<TabState>>,
    pending: Pending,
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
        let pending = Pending::default();
        let queue = pending.clone();
        let apply = move |state: &Mutex<TabState>, ev| apply(state, &queue, ev);
        let tasks = run_stream(rt, driver, events, state.clone(), apply, notify);
        Self {
            state,
            pending,
            handle,
            tasks,
        }
    }

    /// The tab's state, locked, with all output received so far on its screen.
    pub fn lock(&self) -> MutexGuard<'_, TabState> {
        let mut s = lock(&self.state);
        drain(&self.pending, &mut s);
        s
    }

    /// Sends keys, paste or a size change.
    pub fn send(&self, input: TabInput) {
        match input {
            TabInput::Bytes(b) => self.handle.input(b),
            TabInput::Resize(s) => self.handle.resize(s),
        }
    }
}

/// Parses the output waiting in `pending` into the tab's screen.
fn drain(pending: &Mutex<Vec<u8>>, s: &mut TabState) {
    let bytes = std::mem::take(&mut *lock(pending));
    if bytes.is_empty() {
        return;
    }
    s.term.feed(&bytes);
    s.unseen = true;
    if s.term.take_bell() {
        s.bell = true;
    }
}

/// Applies one event to the tab; `true` when nothing follows. Output is queued and
/// parsed at once only when the screen is free: the window may be drawing it, and the
/// connection must not wait for that (the window parses the queue before it draws).
fn apply(state: &Mutex<TabState>, pending: &Mutex<Vec<u8>>, ev: AttachEvent) -> bool {
    if let AttachEvent::Output(b) = ev {
        lock(pending).extend_from_slice(&b);
        let free = match state.try_lock() {
            Ok(s) => Some(s),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        if let Some(mut s) = free {
            drain(pending, &mut s);
        }
        return false;
    }
    let mut s = lock(state);
    // Everything else comes after the output before it.
    drain(pending, &mut s);
    match ev {
        AttachEvent::Attached { info, .. } => {
            s.link = Link::Live;
            s.size = Some(info.size);
        }
        AttachEvent::Screen(b) => s.term.reset_to(&b),
        // Handled above.
        AttachEvent::Output(_) => {}
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
/// `state` with `apply` (`true`: nothing follows), then asks for a repaint: once for
/// all the events waiting, and paced to the display ([`Notifier::notify_paced`]), so a
/// flood costs at most one frame per refresh. Both tasks are the tab's, aborted when it
/// closes.
pub(crate) fn run_stream<S, E>(
    rt: &tokio::runtime::Handle,
    driver: impl Future<Output = ()> + Send + 'static,
    mut events: tokio::sync::mpsc::Receiver<E>,
    state: Arc<Mutex<S>>,
    mut apply: impl FnMut(&Mutex<S>, E) -> bool + Send + 'static,
    notify: Notifier,
) -> [tokio::task::JoinHandle<()>; 2]
where
    S: Send + 'static,
    E: Send + 'static,
{
    let driver = rt.spawn(driver);
    let pump = rt.spawn(async move {
        while let Some(ev) = events.recv().await {
            let mut done = apply(&state, ev);
            while !done && let Ok(ev) = events.try_recv() {
                done = apply(&state, ev);
            }
            notify.notify_paced();
            if done {
                return;
            }
        }
    });
    [driver, pump]
}
