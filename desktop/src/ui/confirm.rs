//! Asking before what cannot be undone: stopping a session (its program ends) and
//! removing a peer (revoked at once). The button only asks; the modal does it.

use std::sync::Arc;

use egui::{Context, RichText};
use vibemesh_core::proto::SessionId;

use super::DesktopApp;
use crate::{machines::Machines, model::MachineKey};

/// An action waiting for the user's yes.
pub enum Confirm {
    /// Stop (or forget, once ended) session `id` on `key`, described as `what`.
    Stop {
        /// The machine.
        key: MachineKey,
        /// The session.
        id: SessionId,
        /// Its line in the sidebar.
        what: String,
    },
    /// Remove (revoke) the peer `name`.
    Remove {
        /// The peer's name.
        name: String,
    },
}

impl DesktopApp {
    /// Shows the question on show, if any; Confirm does it, Cancel or Esc drops it.
    pub(super) fn confirm_ui(&mut self, ctx: &Context, machines: &Arc<Machines>) {
        let Some(confirm) = &self.confirm else {
            return;
        };
        let (question, detail) = match confirm {
            Confirm::Stop { what, .. } => (
                "Stop this session?",
                format!("{what}\nIts program ends on its machine."),
            ),
            Confirm::Remove { name } => (
                "Remove this machine?",
                format!("{name} is revoked at once: it can no longer reach this one."),
            ),
        };
        let mut answer = None;
        let modal = egui::Modal::new(egui::Id::unique("confirm")).show(ctx, |ui| {
            ui.heading(question);
            ui.label(RichText::new(detail));
            ui.horizontal(|ui| {
                if ui.button("Confirm").clicked() {
                    answer = Some(true);
                }
                if ui.button("Cancel").clicked() {
                    answer = Some(false);
                }
            });
        });
        if modal.should_close() && answer.is_none() {
            answer = Some(false);
        }
        let Some(yes) = answer else { return };
        if let Some(confirm) = self.confirm.take()
            && yes
        {
            match confirm {
                Confirm::Stop { key, id, .. } => machines.kill_session(key, id),
                Confirm::Remove { name } => machines.revoke(name),
            }
        }
    }
}
