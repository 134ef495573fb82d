//! The window: top bar, sidebar of machines, session tabs (the terminal widget, or a
//! structured AI conversation), dialogs, and errors in plain words. It reads the shared
//! model each frame and asks [`Machines`] to act; it never waits on the network itself.

mod commands;
mod confirm;
mod conv_items;
mod conversation;
mod dialogs;
mod diff;
mod keys;
mod new_session;
mod restore;
mod sidebar;
mod tabs;

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use egui::{RichText, Ui};
use vibemesh_core::proto::{Role, SessionInfo, TermSize};

use crate::{
    machines::Machines,
    model::{MachineKey, Notifier, Shared, lock},
    settings::Prefs,
    term::TermStyle,
};

pub use conversation::ConvPane;
pub use dialogs::Dialog;
pub use new_session::{AiMode, NewSession};
pub use tabs::{Tab, TabBody, TabPlace};

/// Sessions started from the window, waiting for their tab (filled by tasks).
type Opened = Arc<Mutex<Vec<(MachineKey, SessionInfo)>>>;

/// The desktop app's window state.
pub struct DesktopApp {
    machines: Option<Arc<Machines>>,
    model: Shared,
    notify: Notifier,
    prefs: Prefs,
    prefs_path: Option<PathBuf>,
    tabs: Vec<Tab>,
    active: Option<usize>,
    dialog: Option<Dialog>,
    /// An action waiting for the user's yes.
    confirm: Option<confirm::Confirm>,
    /// The command palette, while open.
    palette: Option<commands::Palette>,
    /// Saved tabs not reopened yet (their machine has not listed its sessions).
    restore: Vec<crate::settings::SavedTab>,
    opened: Opened,
    /// The terminal size last seen, for new sessions.
    term_size: TermSize,
    /// Why the app cannot work at all (the agent did not start).
    fatal: Option<String>,
    shown: bool,
}

impl DesktopApp {
    /// An app working through `machines`; preferences from `prefs_path` when given.
    pub fn new(
        machines: Arc<Machines>,
        model: Shared,
        notify: Notifier,
        prefs_path: Option<PathBuf>,
    ) -> Self {
        let prefs: Prefs = prefs_path.as_deref().map(Prefs::load).unwrap_or_default();
        let restore = prefs.open_tabs.clone();
        Self {
            machines: Some(machines),
            model,
            notify,
            prefs,
            prefs_path,
            tabs: Vec::new(),
            active: None,
            dialog: None,
            confirm: None,
            palette: None,
            restore,
            opened: Arc::default(),
            term_size: TermSize::DEFAULT,
            fatal: None,
            shown: false,
        }
    }

    /// An app that can only say why it cannot start.
    pub fn failed(why: String) -> Self {
        Self {
            machines: None,
            model: Shared::default(),
            notify: Notifier::default(),
            prefs: Prefs::default(),
            prefs_path: None,
            tabs: Vec::new(),
            active: None,
            dialog: None,
            confirm: None,
            palette: None,
            restore: Vec::new(),
            opened: Arc::default(),
            term_size: TermSize::DEFAULT,
            fatal: Some(why),
            shown: false,
        }
    }

    /// The shared model (tests read it).
    pub fn model(&self) -> &Shared {
        &self.model
    }

    /// The change notifier (tests wait on it).
    pub fn notifier(&self) -> &Notifier {
        &self.notify
    }

    /// The open tabs.
    pub fn tabs(&self) -> &[Tab] {
        &self.tabs
    }

    fn style(&self) -> TermStyle {
        TermStyle {
            font_size: self.prefs.font_size,
            palette: crate::theme::palette(self.prefs.theme),
        }
    }

    fn save_prefs(&mut self) {
        if let Some(path) = &self.prefs_path
            && let Err(e) = self.prefs.save(path)
        {
            lock(&self.model).error(format!("Could not save preferences: {e}"));
        }
    }

