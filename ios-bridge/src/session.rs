//! An attached terminal session: a local vt100 mirror of the screen, raw output for a
//! terminal view, and input, resize, detach and re-attach.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use vibemesh_core::{
    client::{AttachEvent, ReattachHandle, reattach},
    proto::{TermSize, attach::AttachRequest},
};

use crate::{
    MeshError,
    runtime::run_on,
    stream::{self, Attachment, First, Target},
};

/// Lines of scrollback asked for on attach and kept in the local mirror.
const SCROLLBACK: u32 = 1000;

/// What a [`SessionHandle`] tells the app. Called on the mesh's own threads, never on
/// the app's; hop to the main thread before touching UI.
#[uniffi::export(with_foreign)]
pub trait ScreenListener: Send + Sync {
    /// Bytes for the terminal view, as the program wrote them (the first call after an
    /// attach is the snapshot that redraws the whole screen).
    fn on_output(&self, bytes: Vec<u8>);
    /// The mirrored screen changed; read it with [`SessionHandle::screen_text`].
    fn on_screen_changed(&self);
    /// The program ended, with its exit code when it exited normally.
    fn on_exit(&self, code: Option<i32>);
    /// The stream ended without an exit (session killed, access revoked, connection
    /// lost): the reason, or `None` when the agent gave none.
    fn on_closed(&self, error: Option<String>);
}

pub(crate) use vibemesh_core::sync::lock;

/// Everything the event task and the handle share.
struct Shared {
    listener: Arc<dyn ScreenListener>,
    parser: Mutex<vt100::Parser>,
    /// Attached, or meant to be (a resume re-attaches it); false after a detach or an
    /// exit.
    wanted: Arc<AtomicBool>,
    /// Attached right now: keys sent while not are refused with an error, never queued
    /// (core sends nothing late), so the app can say so.
    online: AtomicBool,
}

/// One attached session: core's reconnecting attach (`client::reattach`), a local copy
/// of the screen, and what it needs to attach again (after [`crate::Mesh::resume`] or
/// [`SessionHandle::reattach`]).
#[derive(uniffi::Object)]
pub struct SessionHandle {
    /// The session and the way to it.
    pub(crate) target: Target,
    size: Mutex<TermSize>,
    shared: Arc<Shared>,
    /// The current attach (a resume silences it and attaches again).
    pub(crate) attachment: Attachment<ReattachHandle>,
}

impl SessionHandle {
    /// A handle, not yet attached.
    pub(crate) fn new(
        target: Target,
        size: TermSize,
        listener: Arc<dyn ScreenListener>,
    ) -> Arc<Self> {
        let wanted = Arc::new(AtomicBool::new(false));
        Arc::new(Self {
            target,
            size: Mutex::new(size),
            shared: Arc::new(Shared {
                listener,
                parser: Mutex::new(new_parser(size.rows, size.cols)),
                wanted: wanted.clone(),
                online: AtomicBool::new(false),
            }),
            attachment: Attachment::new(wanted),
        })
    }

    /// Attaches (again): a fresh stream, a fresh snapshot. Runs on the runtime.
    pub(crate) async fn attach_now(self: Arc<Self>) -> Result<(), MeshError> {
        let req = AttachRequest {
            session: self.target.session,
            size: Some(*lock(&self.size)),
            scrollback: SCROLLBACK,
            watch_only: false,
        };
        let stream = reattach(self.target.dialer(), req, stream::backoff());
        let shared = self.shared.clone();
        let on_event = move |ev| on_event(&shared, ev);
        self.attachment.attach(stream, first, on_event).await
    }

    /// Tells the listener the session could not be brought back.
    pub(crate) fn report_closed(&self, why: String) {
        self.attachment.give_up();
        self.shared.listener.on_closed(Some(why));
    }

