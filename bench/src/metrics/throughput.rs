//! Output throughput to one attached viewer, and what it costs the agents in CPU.
//!
//! The session sleeps half a second (so the client is attached before output starts),
//! prints `seq 1 N` and then `__DONE__`. The clock runs from the first output byte the
//! client receives to the frame holding `__DONE__`; the rate is the program's output
//! (the bytes it put through the PTY) over that time.
//!
//! A viewer that falls behind the agent's broadcast ring is sent a fresh snapshot
//! instead of the output it missed (a large snapshot goes as one `Snapshot` frame and
//! then `Output` frames, so the client cannot tell its tail from live output). Such
//! re-snapshots are counted: a run with any is lossy and does not meet the target.
//! Every line is checked ([`SeqCheck`]), so output lost or doubled without a
//! re-snapshot shows too.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use vibemesh_core::{
    client::{ControlClient, Peer},
    proto::attach::ServerFrame,
};

use super::{
    Plan,
    seqcheck::{SeqCheck, SeqVerdict},
};
use crate::{
    client::{Finder, attach, create_request, kill_all, next_frame},
    procfs,
};

/// What one throughput run measured.
#[derive(Debug, Clone, Copy)]
pub struct ThroughputResult {
    /// Bytes the client received in `Output` frames (with the tails of re-snapshots).
    pub output_bytes: u64,
    /// Bytes the client received in `Snapshot` frames after the first one.
    pub snapshot_bytes: u64,
    /// The bytes the program wrote through the PTY (`\n` becomes `\r\n`).
    pub expected_bytes: u64,
    /// From the first output byte to `__DONE__`.
    pub elapsed: Duration,
    /// Times the viewer fell behind and was sent a snapshot instead of output.
    pub resnapshots: u32,
    /// Output frames received.
    pub frames: u64,
    /// CPU time of the agent running the session, over the same interval.
    pub cpu_session_agent: Duration,
    /// CPU time of the session's holder (its PTY reader and screen), when it was found.
    pub cpu_holder: Option<Duration>,
    /// CPU time of the agent the client talks to (when it is another process).
    pub cpu_client_agent: Option<Duration>,
    /// CPU time of this benchmark process (the client) over the same interval.
    pub cpu_bench: Duration,
    /// Whether every line arrived once, in order.
    pub check: SeqVerdict,
}

impl ThroughputResult {
    /// Megabytes (10^6 bytes) of program output per second, as the viewer saw it end.
    pub fn mb_per_s(&self) -> f64 {
        self.expected_bytes as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Megabytes per second the client received in frames of any kind; above
    /// [`Self::mb_per_s`] only when re-snapshots repeated output.
    pub fn received_mb_per_s(&self) -> f64 {
        (self.output_bytes + self.snapshot_bytes) as f64
            / 1e6
            / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// CPU seconds per megabyte of output of the agents and the holder together (what
    /// carrying the output cost, the client aside).
    pub fn cpu_s_per_mb(&self) -> f64 {
        let cpu = self.cpu_session_agent
            + self.cpu_holder.unwrap_or_default()
            + self.cpu_client_agent.unwrap_or_default();
        cpu.as_secs_f64() / (self.expected_bytes as f64 / 1e6).max(1e-9)
    }

    /// As JSON.
    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "output_bytes": self.output_bytes,
            "snapshot_bytes": self.snapshot_bytes,
            "expected_bytes": self.expected_bytes,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "mb_per_s": self.mb_per_s(),
            "received_mb_per_s": self.received_mb_per_s(),
            "resnapshots": self.resnapshots,
            "output_frames": self.frames,
            "cpu_s_session_agent": self.cpu_session_agent.as_secs_f64(),
            "cpu_s_holder": self.cpu_holder.map(|d| d.as_secs_f64()),
            "cpu_s_per_mb_agents_and_holder": self.cpu_s_per_mb(),
            "cpu_s_client_agent": self.cpu_client_agent.map(|d| d.as_secs_f64()),
            "cpu_s_bench_client": self.cpu_bench.as_secs_f64(),
            "lines_checked": self.check.lines,
            "silent_gaps": self.check.gaps,
            "silent_lines_lost": self.check.lines_lost,
            "repeats": self.check.repeats,
        })
    }
}

/// Bytes `seq 1 n` puts through a PTY: each number's digits plus `\r\n`.
fn seq_bytes(n: u64) -> u64 {
    let mut total = 0;
    let mut lo = 1u64;
    let mut digits = 1u64;
    while lo <= n {
        let hi = (lo * 10 - 1).min(n);
        total += (hi - lo + 1) * (digits + 2);
        lo *= 10;
        digits += 1;
    }
    total
}

/// CPU time used so far by the session agent, its holder, the client agent and this
/// process.
#[derive(Debug, Clone, Copy)]
struct Cpu {
    session: Duration,
    holder: Option<Duration>,
    client: Option<Duration>,
    bench: Duration,
}

impl Cpu {
    fn read(
        session: SessionAgent<'_>,
        holder: Option<u32>,
        client: Option<u32>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            session: procfs::cpu_time(session.pid)?,
            holder: holder.map(procfs::cpu_time).transpose()?,
            client: client.map(procfs::cpu_time).transpose()?,
            bench: procfs::cpu_time(std::process::id())?,
        })
    }
}

