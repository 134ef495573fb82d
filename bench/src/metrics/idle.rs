//! Memory per idle session and CPU while sessions sit idle.
//!
//! Agent B's resident memory is read once it is paired and agent A's connection to it is
//! up, then again after `plan.idle_sessions` sessions running `sh` (an interactive shell
//! at its prompt, nobody attached) have settled, with the PSS of their holders (each
//! session's own process: its private pages and its share of those the holders share).
//! Its CPU time and the holders' are then sampled over `plan.idle_secs` with those
//! sessions still there.

use std::time::{Duration, Instant};

use anyhow::Context;
use vibemesh_core::client::ControlClient;

use super::{Plan, throughput::SessionAgent};
use crate::{client::create_request, procfs};

/// How long the agent is left alone before a reading, so start-up work is over.
const SETTLE: Duration = Duration::from_secs(2);

/// Memory and idle CPU of the agent running the sessions.
#[derive(Debug, Clone, Copy)]
pub struct IdleResult {
    /// Idle sessions created.
    pub sessions: usize,
    /// Resident bytes before any session.
    pub rss_before: u64,
    /// Resident bytes with the idle sessions.
    pub rss_after: u64,
    /// Holders found for the idle sessions, and their PSS in all, bytes.
    pub holders: usize,
    pub holders_pss: u64,
    /// CPU time of those holders over the sample, as % of one core.
    pub holders_cpu_pct: f64,
    /// CPU time of the session agent over the sample, as % of one core.
    pub cpu_pct: f64,
    /// CPU time of the client's agent over the same sample, as % of one core.
    pub client_cpu_pct: f64,
    /// How long CPU was sampled.
    pub sampled: Duration,
}

impl IdleResult {
    /// Megabytes (10^6 bytes) of resident memory each idle session adds to the agent.
    pub fn mb_per_session(&self) -> f64 {
        (self.rss_after as f64 - self.rss_before as f64) / 1e6 / self.sessions.max(1) as f64
    }

    /// Megabytes each idle session costs all in: what it adds to the agent, and its
    /// holder's PSS.
    pub fn mb_per_session_all_in(&self) -> f64 {
        self.mb_per_session() + self.holders_pss as f64 / 1e6 / self.holders.max(1) as f64
    }

    /// As JSON.
    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "sessions": self.sessions,
            "rss_before_bytes": self.rss_before,
            "rss_after_bytes": self.rss_after,
            "mb_per_session": self.mb_per_session(),
            "holders": self.holders,
            "holders_pss_bytes": self.holders_pss,
            "mb_per_session_all_in": self.mb_per_session_all_in(),
            "holders_cpu_pct_one_core": self.holders_cpu_pct,
            "cpu_pct_one_core": self.cpu_pct,
            "client_agent_cpu_pct_one_core": self.client_cpu_pct,
            "sampled_s": self.sampled.as_secs_f64(),
            "shell": procfs::system_shell(),
        })
    }
}

/// Measures memory and idle CPU of `agent`, which `control` talks to, and of its
/// sessions' holders.
pub async fn run(
    control: &ControlClient,
    plan: &Plan,
    agent: SessionAgent<'_>,
    client_agent: u32,
) -> anyhow::Result<IdleResult> {
    // The control stream is open, so the connection between the agents is up.
    control
        .list_sessions()
        .await
        .context("cannot list sessions")?;
    tokio::time::sleep(SETTLE).await;
    let rss_before = procfs::rss_bytes(agent.pid)?;
    for i in 0..plan.idle_sessions {
        control
            .create_session(create_request(&["sh"]))
            .await
            .with_context(|| format!("cannot create idle session {}", i + 1))?;
    }
    tokio::time::sleep(SETTLE).await;
    let rss_after = procfs::rss_bytes(agent.pid)?;
    let holders: Vec<u32> = procfs::holders(agent.home)
        .into_iter()
        .map(|h| h.0)
        .collect();
    let holders_pss = holders
        .iter()
        .map(|&pid| procfs::pss_bytes(pid))
        .sum::<anyhow::Result<u64>>()?;
    let holders_cpu =
        || -> anyhow::Result<Duration> { holders.iter().map(|&pid| procfs::cpu_time(pid)).sum() };
    let (s0, c0, h0) = (
        procfs::cpu_time(agent.pid)?,
        procfs::cpu_time(client_agent)?,
        holders_cpu()?,
    );
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(plan.idle_secs)).await;
    let sampled = t0.elapsed();
    let (s1, c1, h1) = (
        procfs::cpu_time(agent.pid)?,
        procfs::cpu_time(client_agent)?,
        holders_cpu()?,
    );
    let pct = |a: Duration, b: Duration| {
        b.saturating_sub(a).as_secs_f64() / sampled.as_secs_f64() * 100.0
    };
    Ok(IdleResult {
        sessions: plan.idle_sessions,
        rss_before,
        rss_after,
        holders: holders.len(),
        holders_pss,
        holders_cpu_pct: pct(h0, h1),
        cpu_pct: pct(s0, s1),
        client_cpu_pct: pct(c0, c1),
        sampled,
    })
}
