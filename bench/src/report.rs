//! Printing the results: a markdown table against the targets and reference peers, a
//! table of details, or JSON.

use std::fmt::Write;

use crate::metrics::{
    Summary,
    cli::CliResult,
    create::CreateResult,
    idle::IdleResult,
    pty::BarePty,
    throughput::{Runs, ThroughputResult},
};

/// The machine the run happened on.
#[derive(Debug, Clone)]
pub struct Machine {
    /// CPUs available (`nproc`).
    pub nproc: usize,
    /// The CPU model.
    pub cpu_model: String,
    /// Load averages when the run started.
    pub load_start: [f64; 3],
    /// Load averages when it ended.
    pub load_end: [f64; 3],
    /// What `/bin/sh` is.
    pub shell: String,
}

/// The same measurements against agent B's own socket: no QUIC and no agent A.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Echo times.
    pub echo: Summary,
    /// Create-to-first-output times.
    pub create: CreateResult,
    /// Throughput.
    pub throughput: Runs,
}

/// Everything one run measured.
#[derive(Debug, Clone)]
pub struct Results {
    /// Where it ran.
    pub machine: Machine,
    /// Whether this was a `--quick` run.
    pub quick: bool,
    /// The same output through a bare PTY, no agent.
    pub bare_pty: BarePty,
    /// Memory and idle CPU.
    pub idle: IdleResult,
    /// Echo latency through agent A to agent B.
    pub echo: Summary,
    /// Create-to-first-output through agent A to agent B.
    pub create: CreateResult,
    /// Through the real CLI on agent A: `open` to bash's prompt, and echo at it.
    pub cli: CliResult,
    /// Throughput through agent A from agent B (`record = false`).
    pub throughput: Runs,
    /// The same on agents with `record = true`, when measured.
    pub throughput_recorded: Option<Runs>,
    /// Agent B measured locally, when measured.
    pub baseline: Option<Baseline>,
}

fn yes(met: bool) -> &'static str {
    if met { "yes" } else { "**no**" }
}

