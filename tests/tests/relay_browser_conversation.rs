//! A structured Claude session from the browser client, in headless Chromium against a
//! real relay and a real agent running the real `claude` CLI against the fake model API
//! (all on 127.0.0.1): pair, start a conversation with a first prompt and see the answer
//! (markup in it drawn as text), see the caret while an answer streams and stop it with
//! Interrupt, send a prompt that needs a tool, see the approval card (and the session
//! list's badge; a second browser paired as a viewer sees the card without buttons),
//! allow it, see the tool's result and the turn end; then restart the agent and see the
//! page re-attach by itself without drawing anything twice, and go on.
//!
//! Needs what `relay_browser.rs` needs, plus the CLIs from `scripts/setup.sh`; without
//! them it says what is missing and passes, except under CI.

use vibemesh_tests::{
    FakeModel, TestAgent,
    ai::{UserHome, ai_env, tools_dir},
    browser::{self, Script, web_dir},
    relay::start_relay,
};

/// The step after which the script waits for the agent to come back.
const RESTART: &str = "step: restart the agent";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_converses_approves_a_tool_and_reattaches_after_an_agent_restart() {
    let claude = tools_dir().join("claude");
    let what = browser::missing()
        .or_else(|| (!claude.exists()).then(|| format!("the claude CLI ({})", claude.display())));
    if browser::skip(what) {
        return;
    }
    let relay = start_relay(Some(web_dir().join("dist"))).await;
    let fake = FakeModel::start().await;
    let user_home = UserHome::new();
    let env = ai_env(&fake.url(), user_home.path(), true);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let work = tempfile::Builder::new()
        .prefix("vm-work-")
        .tempdir()
        .unwrap();
    let agent = TestAgent::start_config("web-ai", &relay.url(), "", &env);
    let ticket = agent.ticket(&[]);
    let viewer = agent.ticket(&["--role", "viewer"]);

    let mut script = Script::start(
        "conversation.mjs",
        &[
            ("VM_URL", relay.url()),
            ("VM_TICKET", ticket),
            ("VM_VIEWER_TICKET", viewer),
            ("VM_AGENT", "web-ai".into()),
            ("VM_WORK", work.path().display().to_string()),
        ],
    );
    let asked = script.wait_line(RESTART).await;
    assert!(
        asked,
        "the browser script failed before the restart:\n{}\n--- agent log ---\n{}",
        script.output,
        agent.log()
    );
    assert!(
        work.path().join("created.txt").exists(),
        "the allowed tool did not run"
    );
    // SIGTERM closes the browser's connection; the same home brings the session back.
    let home = agent.stop();
    let agent = TestAgent::spawn_env(home, "web-ai", &env);
    let (ok, out) = script.finish().await;
    assert!(
        ok,
        "the browser script failed:\n{out}\n--- agent log ---\n{}",
        agent.log()
    );
    // The last prompt reached the model as typed, in the resumed session with its history.
    let carried = serde_json::to_string(fake.turns().last().expect("model turns")).unwrap();
    assert!(
        carried.contains("and now?") && carried.contains("say <b>hello</b>"),
        "{carried}"
    );
}
