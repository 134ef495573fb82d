//! The browser client's home page and tabs in headless Chromium, against a real relay and
//! agent on 127.0.0.1 (`web/tests/home.mjs`, one case per test): each session is a card
//! whose preview follows its screen live; sessions opened become tabs that switch, follow
//! back and forward, and survive a reload.
//!
//! Needs what `relay_browser.rs` needs; without it a test says what is missing and
//! passes, except under CI.

use vibemesh_relay::Relay;
use vibemesh_tests::{
    TestAgent,
    browser::{self, Script},
};

/// A relay serving the client and an agent named `web-box` that uses it.
async fn scene() -> Option<(Relay, TestAgent)> {
    browser::scene("web-box").await
}

fn script(case: &str, relay: &Relay, agent: &TestAgent) -> Script {
    Script::start(
        "home.mjs",
        &[
            ("VM_CASE", case.to_string()),
            ("VM_URL", relay.url()),
            ("VM_TICKET", agent.ticket(&[])),
            ("VM_AGENT", "web-box".to_string()),
        ],
    )
}

/// On a phone, a session's card shows the last lines of its screen and follows it live;
/// an ended session's card looks ended; the page is no wider than the phone; a card
/// opens its session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cards_preview_their_sessions_live() {
    let Some((relay, agent)) = scene().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let go = dir.path().join("go");
    agent.open_titled("old", &["sh", "-c", "echo bye"]);
    let wait = format!(
        "echo compiling; while [ ! -e {go:?} ]; do sleep 0.05; done; echo 'tests passed'; exec cat",
        go = go.display().to_string()
    );
    agent.open_titled("build", &["sh", "-c", &wait]);
    let mut script = script("cards", &relay, &agent);
    assert!(
        script.wait_line("step: the card shows the screen").await,
        "{}",
        script.output
    );
    std::fs::write(&go, "").unwrap();
    script.passes(Some(&agent)).await;
}

/// On a laptop the cards sit side by side; each session opened is a tab; tabs switch,
/// follow back and forward, survive a reload, and closing the last leads to its machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_sessions_are_tabs() {
    let Some((relay, agent)) = scene().await else {
        return;
    };
    agent.open_titled("alpha", &["sh", "-c", "echo I am alpha; exec cat"]);
    agent.open_titled("beta", &["sh", "-c", "echo I am beta; exec cat"]);
    script("tabs", &relay, &agent).passes(Some(&agent)).await;
}
