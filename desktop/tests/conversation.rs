//! The desktop app's conversation view end to end: the app's own agent in-process runs
//! the real `claude` CLI (installed by `scripts/setup.sh`) against the fake model API on
//! 127.0.0.1 (`vibemesh_tests::fake_model`). What is asserted is what a user sees.

mod common;

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
};

use common::{App, runtime, shows, start_app_with};
use egui_kittest::kittest::Queryable;
use vibemesh_core::client::Item;
use vibemesh_desktop::{tab::Link, ui::TabBody};
use vibemesh_tests::{
    FakeModel, TestAgent,
    ai::{AI_TIMEOUT, UserHome, ai_env, installed},
};

/// The app with `claude` pointed at a fake model, and a folder to work in.
struct World {
    app: App,
    work: tempfile::TempDir,
    _fake: FakeModel,
    _user_home: UserHome,
    _bin: tempfile::TempDir,
}

/// A `claude` that runs the real CLI with the test's environment. The agent is
/// in-process and passes its own environment on, so the CLI's (its HOME, the fake as
/// API) is set here rather than in the whole test process.
fn claude_with_env(dir: &Path, claude: &Path, env: &[(String, String)]) -> PathBuf {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut script = String::from("#!/bin/sh\n");
    for (k, v) in env {
        script += &format!("export {k}={}\n", quote(v));
    }
    script += &format!("exec {} \"$@\"\n", quote(&claude.display().to_string()));
    let path = dir.join("claude");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The claude CLI, or `None` after saying the test skips without it.
fn claude() -> Option<PathBuf> {
    let found = installed("claude");
    if found.is_none() {
        eprintln!("SKIPPED: the claude CLI is not installed; `bash scripts/setup.sh` installs it");
    }
    found
}

/// A real agent whose `claude` talks to `fake` only, the CLI's home, and the
/// environment (to start the agent again with).
fn ai_agent(fake: &FakeModel) -> (TestAgent, UserHome, Vec<(String, String)>) {
    let user_home = UserHome::new();
    let env = ai_env(&fake.url(), user_home.path(), true);
    let agent = TestAgent::start_env("ai", "", &pairs(&env));
    (agent, user_home, env)
}

fn pairs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Starts the world, or `None` (the test skips, saying why) without the claude CLI.
fn start() -> Option<World> {
    let claude = claude()?;
    let rt = runtime();
    let fake = rt.block_on(FakeModel::start());
    let user_home = UserHome::new();
    let bin = tempfile::tempdir().unwrap();
    let env = ai_env(&fake.url(), user_home.path(), true);
    let mut config = common::config();
    config.claude = Some(claude_with_env(bin.path(), &claude, &env));
    let mut app = start_app_with(rt, config);
    app.wait("this machine online", |h| shows(h, "This machine: online"));
    Some(World {
        app,
        work: tempfile::Builder::new()
            .prefix("vm-work-")
            .tempdir()
            .unwrap(),
        _fake: fake,
        _user_home: user_home,
        _bin: bin,
    })
}

/// The conversation in the first tab.
fn items(app: &App) -> Vec<Item> {
    app.harness
        .state()
        .tabs()
        .first()
        .and_then(|t| t.conversation())
        .map(|c| c.items)
        .unwrap_or_default()
}

#[test]
fn a_conversation_opened_from_the_dialog_takes_the_keys_at_once() {
    let Some(mut w) = start() else { return };
    let app = &mut w.app;
    app.click("New session");
    app.set_field("Folder", &w.work.path().display().to_string());
    app.click("claude");
    app.click("Start");
    app.wait("the conversation tab", |h| {
        h.state()
            .tabs()
            .first()
            .is_some_and(|t| t.conversation().is_some() && t.link_state() == Link::Live)
    });
    // No click into the message field: it has the keys.
    app.harness.event(egui::Event::Text("typed at once".into()));
    app.harness.key_press(egui::Key::Enter);
    app.harness.run_ok();
    app.wait_within("the assistant's reply", AI_TIMEOUT, |h| {
        h.query_all_by_label_contains("You said: typed at once")
            .count()
            == 1
    });
}

#[test]
fn start_from_the_dialog_talk_approve_and_reopen_from_the_sidebar() {
    let Some(mut w) = start() else { return };
    let app = &mut w.app;

    // The dialog: claude in the work folder, as a conversation with a first message.
    app.click("New session");
    app.set_field("Folder", &w.work.path().display().to_string());
    app.click("claude");
    assert!(app.has_label("Conversation") && app.has_label("Terminal"));
    app.type_into("First message", "hello there");
    app.click("Start");
    app.wait("the conversation tab", |h| {
        h.state()
            .tabs()
            .first()
            .is_some_and(|t| t.conversation().is_some() && t.link_state() == Link::Live)
    });
    app.wait_within("the assistant's reply", AI_TIMEOUT, |h| {
        h.query_all_by_label_contains("Hello from the fake model. You said: hello there")
            .count()
            == 1
            && h.query_all_by_label_contains("turn ended").count() == 1
    });
    assert_eq!(app.count("hello there"), 2, "the bubble and the reply");
    app.wait("the sidebar saying it is our turn", |h| {
        h.query_by_label("your turn").is_some()
    });

    // Shift+Enter makes a new line; Enter sends. (`touch` needs approval; a bare `echo`
    // would not: Claude Code runs read-only commands without asking.)
    app.type_into("Message", "make a file");
    app.harness
        .key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::Enter);
    app.harness
        .get_by_label("Message")
        .type_text("[[run touch tool-was-here.txt && ls]]");
    app.harness.run_ok();
    let draft = app
        .harness
        .get_by_label("Message")
        .value()
        .unwrap_or_default();
    assert_eq!(draft, "make a file\n[[run touch tool-was-here.txt && ls]]");
    app.harness.key_press(egui::Key::Enter);
    app.harness.run_ok();
    assert_eq!(
        app.harness.get_by_label("Message").value().as_deref(),
        Some("")
    );

    // The approval card, and the sidebar's badge.
    app.wait_within("the approval card", AI_TIMEOUT, |h| {
        shows(h, "Approval needed: Bash") && h.query_by_label("Allow").is_some()
    });
    app.wait("the sidebar's approval badge", |h| {
        h.query_by_label("needs approval: Bash").is_some()
    });
    app.wait("the tool row, folded", |h| {
        h.query_by_label("Bash: touch tool-was-here.txt && ls · running")
            .is_some()
    });
    app.click("Allow");
    app.wait_within("the tool's result and the turn's end", AI_TIMEOUT, |h| {
        h.query_by_label("The tool ran.").is_some()
            && h.query_all_by_label_contains("turn ended").count() == 2
    });
    // Settled: no buttons, the decision instead.
    assert!(app.harness.query_by_label("Allow").is_none());
    assert!(app.harness.query_by_label("Allowed").is_some());
    // The tool row unfolds to its output.
    app.harness
        .get_by_label("Bash: touch tool-was-here.txt && ls · done")
        .scroll_to_me();
    app.harness.run_ok();
    app.click("Bash: touch tool-was-here.txt && ls · done");
    app.wait("the tool's output", |h| {
        h.query_by_label("tool-was-here.txt").is_some()
    });
    assert!(w.work.path().join("tool-was-here.txt").exists());
    app.wait("the sidebar's turn badge again", |h| {
        h.query_by_label("your turn").is_some()
    });

    // Closed and opened again from the sidebar: all of it, once.
    let before = items(app);
    app.click("×");
    assert!(app.harness.state().tabs().is_empty());
    app.harness.get_by_label_contains("(structured)").click();
    app.wait("the conversation replayed", |h| {
        h.query_by_label("The tool ran.").is_some()
    });
    let after = items(app);
    assert_eq!(after, before, "a reopened tab shows the same conversation");
    let bubbles = after
        .iter()
        .filter(|i| matches!(i, Item::User(t) if t == "hello there"))
        .count();
    assert_eq!(bubbles, 1, "{after:?}");
}

