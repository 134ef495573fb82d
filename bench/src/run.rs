//! The order of a run: the bare PTY reference, then start and pair the agents, measure,
//! and stop them again.
//!
//! Memory and idle CPU come first, on a fresh agent B whose allocator has not yet seen a
//! flood of output; throughput comes last. Each baseline measurement (on agent B's own
//! socket) runs right after its remote twin. Sessions are killed after each measurement,
//! also when it failed, and the agents are stopped whatever happened.

use std::{future::Future, path::Path};

use anyhow::Context;
use vibemesh_core::{
    client::{ControlClient, LocalRoute, Peer},
    proto::local::Target,
};

use crate::{
    agents::{Mesh, PEER_NAME},
    client::{control_client, kill_all},
    metrics::{self, Plan, throughput::SessionAgent},
    procfs,
    report::{Baseline, Machine, Results},
};

/// The baseline every rate is measured against: `seq` into a PTY read by a plain loop,
/// no agent.
async fn bare_pty(plan: &Plan) -> anyhow::Result<metrics::pty::BarePty> {
    eprintln!(
        "bare PTY: seq 1 {} into a PTY read by a plain loop, no agent",
        plan.seq_lines
    );
    let pty_plan = plan.clone();
    tokio::task::spawn_blocking(move || metrics::pty::run(&pty_plan))
        .await
        .context("the bare PTY task failed")?
        .context("bare PTY")
}

/// Runs every measurement the plan asks for.
pub async fn run(bin: &Path, plan: &Plan, quick: bool) -> anyhow::Result<Results> {
    let load_start = procfs::load_average()?;
    let bare_pty = bare_pty(plan).await?;
    eprintln!("starting and pairing agents a and b ({})", bin.display());
    let mut mesh = Mesh::start(bin, false).await?;
    let measured = measure(&mesh, plan).await;
    if measured.is_err() {
        eprintln!("{}", mesh.logs());
    }
    let stopped = mesh.stop();
    let Measured {
        idle,
        echo,
        create,
        cli,
        throughput,
        baseline,
    } = measured?;
    stopped?;

    let throughput_recorded = if plan.record_run {
        eprintln!("throughput again on a fresh pair of agents with record = true");
        let mut mesh = Mesh::start(bin, true).await?;
        let measured = recorded_throughput(&mesh, plan).await;
        if measured.is_err() {
            eprintln!("{}", mesh.logs());
        }
        let stopped = mesh.stop();
        let t = measured?;
        stopped?;
        Some(t)
    } else {
        None
    };

    Ok(Results {
        machine: Machine {
            nproc: procfs::cpu_count(),
            cpu_model: procfs::cpu_model(),
            load_start,
            load_end: procfs::load_average()?,
            shell: procfs::system_shell(),
        },
        quick,
        bare_pty,
        idle,
        echo,
        create,
        cli,
        throughput,
        throughput_recorded,
        baseline,
    })
}

/// What one pair of agents measured.
struct Measured {
    idle: metrics::idle::IdleResult,
    echo: metrics::Summary,
    create: metrics::create::CreateResult,
    cli: metrics::cli::CliResult,
    throughput: metrics::throughput::Runs,
    baseline: Option<Baseline>,
}

/// `open` with a login shell through the real CLI on agent a, then echo at its prompt.
async fn through_cli(mesh: &Mesh, plan: &Plan) -> anyhow::Result<metrics::cli::CliResult> {
    eprintln!("through the CLI: `open` with a login shell, then echo at its prompt");
    let (bin, home, plan) = (
        mesh.a.bin().to_path_buf(),
        mesh.a.home().to_path_buf(),
        plan.clone(),
    );
    tokio::task::spawn_blocking(move || metrics::cli::run(&bin, &home, PEER_NAME, &plan))
        .await
        .context("the CLI task failed")?
}

/// Only the CLI's measures (`--cli`), on a fresh pair of agents, as markdown with the
/// machine's load around them.
pub async fn cli_only(bin: &Path, plan: &Plan) -> anyhow::Result<String> {
    let load_start = procfs::load_average()?;
    eprintln!("starting and pairing agents a and b ({})", bin.display());
    let mut mesh = Mesh::start(bin, false).await?;
    let remote = Peer::Local(LocalRoute::new(
        mesh.a.socket(),
        Target::Peer(PEER_NAME.into()),
    ));
    let measured = async {
        let control = control_client(&remote).await?;
        cleanly(&control, through_cli(&mesh, plan))
            .await
            .context("through the CLI")
    }
    .await;
    if measured.is_err() {
        eprintln!("{}", mesh.logs());
    }
    let stopped = mesh.stop();
    let cli = measured?;
    stopped?;
    let load_end = procfs::load_average()?;
    Ok(format!(
        "{}\n\n{}",
        machine_line(load_start, load_end),
        cli.markdown()
    ))
}

/// The machine's CPUs and its load averages around a partial run.
fn machine_line(start: [f64; 3], end: [f64; 3]) -> String {
    format!(
        "{} CPUs; load average {:.2} {:.2} {:.2} at start, {:.2} {:.2} {:.2} at end",
        procfs::cpu_count(),
        start[0],
        start[1],
        start[2],
        end[0],
        end[1],
        end[2]
    )
}

