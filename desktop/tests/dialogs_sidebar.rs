//! The window's smaller defects a new user meets: the Add machine dialog takes the
//! pasted ticket at once and Enter pairs, and a second Add cannot report the ticket as
//! used; sidebar rows tell sessions apart by folder, age and short id; a banner lies
//! over the terminal instead of pushing it down; Stop asks first; a new session's
//! folder is never another machine's; open tabs come back after a restart; predictive
//! echo is a setting, and the tab strip says when it is on.

mod common;

use common::{shows, start_app, start_app_with_shell};
use egui_kittest::kittest::{NodeT, Queryable};
use vibemesh_desktop::tab::Link;
use vibemesh_tests::TestAgent;

#[test]
fn add_machine_takes_the_ticket_and_enter_and_pairs_once() {
    let server = TestAgent::start("server");
    let mut app = start_app();
    app.wait("this machine online", |h| shows(h, "This machine: online"));
    app.click("Add machine");
    // No click into the field: it has the focus when the dialog opens.
    app.harness.event(egui::Event::Text(server.ticket(&[])));
    app.harness.run_ok();
    app.harness.key_press(egui::Key::Enter);
    app.harness.run_ok();
    app.wait("paired", |h| shows(h, "Paired with server"));
    // The ticket is used: Add is off, so a second click cannot fail with "ticket used".
    assert!(
        app.harness
            .get_by_label("Add")
            .accesskit_node()
            .is_disabled()
    );
    app.harness.get_by_label("Add").click();
    app.harness.run_ok();
    assert!(!app.has_label("Could not add"), "{}", app.describe());
    // Escape closes the dialog.
    app.harness.key_press(egui::Key::Escape);
    app.harness.run_ok();
    assert!(!app.has_label("Paired with server"));
}

#[test]
fn sidebar_rows_show_folder_age_and_short_id() {
    let mut app = start_app();
    app.wait("this machine online", |h| shows(h, "This machine: online"));
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("proj-7");
    std::fs::create_dir(&folder).unwrap();
    app.new_session_on(0);
    app.set_field("Folder", &folder.display().to_string());
    app.start_tab(0);
    let id = app.harness.state().tabs()[0].session.to_string();
    let detail = "proj-7 · ";
    app.wait("the row's folder and id", |h| {
        h.query_all_by_label_contains(detail).count() == 1 && shows(h, &format!(" · {id}"))
    });
}

#[test]
fn a_banner_does_not_move_or_shrink_the_screen() {
    let mut app = start_app_with_shell();
    app.harness.run_ok();
    let before = app.harness.get_by_label("terminal").rect();
    app.run_in_terminal("exit 3", "");
    app.wait("the program-ended banner", |h| {
        shows(h, "The program ended")
    });
    let after = app.harness.get_by_label("terminal").rect();
    assert_eq!(before, after, "the banner moved or resized the terminal");
}

#[test]
fn stopping_a_session_asks_first() {
    let mut app = start_app();
    app.wait("this machine online", |h| shows(h, "This machine: online"));
    app.new_session_on(0);
    // With its prompt: a shell killed while its startup files run can leave their
    // locks behind (pyenv's rehash lock did, and hung every later shell).
    app.start_tab(0);
    let stop = |app: &mut common::App| {
        app.harness
            .get_by_label_contains("· shell · running")
            .click_secondary();
        app.harness.run_ok();
        app.click("Stop session");
        assert!(app.has_label("Stop this session?"), "{}", app.describe());
    };
    // Cancel keeps it running.
    stop(&mut app);
    app.click("Cancel");
    assert!(!app.has_label("Stop this session?"));
    assert_eq!(app.harness.state().tabs()[0].link_state(), Link::Live);
    // Confirm stops it.
    stop(&mut app);
    app.click("Confirm");
    app.wait("the program ended", |h| {
        h.state()
            .tabs()
            .first()
            .is_some_and(|t| matches!(t.link_state(), Link::Exited(_) | Link::Closed(_)))
    });
}