/// A conversation on a peer whose agent restarts: the tab says it reconnects, comes
/// back by itself with only what is new (re-attaching after the last entry it has), and
/// the conversation goes on, down to interrupting a turn.
#[test]
fn a_conversation_tab_reconnects_when_the_peer_agent_restarts() {
    if claude().is_none() {
        return;
    }
    let rt = runtime();
    let fake = rt.block_on(FakeModel::start());
    let (server, _user_home, env) = ai_agent(&fake);
    // Restarted on the same port, so the address the app knows still reaches it.
    let addr = server.json(&["status"])["addrs"][0]
        .as_str()
        .expect("a bound address")
        .to_string();
    let work = tempfile::tempdir().unwrap();
    let mut app = start_app_with(rt, common::config());
    app.add_machine(&server.ticket(&[]), "ai");
    app.new_session_on(1);
    app.set_field("Folder", &work.path().display().to_string());
    app.click("claude");
    app.type_into("First message", "before the restart");
    app.click("Start");
    app.wait_within("the first reply", AI_TIMEOUT, |h| {
        shows(h, "You said: before the restart") && shows(h, "turn ended")
    });

    let home = server.crash();
    app.wait("the tab saying it reconnects", |h| {
        matches!(h.state().tabs()[0].link_state(), Link::Reconnecting(_))
            && shows(h, "reconnecting")
    });
    std::fs::write(
        home.path().join("config.toml"),
        format!("name = \"ai\"\nrelay = \"none\"\nlisten = [\"{addr}\"]\n"),
    )
    .unwrap();
    let _server = TestAgent::spawn_env(home, "ai", &pairs(&env));
    app.wait("the tab live again", |h| {
        h.state().tabs()[0].link_state() == Link::Live
    });
    app.wait_within("the send button back", AI_TIMEOUT, |h| {
        h.query_by_label("Send").is_some()
    });
    app.type_into("Message", "after the restart");
    app.harness.key_press(egui::Key::Enter);
    // Until the turn ends the app is busy, and Enter sends nothing.
    app.wait_within("the reply after the restart", AI_TIMEOUT, |h| {
        shows(h, "You said: after the restart")
            && h.query_all_by_label_contains("turn ended").count() == 2
    });
    let replayed = match &app.harness.state().tabs()[0].body {
        TabBody::Conversation(pane) => pane.replayed(),
        TabBody::Terminal(_) => panic!("a conversation tab"),
    };
    assert_eq!(replayed, 0, "the re-attach asked only for newer entries");
    let items = items(&app);
    for said in ["before the restart", "after the restart"] {
        let n = items
            .iter()
            .filter(|i| matches!(i, Item::User(t) if t == said))
            .count();
        assert_eq!(n, 1, "{said:?} once, not replayed twice: {items:?}");
    }
    assert_eq!(
        app.count("You said: before the restart"),
        1,
        "{}",
        app.describe()
    );

    // A turn that does not end: its text so far with a caret, and Interrupt stops it.
    // (Here, where no earlier message holds a [[...]] marker the fake model would read.)
    // The input box kept the keyboard through the turn: type straight on.
    assert!(app.harness.get_by_label("Message").is_focused());
    app.harness.get_by_label("Message").type_text("[[hang]]");
    app.harness.key_press(egui::Key::Enter);
    app.wait_within("the answer being written", AI_TIMEOUT, |h| {
        h.query_by_label("Thinking about it▌").is_some() && h.query_by_label("Interrupt").is_some()
    });
    app.click("Interrupt");
    app.wait_within("the interrupted turn's end", AI_TIMEOUT, |h| {
        h.query_all_by_label_contains("turn ended").count() == 3
            && h.query_by_label("Interrupt").is_none()
    });
    assert!(app.has_label("Thinking about it") && !app.has_label("▌"));
}

