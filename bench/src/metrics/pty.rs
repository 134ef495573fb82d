//! A reference for the throughput test: the same program writing into a PTY that a
//! plain loop drains (64 KiB reads, as the agent's PTY reader does), with no VibeMesh in
//! the way. It shows what the kernel's PTY costs on this machine. It is not a strict
//! upper bound: a PTY read returns at most about 4 KiB, and how much is there depends on
//! the reader's pacing, so a busier reader (like the agent) can see larger reads.

use std::{
    io::Read,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

use super::Plan;
use crate::client::Finder;

/// Bytes per read, as in the agent.
const READ_BUF: usize = 64 * 1024;

/// How fast the bare PTY went.
#[derive(Debug, Clone, Copy)]
pub struct BarePty {
    /// Bytes read from the PTY.
    pub bytes: u64,
    /// From the first byte read to `__DONE__`.
    pub elapsed: Duration,
}

impl BarePty {
    /// Megabytes (10^6 bytes) per second.
    pub fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// As JSON.
    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "bytes": self.bytes,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "mb_per_s": self.mb_per_s(),
        })
    }
}

/// Runs `seq 1 N` in a fresh 24x80 PTY and reads it dry (blocking; run it off the
/// async runtime).
pub fn run(plan: &Plan) -> anyhow::Result<BarePty> {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 80,
            pixel_width: 0,
            pixel_height: 0,
        })
        .map_err(|e| anyhow::anyhow!("cannot open a PTY: {e}"))?;
    let mut cmd = CommandBuilder::new("sh");
    cmd.args(["-c", &format!("seq 1 {}; echo __DONE__", plan.seq_lines)]);
    let mut child = pair
        .slave
        .spawn_command(cmd)
        .map_err(|e| anyhow::anyhow!("cannot start seq in a PTY: {e}"))?;
    drop(pair.slave);
    let mut reader = pair
        .master
        .try_clone_reader()
        .map_err(|e| anyhow::anyhow!("cannot read the PTY: {e}"))?;
    let mut buf = vec![0u8; READ_BUF];
    let mut finder = Finder::new(b"__DONE__");
    let mut bytes = 0u64;
    let mut start = None;
    loop {
        let n = reader.read(&mut buf).context("reading the PTY failed")?;
        if n == 0 {
            bail!("the PTY closed before __DONE__");
        }
        let t0 = *start.get_or_insert_with(Instant::now);
        bytes += n as u64;
        if finder.feed(&buf[..n]) {
            let elapsed = t0.elapsed();
            let _ = child.wait();
            return Ok(BarePty { bytes, elapsed });
        }
    }
}
