//! What a busy session costs: one session whose program printed `lines` lines (its
//! scrollback full) against an idle one, on one agent in the same run.
//!
//! Memory is each session's holder process as PSS (`/proc/<pid>/smaps_rollup`: its
//! private pages plus its share of pages shared with other holders, so the figure is
//! what one more holder costs). The attach time is from the attach request to the
//! snapshot with all the scrollback on the viewer's side.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use vibemesh_core::{
    client::{LocalRoute, Peer},
    proto::{
        SessionId,
        attach::{AttachRequest, ServerFrame},
        local::Target,
    },
};

use crate::{
    agents::AgentProc,
    client::{Finder, control_client, create_request, ms, next_frame},
    procfs,
};

/// How long the bench lets the holders settle before reading their memory.
const SETTLE: Duration = Duration::from_secs(2);

/// The lines of history the bench asks for on attach (the agent's default scrollback).
const SCROLLBACK: u32 = 10_000;

/// What `run` measured.
#[derive(Debug)]
pub struct BusyResult {
    /// Lines the busy session printed.
    pub lines: u64,
    /// PSS of the idle session's holder, bytes.
    pub idle_pss: u64,
    /// PSS of the busy session's holder, bytes.
    pub busy_pss: u64,
    /// The agent's resident memory with both sessions, bytes.
    pub agent_rss: u64,
    /// From the attach request to the snapshot, for the busy session.
    pub attach: Duration,
    /// The snapshot's size, bytes.
    pub snapshot: usize,
}

impl BusyResult {
    /// As a markdown table.
    pub fn markdown(&self) -> String {
        let mb = |b: u64| b as f64 / 1e6;
        format!(
            "| measure | value |\n|---|---|\n\
             | holder PSS, idle session (`cat` at rest) | {:.2} MB |\n\
             | holder PSS, busy session (`seq 1 {}`, scrollback full) | {:.2} MB |\n\
             | busy / idle | {:.2} |\n\
             | agent RSS with both | {:.2} MB |\n\
             | attach to the busy session with {SCROLLBACK} lines of history | {:.1} ms ({:.2} MB snapshot) |",
            mb(self.idle_pss),
            self.lines,
            mb(self.busy_pss),
            self.busy_pss as f64 / self.idle_pss.max(1) as f64,
            mb(self.agent_rss),
            ms(self.attach),
            self.snapshot as f64 / 1e6,
        )
    }
}

/// Runs it against a fresh agent of `bin`.
pub async fn run(bin: &Path, lines: u64) -> anyhow::Result<BusyResult> {
    let mut agent = AgentProc::start(bin, "busy", false)?;
    agent.wait_ready().await?;
    let result = run_on(&agent, lines).await;
    agent.stop()?;
    result
}

async fn run_on(agent: &AgentProc, lines: u64) -> anyhow::Result<BusyResult> {
    let via = Peer::Local(LocalRoute::new(agent.socket(), Target::Local));
    let control = control_client(&via).await?;
    let idle = control
        .create_session(create_request(&["sh", "-c", "echo __READY__; exec cat"]))
        .await?
        .id;
    let script = format!("seq 1 {lines}; echo __DONE__; exec cat");
    let busy = control
        .create_session(create_request(&["sh", "-c", &script]))
        .await?
        .id;
    // Each holder has parsed what its viewer was sent by the time the viewer reads it.
    read_until(&via, idle, b"__READY__").await?;
    read_until(&via, busy, b"__DONE__").await?;

    let started = Instant::now();
    let (_, mut reader, _writer) = via
        .attach(request(busy, SCROLLBACK))
        .await
        .context("cannot attach to the busy session")?;
    let snapshot = match next_frame(&mut reader).await? {
        ServerFrame::Snapshot(s) => s.len(),
        other => bail!("expected a snapshot, got {other:?}"),
    };
    let attach = started.elapsed();
    drop(reader);

    // The holder gives back what the burst took once output has stopped for a moment
    // (half a second): read memory after that.
    tokio::time::sleep(SETTLE).await;
    let home = agent.home().to_path_buf();
    let pss = |id| -> anyhow::Result<u64> {
        let pid = holder_pid(&home, id).with_context(|| format!("no holder for {id}"))?;
        procfs::pss_bytes(pid)
    };
    Ok(BusyResult {
        lines,
        idle_pss: pss(idle)?,
        busy_pss: pss(busy)?,
        agent_rss: procfs::rss_bytes(agent.pid()?)?,
        attach,
        snapshot,
    })
}

fn request(session: SessionId, scrollback: u32) -> AttachRequest {
    AttachRequest {
        session,
        size: None,
        scrollback,
        watch_only: false,
    }
}

/// Attaches to `session` and reads until `marker` has come.
async fn read_until(via: &Peer, session: SessionId, marker: &[u8]) -> anyhow::Result<()> {
    let (_, mut reader, _writer) = via.attach(request(session, 0)).await?;
    let mut finder = Finder::new(marker);
    loop {
        if let ServerFrame::Output(b) | ServerFrame::Snapshot(b) = next_frame(&mut reader).await?
            && finder.feed(&b)
        {
            return Ok(());
        }
    }
}

/// The holder process of `session`, found by the socket it is given.
fn holder_pid(home: &Path, session: SessionId) -> Option<u32> {
    let socket = home.join("holders").join(format!("{session}.sock"));
    procfs::holders(home)
        .into_iter()
        .find_map(|(pid, s)| (s == socket).then_some(pid))
}
