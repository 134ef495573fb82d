//! `vibemesh open --provider claude|codex`: the AI agent's own full-screen interface in
//! a terminal session, and the structured mode that prints the conversation and reads
//! prompts and approvals line by line. Real CLIs, fake model API on 127.0.0.1.

use tokio::task::block_in_place;
use vibemesh_tests::{FakeModel, ai::AiWorld};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structured_mode_prints_the_conversation_and_takes_approvals() {
    let w = AiWorld::start(FakeModel::start().await, true).await;
    let work = w.work.path().to_str().unwrap().to_string();
    let mut t = w.agent.term(
        &[
            "open",
            "local",
            "--provider",
            "claude",
            "--structured",
            "--path",
            &work,
        ],
        50,
        160,
    );
    block_in_place(|| {
        t.wait_text("/quit detaches");
        t.line("say hello");
        t.wait_text("Hello from the fake model. You said: say hello");
        t.wait_text("your turn]");
        t.line("[[run touch by-cli.txt]]");
        t.wait_text("answer with /allow, /always or /deny");
        t.line("/always");
        t.wait_for("the turn to end", |s| s.matches("your turn]").count() == 2);
    });
    assert!(w.work.path().join("by-cli.txt").exists());
    // "Always" holds for the rest of the session: the next call runs unasked.
    block_in_place(|| {
        t.line("[[run touch second.txt]]");
        t.wait_for("the second call to run", |s| {
            s.matches("approval allowed (always").count() == 2
                && s.matches("your turn]").count() == 3
        });
    });
    assert!(w.work.path().join("second.txt").exists());
    let ls = w.agent.ok(&["ls", "local"]);
    assert!(ls.contains("waiting for you"), "{ls}");
    block_in_place(|| {
        t.line("/quit");
        assert_eq!(t.wait_exit(), 0);
    });
    // Attach comes back to the same conversation.
    let id = ls
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let t2 = w.agent.term(&["attach", "local", &id], 50, 160);
    block_in_place(|| t2.wait_text("Hello from the fake model. You said: say hello"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_says_what_can_run_and_why_not() {
    let w = AiWorld::start(FakeModel::start().await, false).await;
    let out = w.agent.ok(&["providers", "local"]);
    let claude = out.lines().find(|l| l.starts_with("claude")).expect(&out);
    assert!(claude.contains("not logged in"), "{out}");
    // Codex with a model provider of its own in its config needs no login.
    let codex = out.lines().find(|l| l.starts_with("codex")).expect(&out);
    assert!(codex.contains("ready"), "{out}");
    // An agent that finds neither says they are not installed.
    let empty = tempfile::tempdir().unwrap();
    let bare = vibemesh_tests::TestAgent::start_env(
        "bare",
        "",
        &[("PATH", empty.path().to_str().unwrap())],
    );
    let out = bare.ok(&["providers"]);
    assert_eq!(out.matches("not installed").count(), 2, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_mode_runs_claudes_own_interface() {
    let w = AiWorld::start(FakeModel::start().await, true).await;
    let work = w.work.path().canonicalize().unwrap();
    // What a first interactive run asks (onboarding, the key, trusting the folder),
    // answered ahead, as a user who ran it before would have.
    let key = "sk-ant-fake-key-for-tests";
    let seed = serde_json::json!({
        "hasCompletedOnboarding": true,
        "customApiKeyResponses": {"approved": [&key[key.len() - 20..]], "rejected": []},
        "projects": {work.to_str().unwrap(): {"hasTrustDialogAccepted": true}},
    });
    std::fs::write(w.user_home.path().join(".claude.json"), seed.to_string()).unwrap();
    let mut t = w.agent.term(
        &[
            "open",
            "local",
            "--provider",
            "claude",
            "--path",
            work.to_str().unwrap(),
        ],
        40,
        120,
    );
    block_in_place(|| {
        t.wait_for("claude's prompt", |s| s.contains('>') || s.contains('❯'));
        t.send("say hello");
        t.wait_text("say hello");
        t.send("\r");
        t.wait_text("Hello from the fake model");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_mode_runs_codexs_own_interface() {
    let w = AiWorld::start(FakeModel::start().await, true).await;
    let work = w.work.path().canonicalize().unwrap();
    // Trusting the folder is asked on a first run; answered ahead, as for Claude.
    let config = w.user_home.path().join(".codex/config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
        work.display()
    ));
    std::fs::write(&config, text).unwrap();
    let mut t = w.agent.term(
        &[
            "open",
            "local",
            "--provider",
            "codex",
            "--path",
            work.to_str().unwrap(),
        ],
        40,
        120,
    );
    block_in_place(|| {
        t.wait_for("codex's prompt", |s| s.contains('›') || s.contains('>'));
        t.send("say hello");
        t.wait_text("say hello");
        t.send("\r");
        t.wait_text("Hello from the fake model");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structured_attach_reconnects_after_an_agent_restart() {
    let w = AiWorld::start(FakeModel::start().await, true).await;
    let id = w
        .start_session(vibemesh_core::proto::Provider::Claude)
        .await;
    let mut t = w.agent.term(&["attach", "local", &id.to_string()], 50, 160);
    block_in_place(|| {
        t.wait_text("/quit detaches");
        t.line("say hello");
        t.wait_text("You said: say hello");
        t.wait_text("your turn]");
    });
    // The agent stops and comes back; the attached CLI follows by itself. A line typed
    // while it is down is refused on screen, not sent late.
    let w = w
        .restart_with(|| {
            block_in_place(|| {
                t.wait_text("reconnecting in");
                t.line("typed while down");
                t.wait_text("that line was NOT sent");
            })
        })
        .await;
    block_in_place(|| {
        t.wait_text("reconnected");
        t.line("say again");
        t.wait_text("You said: say again");
    });
    let screen = t.screen();
    assert_eq!(
        screen.matches("You said: say hello").count(),
        1,
        "nothing is printed twice:\n{screen}"
    );
    assert!(
        !screen.contains("You said: typed while down"),
        "a refused line never arrives:\n{screen}"
    );
    drop(w);
}
