//! Driving the desktop app in tests, headless (egui_kittest), with its own agent
//! in-process: start it, run frames until something shows, click, type.

// Each test file uses its own part of these helpers.
#![allow(dead_code)]

use std::{sync::Arc, time::Duration, time::Instant};

use egui_kittest::{Harness, kittest::Queryable};
use vibemesh_agent::config::{Config, Home};
use vibemesh_desktop::{DesktopApp, backend::Backend, model::lock, tab::Link, ui::TabBody};
use vibemesh_tests::TIMEOUT;

/// The app under test, its runtime and its agent's home.
pub struct App {
    /// The window.
    pub harness: Harness<'static, DesktopApp>,
    /// The runtime the app's tasks run on (tests may run their own servers on it).
    pub rt: tokio::runtime::Runtime,
    /// The embedded agent's home folder.
    pub home: tempfile::TempDir,
}

/// A runtime like the app's own.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The embedded agent's config: named `desk`, on 127.0.0.1, no relay.
pub fn config() -> Config {
    Config {
        name: Some("desk".into()),
        relay: "none".into(),
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        ..Config::default()
    }
}

/// The app with the default config, on a fresh runtime.
pub fn start_app() -> App {
    start_app_with(runtime(), config())
}

/// The app, once this machine is online, with one shell session open in its first tab
/// and that tab shown.
pub fn start_app_with_shell() -> App {
    let mut app = start_app();
    app.wait("this machine online", |h| shows(h, "This machine: online"));
    app.new_session_on(0);
    app.start_tab(0);
    app
}

/// The app on `rt` with its agent started from `config`.
pub fn start_app_with(rt: tokio::runtime::Runtime, config: Config) -> App {
    start_app_in(rt, config, tempfile::tempdir().unwrap())
}

/// The app with the default config, its saved preferences saying `theme`.
pub fn start_app_themed(theme: vibemesh_desktop::settings::Theme) -> App {
    use vibemesh_desktop::settings::Prefs;
    let home = tempfile::tempdir().unwrap();
    let config = Home::under(home.path()).config;
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let prefs = Prefs {
        theme,
        ..Prefs::default()
    };
    prefs.save(&Prefs::path_for(&config)).unwrap();
    start_app_in(runtime(), self::config(), home)
}

/// The app on `rt` with its agent started from `config` in `home`.
pub fn start_app_in(rt: tokio::runtime::Runtime, config: Config, home: tempfile::TempDir) -> App {
    let backend = rt
        .block_on(Backend::embed(Home::under(home.path()), config))
        .expect("embedded agent starts");
    let app = vibemesh_desktop::start(Arc::new(backend), rt.handle().clone());
    let harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 700.0))
        .build_ui_state(|ui, app: &mut DesktopApp| app.ui(ui), app);
    App { harness, rt, home }
}

/// Renders the window (on the CPU) into `docs/screenshots/<name>.png`, which the README
/// shows; only the ignored screenshot tests call this (see `tests/screenshots.rs`).
pub fn save_screenshot(h: &mut Harness<'static, DesktopApp>, name: &str) {
    use image::{
        ImageEncoder,
        codecs::png::{CompressionType, FilterType, PngEncoder},
    };
    h.run_ok();
    let image = h.render().expect("renders on the CPU");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.png"));
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    PngEncoder::new_with_quality(file, CompressionType::Best, FilterType::Adaptive)
        .write_image(
            &image,
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgba8,
        )
        .unwrap();
    eprintln!("wrote {}", path.display());
}

