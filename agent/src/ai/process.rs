//! A provider's process: piped stdio, its own process group (so its tools die with it),
//! and the last lines of its stderr kept for when it crashes.

use std::{
    collections::VecDeque,
    path::Path,
    process::Stdio,
    sync::{Arc, Mutex},
};

use tokio::{
    io::{AsyncBufReadExt, BufReader, Lines},
    process::{Child, ChildStdin, ChildStdout, Command},
    task::JoinHandle,
};
use vibemesh_core::proto::ExitInfo;
use vibemesh_core::sync::lock;

/// Lines of stderr kept.
const STDERR_TAIL: usize = 20;

/// A running provider process.
pub struct Proc {
    child: Child,
    status: Option<std::process::ExitStatus>,
    /// Its process group (its pid): still valid for its children after it exited.
    pgid: Option<i32>,
    /// Its stdin (dropped to ask it to end).
    pub stdin: Option<ChildStdin>,
    tail: Arc<Mutex<VecDeque<String>>>,
    stderr_task: JoinHandle<()>,
}

/// A provider's stdout, line by line.
pub type Stdout = Lines<BufReader<ChildStdout>>;

/// How a session ends when its CLI cannot even be started: no exit code, and the reason
/// as its last stderr line.
pub fn not_started(program: &Path, e: &std::io::Error) -> (ExitInfo, Vec<String>) {
    let exit = ExitInfo {
        code: None,
        signal: None,
    };
    (
        exit,
        vec![format!("cannot start {}: {e}", program.display())],
    )
}

impl Proc {
    /// Starts `program args` in `cwd` with `env` added; returns it and its stdout.
    pub fn spawn(
        program: &Path,
        args: &[String],
        cwd: &Path,
        env: &[(String, String)],
    ) -> std::io::Result<(Self, Stdout)> {
        let mut child = Command::new(program)
            .args(args)
            .current_dir(cwd)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()?;
        let stdin = child.stdin.take();
        let pgid = child.id().and_then(|p| i32::try_from(p).ok());
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout"))?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| std::io::Error::other("no stderr"))?;
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let t2 = tail.clone();
        let stderr_task = tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut t = lock(&t2);
                if t.len() == STDERR_TAIL {
                    t.pop_front();
                }
                t.push_back(line);
            }
        });
        let proc = Self {
            child,
            status: None,
            pgid,
            stdin,
            tail,
            stderr_task,
        };
        Ok((proc, BufReader::new(stdout).lines()))
    }

    /// Kills its whole process group.
    pub fn kill(&self) {
        if let Some(pid) = self.pgid {
            use nix::{sys::signal, unistd::Pid};
            let _ = signal::killpg(Pid::from_raw(pid), signal::Signal::SIGKILL);
        }
    }

    /// Resolves when the program itself ended (whatever its children do); then kills
    /// the rest of its process group, so its output ends too. Pends forever after that.
    pub async fn exited(&mut self) {
        if self.status.is_some() {
            return std::future::pending().await;
        }
        if let Ok(s) = self.child.wait().await {
            self.status = Some(s);
        }
        self.kill();
    }

    /// Waits for it to end: how it ended and its last stderr lines.
    pub async fn wait(mut self) -> (ExitInfo, Vec<String>) {
        self.stdin = None;
        let status = match self.status {
            Some(s) => Ok(s),
            None => self.child.wait().await,
        };
        // stderr closes when the process (group) is gone; do not wait on stray children.
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(2), &mut self.stderr_task).await;
        let info = match status {
            Ok(s) => {
                use std::os::unix::process::ExitStatusExt;
                ExitInfo {
                    code: s.code(),
                    signal: s.signal().map(|n| {
                        nix::sys::signal::Signal::try_from(n)
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_else(|_| format!("signal {n}"))
                    }),
                }
            }
            Err(_) => ExitInfo {
                code: None,
                signal: None,
            },
        };
        let tail = lock(&self.tail).iter().cloned().collect();
        (info, tail)
    }
}
