//! The one run loop of every provider: start the CLI with its flags, read its stdout a
//! line at a time, hand each line and each command from the session to the provider's
//! [`Driver`], write what it asks to the CLI's stdin, and end with how the process
//! ended and the last lines of its stderr. What differs between providers (the command
//! line, the handshake, how a message, an approval or an interrupt is written, how a
//! line becomes events) is all in their [`Driver`]: [`super::claude`], [`super::codex`]
//! and [`super::codex_exec`] (which runs this loop once per message).

use serde_json::Value;
use tokio::{io::AsyncWriteExt, process::ChildStdin, sync::mpsc};
use vibemesh_core::proto::ExitInfo;

use super::{
    process::{self, Proc},
    session::{Conv, DriverCmd, Spawn},
};

/// What a driver asks of its process after a line or a command, done in this order.
#[derive(Debug, Default)]
pub struct Out {
    /// JSON objects to write to its stdin, one per line.
    pub lines: Vec<Value>,
    /// Close its stdin (it ends once it has finished what it does).
    pub close: bool,
    /// Kill its process group.
    pub kill: bool,
}

impl Out {
    /// Queues one JSON line for the process.
    pub fn send(&mut self, v: Value) {
        self.lines.push(v);
    }
}

/// One provider's part of the run loop.
pub trait Driver {
    /// The program's arguments (for the next process, where there is one per message).
    fn args(&mut self, spawn: &Spawn) -> Vec<String>;

    /// Environment added to the agent's own.
    fn env(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// What is written as soon as the process runs (a handshake).
    fn start(&mut self, _spawn: &Spawn, _out: &mut Out) {}

    /// One non-empty line of its stdout: record what it says in `conv`, answer in `out`.
    fn line(&mut self, line: &str, conv: &Conv, out: &mut Out);

    /// A message, an answer to an approval or an interrupt from the session.
    fn command(&mut self, cmd: DriverCmd, out: &mut Out);

    /// The session asked the process to end (`kill`: at once); the loop has already
    /// closed its stdin or killed it.
    fn ending(&mut self, _kill: bool) {}
}

/// How one process ended: its exit and last stderr lines, or why it could not start.
pub enum Ran {
    /// It ran and ended.
    Ended(ExitInfo, Vec<String>),
    /// It could not be started: no exit code, and the reason as its last stderr line.
    NotStarted(ExitInfo, Vec<String>),
}

impl Ran {
    /// How it ended, either way.
    pub fn into_parts(self) -> (ExitInfo, Vec<String>) {
        match self {
            Ran::Ended(e, t) | Ran::NotStarted(e, t) => (e, t),
        }
    }
}

/// The session's commands, and whether the session still sends any.
pub struct Cmds {
    rx: mpsc::UnboundedReceiver<DriverCmd>,
    open: bool,
}

impl Cmds {
    /// The commands `rx` brings.
    pub fn new(rx: mpsc::UnboundedReceiver<DriverCmd>) -> Self {
        Self { rx, open: true }
    }

    /// The next command; `None` once the session is gone (it pends forever after).
    pub async fn recv(&mut self) -> Option<DriverCmd> {
        if !self.open {
            return std::future::pending().await;
        }
        let cmd = self.rx.recv().await;
        self.open = cmd.is_some();
        cmd
    }
}

/// Runs one process of `driver` for `conv` until it ends.
pub async fn drive(conv: &Conv, spawn: &Spawn, cmds: &mut Cmds, d: &mut impl Driver) -> Ran {
    let args = d.args(spawn);
    let (mut proc, mut stdout) = match Proc::spawn(&spawn.program, &args, &spawn.cwd, &d.env()) {
        Ok(p) => p,
        Err(e) => {
            let (exit, why) = process::not_started(&spawn.program, &e);
            return Ran::NotStarted(exit, why);
        }
    };
    let mut out = Out::default();
    d.start(spawn, &mut out);
    apply(&mut proc, &mut out).await;
    loop {
        tokio::select! {
            line = stdout.next_line() => {
                let Ok(Some(line)) = line else { break };
                if line.trim().is_empty() {
                    continue;
                }
                d.line(&line, conv, &mut out);
            }
            () = proc.exited() => {}
            cmd = cmds.recv() => match cmd {
                Some(DriverCmd::End) => {
                    out.close = true;
                    d.ending(false);
                }
                // The session is gone: nobody is left to serve.
                Some(DriverCmd::Kill) | None => {
                    out.kill = true;
                    d.ending(true);
                }
                Some(cmd) => d.command(cmd, &mut out),
            },
        }
        apply(&mut proc, &mut out).await;
    }
    let (exit, tail) = proc.wait().await;
    Ran::Ended(exit, tail)
}

/// Does what `out` asks of `proc`, and empties it.
async fn apply(proc: &mut Proc, out: &mut Out) {
    for v in out.lines.drain(..) {
        write_line(&mut proc.stdin, &v).await;
    }
    if std::mem::take(&mut out.close) {
        proc.stdin = None;
    }
    if std::mem::take(&mut out.kill) {
        proc.kill();
    }
}

async fn write_line(stdin: &mut Option<ChildStdin>, v: &Value) {
    if let Some(w) = stdin {
        let mut line = v.to_string();
        line.push('\n');
        if w.write_all(line.as_bytes()).await.is_err() || w.flush().await.is_err() {
            // The process is gone; its end is noticed on stdout.
            *stdin = None;
        }
    }
}
