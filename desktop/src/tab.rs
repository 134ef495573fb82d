//! A session tab's connection: attaches, feeds output into the tab's terminal, sends keys
//! and size changes, and when the stream drops says so and re-attaches with backoff (the
//! agent's snapshot restores the screen). Ends when the program exits or the session goes.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc;
use vibemesh_core::{
    ErrorCode, WireError,
    client::open_attach,
    proto::{
        ExitInfo, SessionId, TermSize,
        attach::{AttachRequest, ServerFrame},
        local::Target,
    },
};

use crate::{
    backend::Backend,
    machines::{Backoff, wire},
    model::Notifier,
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
    /// A notice from the agent (a viewer typing, say).
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
    tx: mpsc::UnboundedSender<TabInput>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for TabLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TabLink").finish_non_exhaustive()
    }
}

impl Drop for TabLink {
    fn drop(&mut self) {
        // Closing a tab detaches; the session keeps running on its machine.
        self.task.abort();
    }
}

/// Locks a tab's state.
pub fn lock(s: &Mutex<TabState>) -> MutexGuard<'_, TabState> {
    s.lock().unwrap_or_else(|p| p.into_inner())
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
        let (tx, rx) = mpsc::unbounded_channel();
        let task = rt.spawn(run(backend, target, session, state.clone(), rx, notify));
        Self { state, tx, task }
    }

    /// Sends keys, paste or a size change.
    pub fn send(&self, input: TabInput) {
        let _ = self.tx.send(input);
    }
}

enum End {
    /// Stop for good.
    Final(Link),
    /// Try again.
    Retry(String),
}

async fn run(
    backend: Arc<Backend>,
    target: Target,
    session: SessionId,
    state: Arc<Mutex<TabState>>,
    mut rx: mpsc::UnboundedReceiver<TabInput>,
    notify: Notifier,
) {
    let mut backoff = Backoff::default();
    loop {
        let end = attach_once(
            &backend,
            &target,
            session,
            &state,
            &mut rx,
            &notify,
            &mut backoff,
        )
        .await;
        let retry = match end {
            End::Final(link) => {
                lock(&state).link = link;
                notify.notify();
                return;
            }
            End::Retry(why) => why,
        };
        lock(&state).link = Link::Reconnecting(retry);
        notify.notify();
        let wait = backoff.next_wait();
        // Keys typed while away are dropped, not replayed into a fresh screen later;
        // the latest size is kept.
        let sleep = tokio::time::sleep(wait);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                m = rx.recv() => match m {
                    None => return,
                    Some(TabInput::Resize(s)) => lock(&state).term.resize(s.rows, s.cols),
                    Some(TabInput::Bytes(_)) => {}
                },
            }
        }
    }
}

fn is_final(e: &WireError) -> bool {
    matches!(
        e.code,
        ErrorCode::NotFound | ErrorCode::Forbidden | ErrorCode::Revoked | ErrorCode::NotPaired
    )
}

async fn attach_once(
    backend: &Backend,
    target: &Target,
    session: SessionId,
    state: &Arc<Mutex<TabState>>,
    rx: &mut mpsc::UnboundedReceiver<TabInput>,
    notify: &Notifier,
    backoff: &mut Backoff,
) -> End {
    let (rows, cols) = lock(state).term.size();
    let (r, w) = match backend.open(target).await {
        Ok(s) => s,
        Err(e) if is_final(&e) => return End::Final(Link::Closed(e.message)),
        Err(e) => return End::Retry(e.message),
    };
    let req = AttachRequest {
        session,
        size: Some(TermSize { rows, cols }),
        scrollback: ATTACH_SCROLLBACK,
        watch_only: false,
    };
    let (info, mut reader, mut writer) = match open_attach(r, w, req).await {
        Ok(x) => x,
        Err(e) => {
            let e = wire(e);
            return if is_final(&e) {
                End::Final(Link::Closed(e.message))
            } else {
                End::Retry(e.message)
            };
        }
    };
    *backoff = Backoff::default();
    {
        let mut s = lock(state);
        s.link = Link::Live;
        s.size = Some(info.size);
    }
    notify.notify();
    // Frames are read in their own task: reading a frame is not cancel-safe.
    let (ftx, mut frames) = mpsc::channel(16);
    let reader_task = tokio::spawn(async move {
        loop {
            let f = reader.next().await;
            let end = !matches!(f, Ok(Some(_)));
            if ftx.send(f).await.is_err() || end {
                return;
            }
        }
    });
    let end = loop {
        tokio::select! {
            f = frames.recv() => match f {
                Some(Ok(Some(frame))) => {
                    if let Some(end) = apply(state, frame) {
                        break end;
                    }
                    notify.notify();
                }
                Some(Ok(None)) | None => break End::Retry("the connection closed".into()),
                Some(Err(e)) => break End::Retry(wire(e).message),
            },
            m = rx.recv() => match m {
                None => break End::Final(Link::Closed("the tab was closed".into())),
                Some(TabInput::Bytes(b)) => {
                    if let Err(e) = writer.input(b).await {
                        break End::Retry(wire(e).message);
                    }
                }
                Some(TabInput::Resize(s)) => {
                    if let Err(e) = writer.resize(s).await {
                        break End::Retry(wire(e).message);
                    }
                }
            },
        }
    };
    reader_task.abort();
    end
}

/// Applies one frame to the tab; `Some` when the stream ends.
fn apply(state: &Mutex<TabState>, frame: ServerFrame) -> Option<End> {
    let mut s = lock(state);
    match frame {
        ServerFrame::Snapshot(b) => s.term.reset_to(&b),
        ServerFrame::Output(b) => {
            s.term.feed(&b);
            s.unseen = true;
            if s.term.take_bell() {
                s.bell = true;
            }
        }
        ServerFrame::Resized(size) => {
            s.size = Some(size);
        }
        ServerFrame::Notice(e) => s.notice = Some(e.message),
        ServerFrame::Exited(info) => return Some(End::Final(Link::Exited(info))),
        ServerFrame::Closed(e) if e.code == ErrorCode::Shutdown => {
            return Some(End::Retry(e.message));
        }
        ServerFrame::Closed(e) | ServerFrame::Refused(e) => {
            return Some(End::Final(Link::Closed(e.message)));
        }
        ServerFrame::Attached(_) => {}
    }
    None
}
