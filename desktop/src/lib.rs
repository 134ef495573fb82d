//! `vibemesh-desktop`: every machine's terminals and AI conversations in one native
//! egui window.
//!
//! - [`term`]: the terminal widget (vt100 screen, keys, mouse, selection); independent
//!   of the rest, it could be used in any egui app.
//! - [`backend`]: how the app reaches agents (the local socket, or an agent in-process).
//! - [`model`] and [`machines`]: what the window shows, kept live by pushed events.
//! - [`tab`]: a session tab's connection, with reconnect; [`conv`]: the same for a
//!   structured AI session's conversation.
//! - [`ui`]: the window itself; [`settings`], [`theme`] and [`qr`] serve it.
#![warn(missing_docs)]

pub mod backend;
pub mod conv;
pub mod machines;
pub mod model;
pub mod qr;
pub mod settings;
pub mod tab;
pub mod term;
pub mod theme;
pub mod ui;

pub use ui::DesktopApp;

/// The window's options. The system's copy/cut/paste shortcuts are left to the app
/// (`clipboard_shortcuts` off): egui would otherwise turn Ctrl+V into a paste before
/// any widget sees it, and a program in a terminal could never get Ctrl+V or Ctrl+C.
/// Text fields still get them ([`ui`] turns them back into commands there).
pub fn native_options() -> eframe::NativeOptions {
    eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("VibeMesh")
            // Matches the installed vibemesh.desktop (its StartupWMClass), so docks and
            // task bars show the app's own icon and name.
            .with_app_id("vibemesh-desktop")
            .with_inner_size([1200.0, 760.0]),
        clipboard_shortcuts: false,
        // The app installs egui's system font provider itself (term::fonts), in the
        // window and in its tests alike.
        system_font_fallback: false,
        ..Default::default()
    }
}

/// Starts the app's machinery on `rt` with `backend`: the model, its notifier and the
/// machine watchers, ready for a [`DesktopApp`].
pub fn start(backend: std::sync::Arc<backend::Backend>, rt: tokio::runtime::Handle) -> DesktopApp {
    let model = model::Shared::default();
    let notify = model::Notifier::default();
    let prefs = settings::Prefs::path_for(&backend.home().config);
    let machines = machines::Machines::start(backend, model.clone(), notify.clone(), rt);
    DesktopApp::new(machines, model, notify, Some(prefs))
}
