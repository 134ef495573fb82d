//! Screenshots for the README, not a check: the app with a real shell in the dark and
//! the light theme, written to `docs/screenshots/`. Ignored by the normal run; after a
//! change to the window, take them again (under Xvfb or not: it renders on the CPU):
//!
//! ```text
//! cargo test -p vibemesh-desktop --test screenshots -- --ignored
//! ```

mod common;

use std::path::PathBuf;

use common::start_app_themed;
use egui_kittest::kittest::Queryable;
use vibemesh_desktop::settings::Theme;

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A shell session with colours, Claude Code's markers and an emoji on screen.
fn shell_screenshot(theme: Theme, name: &str) {
    let mut app = start_app_themed(theme);
    app.wait("this machine online", |h| {
        h.query_by_label_contains("This machine: online").is_some()
    });
    app.new_session_on(0);
    let dir = tempfile::tempdir().unwrap();
    app.set_field("Folder", &dir.path().display().to_string());
    app.start_shell();
    app.run_in_terminal(
        "printf '\\033[1;32m✓ build\\033[0m \\033[3mok\\033[0m  ⏺ Read(src/main.rs)\\n  ⎿  42 lines  ✻ Thinking… ⠹  🔔\\n' && ls -la --color=always /",
        "Thinking",
    );
    app.harness.run_ok();
    let image = app.harness.render().expect("renders on the CPU");
    let path = out_dir().join(format!("{name}.png"));
    image.save(&path).unwrap();
    eprintln!("wrote {}", path.display());
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
