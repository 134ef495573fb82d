//! The desktop app end to end, headless (egui_kittest), against real agents on
//! 127.0.0.1: the app's own agent runs in-process, the peer is a real `vibemesh agent`.

mod common;

use common::{shows, start_app};
use egui_kittest::kittest::Queryable;
use vibemesh_desktop::{model::lock, tab::Link};
use vibemesh_tests::TestAgent;

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
    app.new_session_on(1);
    let dir = tempfile::tempdir().unwrap();
    app.set_field("Folder", &dir.path().display().to_string());
    app.start_shell();
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
    // It asks first: nothing is revoked until Confirm.
    assert!(app.has_label("Remove this machine?"));
    assert!(app.has_label("server: "));
    app.click("Confirm");
    app.wait("the server gone from the sidebar", |h| {
        h.query_by_label_contains("server: ").is_none()
    });
    assert!(
        lock(app.harness.state().model())
            .machines
            .iter()
            .all(|m| m.name != "server")
    );
}

#[test]
fn allowed_roots_saved_in_settings_apply_at_once() {
    let mut app = start_app();
    app.wait("this machine online", |h| shows(h, "This machine: online"));
    // A folder under /tmp: outside the default root, the home folder.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("shared-folder-7")).unwrap();
    let folder = dir.path().display().to_string();
    app.click("Settings");
    app.set_field("Allowed roots", &folder);
    app.click("Save agent settings");
    app.wait("the agent applied it", |h| {
        shows(h, "Allowed roots applied")
    });
    app.click("Close window");
    // The running agent now completes folders there.
    app.new_session_on(0);
    app.set_field("Folder", &format!("{folder}/sha"));
    app.wait("a completion from the new root", |h| {
        shows(h, "shared-folder-7")
    });
}

/// The app with a shell open on this machine that printed `before-2`, and the agent's
/// `config.toml` (what a restart reads) listening on `listen`.
fn app_with_a_shell_and_config(listen: &str) -> common::App {
    let mut app = start_app();
    app.wait("this machine online", |h| shows(h, "This machine: online"));
    std::fs::write(
        app.home.path().join("config.toml"),
        format!("name = \"desk\"\nrelay = \"none\"\nlisten = [\"{listen}\"]\n"),
    )
    .unwrap();
    app.new_session_on(0);
    app.start_shell();
    app.run_in_terminal("echo before-$((1+1))", "before-2");
    app
}

#[test]
fn a_relay_saved_in_settings_applies_when_the_agent_restarts_and_sessions_go_on() {
    // What the restarted agent reads: loopback only, like the test's own config.
    let mut app = app_with_a_shell_and_config("127.0.0.1:0");

    // A relay on loopback where nothing listens: the agent must start with it anyway.
    let relay = "http://127.0.0.1:9/";
    app.click("Settings");
    app.set_field("Relay", relay);
    app.click("Save agent settings");
    app.wait("the app saying a restart is needed", |h| {
        shows(h, "The rest (the relay) applies when the agent restarts")
    });
    app.click("Restart the agent");
    app.wait("the agent back with the new relay", |h| {
        shows(h, &format!("Agent restarted; relay: {relay}."))
    });
    app.click("Close window");
    app.wait("this machine online again", |h| {
        shows(h, "This machine: online")
    });
    // What `vibemesh status` says, through the restarted agent's socket.
    let home = vibemesh_agent::config::Home::under(app.home.path());
    let status = app
        .rt
        .block_on(vibemesh_core::client::local::admin(
            &home.socket,
            vibemesh_core::proto::local::AdminRequest::Status,
        ))
        .expect("status from the restarted agent");
    let vibemesh_core::proto::local::AdminReply::Status(status) = status else {
        panic!("not a status: {status:?}")
    };
    assert_eq!(status.relay, relay);

    // The shell went on in its holder; the tab found it again through the new agent.
    app.wait_live_again("before-2");
    app.run_in_terminal("echo after-$((2+2))", "after-4");
}

#[test]
fn a_restart_with_settings_that_cannot_start_keeps_the_previous_ones() {
    // Edited by hand: an address this machine does not have, so binding fails.
    let mut app = app_with_a_shell_and_config("203.0.113.7:0");

    app.click("Settings");
    app.set_field("Relay", "http://127.0.0.1:9/");
    app.click("Save agent settings");
    app.wait("the app saying a restart is needed", |h| {
        shows(h, "applies when the agent restarts")
    });
    app.click("Restart the agent");
    app.wait("the error, and the previous settings back", |h| {
        shows(h, "the saved settings did not start")
            && shows(h, "the previous settings are back in force")
    });
    app.click("Close window");
    app.wait("this machine online again", |h| {
        shows(h, "This machine: online")
    });
    app.wait_live_again("before-2");
    app.run_in_terminal("echo after-$((2+2))", "after-4");
}

#[test]
fn an_expired_ticket_shows_why() {
    let server = TestAgent::start("server");
    let mut app = start_app();
    let expired = server.expired_ticket();
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
    app.add_machine(&server.ticket(&[]), "server");
    app.new_session_on(1);
    app.start_shell();
    app.run_in_terminal("echo before-$((1+1))", "before-2");

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
    app.wait_live_again("before-2");
    app.run_in_terminal("echo after-$((2+2))", "after-4");
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
