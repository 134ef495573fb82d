//! Overload: many sessions printing as fast as they can, three viewers on each, one of
//! which never reads. Measures the agent's peak memory (and its holders'), the keystroke
//! echo of one more session while the flood runs, and that everything still answers
//! afterwards (no deadlock). One agent, reached through its own socket.
//!
//! ```text
//! cargo build --release -p vibemesh-agent -p vibemesh-bench && target/release/vibemesh-bench --load
//! ```

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use vibemesh_core::{
    client::{LocalRoute, Peer},
    proto::{attach::ServerFrame, local::Target},
};

use crate::{
    agents::AgentProc,
    client::{attach, control_client, create_request, kill_all, ms_since, next_frame},
    procfs,
};

/// How big the overload is.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// Sessions flooding output.
    pub sessions: usize,
    /// How long the flood runs while memory and echo are sampled.
    pub secs: u64,
    /// Keystrokes timed during the flood.
    pub keys: usize,
}

/// The start of a flood, reported apart from the rest.
const FLOOD_START: Duration = Duration::from_secs(3);

/// What the overload showed.
#[derive(Debug, Clone)]
pub struct LoadResult {
    plan: LoadPlan,
    rss_start: u64,
    rss_peak: u64,
    /// What `vibemesh_agent::output_memory_bound` allows over the RSS at start.
    rss_bound: u64,
    holders_rss: u64,
    holders: usize,
    echo_idle: (f64, f64),
    echo_loaded: (f64, f64),
    /// The same over the flood's first [`FLOOD_START`] and over the rest: whether the
    /// slow keys are the start's (before the flood guard lowers the floods) or steady.
    echo_start: (f64, f64),
    echo_steady: (f64, f64),
    bytes_read: u64,
    slowest_session_bytes: u64,
    list_after_ms: f64,
    kill_all_ms: f64,
}

fn median_p99(v: Vec<f64>) -> (f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let s = crate::metrics::Summary::of(&v);
    (s.p50, s.p99)
}

/// Keystroke echo through `cat`: `n` keys, each waiting for its echo.
async fn echo(
    via: &Peer,
    id: vibemesh_core::proto::SessionId,
    n: usize,
) -> anyhow::Result<Vec<f64>> {
    let (mut reader, mut writer, _) = attach(via, id).await?;
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let key = b'a' + (i % 26) as u8;
        samples.push(crate::metrics::echo::echo_key(&mut reader, &mut writer, key).await?);
        // Type like a person, not a script: a key every 50 ms.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A fresh line for the next round (canonical mode keeps at most 4095 bytes).
    writer.input(b"\r".to_vec()).await.ok();
    Ok(samples)
}

/// How many `vibemesh-holder`s the agent at `home` has, and their resident memory.
fn holders_rss(home: &std::path::Path) -> (usize, u64) {
    let holders = procfs::holders(home);
    let total = holders
        .iter()
        .map(|(pid, _)| procfs::rss_bytes(*pid).unwrap_or(0))
        .sum();
    (holders.len(), total)
}

/// Runs the overload against a fresh agent of `bin`.
pub async fn run(bin: &std::path::Path, plan: &LoadPlan) -> anyhow::Result<LoadResult> {
    let mut agent = AgentProc::start(bin, "load", false)?;
    agent.wait_ready().await?;
    let result = run_on(&agent, plan).await;
    agent.stop()?;
    result
}

