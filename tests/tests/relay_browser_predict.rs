//! Typing in the browser client over a slow link: the page and the agent both reach the
//! relay through a proxy that holds every chunk 75 ms each way (a 300 ms round trip from
//! key to echo; the page must come from the relay it connects to), and
//! `web/tests/predict.mjs` types into a shell in headless Chromium with the keys-ahead
//! setting at "never" and at "auto" (see there for what it checks). The timings are
//! printed; docs/PERFORMANCE.md quotes them.
//!
//! Needs what `relay_browser.rs` needs; without it the test says what is missing and
//! passes, except under CI.

use std::time::Duration;

use vibemesh_tests::{
    PROMPT_SHELL, TestAgent,
    browser::{self, Script, web_dir},
    relay::{Tap, start_relay},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_a_slow_link_keys_show_at_once_in_the_browser() {
    if browser::skip(browser::missing()) {
        return;
    }
    let relay = start_relay(Some(web_dir().join("dist"))).await;
    let slow = Tap::start_delayed(relay.addr(), Duration::from_millis(75)).await;
    let agent = TestAgent::start_config("web-box", &slow.url(), "", &[]);
    agent.open_titled("shell", PROMPT_SHELL);
    let script = Script::start(
        "predict.mjs",
        &[
            ("VM_URL", slow.url()),
            ("VM_TICKET", agent.ticket(&[])),
            ("VM_AGENT", "web-box".into()),
        ],
    );
    let out = script.passes(Some(&agent)).await;
    for line in out.lines().filter(|l| l.starts_with("step: ")) {
        println!("{line}");
    }
}
