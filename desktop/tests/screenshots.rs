//! Screenshots for the README, not a check: the app with a real shell in the dark and
//! the light theme, written to `docs/screenshots/` (the conversation with a diff is taken
//! by `tests/conversation.rs`, which has the claude CLI set up). Ignored by the normal
//! run; after a change to the window, take them all again (no display needed: they
//! render on the CPU):
//!
//! ```text
//! cargo test -p vibemesh-desktop --test screenshots --test conversation -- --ignored screenshot
//! ```

mod common;

use common::{save_screenshot, start_app_themed};
use egui_kittest::kittest::Queryable;
use vibemesh_desktop::settings::Theme;

/// A shell session with colours, bold and italic, Claude Code's markers, a braille
/// spinner and the bell mark on screen.
fn shell_screenshot(theme: Theme, name: &str) {
    let mut app = start_app_themed(theme);
    app.harness.set_size(egui::vec2(960.0, 560.0));
    app.wait("this machine online", |h| {
        h.query_by_label_contains("This machine: online").is_some()
    });
    app.new_session_on(0);
    let dir = tempfile::tempdir().unwrap();
    app.set_field("Folder", &dir.path().display().to_string());
    app.start_shell();
    app.run_in_terminal(
        "clear; printf '\\033[1;32m✓ build\\033[0m \\033[3mfinished\\033[0m in 2.1s\\n⏺ Read(src/main.rs)\\n  ⎿  Read 42 lines\\n✻ Thinking… ⠹  🔔 ⚡\\n\\n' && ls -l --color=always /usr",
        // Only in the output, not in the echoed command line.
        "total ",
    );
    save_screenshot(&mut app.harness, name);
}

#[test]
#[ignore = "writes docs/screenshots; run on purpose (see the file's doc)"]
fn screenshot_terminal_dark() {
    shell_screenshot(Theme::Dark, "terminal-dark");
}

#[test]
#[ignore = "writes docs/screenshots; run on purpose (see the file's doc)"]
fn screenshot_terminal_light() {
    shell_screenshot(Theme::Light, "terminal-light");
}
