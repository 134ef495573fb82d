//! Keyboard focus follows the tab the user opens or switches to: typing right after
//! starting a session, opening one from the sidebar or clicking a tab's label arrives in
//! that tab's terminal, with no click inside it first.

mod common;

use common::{shows, start_app};
use egui_kittest::kittest::Queryable;

#[test]
fn typing_right_after_opening_or_switching_a_tab_arrives() {
    let mut app = start_app();
    app.wait("this machine online", |h| shows(h, "This machine: online"));

    // From "New session": the new tab takes the keys.
    app.new_session_on(0);
    app.start_tab(0);
    app.type_line("echo first-$((6*7))");
    app.wait_line(0, "first-42");

    // A second session: its tab takes the keys, not the first.
    app.new_session_on(0);
    app.start_tab(1);
    app.type_line("echo second-$((6*7))");
    app.wait_line(1, "second-42");

    // Back to the first by its label in the tab strip (its title is the login shell's
    // name, which differs from machine to machine).
    let label = format!("{} · This machine", app.harness.state().tabs()[0].title);
    app.harness
        .get_all_by_label_contains(&label)
        .next()
        .expect("the first tab's label")
        .click();
    app.harness.run_ok();
    app.type_line("echo back-$((6*7))");
    app.wait_line(0, "back-42");

    // And to the second from its row in the sidebar (rows are in session id order).
    let tabs = app.harness.state().tabs();
    let row = usize::from(tabs[1].session > tabs[0].session);
    app.harness
        .get_all_by_label_contains("· shell · running")
        .nth(row)
        .expect("the second session's sidebar row")
        .click();
    app.harness.run_ok();
    app.type_line("echo row-$((6*7))");
    app.wait_line(1, "row-42");
}