async fn run_on(agent: &AgentProc, plan: &LoadPlan) -> anyhow::Result<LoadResult> {
    let pid = agent.pid()?;
    let via = Peer::Local(LocalRoute::new(agent.socket(), Target::Local));
    let control = control_client(&via).await?;
    let rss_start = procfs::rss_bytes(pid)?;
    let echo_session = control.create_session(create_request(&["cat"])).await?.id;
    let echo_idle = median_p99(echo(&via, echo_session, plan.keys).await?);

    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    let mut stuck = Vec::new();
    let mut starters = Vec::new();
    // Every session and viewer is set up first, then all start flooding at once.
    let script = format!("read go; exec yes '{}'", "flood ".repeat(12));
    for _ in 0..plan.sessions {
        let id = control
            .create_session(create_request(&["sh", "-c", &script]))
            .await
            .context("cannot create a flooding session")?
            .id;
        for i in 0..2 {
            let (mut reader, writer, _) = attach(&via, id).await?;
            // A viewer whose write side closes has detached: keep every writer open.
            let kept = if i == 0 {
                starters.push(writer);
                None
            } else {
                Some(writer)
            };
            let (stop, count) = (stop.clone(), Arc::new(AtomicU64::new(0)));
            let c = count.clone();
            tokio::spawn(async move {
                let _kept = kept;
                while !stop.load(Ordering::Relaxed) {
                    match next_frame(&mut reader).await {
                        Ok(ServerFrame::Output(b) | ServerFrame::Snapshot(b)) => {
                            c.fetch_add(b.len() as u64, Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        Err(_) => return,
                    }
                }
            });
            readers.push(count);
        }
        // The viewer that never reads: attached, then left alone.
        stuck.push(attach(&via, id).await?);
    }
    let home = agent.home().to_path_buf();
    for w in &mut starters {
        w.input(b"go\r".to_vec())
            .await
            .context("cannot start a flood")?;
    }
    let t0 = Instant::now();
    let mut rss_peak = rss_start;
    let sampler = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut peak = 0;
            while !stop.load(Ordering::Relaxed) {
                peak = peak.max(procfs::rss_bytes(pid).unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            peak
        })
    };
    let (mut loaded, mut start, mut steady) = (Vec::new(), Vec::new(), Vec::new());
    while t0.elapsed() < Duration::from_secs(plan.secs) {
        let early = t0.elapsed() < FLOOD_START;
        let keys = echo(&via, echo_session, plan.keys.min(20)).await?;
        if early { &mut start } else { &mut steady }.extend_from_slice(&keys);
        loaded.extend(keys);
    }
    let (holders, holders_rss) = holders_rss(&home);
    stop.store(true, Ordering::Relaxed);
    rss_peak = rss_peak.max(sampler.await.unwrap_or(0));
    // The agent's own statement of what output may cost it (the flooding sessions, the
    // one timed, three viewers each and the echo's): a peak above it is a leak.
    let bound =
        rss_start + vibemesh_agent::output_memory_bound(plan.sessions + 1, 3 * plan.sessions + 1);
    if rss_peak > bound {
        bail!(
            "the agent's RSS peaked at {:.1} MB, above its stated bound of {:.1} MB",
            rss_peak as f64 / 1e6,
            bound as f64 / 1e6
        );
    }
    let counts: Vec<u64> = readers.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    // Still answering: a listing, and every session killed.
    let t = Instant::now();
    let listed = tokio::time::timeout(Duration::from_secs(30), control.list_sessions())
        .await
        .context("the agent did not answer a listing under load (deadlock?)")??;
    let list_after_ms = ms_since(t);
    if listed.len() != plan.sessions + 1 {
        bail!(
            "{} sessions listed, {} expected",
            listed.len(),
            plan.sessions + 1
        );
    }
    drop(stuck);
    let t = Instant::now();
    tokio::time::timeout(Duration::from_secs(120), kill_all(&control))
        .await
        .context("killing the sessions hung")?;
    Ok(LoadResult {
        plan: plan.clone(),
        rss_start,
        rss_peak,
        rss_bound: bound,
        holders_rss,
        holders,
        echo_idle,
        echo_loaded: median_p99(loaded),
        echo_start: median_p99(start),
        echo_steady: median_p99(steady),
        bytes_read: counts.iter().sum(),
        slowest_session_bytes: counts.iter().copied().min().unwrap_or(0),
        list_after_ms,
        kill_all_ms: ms_since(t),
    })
}

impl LoadResult {
    /// A markdown table of the results.
    pub fn markdown(&self) -> String {
        let mb = |b: u64| b as f64 / 1e6;
        format!(
            "| what | value |\n|---|---|\n\
             | sessions flooding (`yes`), viewers each | {} , 3 (2 reading, 1 never reading) |\n\
             | flood duration | {} s |\n\
             | agent RSS at start / peak (bound: start + `output_memory_bound`) | {:.1} MB / {:.1} MB ({:.0} MB) |\n\
             | holders: count, total RSS | {}, {:.1} MB ({:.2} MB each) |\n\
             | echo of another session, idle: median / p99 | {:.2} ms / {:.2} ms |\n\
             | echo during the flood: median / p99 | {:.2} ms / {:.2} ms |\n\
             | ... its first 3 s / after: median / p99 | {:.2} / {:.2} ms; {:.2} / {:.2} ms |\n\
             | output read by the reading viewers | {:.1} MB (slowest viewer {:.2} MB) |\n\
             | listing after the flood | {:.1} ms |\n\
             | killing all sessions | {:.0} ms |\n",
            self.plan.sessions,
            self.plan.secs,
            mb(self.rss_start),
            mb(self.rss_peak),
            mb(self.rss_bound),
            self.holders,
            mb(self.holders_rss),
            mb(self.holders_rss) / self.holders.max(1) as f64,
            self.echo_idle.0,
            self.echo_idle.1,
            self.echo_loaded.0,
            self.echo_loaded.1,
            self.echo_start.0,
            self.echo_start.1,
            self.echo_steady.0,
            self.echo_steady.1,
            mb(self.bytes_read),
            mb(self.slowest_session_bytes),
            self.list_after_ms,
            self.kill_all_ms,
        )
    }
}
