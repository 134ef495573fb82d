//! Keeps a session that floods output from starving the others.
//!
//! On Linux with autogroups (the default scheduler setup of most distributions) every
//! session is its own scheduling group, because its holder and its program each start a
//! Unix session. The scheduler then gives every flooding session as much CPU as the agent
//! that serves all of them, and a keystroke in a quiet session waits behind hundreds of
//! runnable floods at every hop. So once a session prints more than [`FLOOD_BYTES`]
//! within a second *while the agent is not keeping up with it* (handing it output
//! blocked for [`AGENT_BEHIND`]), its holder lowers the weight of its own group and its
//! program's to [`FLOOD_NICE`], and restores them when the output pauses for [`CALM`].
//! A flood the agent keeps up with (a big `cat`, a verbose build on a quiet agent)
//! keeps its weight: lowering it would slow the program and the build's compilers,
//! which share its group, for nothing. (The rate is low on purpose: under overload a
//! flood gets little CPU and prints slowly, and a lowered one more slowly still; only a
//! pause ends it, so the weight does not swing back and forth.) Unlike a thread's nice
//! value, an
//! autogroup's may be raised back to 0 without privileges, so this is reversible. A
//! flooding session still gets the whole machine when nothing else wants it: the weight
//! only matters under contention. Where autogroups are off or absent (cgroup CPU
//! control, macOS) the writes fail or change nothing, and nothing else depends on them.

use std::time::{Duration, Instant};

/// Output within one [`WINDOW`] above which a session counts as flooding: about 1 500
/// lines, more than anyone reads in a second.
pub const FLOOD_BYTES: usize = 128 << 10;
/// Writing one message to the agent taking this long means the agent is behind: the
/// socket was full and the agent did not drain it at once.
pub const AGENT_BEHIND: Duration = Duration::from_millis(5);
/// How long output is counted over.
const WINDOW: Duration = Duration::from_secs(1);
/// A lowered session is restored after this long without output. Long enough that a
/// lowered flood, which gets little CPU while others run, is not mistaken for a pause.
pub const CALM: Duration = Duration::from_secs(3);
/// The autogroup nice value of a flooding session: the lowest weight there is.
const FLOOD_NICE: i32 = 19;

/// Watches one session's output rate and sets its scheduling weight.
#[derive(Debug)]
pub struct FloodGuard {
    /// The groups to reweight: the program's, and the holder's own when it is a process
    /// of its own (inside the agent it would be the agent's group).
    pids: Vec<u32>,
    window_start: Instant,
    window_bytes: usize,
    /// The agent fell behind during this window.
    window_behind: bool,
    last_output: Instant,
    lowered: bool,
}

impl FloodGuard {
    /// A guard for the program `child`; `own_process` when the holder runs apart from
    /// the agent.
    pub fn new(child: Option<u32>, own_process: bool) -> Self {
        let mut pids: Vec<u32> = child.into_iter().collect();
        if own_process {
            pids.push(std::process::id());
        }
        let now = Instant::now();
        Self {
            pids,
            window_start: now,
            window_bytes: 0,
            window_behind: false,
            last_output: now,
            lowered: false,
        }
    }

    /// Whether the session's weight is lowered now.
    pub fn lowered(&self) -> bool {
        self.lowered
    }

    /// Counts `n` bytes of output read at `now`; `agent_behind` when writing to the
    /// agent took (or is taking) [`AGENT_BEHIND`] or more.
    pub fn output(&mut self, n: usize, now: Instant, agent_behind: bool) {
        if now.duration_since(self.last_output) >= CALM {
            self.quiet();
        }
        self.last_output = now;
        if now.duration_since(self.window_start) >= WINDOW {
            self.window_start = now;
            self.window_bytes = 0;
            self.window_behind = false;
        }
        self.window_bytes += n;
        self.window_behind |= agent_behind;
        if self.window_bytes >= FLOOD_BYTES && self.window_behind && !self.lowered {
            self.set(FLOOD_NICE);
        }
    }

    /// Restores the weight: the program has printed nothing for [`CALM`].
    pub fn quiet(&mut self) {
        if self.lowered {
            self.set(0);
        }
    }

    fn set(&mut self, nice: i32) {
        self.lowered = nice != 0;
        for pid in &self.pids {
            set_group_nice(*pid, nice);
        }
    }
}

#[cfg(target_os = "linux")]
fn set_group_nice(pid: u32, nice: i32) {
    // Fails harmlessly where autogroups are off or the process is gone.
    let _ = std::fs::write(format!("/proc/{pid}/autogroup"), nice.to_string());
}

#[cfg(not(target_os = "linux"))]
fn set_group_nice(_pid: u32, _nice: i32) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(g: &mut FloodGuard, start: Instant, ms: u64, bytes_per_ms: usize) -> Instant {
        feed_with(g, start, ms, bytes_per_ms, true)
    }

    fn feed_with(
        g: &mut FloodGuard,
        start: Instant,
        ms: u64,
        bytes_per_ms: usize,
        agent_behind: bool,
    ) -> Instant {
        let mut t = start;
        for _ in 0..ms / 10 {
            t += Duration::from_millis(10);
            g.output(bytes_per_ms * 10, t, agent_behind);
        }
        t
    }

    #[test]
    fn a_sustained_flood_lowers_and_calm_restores() {
        let start = Instant::now();
        let mut g = FloodGuard::new(None, false);
        // 100 KB/s: a busy build log.
        let t = feed(&mut g, start, 2000, 100);
        assert!(!g.lowered());
        // 10 MB/s for a second.
        let t = feed(&mut g, t, 1000, 10_000);
        assert!(g.lowered());
        // Slower, but still printing: stays lowered.
        let t = feed(&mut g, t, 1000, 100);
        assert!(g.lowered());
        // A pause restores it.
        let t = t + CALM;
        g.output(10, t, false);
        assert!(!g.lowered());
        feed(&mut g, t, 1000, 10_000);
        assert!(g.lowered());
        g.quiet();
        assert!(!g.lowered());
    }

    #[test]
    fn a_flood_the_agent_keeps_up_with_keeps_its_weight() {
        let start = Instant::now();
        let mut g = FloodGuard::new(None, false);
        let t = feed_with(&mut g, start, 2000, 10_000, false);
        assert!(!g.lowered());
        feed_with(&mut g, t, 100, 10_000, true);
        assert!(g.lowered());
    }

    #[test]
    fn a_short_burst_does_not_lower() {
        let start = Instant::now();
        let mut g = FloodGuard::new(None, false);
        let t = feed(&mut g, start, 10, 10_000);
        feed(&mut g, t, 1000, 10);
        assert!(!g.lowered());
    }
}
