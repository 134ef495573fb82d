//! Dialogs: add a machine by ticket, pair a device with this machine's QR code, start a
//! session, and settings.

use std::sync::Arc;

use egui::{RichText, Ui};
use vibemesh_agent::config::{Config, Home};
use vibemesh_core::proto::Role;

use super::{DesktopApp, new_session::NewSession};
use crate::{
    machines::Machines,
    model::{MachineKey, lock},
    settings::{FONT_SIZES, Predict, Prefs, Theme, edit_agent_config},
};

/// The dialog on show.
pub enum Dialog {
    /// Paste a ticket to pair with another machine.
    AddMachine {
        /// The pasted text.
        ticket: String,
        /// A pairing is under way.
        busy: bool,
    },
    /// Show this machine's ticket and QR code.
    PairDevice {
        /// The role the ticket grants.
        role: Role,
        /// The QR code of the ticket on show.
        qr: Option<(String, egui::TextureHandle)>,
    },
    /// Start a session.
    NewSession(NewSession),
    /// Settings.
    Settings {
        /// The relay setting being edited.
        relay: String,
        /// Allowed roots, one per line.
        roots: String,
        /// Why the agent config could not be read, or what saving did.
        note: Option<String>,
    },
}

impl Dialog {
    /// The add-machine dialog.
    pub fn add_machine() -> Self {
        Dialog::AddMachine {
            ticket: String::new(),
            busy: false,
        }
    }

    /// The pair-a-device dialog.
    pub fn pair_device() -> Self {
        Dialog::PairDevice {
            role: Role::Owner,
            qr: None,
        }
    }

    /// The new-session dialog for `machine`.
    pub fn new_session(machine: MachineKey, prefs: &Prefs) -> Self {
        Dialog::NewSession(NewSession::new(machine, prefs))
    }

    /// The settings dialog, with the agent's current relay and roots.
    pub fn settings(home: &Home) -> Self {
        let (config, note) = match Config::load(&home.config) {
            Ok(c) => (c, None),
            Err(e) => (Config::default(), Some(e.to_string())),
        };
        Dialog::Settings {
            relay: config.relay.to_string(),
            roots: config
                .roots
                .iter()
                .map(|r| r.display().to_string())
                .collect::<Vec<_>>()
                .join("\n"),
            note,
        }
    }
}

/// A text field with a visible label that also names it for screen readers (and tests).
pub(super) fn labelled_field(
    ui: &mut Ui,
    label: &str,
    text: &mut String,
    multiline: bool,
) -> egui::Response {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        let edit = if multiline {
            egui::TextEdit::multiline(text).desired_rows(3)
        } else {
            egui::TextEdit::singleline(text)
        };
        ui.add(edit.desired_width(360.0)).labelled_by(l.id)
    })
    .inner
}

pub(super) fn error_text(ui: &mut Ui, text: &str) {
    ui.label(RichText::new(text).color(ui.visuals().error_fg_color));
}

impl DesktopApp {
    pub(super) fn dialogs(&mut self, ui: &mut Ui, machines: &Arc<Machines>) {
        let Some(mut dialog) = self.dialog.take() else {
            return;
        };
        let ctx = ui.ctx().clone();
        let title = match dialog {
            Dialog::AddMachine { .. } => "Add a machine",
            Dialog::PairDevice { .. } => "Pair a device",
            Dialog::NewSession(_) => "New session",
            Dialog::Settings { .. } => "Settings",
        };
        let mut open = true;
        let mut done = false;
        egui::Window::new(title)
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(&ctx, |ui| {
                done = match &mut dialog {
                    Dialog::AddMachine { ticket, busy } => {
                        self.add_machine(ui, machines, ticket, busy)
                    }
                    Dialog::PairDevice { role, qr } => self.pair_device(ui, machines, role, qr),
                    Dialog::NewSession(form) => self.new_session(ui, machines, form),
                    Dialog::Settings { relay, roots, note } => {
                        self.settings_ui(ui, machines, relay, roots, note)
                    }
                };
            });
        if open && !done {
            self.dialog = Some(dialog);
        }
    }

    fn add_machine(
        &mut self,
        ui: &mut Ui,
        machines: &Arc<Machines>,
        ticket: &mut String,
        busy: &mut bool,
    ) -> bool {
        ui.label(
            "Paste the ticket that `vibemesh pair` printed on the other machine, \
             or drop an image of its QR code on this window.",
        );
        let field = labelled_field(ui, "Ticket", ticket, false);
        if ui.memory(|m| m.focused().is_none()) {
            // The dialog opens ready for the paste.
            field.request_focus();
        }
        let result = lock(&self.model).join_result.clone();
        if result.is_some() {
            *busy = false;
        }
        match &result {
            Some(Ok(name)) => {
                ui.label(format!("Paired with {name}."));
            }
            Some(Err(why)) => error_text(ui, &format!("Could not add the machine: {why}")),
            None if *busy => {
                ui.label("Pairing…");
            }
            None => {}
        }
        let paired = matches!(result, Some(Ok(_)));
        let (enter, escape) = ui.input(|i| {
            (
                i.key_pressed(egui::Key::Enter),
                i.key_pressed(egui::Key::Escape),
            )
        });
        let mut close = escape;
        ui.horizontal(|ui| {
            // A ticket is used once: no second Add while pairing or after it worked.
            let can = !*busy && !paired && !ticket.trim().is_empty();
            let add = ui.add_enabled(can, egui::Button::new("Add")).clicked();
            if add || (enter && can) {
                *busy = true;
                machines.join(ticket.clone());
            }
            if paired && (ui.button("Done").clicked() || enter) {
                close = true;
            }
        });
        close
    }

