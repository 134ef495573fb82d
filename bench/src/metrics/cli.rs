//! Through the real `vibemesh` CLI in a terminal, as a user meets it: from starting
//! `vibemesh open <peer> --path DIR -- bash -l -i` to bash's prompt on that terminal,
//! and then keystroke echo at that prompt (readline echoes each key itself).
//!
//! The prompt is recognised by the folder's name, which only bash prints (its default
//! prompt shows the working folder). The terminal is a PTY this process reads on a
//! thread of its own, so every wait has a time limit. The same `bash -l -i` started
//! straight in a PTY, in the same folder with the same `HOME` (the agents' scratch
//! home, so no profile of this machine's user runs), is the baseline of the same run.

use std::{
    io::{Read, Write},
    path::Path,
    sync::mpsc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};

use super::{Plan, Summary};
use crate::client::{FRAME_TIMEOUT, Finder, ms_since};

/// What the CLI path measured.
#[derive(Debug, Clone, Copy)]
pub struct CliResult {
    /// From starting `vibemesh open` to bash's prompt on its terminal, ms.
    pub create: Summary,
    /// From starting `bash -l -i` straight in a PTY to its prompt, ms.
    pub bare_create: Summary,
    /// A key typed at that prompt until its echo is on the terminal, ms.
    pub echo: Summary,
}

impl CliResult {
    /// As JSON.
    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "create_ms": self.create.to_json(),
            "bare_create_ms": self.bare_create.to_json(),
            "echo_ms": self.echo.to_json(),
        })
    }

    /// As a markdown table, for `--cli`.
    pub fn markdown(&self) -> String {
        let row = |what: &str, s: &Summary| {
            format!(
                "| {what} | {:.2} ms | {:.2} ms | {:.2} / {:.2} ms | {} |\n",
                s.p50, s.p99, s.min, s.max, s.n
            )
        };
        format!(
            "| through the CLI | median | p99 | min / max | samples |\n|---|---|---|---|---|\n{}{}{}",
            row("`open … -- bash -l -i` → prompt", &self.create),
            row("the same shell in a bare PTY → prompt", &self.bare_create),
            row("echo at bash's prompt", &self.echo),
        )
    }
}

/// A `vibemesh` command running in a PTY of its own.
struct CliTerm {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    output: mpsc::Receiver<Vec<u8>>,
}

impl CliTerm {
    /// Starts `program` with `args` in `cwd`, with `VIBEMESH_HOME` and `HOME` set to
    /// `home`.
    fn spawn(program: &Path, args: &[&str], cwd: &Path, home: &Path) -> anyhow::Result<Self> {
        let size = PtySize {
            rows: 24,
            cols: 80,
            pixel_width: 0,
            pixel_height: 0,
        };
        let pair = native_pty_system()
            .openpty(size)
            .map_err(|e| anyhow::anyhow!("cannot open a PTY: {e}"))?;
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.cwd(cwd);
        cmd.env("VIBEMESH_HOME", home);
        cmd.env("HOME", home);
        cmd.env("TERM", "xterm-256color");
        let child = pair
            .slave
            .spawn_command(cmd)
            .map_err(|e| anyhow::anyhow!("cannot start {} in a PTY: {e}", program.display()))?;
        drop(pair.slave);
        let mut reader = pair
            .master
            .try_clone_reader()
            .map_err(|e| anyhow::anyhow!("cannot read the PTY: {e}"))?;
        let writer = pair
            .master
            .take_writer()
            .map_err(|e| anyhow::anyhow!("cannot write to the PTY: {e}"))?;
        let (tx, output) = mpsc::channel();
        std::thread::spawn(move || {
            let _master = pair.master;
            let mut buf = vec![0u8; 64 << 10];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Ok(Self {
            child,
            writer,
            output,
        })
    }

    /// Reads the terminal until `needle` shows.
    fn wait_for(&self, needle: &[u8]) -> anyhow::Result<()> {
        let mut finder = Finder::new(needle);
        loop {
            let chunk = self
                .output
                .recv_timeout(FRAME_TIMEOUT)
                .with_context(|| format!("{:?} never showed", String::from_utf8_lossy(needle)))?;
            if finder.feed(&chunk) {
                return Ok(());
            }
        }
    }

    fn type_bytes(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.writer
            .write_all(bytes)
            .context("cannot type into the CLI")?;
        self.writer.flush().context("cannot type into the CLI")
    }

    /// Ends the shell and waits for the CLI to exit.
    fn exit(mut self) -> anyhow::Result<()> {
        self.type_bytes(b"\x15exit\r")?;
        let started = Instant::now();
        while self
            .child
            .try_wait()
            .context("cannot wait for the CLI")?
            .is_none()
        {
            if started.elapsed() > FRAME_TIMEOUT {
                let _ = self.child.kill();
                bail!("the CLI did not exit after the shell did");
            }
            // Drain the terminal so the CLI is never blocked writing to it.
            let _ = self.output.recv_timeout(Duration::from_millis(20));
        }
        Ok(())
    }
}

/// Measures both through the CLI of the agent at `home` (agent a), against `peer`.
/// Blocking: run it off the async runtime.
pub fn run(bin: &Path, home: &Path, peer: &str, plan: &Plan) -> anyhow::Result<CliResult> {
    let dir = tempfile::Builder::new().prefix("vmb-cli-").tempdir()?;
    let dir = dir.path().canonicalize()?;
    let path = dir.to_str().context("the temporary folder is not UTF-8")?;
    let marker = dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("the temporary folder has no name")?
        .as_bytes()
        .to_vec();
    let args = ["open", peer, "--path", path, "--", "bash", "-l", "-i"];
    let rounds = plan.creates.clamp(1, 20);
    let mut bare = Vec::new();
    for _ in 0..rounds {
        let t0 = Instant::now();
        let term = CliTerm::spawn(Path::new("bash"), &["-l", "-i"], &dir, home)?;
        term.wait_for(&marker)?;
        bare.push(ms_since(t0));
        term.exit()?;
    }
    let mut creates = Vec::new();
    let mut last = None;
    for i in 0..rounds {
        let t0 = Instant::now();
        let term = CliTerm::spawn(bin, &args, &dir, home)?;
        term.wait_for(&marker)?;
        creates.push(ms_since(t0));
        if i + 1 == rounds {
            last = Some(term);
        } else {
            term.exit()?;
        }
    }
    let mut term = last.context("no session was opened")?;
    let mut echoes = Vec::new();
    for i in 0..plan.warmup_keys + plan.keys {
        let key = b'a' + (i % 26) as u8;
        let t0 = Instant::now();
        term.type_bytes(&[key])?;
        term.wait_for(&[key])?;
        if i >= plan.warmup_keys {
            echoes.push(ms_since(t0));
        }
    }
    term.exit()?;
    Ok(CliResult {
        create: Summary::of(&creates),
        bare_create: Summary::of(&bare),
        echo: Summary::of(&echoes),
    })
}
