//! What an attached terminal and an attached conversation share: core's reconnecting
//! stream (`client::reattach`, `client::reattach_conversation`) run on the runtime, the
//! first outcome answering whoever attached, and every later event handed to the
//! handle's listener for as long as that attach is the current one.

use std::{
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::{runtime::Handle, sync::mpsc};
use vibemesh_core::{
    WireError,
    client::{Backoff, ReattachHandle, StreamHandle},
    proto::SessionId,
};

use crate::{
    MeshError,
    links::{Dialed, Links},
    session::lock,
    store::Known,
};

/// What a handle attaches to: a session on a machine, through the phone's connections,
/// on the mesh's runtime.
pub(crate) struct Target {
    /// The runtime attaches run on.
    pub rt: Handle,
    /// The phone's connections.
    pub links: Arc<Links>,
    /// The machine.
    pub machine: Known,
    /// The session there.
    pub session: SessionId,
}

impl Target {
    /// Fresh streams to the machine for core's driver (see [`Links::dialer`]).
    pub fn dialer(&self) -> impl FnMut() -> Dialed + Send + 'static {
        self.links.dialer(&self.machine)
    }
}

/// How an attach retries: once, quickly, over a fresh connection (the one it was on
/// may be dead without knowing it). After that the listener hears `on_closed` and the
/// app decides (`reattach`, `Mesh::resume`), as it always did.
pub(crate) fn backoff() -> Backoff {
    Backoff {
        first: Duration::from_millis(100),
        max: Duration::from_secs(1),
        max_tries: Some(1),
    }
}

/// Where an attach stands after one of its events.
pub(crate) enum First {
    /// Attached: the attach succeeded, and this event is the first for the listener.
    Attached,
    /// It failed for good: the caller gets this error, the listener hears nothing.
    Failed(WireError),
    /// Not decided yet (a retry is coming).
    Undecided,
}

/// A handle to core's driver that can stop it.
pub(crate) trait Detach: Clone {
    /// Stops the driver; the session goes on.
    fn detach(&self);
}

impl Detach for ReattachHandle {
    fn detach(&self) {
        ReattachHandle::detach(self);
    }
}

impl<C> Detach for StreamHandle<C> {
    fn detach(&self) {
        StreamHandle::detach(self);
    }
}

/// The attach of one terminal or conversation handle: the current driver's handle,
/// which attach is current (bumping it silences the older ones), and whether the handle
/// is meant to be attached (a resume re-attaches it).
pub(crate) struct Attachment<H> {
    generation: Arc<AtomicU64>,
    handle: Mutex<Option<H>>,
    wanted: Arc<AtomicBool>,
}

impl<H: Detach> Attachment<H> {
    /// Not attached; `wanted` is shared with the event handler (an exit clears it).
    pub fn new(wanted: Arc<AtomicBool>) -> Self {
        Self {
            generation: Arc::default(),
            handle: Mutex::new(None),
            wanted,
        }
    }

    /// Whether a resume should re-attach this handle.
    pub fn wants_attached(&self) -> bool {
        self.wanted.load(Ordering::SeqCst)
    }

    /// Silences the current attach and ends it (a new one replaces it, or none).
    pub fn quiesce(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(h) = lock(&self.handle).take() {
            h.detach();
        }
    }

    /// Detaches for good: no resume brings it back, no callback follows.
    pub fn detach(&self) {
        self.give_up();
        self.quiesce();
    }

    /// No resume brings it back (it could not be brought back).
    pub fn give_up(&self) {
        self.wanted.store(false, Ordering::SeqCst);
    }

    /// The current attach's handle, or an error when detached.
    pub fn current(&self) -> Result<H, MeshError> {
        lock(&self.handle)
            .clone()
            .ok_or_else(|| MeshError::other("detached: attach again first"))
    }

    /// The current attach's handle, if any.
    pub fn get(&self) -> Option<H> {
        lock(&self.handle).clone()
    }

    /// Replaces the current attach with core's driver `stream` and waits for it to
    /// succeed or fail (`first` tells which); from then on hands every event to
    /// `on_event` until a newer attach or a detach. Must run on the runtime.
    pub async fn attach<E: Send + 'static>(
        &self,
        (handle, mut events, driver): (
            H,
            mpsc::Receiver<E>,
            impl Future<Output = ()> + Send + 'static,
        ),
        first: fn(&E) -> First,
        mut on_event: impl FnMut(E) + Send + 'static,
    ) -> Result<(), MeshError> {
        self.quiesce();
        *lock(&self.handle) = Some(handle);
        let counter = self.generation.clone();
        let mine = counter.load(Ordering::SeqCst);
        tokio::spawn(driver);
        let outcome = loop {
            let Some(ev) = events.recv().await else {
                break Err(MeshError::other("detached while attaching"));
            };
            match first(&ev) {
                First::Undecided => continue,
                First::Failed(e) => break Err(e.into()),
                First::Attached => {
                    on_event(ev);
                    break Ok(());
                }
            }
        };
        if let Err(e) = outcome {
            if counter.load(Ordering::SeqCst) == mine {
                lock(&self.handle).take();
            }
            return Err(e);
        }
        self.wanted.store(true, Ordering::SeqCst);
        tokio::spawn(async move {
            // Drained to the end even when silenced, so a detached driver finishes its
            // stream cleanly.
            while let Some(ev) = events.recv().await {
                if counter.load(Ordering::SeqCst) == mine {
                    on_event(ev);
                }
            }
        });
        Ok(())
    }
}
