//! A real agent process for a test.

use std::{
    path::Path,
    process::{Child, Command, Output, Stdio},
};

use tempfile::TempDir;

use crate::{TIMEOUT, Term, stderr::StderrLog, vibemesh_bin};

/// A `vibemesh agent` running in its own temporary home.
pub struct TestAgent {
    /// Its `VIBEMESH_HOME`.
    pub home: TempDir,
    /// Its name.
    pub name: String,
    child: Child,
    log: StderrLog,
}

impl TestAgent {
    /// Starts an agent named `name` with relays off, on loopback, plus `extra` config lines.
    pub fn start(name: &str) -> Self {
        Self::start_with(name, "")
    }

    /// Like [`TestAgent::start`] with extra `config.toml` lines.
    pub fn start_with(name: &str, extra: &str) -> Self {
        Self::start_env(name, extra, &[])
    }

    /// Like [`TestAgent::start_with`], with extra environment variables for the agent
    /// process (`XDG_DATA_HOME`, say).
    pub fn start_env(name: &str, extra: &str, env: &[(&str, &str)]) -> Self {
        Self::start_config(name, "none", extra, env)
    }

    /// Starts an agent named `name` on loopback that uses the relay at `relay_url`.
    pub fn start_relayed(name: &str, relay_url: &str) -> Self {
        Self::start_config(name, relay_url, "", &[])
    }

    /// Starts an agent named `name` on loopback with `relay` (`none` or a URL), `extra`
    /// `config.toml` lines and extra environment variables.
    pub fn start_config(name: &str, relay: &str, extra: &str, env: &[(&str, &str)]) -> Self {
        Self::start_listen(name, &format!("\"{relay}\""), "127.0.0.1:0", extra, env)
    }

    /// Starts an agent on loopback with several relays of its own (`relay = [...]`).
    pub fn start_relays(name: &str, relays: &[String]) -> Self {
        let list: Vec<String> = relays.iter().map(|r| format!("\"{r}\"")).collect();
        Self::start_listen(
            name,
            &format!("[{}]", list.join(", ")),
            "127.0.0.1:0",
            "",
            &[],
        )
    }

    /// Starts an agent listening at a fixed address (see [`crate::free_port`]), so a
    /// restart on the same home comes back at the same address.
    pub fn start_at(name: &str, listen: &str) -> Self {
        Self::start_listen(name, "\"none\"", listen, "", &[])
    }

    /// Starts an agent listening on `listen`, with `extra` lines in its config.
    pub fn start_at_with(name: &str, listen: &str, extra: &str) -> Self {
        Self::start_listen(name, "\"none\"", listen, extra, &[])
    }

    /// `relay` is the setting's TOML value (`"none"` with its quotes, or a list).
    fn start_listen(
        name: &str,
        relay: &str,
        listen: &str,
        extra: &str,
        env: &[(&str, &str)],
    ) -> Self {
        let home = tempfile::Builder::new()
            .prefix("vm-")
            .tempdir()
            .expect("tempdir");
        std::fs::write(
            home.path().join("config.toml"),
            // Off the machine's real LAN: LAN discovery is tested in namespaces (lan.rs).
            format!(
                "name = \"{name}\"\nrelay = {relay}\nlisten = [\"{listen}\"]\nlan_discovery = false\n{extra}\n"
            ),
        )
        .expect("write config");
        Self::spawn_env(home, name, env)
    }

    /// Starts an agent on an existing home (a restart).
    pub fn spawn(home: TempDir, name: &str) -> Self {
        Self::spawn_env(home, name, &[])
    }

    /// Like [`TestAgent::spawn`], with extra environment variables.
    pub fn spawn_env(home: TempDir, name: &str, env: &[(&str, &str)]) -> Self {
        Self::spawn_bin(home, name, &vibemesh_bin(), env)
    }

    /// Starts the agent binary `bin` (an upgrade, say) on an existing home.
    pub fn spawn_bin(home: TempDir, name: &str, bin: &Path, env: &[(&str, &str)]) -> Self {
        Self::spawn_command(home, name, Command::new(bin), env)
    }

    /// Starts the agent under `wrapper` (a program and its arguments, then the agent's
    /// path and `agent`), e.g. `prlimit --nofile=256:`. The wrapper must exec the agent,
    /// so the pid is the agent's.
    pub fn spawn_wrapped(home: TempDir, name: &str, wrapper: &[&str]) -> Self {
        let (program, args) = wrapper.split_first().expect("a wrapper program");
        let mut cmd = Command::new(program);
        cmd.args(args).arg(vibemesh_bin());
        Self::spawn_command(home, name, cmd, &[])
    }

    /// Starts the agent inside the network namespace `netns` (`ip netns exec`, which
    /// becomes the agent: the pid is the agent's). The CLI reaches it over its socket
    /// from any namespace.
    pub fn spawn_in_netns(home: TempDir, name: &str, netns: &str, env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", netns]).arg(vibemesh_bin());
        Self::spawn_command(home, name, cmd, env)
    }

