//! Helpers for AI session tests: the real `claude` and `codex` CLIs (installed by
//! `scripts/setup.sh` into `.tools/npm`), an environment that points them at a
//! [`FakeModel`] and nowhere else, and a conversation client that waits on events.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use tempfile::TempDir;
use vibemesh_core::{
    client::{ConvReader, ConvWriter, Conversation, Item, PeerConnection},
    proto::{
        Provider, SessionId,
        ai::{ConvServerFrame, ConversationOpen, StartConversation},
    },
};

use crate::{FakeModel, InProcPeer, TIMEOUT, TestAgent};

/// How long one AI expectation may take (the CLIs start slowly on a busy machine).
pub const AI_TIMEOUT: Duration = Duration::from_secs(90);

/// Where `scripts/setup.sh` puts the CLIs, whether they are there or not.
pub fn tools_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/npm/node_modules/.bin")
}

/// The CLI `name` (`claude`, `codex`) as `scripts/setup.sh` installed it, if it did:
/// for tests that skip, saying why, on a machine without it.
pub fn installed(name: &str) -> Option<PathBuf> {
    let p = tools_dir().join(name);
    p.exists().then_some(p)
}

/// Where `scripts/setup.sh` puts the CLIs; fails the test when they are not there.
pub fn tools_bin() -> PathBuf {
    let dir = tools_dir();
    assert!(
        dir.join("claude").exists() && dir.join("codex").exists(),
        "{} has no claude/codex: run `bash scripts/setup.sh` (it installs the pinned CLIs)",
        dir.display()
    );
    dir
}

/// The environment for an agent whose AI CLIs talk only to `fake`: their own HOME,
/// the fake as API, no retries, no update checks or telemetry.
pub fn ai_env(fake_url: &str, user_home: &Path, key: bool) -> Vec<(String, String)> {
    let path = format!(
        "{}:{}",
        tools_bin().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let codex_home = user_home.join(".codex");
    std::fs::create_dir_all(&codex_home).expect("codex home");
    let env_key = if key { "FAKE_KEY" } else { "FAKE_KEY_UNSET" };
    std::fs::write(
        codex_home.join("config.toml"),
        format!(
            "model = \"gpt-6.1-sol\"\nmodel_provider = \"fake\"\ncheck_for_update_on_startup = false\n\
             [model_providers.fake]\nname = \"fake\"\nbase_url = \"{fake_url}/v1\"\nenv_key = \"{env_key}\"\n\
             wire_api = \"responses\"\nsupports_websockets = false\nrequest_max_retries = 0\nstream_max_retries = 0\n\
             [analytics]\nenabled = false\n"
        ),
    )
    .expect("codex config");
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), path),
        ("HOME".into(), user_home.display().to_string()),
        ("CODEX_HOME".into(), codex_home.display().to_string()),
        ("ANTHROPIC_BASE_URL".into(), fake_url.into()),
        ("CLAUDE_CODE_MAX_RETRIES".into(), "0".into()),
        ("DISABLE_AUTOUPDATER".into(), "1".into()),
        ("DISABLE_TELEMETRY".into(), "1".into()),
        ("DISABLE_ERROR_REPORTING".into(), "1".into()),
        (
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC".into(),
            "1".into(),
        ),
        ("ANTHROPIC_API_KEY".into(), String::new()),
        ("OPENAI_API_KEY".into(), String::new()),
    ];
    if key {
        env.push((
            "ANTHROPIC_API_KEY".into(),
            "sk-ant-fake-key-for-tests".into(),
        ));
        env.push(("FAKE_KEY".into(), "dummy".into()));
    }
    env
}

/// A private HOME for the CLIs under test.
///
/// Codex's own interface copies itself into `$CODEX_HOME/packages` and starts a
/// background app-server from there that outlives the test. Dropping the home ends
/// every process whose executable lies inside it (only this test's CLIs can have put
/// one there), then removes the folder, so test runs leave nothing running.
pub struct UserHome(TempDir);