/// The agent that runs the sessions: its pid and its home (where its holders' sockets
/// are).
#[derive(Debug, Clone, Copy)]
pub struct SessionAgent<'a> {
    /// Its process.
    pub pid: u32,
    /// Its home folder.
    pub home: &'a Path,
}

/// Runs one throughput test. `session_agent` is the agent that runs the session;
/// `client_agent` the pid of the agent relaying to us, if different.
pub async fn run(
    via: &Peer,
    control: &ControlClient,
    plan: &Plan,
    session_agent: SessionAgent<'_>,
    client_agent: Option<u32>,
) -> anyhow::Result<ThroughputResult> {
    let script = format!("sleep 0.5; seq 1 {}; echo __DONE__", plan.seq_lines);
    let info = control
        .create_session(create_request(&["sh", "-c", &script]))
        .await
        .context("cannot create the throughput session")?;
    let socket = session_agent
        .home
        .join("holders")
        .join(format!("{}.sock", info.id));
    let holder = procfs::holders(session_agent.home)
        .into_iter()
        .find_map(|(pid, s)| (s == socket).then_some(pid));
    let (mut reader, _writer, snapshot) = attach(via, info.id).await?;
    let mut finder = Finder::new(b"__DONE__");
    if finder.feed(&snapshot) {
        bail!("the output was over before the client attached; the attach took over 0.5 s");
    }
    let mut start: Option<(Instant, Cpu)> = None;
    let (mut output_bytes, mut snapshot_bytes) = (0u64, 0u64);
    let (mut frames, mut resnapshots) = (0u64, 0u32);
    let mut check = SeqCheck::default();
    loop {
        let frame = next_frame(&mut reader).await?;
        let chunk = match &frame {
            ServerFrame::Output(b) => {
                frames += 1;
                output_bytes += b.len() as u64;
                check.feed(b);
                b
            }
            ServerFrame::Snapshot(b) => {
                resnapshots += 1;
                snapshot_bytes += b.len() as u64;
                finder.reset();
                check.resync();
                b
            }
            ServerFrame::Exited(e) => bail!(
                "the session ended ({e}) before __DONE__ arrived, after {frames} output \
                 frames ({output_bytes} bytes) and {resnapshots} re-snapshots \
                 ({snapshot_bytes} bytes); lines: {:?}",
                check.verdict
            ),
            _ => continue,
        };
        if start.is_none() {
            start = Some((
                Instant::now(),
                Cpu::read(session_agent, holder, client_agent)?,
            ));
        }
        if finder.feed(chunk) {
            break;
        }
    }
    let done = Instant::now();
    let after = Cpu::read(session_agent, holder, client_agent)?;
    let (t0, before) = start.context("no output arrived")?;
    Ok(ThroughputResult {
        output_bytes,
        snapshot_bytes,
        expected_bytes: seq_bytes(plan.seq_lines) + "__DONE__\r\n".len() as u64,
        elapsed: done - t0,
        resnapshots,
        frames,
        cpu_session_agent: after.session.saturating_sub(before.session),
        cpu_holder: before
            .holder
            .zip(after.holder)
            .map(|(a, b)| b.saturating_sub(a)),
        cpu_client_agent: before
            .client
            .zip(after.client)
            .map(|(a, b)| b.saturating_sub(a)),
        cpu_bench: after.bench.saturating_sub(before.bench),
        check: check.verdict,
    })
}

/// Several runs of the same test, since PTY throughput on a small VM varies from run to
/// run by tens of percent.
#[derive(Debug, Clone)]
pub struct Runs(pub Vec<ThroughputResult>);

impl Runs {
    /// The run with the median rate (the lower middle one for an even count).
    pub fn median(&self) -> Option<ThroughputResult> {
        let mut v = self.0.clone();
        v.sort_by(|a, b| a.mb_per_s().total_cmp(&b.mb_per_s()));
        v.get(v.len().saturating_sub(1) / 2).copied()
    }

    /// Each run's rate, in the order they ran.
    pub fn rates(&self) -> Vec<f64> {
        self.0.iter().map(ThroughputResult::mb_per_s).collect()
    }

    /// As JSON: the median run and every run.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "median": self.median().map(ThroughputResult::to_json),
            "runs": self.0.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
        })
    }
}

/// Runs the test `plan.throughput_runs` times (at least once), removing each finished
/// session before the next run.
pub async fn repeat(
    via: &Peer,
    control: &ControlClient,
    plan: &Plan,
    session_agent: SessionAgent<'_>,
    client_agent: Option<u32>,
) -> anyhow::Result<Runs> {
    let mut runs = Vec::new();
    for _ in 0..plan.throughput_runs.max(1) {
        runs.push(run(via, control, plan, session_agent, client_agent).await?);
        kill_all(control).await;
    }
    Ok(Runs(runs))
}

#[cfg(test)]
mod tests {
    use super::seq_bytes;

    #[test]
    fn seq_byte_count() {
        assert_eq!(seq_bytes(9), 9 * 3);
        assert_eq!(seq_bytes(12), 9 * 3 + 3 * 4);
        // 100 888 897 digits plus 2 bytes for each of 14 M lines.
        assert_eq!(seq_bytes(14_000_000), 100_888_897 + 28_000_000);
    }
}
