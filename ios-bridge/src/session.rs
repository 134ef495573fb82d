//! An attached terminal session: a local vt100 mirror of the screen, raw output for a
//! terminal view, and input, resize, detach and re-attach.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

use tokio::{runtime::Handle, task::JoinHandle};
use vibemesh_core::{
    client::{AttachReader, AttachWriter},
    proto::{SessionId, TermSize, attach::AttachRequest, attach::ServerFrame},
};

use crate::{MeshError, links::Links, runtime::run_on, store::Known};

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

/// Everything a reader task and the handle share.
struct Shared {
    listener: Arc<dyn ScreenListener>,
    parser: Mutex<vt100::Parser>,
    /// Bumped on every attach and detach; a reader from an older attach stays quiet.
    generation: AtomicU64,
    /// Attached, or meant to be (a resume re-attaches it); false after a detach or an
    /// exit.
    wanted: AtomicBool,
}

/// One attached session. Keeps what it needs to attach again (after [`crate::Mesh::resume`]
/// or [`SessionHandle::reattach`]), and a local copy of the screen.
#[derive(uniffi::Object)]
pub struct SessionHandle {
    rt: Handle,
    links: Arc<Links>,
    machine: Known,
    session: SessionId,
    size: Mutex<TermSize>,
    shared: Arc<Shared>,
    writer: Arc<tokio::sync::Mutex<Option<AttachWriter>>>,
    reader: Mutex<Option<JoinHandle<()>>>,
}

impl SessionHandle {
    /// A handle, not yet attached.
    pub(crate) fn new(
        rt: Handle,
        links: Arc<Links>,
        machine: Known,
        session: SessionId,
        size: TermSize,
        listener: Arc<dyn ScreenListener>,
    ) -> Arc<Self> {
        Arc::new(Self {
            rt,
            links,
            machine,
            session,
            size: Mutex::new(size),
            shared: Arc::new(Shared {
                listener,
                parser: Mutex::new(new_parser(size.rows, size.cols)),
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

    /// Attaches (again): a fresh stream, a fresh snapshot, a fresh reader. Runs on the
    /// runtime.
    pub(crate) async fn attach_now(self: Arc<Self>) -> Result<(), MeshError> {
        let generation = self.shared.generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.stop_reader();
        if let Some(mut w) = self.writer.lock().await.take() {
            let _ = w.finish().await;
        }
        let size = *lock(&self.size);
        let conn = self.links.connection(&self.machine).await?;
        let req = AttachRequest {
            session: self.session,
            size: Some(size),
            scrollback: SCROLLBACK,
            watch_only: false,
        };
        let attached = match conn.attach(req.clone()).await {
            Err(e) if crate::error::is_connection_lost(&e) => {
                self.links.drop_link(&self.machine.id, b"stale");
                let conn = self.links.connection(&self.machine).await?;
                conn.attach(req).await.map_err(|e| conn.closed_or(e))
            }
            r => r,
        };
        let (info, reader, writer) = attached?;
        *lock(&self.shared.parser) = new_parser(info.size.rows, info.size.cols);
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

    /// Tells the listener the session could not be brought back.
    pub(crate) fn report_closed(&self, why: String) {
        self.shared.wanted.store(false, Ordering::SeqCst);
        self.shared.listener.on_closed(Some(why));
    }

    fn stop_reader(&self) {
        if let Some(t) = lock(&self.reader).take() {
            t.abort();
        }
    }

    async fn send(&self, bytes: Vec<u8>) -> Result<(), MeshError> {
        let writer = self.writer.clone();
        run_on(&self.rt, async move {
            let mut w = writer.lock().await;
            let w = w
                .as_mut()
                .ok_or_else(|| MeshError::other("detached: attach again first"))?;
            w.input(bytes).await.map_err(MeshError::from)
        })
        .await
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl SessionHandle {
    /// The session's id, as 8 hex digits.
    pub fn session_id(&self) -> String {
        self.session.to_string()
    }

    /// Sends bytes (keys, paste) to the program.
    pub async fn send_input(&self, bytes: Vec<u8>) -> Result<(), MeshError> {
        self.send(bytes).await
    }

    /// Sends text as UTF-8 (use `"\r"` for Enter).
    pub async fn send_text(&self, text: String) -> Result<(), MeshError> {
        self.send(text.into_bytes()).await
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
        let writer = self.writer.clone();
        run_on(&self.rt, async move {
            match writer.lock().await.as_mut() {
                Some(w) => w.resize(size).await.map_err(MeshError::from),
                None => Ok(()),
            }
        })
        .await
    }

    /// Detaches; the session keeps running on the machine. No further callbacks come.
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

    /// Attaches again (after a detach, or when the stream was lost): the screen comes
    /// back from a fresh snapshot.
    pub async fn reattach(self: Arc<Self>) -> Result<(), MeshError> {
        let rt = self.rt.clone();
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

impl Drop for SessionHandle {
    fn drop(&mut self) {
        self.stop_reader();
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

/// Reads one attach stream until it ends, feeding the mirror and the listener.
async fn read_frames(shared: Arc<Shared>, mut reader: AttachReader, generation: u64) {
    let current = |s: &Shared| s.generation.load(Ordering::SeqCst) == generation;
    let end = loop {
        let frame = reader.next().await;
        if !current(&shared) {
            return;
        }
        match frame {
            Ok(Some(ServerFrame::Snapshot(b))) => {
                {
                    let mut p = lock(&shared.parser);
                    let (rows, cols) = p.screen().size();
                    *p = new_parser(rows.get(), cols.get());
                    p.process(&b);
                }
                shared.listener.on_output(b.to_vec());
                shared.listener.on_screen_changed();
            }
            Ok(Some(ServerFrame::Output(b))) => {
                lock(&shared.parser).process(&b);
                shared.listener.on_output(b.to_vec());
                shared.listener.on_screen_changed();
            }
            Ok(Some(ServerFrame::Resized(size))) => {
                lock(&shared.parser)
                    .screen_mut()
                    .set_size(cells(size.rows), cells(size.cols));
                shared.listener.on_screen_changed();
            }
            Ok(Some(ServerFrame::Exited(info))) => {
                shared.wanted.store(false, Ordering::SeqCst);
                shared.listener.on_exit(info.code);
                return;
            }
            Ok(Some(ServerFrame::Notice(e))) => {
                tracing::debug!("agent notice: {}", e.message);
            }
            // Acknowledges numbered keys, which this client does not send.
            Ok(Some(ServerFrame::Typed(_))) => {}
            Ok(Some(ServerFrame::Closed(e))) => break Some(MeshError::from(e).to_string()),
            Ok(Some(ServerFrame::Attached(_) | ServerFrame::Refused(_))) => {
                break Some("unexpected frame on an attached stream".to_string());
            }
            Ok(None) => break None,
            Err(e) => break Some(MeshError::from(e).to_string()),
        }
    };
    if current(&shared) {
        shared.listener.on_closed(end);
    }
}