    /// Draws the whole window.
    pub fn ui(&mut self, ui: &mut Ui) {
        self.notify.frame_begun();
        if !self.shown {
            self.shown = true;
            self.notify.attach(ui.ctx());
            crate::term::fonts::add_fallbacks(ui.ctx());
            eprintln!("vibemesh-desktop: window shown");
        }
        ui.ctx()
            .set_visuals(crate::theme::visuals(self.prefs.theme));
        let Some(machines) = self.machines.clone() else {
            egui::CentralPanel::default().show(ui, |ui| {
                ui.heading("VibeMesh could not start");
                ui.label(self.fatal.clone().unwrap_or_default());
            });
            return;
        };
        self.take_opened(&machines);
        self.restore_tabs(&machines);
        self.window_keys(ui.ctx());
        self.dropped_qr(ui);
        egui::Panel::top("top").show(ui, |ui| self.top_bar(ui, &machines));
        self.messages(ui);
        egui::Panel::left("machines")
            .default_size(240.0)
            .show(ui, |ui| self.sidebar(ui, &machines));
        // Filled with the theme's panel colour: unfilled, the tab strip and the empty
        // area showed the window's clear colour, near-black in the light theme too.
        let fill = ui.visuals().panel_fill;
        egui::CentralPanel::default()
            // A little room between the sidebar and the tabs.
            .frame(egui::Frame::NONE.fill(fill).inner_margin(egui::Margin {
                left: 6,
                ..egui::Margin::ZERO
            }))
            .show(ui, |ui| self.center(ui, &machines));
        self.dialogs(ui, &machines);
        self.confirm_ui(ui.ctx(), &machines);
        self.palette_ui(ui.ctx(), &machines);
    }

    fn top_bar(&mut self, ui: &mut Ui, machines: &Arc<Machines>) {
        ui.horizontal(|ui| {
            ui.strong("VibeMesh");
            ui.separator();
            if ui.button("Add machine").clicked() {
                self.dialog = Some(Dialog::add_machine());
                lock(&self.model).join_result = None;
            }
            if ui.button("Pair a device").clicked() {
                self.dialog = Some(Dialog::pair_device());
                lock(&self.model).ticket = None;
            }
            if ui.button("New session").clicked() {
                self.dialog = Some(Dialog::new_session(MachineKey::Local, &self.prefs));
            }
            if ui.button("Settings").clicked() {
                self.dialog = Some(Dialog::settings(machines.backend().home()));
            }
        });
    }

    fn messages(&mut self, ui: &mut Ui) {
        let messages = lock(&self.model).messages.clone();
        if messages.is_empty() {
            return;
        }
        egui::Panel::bottom("messages").show(ui, |ui| {
            for (i, m) in messages.iter().enumerate() {
                ui.horizontal(|ui| {
                    let color = if m.error {
                        ui.visuals().error_fg_color
                    } else {
                        ui.visuals().text_color()
                    };
                    ui.label(RichText::new(&m.text).color(color));
                    if ui.small_button("Dismiss").clicked() {
                        lock(&self.model).messages.remove(i);
                    }
                });
            }
        });
    }

    /// An image dropped on the window: a QR code of a ticket opens "Add machine" with it.
    fn dropped_qr(&mut self, ui: &Ui) {
        let dropped = ui.input(|i| i.raw.dropped_files.clone());
        for f in dropped {
            let bytes = f.bytes();
            match bytes.and_then(|b| crate::qr::decode(&b)) {
                Ok(ticket) => {
                    lock(&self.model).join_result = None;
                    self.dialog = Some(Dialog::AddMachine {
                        ticket,
                        busy: false,
                    });
                }
                Err(why) => lock(&self.model).error(format!(
                    "No ticket in the dropped file {}: {why}",
                    f.path().display()
                )),
            }
        }
    }

    fn take_opened(&mut self, machines: &Arc<Machines>) {
        let opened = std::mem::take(&mut *lock(&self.opened));
        for (key, info) in opened {
            self.open_tab(machines, key, &info);
        }
    }

    /// Opens (or switches to) a tab on `info`.
    fn open_tab(&mut self, machines: &Arc<Machines>, key: MachineKey, info: &SessionInfo) {
        if let Some(i) = self
            .tabs
            .iter()
            .position(|t| t.key == key && t.session == info.id)
        {
            self.activate(i);
            return;
        }
        let model = lock(&self.model);
        let Some(m) = model.machine(key) else { return };
        let place = TabPlace {
            key,
            machine: m.name.clone(),
            target: m.target(),
            // Listing sessions comes with the agent's info, so it is known here.
            role: m.info.as_ref().map_or(Role::Viewer, |i| i.your_role),
        };
        drop(model);
        let tab = Tab::open(machines, place, info, self.term_size, self.notify.clone());
        self.tabs.push(tab);
        self.active = Some(self.tabs.len() - 1);
        self.save_tabs();
    }
}

impl eframe::App for DesktopApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        DesktopApp::ui(self, ui);
    }

    /// The theme's panel colour, not eframe's near-black, wherever no panel paints.
    fn clear_color(&self, _visuals: &egui::Visuals) -> [f32; 4] {
        crate::theme::visuals(self.prefs.theme)
            .panel_fill
            .to_normalized_gamma_f32()
    }
}