#[test]
fn new_session_never_offers_another_machines_folder() {
    let server = TestAgent::start("server");
    let mut app = start_app();
    app.wait("this machine online", |h| shows(h, "This machine: online"));
    app.add_machine(&server.ticket(&[]), "server");
    // A session here, in a folder that exists only here.
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path().join("only-here-5");
    std::fs::create_dir(&here).unwrap();
    let here = here.display().to_string();
    app.new_session_on(0);
    app.set_field("Folder", &here);
    app.click("Start");
    app.wait("the tab with a prompt", |h| {
        h.state()
            .tabs()
            .first()
            .is_some_and(|t| !t.screen_text().trim().is_empty())
    });
    // The server's form starts in its own home, not in this machine's folder.
    app.new_session_on(1);
    let folder = app.harness.get_by_label("Folder").value();
    assert_eq!(folder.as_deref(), Some("~"));
}

#[test]
fn tabs_come_back_after_a_restart() {
    let mut app = start_app();
    app.wait("this machine online", |h| shows(h, "This machine: online"));
    for n in 1..=2 {
        app.new_session_on(0);
        app.click("Start");
        // The form stays until the agent answered.
        app.wait("the tab open", |h| h.state().tabs().len() == n);
    }
    app.wait("two tabs with prompts", |h| {
        let tabs = h.state().tabs();
        tabs.len() == 2 && tabs.iter().all(|t| !t.screen_text().trim().is_empty())
    });
    // Typed into the shown tab, the second.
    app.harness
        .event(egui::Event::Text("echo before-$((6*7))".into()));
    app.harness.key_press(egui::Key::Enter);
    app.wait("before-42", |h| {
        h.state().tabs()[1].screen_text().contains("before-42")
    });
    let ids: Vec<_> = app
        .harness
        .state()
        .tabs()
        .iter()
        .map(|t| t.session)
        .collect();

    let mut app = app.restart();
    app.wait("both tabs back, live, the second with its screen", |h| {
        let tabs = h.state().tabs();
        tabs.iter().map(|t| t.session).collect::<Vec<_>>() == ids
            && tabs.iter().all(|t| t.link_state() == Link::Live)
            && tabs[1].screen_text().contains("before-42")
    });
}

#[test]
fn a_session_that_cannot_start_keeps_the_form_open_and_says_why() {
    let mut app = start_app();
    app.wait("this machine online", |h| shows(h, "This machine: online"));
    app.new_session_on(0);
    app.set_field("Folder", "/nonexistent/vibemesh-test");
    app.click("Start");
    // The agent's refusal is shown in the dialog, which stays open with what was typed.
    app.wait("the refusal in the form", |h| {
        h.query_all_by_label_contains("cannot use folder /nonexistent/vibemesh-test")
            .count()
            > 0
    });
    assert!(app.has_label("Start"), "{}", app.describe());
    assert!(app.harness.state().tabs().is_empty());
    // Fixed, it starts, the dialog closes and the tab opens.
    let dir = tempfile::tempdir().unwrap();
    app.set_field("Folder", &dir.path().display().to_string());
    app.click("Start");
    app.wait("the tab open and the form gone", |h| {
        h.state().tabs().len() == 1 && h.query_by_label("Start").is_none()
    });
}

#[test]
fn predictive_echo_is_a_setting_and_the_tab_strip_says_when_it_is_on() {
    use vibemesh_desktop::settings::{Predict, Prefs};
    let mut app = start_app_with_shell();
    // This machine's sessions echo at once: auto leaves them alone and says nothing.
    assert!(!app.has_label("predicting"), "{}", app.describe());
    app.click("Settings");
    app.click("always");
    app.wait("the strip saying keys are predicted", |h| {
        shows(h, "· predicting")
    });
    // The shell's echo of what is typed times the round trip.
    app.harness.get_by_label("terminal").focus();
    app.harness.run_ok();
    app.harness.get_by_label("terminal").type_text("echo timed");
    app.wait("the echo's round trip in the strip", |h| {
        shows(h, " ms · predicting")
    });
    app.harness.key_press(egui::Key::Enter);
    app.wait_line(0, "timed");
    let config = vibemesh_agent::config::Home::under(app.home.path()).config;
    assert_eq!(
        Prefs::load(&Prefs::path_for(&config)).predict,
        Predict::Always
    );
}
