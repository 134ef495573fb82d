//! The two agent processes under test: finding the `vibemesh` binary, starting each agent
//! in its own temporary `VIBEMESH_HOME`, pairing them, and stopping them again (also when
//! the benchmark fails half way: [`AgentProc`] stops its process when dropped).

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use tempfile::TempDir;
use vibemesh_core::client::Backoff;

/// How long an agent may take to answer on its socket after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a stopping agent gets after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// The name the bench gives agent B when agent A joins it; streams are routed to it.
pub const PEER_NAME: &str = "b";

/// Finds the `vibemesh` binary: `explicit` when given, else next to this executable
/// (both live in the same `target/<profile>/` folder).
pub fn locate_vibemesh(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        if !path.is_file() {
            bail!("--vibemesh {}: no such file", path.display());
        }
        return Ok(path);
    }
    let me = std::env::current_exe().context("cannot find this executable's path")?;
    let dir = me
        .parent()
        .with_context(|| format!("{} has no parent folder", me.display()))?;
    let path = dir.join("vibemesh");
    if !path.is_file() {
        bail!(
            "no vibemesh binary at {}; build both with `cargo build --release -p vibemesh-agent \
             -p vibemesh-bench` or pass --vibemesh PATH",
            path.display()
        );
    }
    Ok(path)
}

/// One `vibemesh agent` child process with its own home folder.
pub struct AgentProc {
    /// Its name in `config.toml`.
    pub name: String,
    bin: PathBuf,
    child: Option<Child>,
    // Dropped after `Drop::drop` stopped the process, so the agent never loses its files.
    home: TempDir,
}

