//! Session tabs: the tab strip with activity marks, and the active tab's terminal.

use std::sync::Arc;

use egui::{RichText, Ui};
use vibemesh_core::proto::{SessionId, SessionInfo, TermSize, local::Target};

use super::DesktopApp;
use crate::{
    machines::Machines,
    model::{MachineKey, Notifier, locked},
    tab::{Link, TabInput, TabLink, lock},
    term::TerminalView,
};

/// An open session tab.
pub struct Tab {
    /// The machine.
    pub key: MachineKey,
    /// The machine's name.
    pub machine: String,
    /// The session.
    pub session: SessionId,
    /// Its title when opened.
    pub title: String,
    /// The connection and screen.
    pub link: TabLink,
    focus_next: bool,
}

impl Tab {
    /// Opens a tab attached to `info`.
    pub fn open(
        machines: &Arc<Machines>,
        key: MachineKey,
        machine: String,
        target: Target,
        info: &SessionInfo,
        size: TermSize,
        notify: Notifier,
    ) -> Self {
        let link = TabLink::open(
            machines.runtime(),
            machines.backend().clone(),
            target,
            info.id,
            size,
            notify,
        );
        Self {
            key,
            machine,
            session: info.id,
            title: info.title.clone(),
            link,
            focus_next: true,
        }
    }

    /// What the tab strip shows: title, machine, and marks for state and activity.
    pub fn label(&self) -> String {
        let s = lock(&self.link.state);
        let title = s.term.title().unwrap_or(&self.title).to_string();
        let mut label = format!("{title} · {}", self.machine);
        match &s.link {
            Link::Exited(e) => label.push_str(&format!(" [{e}]")),
            Link::Reconnecting(_) | Link::Connecting => label.push_str(" [connecting]"),
            Link::Closed(_) => label.push_str(" [closed]"),
            Link::Live => {}
        }
        if s.bell {
            label.push_str(" 🔔");
        } else if s.unseen {
            label.push_str(" •");
        }
        label
    }

    /// The text on its screen.
    pub fn screen_text(&self) -> String {
        lock(&self.link.state).term.contents()
    }

    /// Where its connection is.
    pub fn link_state(&self) -> Link {
        lock(&self.link.state).link.clone()
    }
}

impl DesktopApp {
    pub(super) fn center(&mut self, ui: &mut Ui, machines: &Arc<Machines>) {
        if self.tabs.is_empty() {
            egui::Frame::NONE.inner_margin(16.0).show(ui, |ui| {
                ui.heading("No session open");
                ui.label(
                    "Pick a session in the sidebar, or start one with \"New session\" \
                     (or the + next to a machine).",
                );
                let offline: Vec<String> = locked(&self.model)
                    .machines
                    .iter()
                    .filter(|m| matches!(m.reach, crate::model::Reach::Offline(_)))
                    .map(|m| format!("{}: {}", m.name, super::sidebar::reach_text(m)))
                    .collect();
                for o in offline {
                    ui.label(o);
                }
            });
            return;
        }
        let _ = machines;
        let mut close = None;
        ui.horizontal_wrapped(|ui| {
            ui.add_space(4.0);
            for (i, tab) in self.tabs.iter().enumerate() {
                let active = self.active == Some(i);
                if ui.selectable_label(active, tab.label()).clicked() {
                    self.active = Some(i);
                }
                if ui
                    .small_button("×")
                    .on_hover_text("Close tab (the session keeps running)")
                    .clicked()
                {
                    close = Some(i);
                }
                ui.separator();
            }
        });
        if let Some(i) = close {
            self.tabs.remove(i);
            self.active = match self.active {
                _ if self.tabs.is_empty() => None,
                Some(a) if a >= i && a > 0 => Some(a - 1),
                a => a.map(|a| a.min(self.tabs.len() - 1)),
            };
            return;
        }
        let Some(i) = self.active.filter(|&i| i < self.tabs.len()) else {
            return;
        };
        let style = self.style();
        let tab = &mut self.tabs[i];
        let status = {
            let mut s = lock(&tab.link.state);
            s.unseen = false;
            s.bell = false;
            match &s.link {
                Link::Live => s.notice.clone(),
                Link::Connecting => Some(format!("Connecting to {}…", tab.machine)),
                Link::Reconnecting(why) => Some(format!(
                    "Connection to {} lost ({why}); reconnecting…",
                    tab.machine
                )),
                Link::Exited(e) => Some(format!("The program ended ({e}).")),
                Link::Closed(why) => Some(format!("This session is closed: {why}")),
            }
        };
        if let Some(text) = status {
            ui.label(RichText::new(text).strong());
        }
        let read_only = !matches!(lock(&tab.link.state).link, Link::Live);
        let out = {
            let mut s = lock(&tab.link.state);
            TerminalView::new(&mut s.term, &style)
                .read_only(read_only)
                .show(ui)
        };
        if tab.focus_next {
            out.response.request_focus();
            tab.focus_next = false;
        }
        if let Some((rows, cols)) = out.resized {
            let size = TermSize { rows, cols };
            self.term_size = size;
            tab.link.send(TabInput::Resize(size));
        }
        if !out.input.is_empty() {
            tab.link.send(TabInput::Bytes(out.input));
        }
    }
}