/// Only the throughput measures (`--throughput`): the bare PTY, then `seq` through
/// agent A to a session on B, on a fresh pair of agents, as markdown with the machine's
/// load around them. The order and the measure are the main run's.
pub async fn throughput_only(bin: &Path, plan: &Plan) -> anyhow::Result<String> {
    let load_start = procfs::load_average()?;
    let bare = bare_pty(plan).await?;
    eprintln!("starting and pairing agents a and b ({})", bin.display());
    let mut mesh = Mesh::start(bin, false).await?;
    let measured = async {
        let remote = Peer::Local(LocalRoute::new(
            mesh.a.socket(),
            Target::Peer(PEER_NAME.into()),
        ));
        let control = control_client(&remote).await?;
        let (a_pid, b_pid) = (mesh.a.pid()?, mesh.b.pid()?);
        let b = SessionAgent {
            pid: b_pid,
            home: mesh.b.home(),
        };
        eprintln!(
            "throughput: seq 1 {}, run(s): {}",
            plan.seq_lines, plan.throughput_runs
        );
        cleanly(
            &control,
            metrics::throughput::repeat(&remote, &control, plan, b, Some(a_pid)),
        )
        .await
        .context("throughput")
    }
    .await;
    if measured.is_err() {
        eprintln!("{}", mesh.logs());
    }
    let stopped = mesh.stop();
    let runs = measured?;
    stopped?;
    let load_end = procfs::load_average()?;
    let mut out = format!(
        "{}\n\nbare PTY: {:.1} MB/s ({:.1} MB in {:.2} s)\n",
        machine_line(load_start, load_end),
        bare.mb_per_s(),
        bare.bytes as f64 / 1e6,
        bare.elapsed.as_secs_f64(),
    );
    for (i, t) in runs.0.iter().enumerate() {
        out.push_str(&format!(
            "run {}: {:.0} % of the bare PTY; {}\n",
            i + 1,
            t.mb_per_s() / bare.mb_per_s().max(1e-9) * 100.0,
            crate::report::throughput_text(t)
        ));
    }
    if let Some(m) = runs.median() {
        out.push_str(&format!(
            "median: {:.1} MB/s, {:.0} % of the bare PTY\n",
            m.mb_per_s(),
            m.mb_per_s() / bare.mb_per_s().max(1e-9) * 100.0
        ));
    }
    Ok(out)
}

/// Runs `f`, then kills every session on the agent behind `control` whatever happened.
async fn cleanly<T>(
    control: &ControlClient,
    f: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let result = f.await;
    kill_all(control).await;
    result
}

async fn measure(mesh: &Mesh, plan: &Plan) -> anyhow::Result<Measured> {
    let (a_pid, b_pid) = (mesh.a.pid()?, mesh.b.pid()?);
    let remote = Peer::Local(LocalRoute::new(
        mesh.a.socket(),
        Target::Peer(PEER_NAME.into()),
    ));
    let control = control_client(&remote).await?;
    // The baseline goes to agent b's own socket (no QUIC, no agent a). Each baseline
    // measurement runs right after its remote twin, so both see the same machine.
    let local = Peer::Local(LocalRoute::new(mesh.b.socket(), Target::Local));
    let local_control = if plan.baseline {
        Some(control_client(&local).await?)
    } else {
        None
    };

    eprintln!(
        "memory and idle CPU: {} idle sessions, {} s CPU sample",
        plan.idle_sessions, plan.idle_secs
    );
    let b = SessionAgent {
        pid: b_pid,
        home: mesh.b.home(),
    };
    let idle = cleanly(&control, metrics::idle::run(&control, plan, b, a_pid))
        .await
        .context("memory / idle CPU")?;

    eprintln!(
        "keystroke echo: {} keys after {} warm-up keys",
        plan.keys, plan.warmup_keys
    );
    let echo = cleanly(&control, metrics::echo::run(&remote, &control, plan))
        .await
        .context("echo latency")?;
    let local_echo = match &local_control {
        Some(c) => Some(
            cleanly(c, metrics::echo::run(&local, c, plan))
                .await
                .context("echo latency on b's own socket")?,
        ),
        None => None,
    };

    eprintln!("create to first output: {} sessions", plan.creates);
    let create = cleanly(&control, metrics::create::run(&remote, &control, plan))
        .await
        .context("create to first output")?;
    let local_create = match &local_control {
        Some(c) => Some(
            cleanly(c, metrics::create::run(&local, c, plan))
                .await
                .context("create to first output on b's own socket")?,
        ),
        None => None,
    };

    let cli = cleanly(&control, through_cli(mesh, plan))
        .await
        .context("through the CLI")?;

    eprintln!(
        "throughput: seq 1 {}, run(s): {}",
        plan.seq_lines, plan.throughput_runs
    );
    let throughput = cleanly(
        &control,
        metrics::throughput::repeat(&remote, &control, plan, b, Some(a_pid)),
    )
    .await
    .context("throughput")?;
    let local_throughput = match &local_control {
        Some(c) => Some(
            cleanly(c, metrics::throughput::repeat(&local, c, plan, b, None))
                .await
                .context("throughput on b's own socket")?,
        ),
        None => None,
    };

    let baseline = match (local_echo, local_create, local_throughput) {
        (Some(echo), Some(create), Some(throughput)) => Some(Baseline {
            echo,
            create,
            throughput,
        }),
        _ => None,
    };
    Ok(Measured {
        idle,
        echo,
        create,
        cli,
        throughput,
        baseline,
    })
}

async fn recorded_throughput(
    mesh: &Mesh,
    plan: &Plan,
) -> anyhow::Result<metrics::throughput::Runs> {
    let remote = Peer::Local(LocalRoute::new(
        mesh.a.socket(),
        Target::Peer(PEER_NAME.into()),
    ));
    let control = control_client(&remote).await?;
    let (a_pid, b_pid) = (mesh.a.pid()?, mesh.b.pid()?);
    let b = SessionAgent {
        pid: b_pid,
        home: mesh.b.home(),
    };
    cleanly(
        &control,
        metrics::throughput::repeat(&remote, &control, plan, b, Some(a_pid)),
    )
    .await
    .context("throughput with record = true")
}
