//! What the crate's tests share.

use std::time::Duration;

pub use crate::nz;

/// This thread's time on a CPU so far (`/proc/thread-self/schedstat`): what a busy
/// machine does not inflate, unlike wall time.
pub fn on_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat.split(' ').next().and_then(|n| n.parse().ok());
    Duration::from_nanos(ns.unwrap_or(0))
}
