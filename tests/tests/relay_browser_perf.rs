//! The browser client's load time and keystroke echo in headless Chromium, against a
//! real relay and agent on 127.0.0.1 (`web/tests/perf.mjs`): every key typed into a
//! shell is seen echoed on screen, and the timings are printed (docs/PERFORMANCE.md
//! quotes them). Run it with `--nocapture` to see them.
//!
//! Needs what `relay_browser.rs` needs; without it the test says what is missing and
//! passes, except under CI.

use vibemesh_tests::browser::{self, Script, web_dir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_load_and_echo_times() {
    let Some((relay, agent)) = browser::scene("web-box").await else {
        return;
    };
    // A plain `sh` in cooked mode: the terminal driver echoes each key at once.
    agent.open_titled("echo", &["sh"]);
    let script = Script::start(
        "perf.mjs",
        &[
            ("VM_URL", relay.url()),
            ("VM_TICKET", agent.ticket(&[])),
            ("VM_AGENT", "web-box".into()),
        ],
    );
    let out = script.passes(Some(&agent)).await;
    for line in out.lines().filter(|l| l.starts_with("step: ")) {
        println!("{line}");
    }
}

/// Writes the README's screenshots of the browser client (laptop and phone, machine page
/// and terminal) to `docs/img/`. By hand: `cargo test -p vibemesh-tests --test
/// relay_browser_perf readme_screenshots -- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes docs/img; run by hand"]
async fn readme_screenshots() {
    let Some((relay, agent)) = browser::scene("build-box").await else {
        return;
    };
    let script = "printf '\\033[1mcargo test\\033[0m\\n'; for t in pairing relay browser; do \
        printf 'test %s ... \\033[32mok\\033[0m\\n' $t; done; echo 'tests passed'; exec sh";
    let logs = "for p in /api/sessions /api/files /healthz /api/git; do \
        printf 'GET %s \\033[32m200\\033[0m 3ms\\n' $p; done; exec cat";
    for (title, cmd) in [("build", script), ("logs", logs)] {
        agent.open_titled(title, &["sh", "-c", cmd]);
    }
    let shots = web_dir().join("../docs/img");
    std::fs::create_dir_all(&shots).expect("docs/img");
    let script = Script::start(
        "shots.mjs",
        &[
            ("VM_URL", relay.url()),
            ("VM_TICKET", agent.ticket(&[])),
            ("VM_AGENT", "build-box".into()),
            ("VM_SHOTS", shots.display().to_string()),
        ],
    );
    script.passes(Some(&agent)).await;
}