/// A viewer follows a conversation that an owner (the `vibemesh` CLI) steers: it sees
/// the messages and the approval card settle, and has no input box and no buttons.
#[test]
fn a_viewer_follows_the_conversation_without_controls() {
    if claude().is_none() {
        return;
    }
    let rt = runtime();
    let fake = rt.block_on(FakeModel::start());
    let (server, _user_home, _) = ai_agent(&fake);
    let work = tempfile::tempdir().unwrap();
    let path = work.path().display().to_string();
    let args = [
        "open",
        "local",
        "--provider",
        "claude",
        "--structured",
        "--path",
        &path,
    ];
    let mut owner = server.term(&args, 50, 160);
    owner.wait_text("/quit detaches");

    let mut app = start_app_with(rt, common::config());
    app.add_machine(&server.ticket(&["--role", "viewer"]), "ai");
    app.wait("the session in the sidebar", |h| shows(h, "(structured)"));
    app.harness.get_by_label_contains("(structured)").click();
    app.wait("the tab, watching", |h| {
        h.state()
            .tabs()
            .first()
            .is_some_and(|t| t.link_state() == Link::Live)
            && shows(h, "Watching:")
    });
    assert!(app.harness.query_by_label("Message").is_none());
    assert!(app.harness.query_by_label("Send").is_none());

    owner.line("[[run touch by-the-owner.txt]]");
    app.wait_within("the approval card, without buttons", AI_TIMEOUT, |h| {
        shows(h, "Approval needed: Bash") && shows(h, "Waiting for an owner to answer.")
    });
    assert!(app.harness.query_by_label("Allow").is_none());
    owner.wait_text("answer with /allow");
    owner.line("/allow");
    app.wait_within("the owner's answer and the turn's end", AI_TIMEOUT, |h| {
        h.query_by_label("Allowed").is_some() && shows(h, "turn ended")
    });
    assert!(work.path().join("by-the-owner.txt").exists());
}

/// Not a check: the README's screenshot of a conversation whose tool call edits a file
/// (its diff on the approval card). Run with the others, see `tests/screenshots.rs`.
#[test]
#[ignore = "writes docs/screenshots; see tests/screenshots.rs"]
fn screenshot_a_conversation_with_a_diff() {
    let Some(mut w) = start() else {
        panic!("the screenshot needs the claude CLI (scripts/setup.sh installs it)");
    };
    let app = &mut w.app;
    app.harness.set_size(egui::vec2(960.0, 560.0));
    app.click("New session");
    app.set_field("Folder", &w.work.path().display().to_string());
    app.click("claude");
    app.type_into("First message", "hello there");
    app.click("Start");
    app.wait_within("the assistant's reply", AI_TIMEOUT, |h| {
        h.query_all_by_label_contains("Hello from the fake model")
            .count()
            == 1
    });
    let file = w.work.path().join("greet.rs");
    app.type_into(
        "Message",
        &format!("Add a greeting function [[write {}]]", file.display()),
    );
    app.harness.key_press(egui::Key::Enter);
    app.wait_within("the approval card with the diff", AI_TIMEOUT, |h| {
        shows(h, "Approval needed: Write") && h.query_by_label("Allow").is_some()
    });
    common::save_screenshot(&mut app.harness, "conversation-diff");
}