    fn pair_device(
        &mut self,
        ui: &mut Ui,
        machines: &Arc<Machines>,
        role: &mut Role,
        qr: &mut Option<(String, egui::TextureHandle)>,
    ) -> bool {
        ui.label("Scan this code with a phone, or paste the ticket in another VibeMesh.");
        ui.horizontal(|ui| {
            ui.label("Role:");
            ui.radio_value(role, Role::Owner, "owner (may do everything)");
            ui.radio_value(role, Role::Viewer, "viewer (may only watch)");
        });
        if ui.button("Make a ticket").clicked() {
            machines.mint_ticket(*role);
        }
        let ticket = lock(&self.model).ticket.clone();
        if let Some(t) = ticket {
            let now = vibemesh_core::time::now_ms();
            let left = t.expires_ms.saturating_sub(now) / 1000;
            if left == 0 {
                error_text(ui, "This ticket expired; make a new one.");
            } else {
                if qr.as_ref().is_none_or(|(s, _)| s != &t.ticket)
                    && let Some(img) = crate::qr::image(&t.ticket)
                {
                    let tex =
                        ui.ctx()
                            .load_texture("pairing-qr", img, egui::TextureOptions::NEAREST);
                    *qr = Some((t.ticket.clone(), tex));
                }
                if let Some((_, tex)) = qr {
                    ui.add(egui::Image::new((tex.id(), egui::vec2(240.0, 240.0))));
                }
                ui.label(format!(
                    "Role: {} · expires in {}:{:02}",
                    t.role,
                    left / 60,
                    left % 60
                ));
                let mut text = t.ticket.clone();
                ui.add(
                    egui::TextEdit::multiline(&mut text)
                        .desired_width(360.0)
                        .desired_rows(3),
                );
                if ui.button("Copy ticket").clicked() {
                    ui.ctx().copy_text(t.ticket.clone());
                }
                // The countdown is the only thing that changes on its own: one repaint a
                // second while this dialog is open, none otherwise.
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_secs(1));
            }
        }
        false
    }

    fn settings_ui(
        &mut self,
        ui: &mut Ui,
        machines: &Arc<Machines>,
        relay: &mut String,
        roots: &mut String,
        note: &mut Option<String>,
    ) -> bool {
        ui.heading("Look");
        let before = self.prefs.clone();
        ui.add(
            egui::Slider::new(&mut self.prefs.font_size, FONT_SIZES)
                .step_by(1.0)
                .text("Font size"),
        );
        ui.horizontal(|ui| {
            ui.label("Theme:");
            ui.radio_value(&mut self.prefs.theme, Theme::Dark, "dark");
            ui.radio_value(&mut self.prefs.theme, Theme::Light, "light");
        });
        ui.heading("Typing");
        ui.horizontal(|ui| {
            ui.label("Predictive echo:");
            let p = &mut self.prefs.predict;
            ui.radio_value(p, Predict::Auto, "auto");
            ui.radio_value(p, Predict::Always, "always");
            ui.radio_value(p, Predict::Never, "never");
        });
        ui.label(
            RichText::new(
                "Keys show at once, underlined until the session echoes them. Auto: on \
                 other machines' sessions, when the round trip is above 30 ms.",
            )
            .small()
            .weak(),
        );
        if self.prefs != before {
            self.save_prefs();
        }
        ui.separator();
        ui.heading("This machine's agent");
        ui.label(
            "\"default\" uses public relays, \"none\" direct addresses only, or your relays' URLs (several: separated by commas).",
        );
        labelled_field(ui, "Relay", relay, false);
        ui.label("Folders peers may use, one per line (empty: your home folder).");
        labelled_field(ui, "Allowed roots", roots, true);
        if ui.button("Save agent settings").clicked() {
            let list: Vec<String> = roots.lines().map(str::to_string).collect();
            *note = Some(
                match edit_agent_config(&machines.backend().home().config, relay.trim(), &list) {
                    Ok(()) => {
                        machines.reload_agent();
                        "Saved.".into()
                    }
                    Err(e) => e.to_string(),
                },
            );
        }
        if let Some(n) = note {
            ui.label(n.as_str());
        }
        if lock(&self.model).restart_needed && machines.backend().is_embedded() {
            ui.horizontal(|ui| {
                ui.label("Saved settings wait for a restart; sessions keep running.");
                if ui.button("Restart the agent").clicked() {
                    machines.restart_agent();
                }
            });
        }
        ui.separator();
        ui.heading("Peers");
        let peers = lock(&self.model).peers.clone();
        if peers.is_empty() {
            ui.label("No peers yet.");
        }
        for p in peers {
            ui.horizontal(|ui| {
                let mut what = Vec::new();
                if p.reachable {
                    what.push("we reach it".to_string());
                }
                if let Some(r) = p.allowed {
                    what.push(format!("may connect here as {r}"));
                }
                ui.label(format!("{} ({})", p.name, what.join(", ")));
                if ui.button(format!("Remove {}", p.name)).clicked() {
                    self.confirm = Some(super::confirm::Confirm::Remove {
                        name: p.name.clone(),
                    });
                }
            });
        }
        false
    }
}