impl Results {
    /// The headline table: each metric, its target, and the reference peers.
    pub fn markdown(&self) -> String {
        let e = &self.echo;
        let c = &self.create.first_output;
        let i = &self.idle;
        let mut out = String::new();
        out.push_str("| Metric | VibeMesh | Target | Met | ttyd 1.7.7 | VibeTunnel |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        let mut row = |cells: [String; 6]| {
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        };
        row([
            "Keystroke echo, median".into(),
            format!("{:.3} ms", e.p50),
            "–".into(),
            "–".into(),
            "0.30 ms".into(),
            "1.78 ms".into(),
        ]);
        row([
            "Keystroke echo, p99".into(),
            format!("{:.3} ms", e.p99),
            "≤ 1 ms".into(),
            yes(e.p99 <= 1.0).into(),
            "2.47 ms".into(),
            "13.6 ms".into(),
        ]);
        let (rate, met) = match self.throughput.median() {
            Some(t) => (
                match t.resnapshots {
                    0 => format!("{:.1} MB/s", t.mb_per_s()),
                    n => format!("{:.1} MB/s ({n} re-snapshots)", t.mb_per_s()),
                },
                t.mb_per_s() >= 150.0 && t.resnapshots == 0 && t.check.ok(),
            ),
            None => ("not measured".into(), false),
        };
        let runs = self.throughput.0.len();
        row([
            match runs {
                1 => "Output throughput, one viewer".into(),
                n => format!("Output throughput, one viewer (median of {n} runs)"),
            },
            rate,
            "≥ 150 MB/s".into(),
            yes(met).into(),
            "16.8 MB/s".into(),
            "1.0 MB/s".into(),
        ]);
        if let Some(t) = self.throughput.median() {
            let ratio = t.mb_per_s() / self.bare_pty.mb_per_s().max(1e-9);
            row([
                "Output rate / bare PTY read loop, same run".into(),
                format!("{:.0} %", ratio * 100.0),
                "≥ 90 %".into(),
                yes(ratio >= 0.9).into(),
                "–".into(),
                "–".into(),
            ]);
            row([
                "CPU per MB of output: agents + holder".into(),
                format!("{:.4} s/MB", t.cpu_s_per_mb()),
                "≤ 0.015 s/MB".into(),
                yes(t.cpu_s_per_mb() <= 0.015).into(),
                "–".into(),
                "–".into(),
            ]);
        }
        row([
            "Session create → first output, median".into(),
            format!("{:.2} ms", c.p50),
            "≤ 10 ms".into(),
            yes(c.p50 <= 10.0).into(),
            "10.2 ms".into(),
            "65.7 ms".into(),
        ]);
        let cli = &self.cli;
        row([
            "Through the CLI: `open … -- bash -l -i` → prompt, median".into(),
            format!(
                "{:.2} ms (the same shell in a bare PTY: {:.2} ms)",
                cli.create.p50, cli.bare_create.p50
            ),
            "≤ 7 ms".into(),
            yes(cli.create.p50 <= 7.0).into(),
            "–".into(),
            "–".into(),
        ]);
        row([
            "Through the CLI: echo at bash's prompt, p50 / p99".into(),
            format!("{:.2} / {:.2} ms", cli.echo.p50, cli.echo.p99),
            "≤ 0.3 / ≤ 1 ms".into(),
            yes(cli.echo.p50 <= 0.3 && cli.echo.p99 <= 1.0).into(),
            "–".into(),
            "–".into(),
        ]);
        row([
            "Memory per idle session (agent RSS)".into(),
            format!("{:+.3} MB", i.mb_per_session()),
            "≤ 0.2 MB".into(),
            yes(i.mb_per_session() <= 0.2).into(),
            "+0.016 MB".into(),
            "+0.35 MB".into(),
        ]);
        row([
            "Memory per idle session, all in (agent RSS + holder PSS)".into(),
            format!("{:.3} MB", i.mb_per_session_all_in()),
            "≤ 0.3 MB".into(),
            yes(i.mb_per_session_all_in() <= 0.3).into(),
            "–".into(),
            "–".into(),
        ]);
        row([
            format!("Agent CPU, {} idle sessions", i.sessions),
            format!("{:.2} % of a core", i.cpu_pct),
            "0 %".into(),
            // One clock tick over a 10 s sample is 0.1 %: "0 %" means not one tick.
            yes(i.cpu_pct < 0.05).into(),
            "–".into(),
            "31 % (50 idle sessions)".into(),
        ]);
        out
    }

    /// The numbers behind the headline table.
    pub fn details(&self) -> String {
        let mut out = String::from("| Detail | Value |\n|---|---|\n");
        let mut row = |k: String, v: String| {
            let _ = writeln!(out, "| {k} | {v} |");
        };
        let e = &self.echo;
        row(
            "Echo samples (min / mean / max)".into(),
            format!(
                "{} keys: {:.3} / {:.3} / {:.3} ms",
                e.n, e.min, e.mean, e.max
            ),
        );
        row(
            "Bare PTY: same seq, plain 64 KiB read loop, no agent".into(),
            format!(
                "{:.1} MB/s: {:.1} MB in {:.2} s",
                self.bare_pty.mb_per_s(),
                self.bare_pty.bytes as f64 / 1e6,
                self.bare_pty.elapsed.as_secs_f64()
            ),
        );
        for (name, t) in [
            ("record = false", Some(&self.throughput)),
            ("record = true", self.throughput_recorded.as_ref()),
        ] {
            let Some(t) = t else { continue };
            row(format!("Throughput, {name}"), runs_text(t));
        }
        let c = &self.create;
        row(
            "Create → first output (p99 / max)".into(),
            format!(
                "{} sessions: {:.2} / {:.2} ms",
                c.first_output.n, c.first_output.p99, c.first_output.max
            ),
        );
        row(
            "CreateSession round trip alone (median / p99)".into(),
            format!("{:.2} / {:.2} ms", c.create_rpc.p50, c.create_rpc.p99),
        );
        let i = &self.idle;
        row(
            "Agent B RSS: paired, idle → with idle sessions".into(),
            format!(
                "{:.1} MB → {:.1} MB ({} sessions running {})",
                i.rss_before as f64 / 1e6,
                i.rss_after as f64 / 1e6,
                i.sessions,
                self.machine.shell
            ),
        );
        row(
            "Holders' CPU over the same idle sample".into(),
            format!(
                "{:.2} % of a core ({} holders)",
                i.holders_cpu_pct, i.holders
            ),
        );
        row(
            "Agent A CPU over the same idle sample".into(),
            format!(
                "{:.2} % of a core over {:.1} s",
                i.client_cpu_pct,
                i.sampled.as_secs_f64()
            ),
        );
        if let Some(b) = &self.baseline {
            row(
                "Baseline on B's own socket: echo median / p99".into(),
                format!("{:.3} / {:.3} ms", b.echo.p50, b.echo.p99),
            );
            row(
                "Baseline on B's own socket: throughput".into(),
                runs_text(&b.throughput),
            );
            row(
                "Baseline on B's own socket: create → first output, median".into(),
                format!("{:.2} ms", b.create.first_output.p50),
            );
        }
        out
    }

