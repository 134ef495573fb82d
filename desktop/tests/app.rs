//! The desktop app end to end, headless (egui_kittest), against real agents on
//! 127.0.0.1: the app's own agent runs in-process, the peer is a real `vibemesh agent`.

use std::{sync::Arc, time::Instant};

use egui_kittest::{Harness, kittest::Queryable};
use vibemesh_agent::config::{Config, Home};
use vibemesh_desktop::{DesktopApp, backend::Backend, model::locked, tab::Link};
use vibemesh_tests::{TIMEOUT, TestAgent};

struct App {
    harness: Harness<'static, DesktopApp>,
    _rt: tokio::runtime::Runtime,
    _home: tempfile::TempDir,
}

fn start_app() -> App {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = Config {
        name: Some("desk".into()),
        relay: "none".into(),
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        ..Config::default()
    };
    let backend = rt
        .block_on(Backend::embed(Home::under(home.path()), config))
        .expect("embedded agent starts");
    let app = vibemesh_desktop::start(Arc::new(backend), rt.handle().clone());
    let harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 700.0))
        .build_ui_state(|ui, app: &mut DesktopApp| app.ui(ui), app);
    App {
        harness,
        _rt: rt,
        _home: home,
    }
}

impl App {
    /// Runs frames until `cond` holds, waking on the app's own change notifications.
    fn wait(&mut self, what: &str, cond: impl Fn(&Harness<'static, DesktopApp>) -> bool) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let seen = self.harness.state().notifier().generation();
            self.harness.run_ok();
            if cond(&self.harness) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "timed out waiting for {what}");
            self.harness.state().notifier().wait_past(seen, left);
        }
    }

    fn has_label(&self, text: &str) -> bool {
        self.harness.query_by_label_contains(text).is_some()
    }

    fn click(&mut self, label: &str) {
        self.harness.get_by_label(label).click();
        self.harness.run_ok();
    }

    fn type_into(&mut self, label: &str, text: &str) {
        let node = self.harness.get_by_label(label);
        node.focus();
        node.type_text(text);
        self.harness.run_ok();
    }
}

#[test]
fn pair_by_ticket_open_a_shell_type_and_revoke() {
    let server = TestAgent::start("server");
    let mut app = start_app();
    app.wait("this machine online", |h| {
        h.query_by_label_contains("This machine: online").is_some()
    });

    // Pair by pasting the server's ticket.
    let ticket = server.ticket(&[]);
    app.click("Add machine");
    app.type_into("Ticket", &ticket);
    app.click("Add");
    app.wait("paired", |h| {
        h.query_by_label_contains("Paired with server").is_some()
    });
    app.click("Done");
    app.wait("server online in the sidebar", |h| {
        h.query_by_label_contains("server: online").is_some()
    });

    // A shell on the server, through the new-session dialog.
    // The second "+" is the server's (this machine comes first).
    app.harness
        .get_all_by_label("+")
        .nth(1)
        .expect("a + for the server")
        .click();
    app.harness.run_ok();
    let dir = tempfile::tempdir().unwrap();
    let folder = app.harness.get_by_label("Folder");
    folder.focus();
    app.harness
        .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    app.harness
        .get_by_label("Folder")
        .type_text(&dir.path().display().to_string());
    app.harness.run_ok();
    app.click("Start");
    app.wait("the shell tab is live", |h| {
        h.state()
            .tabs()
            .first()
            .is_some_and(|t| t.link_state() == Link::Live && !t.screen_text().trim().is_empty())
    });
    app.harness.get_by_label("terminal").focus();
    app.harness.run_ok();
    app.harness.get_by_label("terminal").type_text("echo hi");
    app.harness.key_press(egui::Key::Enter);
    app.wait("hi on its own line in the terminal widget", |h| {
        h.query_by(|n| {
            n.role() == egui::accesskit::Role::Terminal
                && n.value()
                    .is_some_and(|v| v.lines().any(|l| l.trim() == "hi"))
        })
        .is_some()
    });
    eprintln!("screen:\n{}", app.harness.state().tabs()[0].screen_text());
    // The session shows in the sidebar under the server.
    assert!(app.has_label("running"));

    // Revoke: the server leaves the sidebar.
    app.click("Settings");
    app.click("Remove server");
    app.wait("the server gone from the sidebar", |h| {
        h.query_by_label_contains("server: ").is_none()
    });
    assert!(
        locked(app.harness.state().model())
            .machines
            .iter()
            .all(|m| m.name != "server")
    );
}

