//! Keyboard focus follows the tab the user opens or switches to: typing right after
//! starting a session, opening one from the sidebar or clicking a tab's label arrives in
//! that tab's terminal, with no click inside it first.

mod common;

use common::{App, shows, start_app};
use egui_kittest::kittest::Queryable;
use vibemesh_desktop::tab::Link;

/// Types `text` and Enter into whatever has keyboard focus, as a user would.
fn type_line(app: &mut App, text: &str) {
    app.harness.event(egui::Event::Text(text.into()));
    app.harness.key_press(egui::Key::Enter);
    app.harness.run_ok();
}

/// Waits until tab `n` shows a line that is exactly `line`.
fn wait_line(app: &mut App, n: usize, line: &str) {
    app.wait(&format!("{line:?} in tab {n}"), |h| {
        h.state()
            .tabs()
            .get(n)
            .is_some_and(|t| t.screen_text().lines().any(|l| l.trim() == line))
    });
}

/// Starts a shell from the open new-session dialog and waits for its tab (the `n`th)
/// to be live with a prompt, without touching the terminal.
fn start(app: &mut App, n: usize) {
    app.click("Start");
    app.wait("the new tab is live with a prompt", |h| {
        h.state()
            .tabs()
            .get(n)
            .is_some_and(|t| t.link_state() == Link::Live && !t.screen_text().trim().is_empty())
    });
}

#[test]
fn typing_right_after_opening_or_switching_a_tab_arrives() {
    let mut app = start_app();
    app.wait("this machine online", |h| shows(h, "This machine: online"));

    // From "New session": the new tab takes the keys.
    app.new_session_on(0);
    start(&mut app, 0);
    type_line(&mut app, "echo first-$((6*7))");
    wait_line(&mut app, 0, "first-42");

    // A second session: its tab takes the keys, not the first.
    app.new_session_on(0);
    start(&mut app, 1);
    type_line(&mut app, "echo second-$((6*7))");
    wait_line(&mut app, 1, "second-42");

    // Back to the first by its label in the tab strip.
    app.harness
        .get_all_by_label_contains("bash · This machine")
        .next()
        .expect("the first tab's label")
        .click();
    app.harness.run_ok();
    type_line(&mut app, "echo back-$((6*7))");
    wait_line(&mut app, 0, "back-42");

    // And to the second from its row in the sidebar (rows are in session id order).
    let tabs = app.harness.state().tabs();
    let row = usize::from(tabs[1].session > tabs[0].session);
    app.harness
        .get_all_by_label_contains("· shell · running")
        .nth(row)
        .expect("the second session's sidebar row")
        .click();
    app.harness.run_ok();
    type_line(&mut app, "echo row-$((6*7))");
    wait_line(&mut app, 1, "row-42");
}