    fn send(&self, bytes: Vec<u8>) -> Result<(), MeshError> {
        let handle = self.attachment.current()?;
        if !self.shared.online.load(Ordering::SeqCst) {
            return Err(MeshError::unreachable(
                "not connected right now: not sent (it reconnects by itself)",
            ));
        }
        handle.input(bytes);
        Ok(())
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl SessionHandle {
    /// The session's id, as 8 hex digits.
    pub fn session_id(&self) -> String {
        self.target.session.to_string()
    }

    /// Sends bytes (keys, paste) to the program.
    pub async fn send_input(&self, bytes: Vec<u8>) -> Result<(), MeshError> {
        self.send(bytes)
    }

    /// Sends text as UTF-8 (use `"\r"` for Enter).
    pub async fn send_text(&self, text: String) -> Result<(), MeshError> {
        self.send(text.into_bytes())
    }

    /// Tells the agent the phone's terminal size; the local mirror follows when the
    /// agent confirms it.
    pub async fn resize(&self, rows: u16, cols: u16) -> Result<(), MeshError> {
        let size = TermSize { rows, cols };
        if !size.is_valid() {
            return Err(MeshError::bad_request(format!(
                "{cols}x{rows} is not a valid size"
            )));
        }
        *lock(&self.size) = size;
        if let Some(h) = self.attachment.get() {
            h.resize(size);
        }
        Ok(())
    }

    /// Detaches; the session keeps running on the machine. No further callbacks come.
    pub async fn detach(&self) -> Result<(), MeshError> {
        self.attachment.detach();
        Ok(())
    }

    /// Attaches again (after a detach, or when the stream was lost): the screen comes
    /// back from a fresh snapshot.
    pub async fn reattach(self: Arc<Self>) -> Result<(), MeshError> {
        let rt = self.target.rt.clone();
        run_on(&rt, self.attach_now()).await
    }

    /// The screen as text, one line per row, from the local mirror.
    pub fn screen_text(&self) -> String {
        lock(&self.shared.parser).screen().contents()
    }

    /// The mirrored screen's size as `[rows, cols]`.
    pub fn screen_size(&self) -> Vec<u16> {
        let (rows, cols) = lock(&self.shared.parser).screen().size();
        vec![rows.get(), cols.get()]
    }
}

/// A terminal dimension for vt100, which wants at least one cell.
fn cells(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).unwrap_or(std::num::NonZeroU16::MIN)
}

/// A fresh screen mirror of `rows` x `cols` with scrollback.
fn new_parser(rows: u16, cols: u16) -> vt100::Parser {
    vt100::Parser::new(cells(rows), cells(cols), SCROLLBACK as usize)
}

/// Whether an attach succeeded, failed, or is still trying.
fn first(ev: &AttachEvent) -> First {
    match ev {
        AttachEvent::Attached { .. } => First::Attached,
        AttachEvent::Closed(e) => First::Failed(e.clone()),
        _ => First::Undecided,
    }
}

/// Feeds the mirror and the listener with one event of the current attach.
fn on_event(shared: &Shared, ev: AttachEvent) {
    match ev {
        AttachEvent::Attached { info, .. } => {
            shared.online.store(true, Ordering::SeqCst);
            *lock(&shared.parser) = new_parser(info.size.rows, info.size.cols);
        }
        AttachEvent::Screen(b) => {
            {
                let mut p = lock(&shared.parser);
                let (rows, cols) = p.screen().size();
                *p = new_parser(rows.get(), cols.get());
                p.process(&b);
            }
            shared.listener.on_output(b.to_vec());
            shared.listener.on_screen_changed();
        }
        AttachEvent::Output(b) => {
            lock(&shared.parser).process(&b);
            shared.listener.on_output(b.to_vec());
            shared.listener.on_screen_changed();
        }
        AttachEvent::Resized(size) => {
            lock(&shared.parser)
                .screen_mut()
                .set_size(cells(size.rows), cells(size.cols));
            shared.listener.on_screen_changed();
        }
        AttachEvent::Exited(info) => {
            shared.online.store(false, Ordering::SeqCst);
            shared.wanted.store(false, Ordering::SeqCst);
            shared.listener.on_exit(info.code);
        }
        AttachEvent::Closed(e) => {
            shared.online.store(false, Ordering::SeqCst);
            shared
                .listener
                .on_closed(Some(MeshError::from(e).to_string()))
        }
        AttachEvent::Notice(e) => tracing::debug!("agent notice: {}", e.message),
        AttachEvent::Reconnecting { error, .. } => {
            shared.online.store(false, Ordering::SeqCst);
            tracing::debug!("re-attaching: {error}")
        }
        AttachEvent::NotSent { bytes } => tracing::debug!("{bytes} bytes typed offline, not sent"),
        AttachEvent::Unconfirmed { bytes } => {
            tracing::debug!("{bytes} bytes typed before a drop, unconfirmed")
        }
        AttachEvent::Detached => shared.online.store(false, Ordering::SeqCst),
    }
}
