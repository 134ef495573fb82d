//! The browser client under test: a node script (`web/tests/*.mjs`) that drives Debian's
//! chromium through playwright-core, printing one `step: ...` line per step and `ok` at
//! the end. A test reads those lines as they come, so it can act between steps (restart
//! the agent, say) on the script's word rather than after a sleep.

use std::{
    path::PathBuf,
    process::{ExitStatus, Stdio},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, BufReader, Lines},
    process::{Child, ChildStdout},
};

/// How long a whole browser script may run.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

/// The `web/` folder.
pub fn web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web")
}

/// What is missing to run the browser, if anything: the built client, playwright, chromium.
pub fn missing() -> Option<String> {
    let web = web_dir();
    let chromium = std::env::var("VM_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    [
        (
            web.join("dist/index.html"),
            "web/dist (run: bash web/build.sh)",
        ),
        (
            web.join("node_modules/playwright-core"),
            "web/node_modules (run: cd web && npm ci)",
        ),
        (
            PathBuf::from(&chromium),
            "chromium (apt-get install chromium)",
        ),
    ]
    .into_iter()
    .find(|(p, _)| !p.exists())
    .map(|(_, what)| what.to_string())
}

/// Whether the test must stop here because `what` is missing: it says so and passes,
/// except under CI (`CI` set), where it fails.
pub fn skip(what: Option<String>) -> bool {
    let Some(what) = what else { return false };
    let msg = format!("SKIPPED the browser test: {what} is missing");
    assert!(std::env::var_os("CI").is_none(), "{msg}");
    eprintln!("{msg}");
    true
}

/// The usual scene of a browser test: a relay on 127.0.0.1 serving the built client, and
/// an agent named `name` that uses it; `None` (the test passes, saying why) when the
/// browser cannot run here and this is not CI.
pub async fn scene(name: &str) -> Option<(vibemesh_relay::Relay, crate::TestAgent)> {
    if skip(missing()) {
        return None;
    }
    let relay = crate::relay::start_relay(Some(web_dir().join("dist"))).await;
    let agent = crate::TestAgent::start_config(name, &relay.url(), "", &[]);
    Some((relay, agent))
}

/// A running browser script.
pub struct Script {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    /// Everything it printed so far.
    pub output: String,
}

impl Script {
    /// Runs `web/tests/<name>` with `env`.
    pub fn start(name: &str, env: &[(&str, String)]) -> Self {
        let mut child = tokio::process::Command::new("node")
            .arg(web_dir().join("tests").join(name))
            .current_dir(web_dir())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("run node");
        let stdout = child.stdout.take().expect("piped stdout");
        Self {
            child,
            lines: BufReader::new(stdout).lines(),
            output: String::new(),
        }
    }

    /// Reads lines until one equals `line`; `false` when the script ended (or timed out)
    /// first.
    pub async fn wait_line(&mut self, line: &str) -> bool {
        let read = async {
            while let Ok(Some(l)) = self.lines.next_line().await {
                eprintln!("{l}");
                self.output.push_str(&l);
                self.output.push('\n');
                if l == line {
                    return true;
                }
            }
            false
        };
        tokio::time::timeout(SCRIPT_TIMEOUT, read)
            .await
            .unwrap_or(false)
    }

    /// Reads to the end; whether the script succeeded (exit 0 and an `ok` line), with
    /// everything it printed.
    pub async fn finish(mut self) -> (bool, String) {
        let done = self.wait_line("ok").await;
        let status: Option<ExitStatus> = tokio::time::timeout(SCRIPT_TIMEOUT, self.child.wait())
            .await
            .ok()
            .and_then(Result::ok);
        let ok = done && status.is_some_and(|s| s.success());
        (ok, self.output)
    }

    /// Reads to the end and fails the test unless the script succeeded, saying what it
    /// and `agent` printed; returns its output.
    pub async fn passes(self, agent: Option<&crate::TestAgent>) -> String {
        let (ok, out) = self.finish().await;
        let log = agent.map(crate::TestAgent::log).unwrap_or_default();
        assert!(
            ok,
            "the browser script failed:\n{out}\n--- agent log ---\n{log}"
        );
        out
    }
}