impl AgentProc {
    /// Writes `config.toml` (no relay, loopback only, `record` as given) into a fresh
    /// temporary home and starts `vibemesh agent` there, logging to `agent.log`.
    pub fn start(bin: &Path, name: &str, record: bool) -> anyhow::Result<Self> {
        let home = tempfile::Builder::new()
            .prefix(&format!("vibemesh-bench-{name}-"))
            .tempdir()
            .context("cannot create a temporary home folder")?;
        let config = format!(
            "name = \"{name}\"\nrelay = \"none\"\nlisten = [\"127.0.0.1:0\"]\nrecord = {record}\n"
        );
        std::fs::write(home.path().join("config.toml"), config)
            .with_context(|| format!("cannot write config.toml in {}", home.path().display()))?;
        let log = File::create(home.path().join("agent.log")).context("cannot create agent.log")?;
        // HOME too, as the reference harness for ttyd and VibeTunnel does: a session's
        // login shell then reads no profile of this machine's user (root's here sources
        // a toolchain and takes a third of a second), so its start-up is the shell's.
        let child = Command::new(bin)
            .arg("agent")
            .env("VIBEMESH_HOME", home.path())
            .env("HOME", home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {} agent", bin.display()))?;
        Ok(Self {
            name: name.to_string(),
            bin: bin.to_path_buf(),
            child: Some(child),
            home,
        })
    }

    /// The agent's process id.
    pub fn pid(&self) -> anyhow::Result<u32> {
        self.child
            .as_ref()
            .map(Child::id)
            .with_context(|| format!("agent {} is not running", self.name))
    }

    /// The `vibemesh` binary it runs.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// The agent's home folder (its holders' sockets are under `holders/`).
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The agent's local socket.
    pub fn socket(&self) -> PathBuf {
        self.home.path().join("agent.sock")
    }

    /// Waits until the agent is up: it has logged that it is running, and its socket
    /// accepts a connection. Polls with a short backoff for at most [`START_TIMEOUT`];
    /// fails at once if the process died.
    ///
    /// The log line comes first on purpose: a connection that reaches the socket while
    /// `Agent::start` is still running makes the agent's accept loop
    /// (`agent/src/ipc.rs`, `serve`) find its `Weak<Agent>` not yet upgradable, return,
    /// and drop the listener, so the socket refuses every later connection.
    pub async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        // Core's backoff, the one every reconnecting client uses, with short waits: an
        // agent starts in milliseconds.
        let backoff = Backoff {
            first: Duration::from_millis(5),
            max: Duration::from_millis(100),
            max_tries: None,
        };
        let mut attempt = 0;
        loop {
            if self.log().contains(" is running")
                && tokio::net::UnixStream::connect(self.socket()).await.is_ok()
            {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait().context("cannot check the agent process")?
            {
                bail!(
                    "agent {} exited with {status}:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            if started.elapsed() > START_TIMEOUT {
                bail!(
                    "agent {} was not ready on {} within {}s:\n{}",
                    self.name,
                    self.socket().display(),
                    START_TIMEOUT.as_secs(),
                    self.log_tail()
                );
            }
            attempt += 1;
            tokio::time::sleep(backoff.delay(attempt)).await;
        }
    }

    /// What the agent logged so far.
    fn log(&self) -> String {
        std::fs::read_to_string(self.home.path().join("agent.log")).unwrap_or_default()
    }

    /// Runs `vibemesh <args>` against this agent and returns what it printed on stdout.
    pub async fn cli(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = tokio::process::Command::new(&self.bin)
            .args(args)
            .env("VIBEMESH_HOME", self.home.path())
            .stdin(Stdio::null())
            .output()
            .await
            .with_context(|| format!("cannot run vibemesh {}", args.join(" ")))?;
        if !out.status.success() {
            bail!(
                "vibemesh {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        String::from_utf8(out.stdout).context("vibemesh printed something that is not UTF-8")
    }

    /// The last lines the agent logged, for error messages.
    pub fn log_tail(&self) -> String {
        let text = self.log();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(20);
        format!(
            "--- last lines of agent {}'s log ---\n{}",
            self.name,
            lines[from..].join("\n")
        )
    }

    /// Stops the agent: SIGTERM to the process we started, then waits; SIGKILL when it
    /// has not exited after [`STOP_TIMEOUT`]. Does nothing the second time.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let pid = i32::try_from(child.id()).context("process id out of range")?;
        use nix::{sys::signal, unistd::Pid};
        if let Err(e) = signal::kill(Pid::from_raw(pid), signal::Signal::SIGTERM) {
            // It may have exited already; reap it either way.
            let _ = child.wait();
            bail!("cannot signal agent {} (pid {pid}): {e}", self.name);
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().context("cannot wait for the agent")? {
                if !status.success() {
                    bail!(
                        "agent {} exited with {status}:\n{}",
                        self.name,
                        self.log_tail()
                    );
                }
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "agent {} did not stop within {}s of SIGTERM and was killed",
                    self.name,
                    STOP_TIMEOUT.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for AgentProc {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("vibemesh-bench: {e:#}");
        }
    }
}

/// Two paired agents: `a` has joined `b` under the name [`PEER_NAME`].
pub struct Mesh {
    /// The agent the client talks to (over its Unix socket).
    pub a: AgentProc,
    /// The remote agent that runs the sessions.
    pub b: AgentProc,
}

impl Mesh {
    /// Starts agents `a` and `b`, waits for both sockets, and pairs them with the CLI:
    /// `vibemesh pair --json` on b, then `vibemesh join <ticket> --name b` on a.
    pub async fn start(bin: &Path, record: bool) -> anyhow::Result<Self> {
        let mut a = AgentProc::start(bin, "a", record)?;
        let mut b = AgentProc::start(bin, "b", record)?;
        a.wait_ready().await?;
        b.wait_ready().await?;
        let printed = b.cli(&["pair", "--json"]).await?;
        let ticket: serde_json::Value = serde_json::from_str(&printed)
            .context("`vibemesh pair --json` printed invalid JSON")?;
        let ticket = ticket["ticket"]
            .as_str()
            .context("`vibemesh pair --json` printed no \"ticket\" field")?;
        a.cli(&["join", ticket, "--name", PEER_NAME]).await?;
        Ok(Self { a, b })
    }

    /// Both agents' recent logs, for error messages.
    pub fn logs(&self) -> String {
        format!("{}\n{}", self.a.log_tail(), self.b.log_tail())
    }

    /// Stops both agents; reports the first failure after trying both.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        let a = self.a.stop();
        let b = self.b.stop();
        a.and(b)
    }
}
