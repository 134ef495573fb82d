//! The browser client's load time and keystroke echo in headless Chromium, against a
//! real relay and agent on 127.0.0.1 (`web/tests/perf.mjs`): every key typed into a
//! shell is seen echoed on screen, and the timings are printed (docs/PERFORMANCE.md
//! quotes them). Run it with `--nocapture` to see them.
//!
//! Needs what `relay_browser.rs` needs; without it the test says what is missing and
//! passes, except under CI.

use vibemesh_tests::{
    TestAgent,
    browser::{self, Script, web_dir},
    relay::start_relay,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_load_and_echo_times() {
    if browser::skip(browser::missing()) {
        return;
    }
    let relay = start_relay(Some(web_dir().join("dist"))).await;
    let agent = TestAgent::start_config("web-box", &relay.url(), "", &[]);
    // A plain `sh` in cooked mode: the terminal driver echoes each key at once.
    agent.ok(&[
        "open",
        "local",
        "--path",
        "/tmp",
        "--title",
        "echo",
        "--detached",
        "--",
        "sh",
    ]);
    let script = Script::start(
        "perf.mjs",
        &[
            ("VM_URL", relay.url()),
            ("VM_TICKET", agent.ticket(&[])),
            ("VM_AGENT", "web-box".into()),
        ],
    );
    let (ok, out) = script.finish().await;
    assert!(
        ok,
        "the browser script failed:\n{out}\n--- agent log ---\n{}",
        agent.log()
    );
    for line in out.lines().filter(|l| l.starts_with("step: ")) {
        println!("{line}");
    }
}