    /// The machine line.
    pub fn machine_text(&self) -> String {
        let m = &self.machine;
        format!(
            "{} CPUs ({}); load average {:.2} {:.2} {:.2} at start, {:.2} {:.2} {:.2} at end{}",
            m.nproc,
            m.cpu_model,
            m.load_start[0],
            m.load_start[1],
            m.load_start[2],
            m.load_end[0],
            m.load_end[1],
            m.load_end[2],
            if self.quick { "; --quick run" } else { "" }
        )
    }

    /// Everything as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        let m = &self.machine;
        serde_json::json!({
            "machine": {
                "nproc": m.nproc,
                "cpu_model": m.cpu_model,
                "load_start": m.load_start,
                "load_end": m.load_end,
                "shell": m.shell,
            },
            "quick": self.quick,
            "echo": self.echo.to_json(),
            "throughput": self.throughput.to_json(),
            "bare_pty": self.bare_pty.to_json(),
            "throughput_recorded": self.throughput_recorded.as_ref().map(Runs::to_json),
            "create": self.create.to_json(),
            "cli": self.cli.to_json(),
            "idle": self.idle.to_json(),
            "baseline_local": self.baseline.as_ref().map(|b| serde_json::json!({
                "echo": b.echo.to_json(),
                "create": b.create.to_json(),
                "throughput": b.throughput.to_json(),
            })),
        })
    }
}

/// The median run in words, then every run's rate.
fn runs_text(runs: &Runs) -> String {
    let Some(median) = runs.median() else {
        return "not measured".into();
    };
    let mut s = throughput_text(&median);
    if runs.0.len() > 1 {
        let rates: Vec<String> = runs.rates().iter().map(|r| format!("{r:.1}")).collect();
        let _ = write!(s, " (median run; every run: {} MB/s)", rates.join(", "));
    }
    s
}

pub fn throughput_text(t: &ThroughputResult) -> String {
    let mut s = format!(
        "{:.1} MB/s: {:.1} MB in {:.2} s; received {:.1} MB in {} output frames and {} \
         re-snapshots ({:.1} MB/s); CPU s: agent B {:.2}",
        t.mb_per_s(),
        t.expected_bytes as f64 / 1e6,
        t.elapsed.as_secs_f64(),
        (t.output_bytes + t.snapshot_bytes) as f64 / 1e6,
        t.frames,
        t.resnapshots,
        t.received_mb_per_s(),
        t.cpu_session_agent.as_secs_f64(),
    );
    if let Some(h) = t.cpu_holder {
        let _ = write!(s, ", its holder {:.2}", h.as_secs_f64());
    }
    if let Some(a) = t.cpu_client_agent {
        let _ = write!(s, ", agent A {:.2}", a.as_secs_f64());
    }
    let _ = write!(
        s,
        ", bench client {:.2} (agents and holder: {:.4} s/MB)",
        t.cpu_bench.as_secs_f64(),
        t.cpu_s_per_mb()
    );
    let c = &t.check;
    if c.ok() {
        let _ = write!(
            s,
            "; {} lines checked: none lost or repeated outside re-snapshots",
            c.lines
        );
    } else {
        let _ = write!(
            s,
            "; **{} gaps ({} lines) lost with no re-snapshot, {} repeats**",
            c.gaps, c.lines_lost, c.repeats
        );
    }
    s
}