    fn spawn_command(home: TempDir, name: &str, mut cmd: Command, env: &[(&str, &str)]) -> Self {
        let mut child = cmd
            .arg("agent")
            .envs(env.iter().copied())
            .env("VIBEMESH_HOME", home.path())
            .env("RUST_LOG", "vibemesh_agent=debug,warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vibemesh agent");
        let log = StderrLog::follow(child.stderr.take().expect("stderr"));
        let started = log.wait_line(TIMEOUT, "is running");
        let agent = Self {
            home,
            name: name.to_string(),
            child,
            log,
        };
        assert!(started, "agent {name} did not start:\n{}", agent.log());
        agent
    }

    /// What the agent logged so far.
    pub fn log(&self) -> String {
        self.log.text()
    }

    /// Waits until the log satisfies `done` (its reader runs on a thread of its own, so a
    /// line may land a moment after the request that caused it was answered).
    pub fn wait_log(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        match self
            .log
            .wait_for(TIMEOUT, |log| done(log).then(|| log.to_string()))
        {
            Some(log) => log,
            None => panic!("the agent never logged {what}:\n{}", self.log()),
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The holder process serving this agent's session `id`, found by its socket
    /// argument.
    pub fn holder_pid(&self, id: &str) -> Option<u32> {
        let sock = self.path().join("holders").join(format!("{id}.sock"));
        let want = sock.to_str()?.to_string();
        std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
            let args: Vec<_> = cmd.split(|&b| b == 0).collect();
            let is_holder = args
                .first()
                .is_some_and(|a| a.ends_with(b"vibemesh-holder"));
            (is_holder && args.get(1).is_some_and(|a| *a == want.as_bytes())).then_some(pid)
        })
    }

    /// Its home folder.
    pub fn path(&self) -> &Path {
        self.home.path()
    }

    /// Runs `vibemesh <args>` against this agent and returns what it printed.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(vibemesh_bin())
            .args(args)
            .env("VIBEMESH_HOME", self.path())
            .stdin(Stdio::null())
            .output()
            .expect("run vibemesh")
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "vibemesh {args:?} failed: {}\n--- agent log ---\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command that must fail; returns its stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            !out.status.success(),
            "vibemesh {args:?} should have failed; printed {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Runs a `--json` command and parses its output.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut args = args.to_vec();
        args.push("--json");
        serde_json::from_str(&self.ok(&args)).expect("valid JSON")
    }

    /// A fresh pairing ticket.
    pub fn ticket(&self, extra: &[&str]) -> String {
        let mut args = vec!["pair"];
        args.extend_from_slice(extra);
        self.json(&args)["ticket"]
            .as_str()
            .expect("ticket")
            .to_string()
    }

    /// A ticket that has expired: one of the shortest lifetime (a second), waited out.
    pub fn expired_ticket(&self) -> String {
        let ticket = self.ticket(&["--ttl", "1s"]);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        ticket
    }

    /// Runs `vibemesh <args>` in a terminal of `rows` x `cols`.
    pub fn term(&self, args: &[&str], rows: u16, cols: u16) -> Term {
        Term::spawn(
            &vibemesh_bin(),
            args,
            &[("VIBEMESH_HOME", self.path())],
            rows,
            cols,
        )
    }

    /// Starts a session on `peer` without attaching and returns its id.
    pub fn open_detached(&self, peer: &str, path: &Path, command: &[&str]) -> String {
        let mut args = vec![
            "open",
            peer,
            "--path",
            path.to_str().unwrap(),
            "--detached",
            "--",
        ];
        args.extend_from_slice(command);
        self.ok(&args).trim().to_string()
    }

    /// Starts `command` in `/tmp` on this agent in a session titled `title`, without
    /// attaching; returns its id.
    pub fn open_titled(&self, title: &str, command: &[&str]) -> String {
        let mut args = vec![
            "open",
            "local",
            "--path",
            "/tmp",
            "--title",
            title,
            "--detached",
            "--",
        ];
        args.extend_from_slice(command);
        self.ok(&args).trim().to_string()
    }

    /// Stops the agent (SIGTERM to the process we started) and waits for it.
    pub fn stop(mut self) -> TempDir {
        self.terminate();
        let home = tempfile::Builder::new().tempdir().expect("tempdir");
        std::mem::replace(&mut self.home, home)
    }

    fn terminate(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            use nix::{sys::signal, unistd::Pid};
            let _ = signal::kill(Pid::from_raw(pid), signal::Signal::SIGTERM);
        }
        let _ = self.child.wait();
    }

    /// Kills the agent at once (SIGKILL), as a crash would.
    pub fn crash(mut self) -> TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let home = tempfile::Builder::new().tempdir().expect("tempdir");
        std::mem::replace(&mut self.home, home)
    }
}

impl Drop for TestAgent {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// Pairs `client` with `server` under `name` (as `client$ vibemesh join <ticket> --name name`).
pub fn pair(client: &TestAgent, server: &TestAgent, name: &str, role: &str) {
    let ticket = server.ticket(&["--role", role]);
    client.ok(&["join", &ticket, "--name", name]);
}