/// Whether some node's label contains `text` (any number of them).
pub fn shows(h: &Harness<'static, DesktopApp>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

impl App {
    /// Closes the window and stops its agent (sessions go on in their holders), then
    /// starts both again on the same home, as quitting and starting the app does.
    pub fn restart(self) -> App {
        let App { harness, rt, home } = self;
        drop(harness);
        rt.shutdown_timeout(Duration::from_secs(5));
        start_app_in(runtime(), config(), home)
    }

    /// Runs frames until `cond` holds, waking on the app's own change notifications.
    pub fn wait(&mut self, what: &str, cond: impl Fn(&Harness<'static, DesktopApp>) -> bool) {
        self.wait_within(what, TIMEOUT, cond)
    }

    /// Like [`App::wait`], for up to `timeout`.
    pub fn wait_within(
        &mut self,
        what: &str,
        timeout: Duration,
        cond: impl Fn(&Harness<'static, DesktopApp>) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = self.harness.state().notifier().generation();
            self.harness.run_ok();
            if cond(&self.harness) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {what}; the tabs:\n{}",
                self.describe()
            );
            self.harness.state().notifier().wait_past(seen, left);
        }
    }

    /// The open tabs and what they hold, for failure messages.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for t in self.harness.state().tabs() {
            out += &format!("{} ({:?})\n", t.label(), t.link_state());
            match &t.body {
                TabBody::Conversation(pane) => {
                    let s = lock(&pane.link.state);
                    for i in &s.conv.items {
                        out += &format!("  {i:?}\n");
                    }
                    out += &format!(
                        "  busy {}, notice {:?}, draft {:?}\n",
                        s.conv.busy, s.notice, pane.draft
                    );
                }
                TabBody::Terminal(_) => out += &t.screen_text(),
            }
        }
        for m in &lock(self.harness.state().model()).messages {
            out += &format!("message: {}\n", m.text);
        }
        out
    }

    /// Whether some node's label contains `text`.
    pub fn has_label(&self, text: &str) -> bool {
        self.count(text) > 0
    }

    /// How many nodes' labels contain `text`.
    pub fn count(&self, text: &str) -> usize {
        self.harness.query_all_by_label_contains(text).count()
    }

    /// Clicks the one node labelled `label`.
    pub fn click(&mut self, label: &str) {
        self.harness.get_by_label(label).click();
        self.harness.run_ok();
    }

    /// Types into the field labelled `label`.
    pub fn type_into(&mut self, label: &str, text: &str) {
        let node = self.harness.get_by_label(label);
        node.focus();
        node.type_text(text);
        self.harness.run_ok();
    }

    /// Replaces what the field labelled `label` holds with `text`.
    pub fn set_field(&mut self, label: &str, text: &str) {
        self.harness.get_by_label(label).focus();
        self.harness
            .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
        self.harness.get_by_label(label).type_text(text);
        self.harness.run_ok();
    }

    /// Pairs with the agent `name` by pasting its `ticket`, and waits for it online.
    pub fn add_machine(&mut self, ticket: &str, name: &str) {
        self.click("Add machine");
        self.type_into("Ticket", ticket);
        self.click("Add");
        let online = format!("{name}: online");
        self.wait(&online, |h| shows(h, &online));
        self.click("Done");
    }

    /// Opens the new-session dialog of the `n`th machine in the sidebar (0: this one).
    pub fn new_session_on(&mut self, n: usize) {
        self.harness
            .get_all_by_label("+")
            .nth(n)
            .expect("a + for that machine")
            .click();
        self.harness.run_ok();
    }

    /// Starts a shell from the open new-session dialog and waits for its tab (the
    /// `n`th) to be live with a prompt, without touching the terminal.
    pub fn start_tab(&mut self, n: usize) {
        self.click("Start");
        self.wait("the new tab is live with a prompt", |h| {
            h.state()
                .tabs()
                .get(n)
                .is_some_and(|t| t.link_state() == Link::Live && !t.screen_text().trim().is_empty())
        });
    }

    /// Types `text` and Enter into whatever has keyboard focus, as a user would.
    pub fn type_line(&mut self, text: &str) {
        self.harness.event(egui::Event::Text(text.into()));
        self.harness.key_press(egui::Key::Enter);
        self.harness.run_ok();
    }

    /// Waits until tab `n` shows a line that is exactly `line` (spaces around it aside).
    pub fn wait_line(&mut self, n: usize, line: &str) {
        self.wait(&format!("{line:?} in tab {n}"), |h| {
            h.state()
                .tabs()
                .get(n)
                .is_some_and(|t| t.screen_text().lines().any(|l| l.trim() == line))
        });
    }

    /// Starts the session the open new-session dialog describes (a shell), waits for
    /// its tab to be live with a prompt on screen, and focuses its terminal.
    pub fn start_shell(&mut self) {
        self.click("Start");
        self.wait("the shell tab is live", |h| {
            h.state()
                .tabs()
                .first()
                .is_some_and(|t| t.link_state() == Link::Live && !t.screen_text().trim().is_empty())
        });
        self.harness.get_by_label("terminal").focus();
        self.harness.run_ok();
    }

    /// Types `command` and Enter into the first tab's terminal and waits until its
    /// screen shows `expect`.
    pub fn run_in_terminal(&mut self, command: &str, expect: &str) {
        self.harness.get_by_label("terminal").focus();
        self.harness.run_ok();
        self.harness.get_by_label("terminal").type_text(command);
        self.harness.key_press(egui::Key::Enter);
        self.wait(expect, |h| {
            h.state().tabs()[0].screen_text().contains(expect)
        });
    }

    /// Waits until the first tab is live again (after a reconnect) with `text` on its
    /// screen.
    pub fn wait_live_again(&mut self, text: &str) {
        self.wait("the tab live again with its screen restored", |h| {
            let t = &h.state().tabs()[0];
            t.link_state() == Link::Live && t.screen_text().contains(text)
        });
    }
}