#[test]
fn an_expired_ticket_shows_why() {
    let server = TestAgent::start("server");
    let mut app = start_app();
    let expired = server.ticket(&["--ttl", "0s"]);
    app.click("Add machine");
    app.type_into("Ticket", &expired);
    app.click("Add");
    app.wait("the expiry error", |h| {
        h.query_by_label_contains("Could not add the machine")
            .is_some()
    });
    let shown = app
        .harness
        .get_by_label_contains("Could not add the machine")
        .value()
        .unwrap_or_default();
    assert!(shown.contains("expired"), "{shown}");
}

#[test]
fn a_tab_reconnects_by_itself_when_the_peer_agent_restarts() {
    let server = TestAgent::start("server");
    // Restarted on the same port, so the address in the ticket still reaches it.
    let addr = server.json(&["status"])["addrs"][0]
        .as_str()
        .expect("a bound address")
        .to_string();
    let mut app = start_app();
    let ticket = server.ticket(&[]);
    app.click("Add machine");
    app.type_into("Ticket", &ticket);
    app.click("Add");
    app.wait("server online", |h| {
        h.query_by_label_contains("server: online").is_some()
    });
    app.click("Done");
    app.harness
        .get_all_by_label("+")
        .nth(1)
        .expect("a + for the server")
        .click();
    app.harness.run_ok();
    app.click("Start");
    app.wait("the shell tab is live", |h| {
        h.state()
            .tabs()
            .first()
            .is_some_and(|t| t.link_state() == Link::Live && !t.screen_text().trim().is_empty())
    });
    app.harness.get_by_label("terminal").focus();
    app.harness.run_ok();
    app.harness
        .get_by_label("terminal")
        .type_text("echo before-$((1+1))");
    app.harness.key_press(egui::Key::Enter);
    app.wait("before-2", |h| {
        h.state().tabs()[0].screen_text().contains("before-2")
    });

    let home = server.crash();
    app.wait("the tab saying it reconnects", |h| {
        matches!(h.state().tabs()[0].link_state(), Link::Reconnecting(_))
            && h.query_by_label_contains("reconnecting").is_some()
    });
    std::fs::write(
        home.path().join("config.toml"),
        format!("name = \"server\"\nrelay = \"none\"\nlisten = [\"{addr}\"]\n"),
    )
    .unwrap();
    let _server = TestAgent::spawn(home, "server");
    app.wait("the tab live again with its screen restored", |h| {
        let t = &h.state().tabs()[0];
        t.link_state() == Link::Live && t.screen_text().contains("before-2")
    });
    app.harness.get_by_label("terminal").focus();
    app.harness.run_ok();
    app.harness
        .get_by_label("terminal")
        .type_text("echo after-$((2+2))");
    app.harness.key_press(egui::Key::Enter);
    app.wait("after-4", |h| {
        h.state().tabs()[0].screen_text().contains("after-4")
    });
}

#[test]
fn a_dropped_qr_image_fills_in_the_ticket_and_pairs() {
    let server = TestAgent::start("server");
    let mut app = start_app();
    let ticket = server.ticket(&[]);
    // The ticket's QR code as a PNG file, as a phone screenshot or a saved image would be.
    let code = vibemesh_desktop::qr::image(&ticket).unwrap();
    let scale = 4;
    let side = code.size[0] as u32 * scale;
    let png = image::GrayImage::from_fn(side, side, |x, y| {
        let p = code.pixels[(y / scale) as usize * code.size[0] + (x / scale) as usize];
        image::Luma([p.r()])
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ticket.png");
    png.save(&path).unwrap();
    app.harness
        .input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(path)));
    app.harness.run_ok();
    let field = app
        .harness
        .get_by_label("Ticket")
        .value()
        .unwrap_or_default();
    assert_eq!(field, ticket);
    app.click("Add");
    app.wait("paired through the QR image", |h| {
        h.query_by_label_contains("server: online").is_some()
    });
}

/// A file dropped on the window, as the windowing integration hands it over.
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}