impl UserHome {
    /// A fresh, empty home.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("vm-user-")
            .tempdir()
            .expect("tempdir");
        Self(dir)
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Default for UserHome {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for UserHome {
    fn drop(&mut self) {
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return;
        };
        for entry in procs.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            let inside = std::fs::read_link(entry.path().join("exe"))
                .is_ok_and(|exe| exe.starts_with(self.0.path()));
            if inside {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
}

/// An agent with the AI CLIs pointed at a fake model, a project folder, and an owner
/// connection to it.
pub struct AiWorld {
    /// The fake model API.
    pub fake: FakeModel,
    /// The agent.
    pub agent: TestAgent,
    /// The CLIs' HOME.
    pub user_home: UserHome,
    /// The folder sessions work in.
    pub work: TempDir,
    /// An in-process owner client.
    pub peer: InProcPeer,
    /// Its connection.
    pub conn: PeerConnection,
    /// The agent's environment (the fake's address, the CLIs' home).
    env: Vec<(String, String)>,
}

impl AiWorld {
    /// Starts the fake, an agent with a key (or without) and an owner client.
    pub async fn start(fake: FakeModel, key: bool) -> Self {
        Self::start_env(fake, key, &[]).await
    }

    /// Like [`AiWorld::start`], with more environment for the agent.
    pub async fn start_env(fake: FakeModel, key: bool, extra: &[(&str, &str)]) -> Self {
        Self::start_config(fake, key, extra, "").await
    }

    /// Like [`AiWorld::start_env`], with extra `config.toml` lines for the agent.
    pub async fn start_config(
        fake: FakeModel,
        key: bool,
        extra: &[(&str, &str)],
        config: &str,
    ) -> Self {
        let user_home = UserHome::new();
        let mut env = ai_env(&fake.url(), user_home.path(), key);
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let agent = TestAgent::start_env("ai", config, &pairs(&env));
        let work = tempfile::Builder::new()
            .prefix("vm-work-")
            .tempdir()
            .expect("tempdir");
        let peer = InProcPeer::bind().await;
        peer.pair(&agent, "owner").await.expect("pair");
        let conn = peer.connect(&agent).await.expect("connect");
        Self {
            fake,
            agent,
            user_home,
            work,
            peer,
            conn,
            env,
        }
    }

    /// Stops the agent and starts it again on the same home and environment (its
    /// sessions live on in their holders), and connects the client again.
    pub async fn restart(self) -> Self {
        self.restart_with(|| {}).await
    }

    /// [`AiWorld::restart`], running `while_down` (on this thread) between the stop and
    /// the start.
    pub async fn restart_with(self, while_down: impl FnOnce()) -> Self {
        let Self {
            fake,
            agent,
            user_home,
            work,
            peer,
            conn,
            env,
        } = self;
        drop(conn);
        let home = agent.stop();
        while_down();
        let agent = TestAgent::spawn_env(home, "ai", &pairs(&env));
        let conn = peer.connect(&agent).await.expect("connect again");
        Self {
            fake,
            agent,
            user_home,
            work,
            peer,
            conn,
            env,
        }
    }

    /// Starts a structured session in the work folder.
    pub async fn start_session(&self, provider: Provider) -> SessionId {
        let (control, _events, driver) = self.conn.control().await.expect("control");
        tokio::spawn(driver.run());
        control
            .start_conversation(StartConversation {
                provider,
                cwd: Some(self.work.path().display().to_string()),
                title: None,
                prompt: None,
            })
            .await
            .expect("start conversation")
            .id
    }

    /// Attaches a conversation client.
    pub async fn attach(&self, id: SessionId) -> ConvClient {
        ConvClient::attach(&self.conn, id, None, false).await
    }
}

fn pairs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// A conversation stream and the conversation it builds.
pub struct ConvClient {
    /// What a UI would draw.
    pub conv: Conversation,
    reader: ConvReader,
    /// Prompts, answers, interrupts.
    pub writer: ConvWriter,
    /// Notices the agent sent this client.
    pub notices: Vec<String>,
    /// Entries received.
    pub received: u64,
    /// Entries received that were already applied (there must be none).
    pub duplicates: u64,
}

impl ConvClient {
    /// Attaches to `id` on `conn`, replaying after `after`.
    pub async fn attach(
        conn: &PeerConnection,
        id: SessionId,
        after: Option<u64>,
        watch_only: bool,
    ) -> Self {
        let (_info, reader, writer) = tokio::time::timeout(
            TIMEOUT,
            conn.conversation(ConversationOpen {
                session: id,
                after,
                watch_only,
            }),
        )
        .await
        .expect("attach in time")
        .expect("attach");
        Self {
            conv: Conversation::new(),
            reader,
            writer,
            notices: Vec::new(),
            received: 0,
            duplicates: 0,
        }
    }

    /// Reads frames until `done` holds for the conversation; fails the test with the
    /// conversation so far when it does not within [`AI_TIMEOUT`].
    pub async fn wait_for(&mut self, what: &str, done: impl Fn(&Conversation) -> bool) {
        let deadline = tokio::time::Instant::now() + AI_TIMEOUT;
        while !done(&self.conv) {
            let frame = match tokio::time::timeout_at(deadline, self.reader.next()).await {
                Ok(Ok(Some(f))) => f,
                Ok(Ok(None)) => panic!("stream ended waiting for {what}:\n{}", self.dump()),
                Ok(Err(e)) => panic!("stream failed waiting for {what}: {e}\n{}", self.dump()),
                Err(_) => panic!("timed out waiting for {what}:\n{}", self.dump()),
            };
            match &frame {
                ConvServerFrame::Entry(_) => {
                    self.received += 1;
                    if self.conv.apply_frame(&frame) != Ok(true) {
                        self.duplicates += 1;
                    }
                }
                ConvServerFrame::Notice(e) => self.notices.push(e.to_string()),
                other => panic!("unexpected {other:?} waiting for {what}"),
            }
        }
    }

    /// The conversation as text, for failure messages.
    pub fn dump(&self) -> String {
        self.conv
            .items
            .iter()
            .map(|i| format!("  {i:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Fails (clearly) when the provider said anything this build does not understand:
    /// that is version drift in the CLI's JSON, to be taught to the driver.
    pub fn assert_understood(&self) {
        let unknown: Vec<_> = self
            .conv
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Unknown { provider, raw } => Some(format!("{provider}: {raw}")),
                _ => None,
            })
            .collect();
        assert!(
            unknown.is_empty(),
            "the CLI sent JSON the agent does not understand (version drift? teach \
             agent/src/ai about it); kept and shown as unknown:\n{}",
            unknown.join("\n")
        );
    }
}

/// Whether the conversation's last item is a finished turn.
pub fn turn_ended(c: &Conversation) -> bool {
    matches!(c.items.last(), Some(Item::TurnEnd { .. })) && !c.busy
}

/// Number of finished turns.
pub fn turns(c: &Conversation) -> usize {
    c.items
        .iter()
        .filter(|i| matches!(i, Item::TurnEnd { .. }))
        .count()
}
