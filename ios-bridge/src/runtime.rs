//! The tokio runtime a [`crate::Mesh`] owns: all network work and frame reading runs on
//! it, never on the caller's thread, and a panic or a cancelled task comes back as a
//! [`MeshError`] instead of crossing the boundary.

use std::future::Future;

use tokio::runtime::{Handle, Runtime};

use crate::MeshError;

/// Worker threads: enough for a phone (a few streams), small enough to be cheap.
const WORKERS: usize = 2;

/// Owns the runtime; dropping it shuts the runtime down without blocking, which is safe
/// from any thread (even one of the runtime's own, or inside a foreign async call).
pub(crate) struct RuntimeOwner {
    rt: Option<Runtime>,
}

impl RuntimeOwner {
    /// Starts the runtime.
    pub(crate) fn new() -> Result<Self, MeshError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .thread_name("vibemesh-ios")
            .enable_all()
            .build()
            .map_err(|e| MeshError::io(format!("cannot start the network threads: {e}")))?;
        Ok(Self { rt: Some(rt) })
    }

    /// A handle to spawn on.
    pub(crate) fn handle(&self) -> Option<Handle> {
        self.rt.as_ref().map(|rt| rt.handle().clone())
    }
}

impl Drop for RuntimeOwner {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Runs `fut` on the runtime behind `handle` and waits for it from whatever executor the
/// caller uses. A panic inside or a runtime that shut down is an error, not a crash.
pub(crate) async fn run_on<T, F>(handle: &Handle, fut: F) -> Result<T, MeshError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, MeshError>> + Send + 'static,
{
    match handle.spawn(fut).await {
        Ok(r) => r,
        Err(e) if e.is_panic() => Err(MeshError::other(format!(
            "internal error (a task panicked): {}",
            panic_text(e.into_panic())
        ))),
        Err(_) => Err(MeshError::other("the mesh was closed")),
    }
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_and_shutdown_become_errors() {
        let owner = RuntimeOwner::new().unwrap();
        let h = owner.handle().unwrap();
        let outer = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let ok = outer.block_on(run_on(&h, async { Ok(7) }));
        assert_eq!(ok, Ok(7));
        let boom: Result<(), _> = outer.block_on(run_on(&h, async { panic!("boom") }));
        assert!(boom.unwrap_err().message().contains("boom"));
        drop(owner);
        let closed = outer.block_on(run_on(&h, async { Ok(1) }));
        assert!(closed.is_err());
    }
}
