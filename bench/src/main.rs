//! `vibemesh-bench`: measures a real pair of VibeMesh agents on loopback.
//!
//! It starts two `vibemesh agent` processes (a and b) in temporary homes, pairs a with b
//! through the CLI, and then drives sessions on b the way `vibemesh` on a does: through
//! a's Unix socket, routed over iroh QUIC to b. It reports keystroke echo latency, output
//! throughput, session create-to-first-output, memory per idle session and idle CPU,
//! against the project's targets and two reference tools.
//!
//! ```text
//! cargo build --release -p vibemesh-agent -p vibemesh-bench && target/release/vibemesh-bench
//! ```
//!
//! `--render` measures the desktop app's terminal widget drawing a full screen instead;
//! `--flood` a flood of output in a desktop tab shown against one hidden; `--busy` what a
//! session whose scrollback is full costs, against an idle one; `--cli` only the open and
//! the echo through the real CLI; `--throughput` only the bare PTY and the output rate
//! through both agents.

mod agents;
mod busy;
mod client;
mod flood;
mod load;
mod metrics;
mod procfs;
mod render;
mod report;
mod run;

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;

/// Benchmarks two real VibeMesh agents on loopback.
#[derive(Debug, Parser)]
#[command(name = "vibemesh-bench", version, about)]
struct Args {
    /// A smoke run: fewer keys and sessions, a shorter CPU sample, less output.
    #[arg(long)]
    quick: bool,
    /// Print the results as JSON instead of markdown.
    #[arg(long)]
    json: bool,
    /// Only measure the desktop terminal widget drawing a 200x60 screen (no agents).
    #[arg(long)]
    render: bool,
    /// Only measure a desktop tab flooded by `seq 1 --lines`, shown against hidden (the
    /// app's agent in-process, no window).
    #[arg(long)]
    flood: bool,
    /// Lines for `--flood`.
    #[arg(long, default_value_t = 2_000_000)]
    lines: u64,
    /// Only measure a busy session (`seq 1 --busy-lines`) against an idle one: holder
    /// memory and the attach time.
    #[arg(long)]
    busy: bool,
    /// Lines for `--busy`.
    #[arg(long, default_value_t = 300_000)]
    busy_lines: u64,
    /// Run the overload instead: `--sessions` sessions flooding output, three viewers
    /// each (one never reading), for `--secs` seconds.
    #[arg(long)]
    load: bool,
    /// Sessions for `--load`.
    #[arg(long, default_value_t = 200)]
    sessions: usize,
    /// Seconds of flood for `--load`.
    #[arg(long, default_value_t = 20)]
    secs: u64,
    /// Only measure through the real CLI: `vibemesh open … -- bash -l -i` to the prompt
    /// against the same shell in a bare PTY, and echo at that prompt (what the main run
    /// reports in its two "Through the CLI" rows), on a fresh pair of agents.
    #[arg(long)]
    cli: bool,
    /// Only measure output throughput: `seq` into a bare PTY, then the same through both
    /// agents to one viewer (the main run's throughput row, `record = false`), on a fresh
    /// pair of agents; with the CPU each process used.
    #[arg(long)]
    throughput: bool,
    /// The `vibemesh` binary (default: next to this executable).
    #[arg(long, value_name = "PATH")]
    vibemesh: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match real_main(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vibemesh-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Three streams per session need more descriptors than the usual soft limit of 1024.
fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the one struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

fn real_main(args: Args) -> anyhow::Result<()> {
    if args.render {
        let frames = if args.quick { 50 } else { 500 };
        println!("| frame (layout + paint + tessellate) | median | p99 |\n|---|---|---|");
        for r in render::run(frames) {
            println!(
                "| {} | {:.2} ms | {:.2} ms |",
                r.what,
                ms(r.median),
                ms(r.p99)
            );
        }
        return Ok(());
    }
    if args.flood {
        let rounds = if args.quick { 1 } else { 3 };
        println!(
            "| `seq 1 {}` in a desktop tab | shown | hidden | shown / hidden rate | frames shown |\n|---|---|---|---|---|",
            args.lines
        );
        for r in flood::run(args.lines, rounds)? {
            println!(
                "| {} lines | {:.2} s | {:.2} s | {:.0} % | {} |",
                r.lines,
                r.visible.as_secs_f64(),
                r.hidden.as_secs_f64(),
                r.ratio() * 100.0,
                r.visible_frames
            );
        }
        return Ok(());
    }
    let bin = agents::locate_vibemesh(args.vibemesh)?;
    let plan = if args.quick {
        metrics::Plan::quick()
    } else {
        metrics::Plan::full()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if args.busy {
        let result = runtime.block_on(busy::run(&bin, args.busy_lines))?;
        println!("{}", result.markdown());
        return Ok(());
    }
    if args.load {
        raise_fd_limit();
        let plan = load::LoadPlan {
            sessions: args.sessions,
            secs: args.secs,
            keys: 50,
        };
        let result = runtime.block_on(load::run(&bin, &plan))?;
        println!("{}", result.markdown());
        return Ok(());
    }
    if args.cli {
        println!("{}", runtime.block_on(run::cli_only(&bin, &plan))?);
        return Ok(());
    }
    if args.throughput {
        println!("{}", runtime.block_on(run::throughput_only(&bin, &plan))?);
        return Ok(());
    }
    let results = runtime.block_on(run::run(&bin, &plan, args.quick))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results.to_json())?);
    } else {
        println!("Machine: {}\n", results.machine_text());
        println!("{}", results.markdown());
        println!("{}", results.details());
    }
    Ok(())
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
