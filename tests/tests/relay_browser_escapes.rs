//! The browser client shows a session title from an agent inert: its escape sequence and
//! bidi override appear as visible escapes in the session list and the crumb, never as
//! the raw characters (an override would reorder the rest of the line it is on).
//!
//! Needs what `relay_browser.rs` needs; without it the test says what is missing and
//! passes, except under CI.

use vibemesh_tests::browser::{self, Script};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_shows_titles_from_an_agent_inert() {
    let Some((relay, agent)) = browser::scene("web-box").await else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let title = "evil\x1b]0;pwned\x07 \u{202e}gpj.exe";
    agent.ok(&[
        "open",
        "local",
        "--path",
        work.path().to_str().unwrap(),
        "--title",
        title,
        "--detached",
        "--",
        "sh",
        "-c",
        // The screen, as a card's preview shows it, holds the title's bidi override too.
        r"printf 'evil \342\200\256gpj.exe\n'; exec cat",
    ]);
    let script = Script::start(
        "escapes.mjs",
        &[
            ("VM_URL", relay.url()),
            ("VM_TICKET", agent.ticket(&[])),
            ("VM_AGENT", "web-box".into()),
        ],
    );
    script.passes(Some(&agent)).await;
}
