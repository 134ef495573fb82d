//! Tabs come back after a restart: the open tabs are saved with the preferences (machine
//! and session) whenever one opens or closes, and reopened at start once their machine
//! has listed its sessions. A session that is gone by then is forgotten; one on a peer
//! not reached yet waits for it.

use std::sync::Arc;

use vibemesh_core::proto::SessionId;

use super::DesktopApp;
use crate::{machines::Machines, model::lock, settings::SavedTab};

impl DesktopApp {
    /// Saves the open tabs, and the saved ones still waiting for their machine.
    pub(super) fn save_tabs(&mut self) {
        let mut tabs: Vec<SavedTab> = self
            .tabs
            .iter()
            .map(|t| SavedTab {
                machine: t.key.saved_name(),
                session: t.session.0,
            })
            .collect();
        tabs.extend(self.restore.iter().cloned());
        if tabs != self.prefs.open_tabs {
            self.prefs.open_tabs = tabs;
            self.save_prefs();
        }
    }

    /// Reopens the saved tabs whose machine now lists its sessions.
    pub(super) fn restore_tabs(&mut self, machines: &Arc<Machines>) {
        if self.restore.is_empty() {
            return;
        }
        let mut open = Vec::new();
        {
            let model = lock(&self.model);
            self.restore.retain(|saved| {
                let Some(m) = model
                    .machines
                    .iter()
                    .find(|m| m.key.saved_name() == saved.machine)
                else {
                    return true;
                };
                // Sessions are listed together with the agent's info.
                if m.info.is_none() {
                    return true;
                }
                if let Some(info) = m.sessions.get(&SessionId(saved.session)) {
                    open.push((m.key, info.clone()));
                }
                false
            });
        }
        let active = self.active;
        for (key, info) in open {
            self.open_tab(machines, key, &info);
        }
        // Restored tabs come back in order; the first one is shown.
        if active.is_none() && !self.tabs.is_empty() {
            self.activate(0);
        }
        self.save_tabs();
    }
}
