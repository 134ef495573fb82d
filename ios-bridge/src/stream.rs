//! What an attached terminal and an attached conversation share: core's reconnecting
//! stream (`client::reattach`, `client::reattach_conversation`) run on the runtime, the
//! first outcome answering whoever attached, and every later event handed to the
//! handle's listener for as long as that attach is the current one.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::sync::mpsc;
use vibemesh_core::{WireError, client::Backoff};

use crate::MeshError;

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

/// Which attach is the current one; bumping it silences the older ones.
#[derive(Default)]
pub(crate) struct Generation(Arc<AtomicU64>);

impl Generation {
    /// Silences every attach started so far.
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Runs `driver` on the runtime and waits for the attach to succeed or fail (`first`
/// tells which); from then on hands every event to `on_event` while no newer attach
/// (or a detach) bumped `generation`. Must run on the runtime.
pub(crate) async fn start<E: Send + 'static>(
    generation: &Generation,
    mut events: mpsc::Receiver<E>,
    driver: impl Future<Output = ()> + Send + 'static,
    first: fn(&E) -> First,
    mut on_event: impl FnMut(E) + Send + 'static,
) -> Result<(), MeshError> {
    let counter = generation.0.clone();
    let mine = counter.load(Ordering::SeqCst);
    tokio::spawn(driver);
    loop {
        let Some(ev) = events.recv().await else {
            return Err(MeshError::other("detached while attaching"));
        };
        match first(&ev) {
            First::Undecided => continue,
            First::Failed(e) => return Err(e.into()),
            First::Attached => {
                on_event(ev);
                break;
            }
        }
    }
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
