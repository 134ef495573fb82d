//! The sidebar: every machine with how it is reached, and its sessions.

use std::sync::Arc;

use egui::{Color32, RichText, Ui};
use vibemesh_core::{
    proto::{SessionInfo, SessionStatus},
    text::inert,
};

use super::{DesktopApp, Dialog};
use crate::{
    machines::Machines,
    model::{Machine, MachineKey, Reach, lock},
};

/// One line saying how a machine is reached: "online, direct, 1.2 ms".
pub fn reach_text(m: &Machine) -> String {
    match &m.reach {
        Reach::Connecting => "connecting…".into(),
        Reach::Offline(why) => format!("offline: {why}"),
        Reach::Online => {
            let mut s = String::from("online");
            if m.key == MachineKey::Local {
                s.push_str(", this machine");
            }
            if let Some(p) = &m.path {
                s.push_str(", ");
                s.push_str(if p == "relay" { "relayed" } else { p });
            }
            if let Some(rtt) = m.rtt_us {
                s.push_str(&format!(", {:.1} ms", rtt as f64 / 1000.0));
            }
            s
        }
    }
}

/// A session's line: "title · shell · running". The title is whatever the session's
/// creator or program chose: one line, its control characters shown as escapes.
pub fn session_text(s: &SessionInfo) -> String {
    let status = s.status.to_string();
    let kind = if s.conversation.is_some() {
        " (structured)"
    } else {
        ""
    };
    format!("{} · {}{kind} · {status}", inert(&s.title), s.provider)
}

/// What tells sessions apart under their line: the folder's last part, the age and the
/// short id, e.g. "api · 5 min · 0000002a".
pub fn session_detail(s: &SessionInfo, now_ms: u64) -> String {
    let folder = s
        .cwd
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|f| !f.is_empty())
        .unwrap_or("/");
    let secs = now_ms.saturating_sub(s.created_ms) / 1000;
    let age = match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        3600..86_400 => format!("{} h", secs / 3600),
        _ => format!("{} d", secs / 86_400),
    };
    format!("{} · {age} · {}", inert(folder), s.id)
}

impl DesktopApp {
    pub(super) fn sidebar(&mut self, ui: &mut Ui, machines: &Arc<Machines>) {
        let list: Vec<Machine> = lock(&self.model).machines.clone();
        egui::ScrollArea::vertical().show(ui, |ui| {
            for m in &list {
                ui.add_space(6.0);
                let dot = match m.reach {
                    Reach::Online => Color32::from_rgb(0x23, 0xd1, 0x8b),
                    Reach::Connecting => Color32::from_rgb(0xe5, 0xe5, 0x10),
                    Reach::Offline(_) => Color32::from_rgb(0x88, 0x88, 0x88),
                };
                ui.horizontal(|ui| {
                    ui.label(RichText::new("●").color(dot));
                    ui.strong(&m.name);
                    if m.reach == Reach::Online
                        && ui
                            .small_button("+")
                            .on_hover_text("New session here")
                            .clicked()
                    {
                        self.dialog = Some(Dialog::new_session(m.key, &self.prefs));
                    }
                });
                ui.label(RichText::new(format!("{}: {}", m.name, reach_text(m))).small());
                for s in m.sessions.values() {
                    let open = self
                        .tabs
                        .iter()
                        .position(|t| t.key == m.key && t.session == s.id);
                    let selected = open.is_some() && open == self.active;
                    let r = ui.selectable_label(selected, session_text(s));
                    let detail = session_detail(s, vibemesh_core::time::now_ms());
                    ui.label(RichText::new(detail).small().weak());
                    if let Some(w) = s.conversation.as_ref().and_then(|c| c.waiting.as_ref()) {
                        let (text, color) = super::conversation::waiting_badge(w, ui.visuals());
                        ui.label(RichText::new(text).small().color(color));
                    }
                    if r.clicked() {
                        self.open_tab(machines, m.key, s);
                    }
                    r.context_menu(|ui| {
                        let label = if matches!(s.status, SessionStatus::Exited(_)) {
                            "Forget session"
                        } else {
                            "Stop session"
                        };
                        if ui.button(label).clicked() {
                            self.confirm = Some(super::confirm::Confirm::Stop {
                                key: m.key,
                                id: s.id,
                                what: session_text(s),
                            });
                            ui.close();
                        }
                    });
                }
                ui.separator();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use vibemesh_core::proto::{Provider, SessionId, TermSize};

    use super::*;

    #[test]
    fn a_session_line_shows_its_title_on_one_line_with_escapes_visible() {
        let s = SessionInfo {
            id: SessionId(1),
            title: "two\nlines\x1b]0;x\x07\u{202e}".into(),
            provider: Provider::Shell,
            command: Vec::new(),
            cwd: "/".into(),
            size: TermSize::DEFAULT,
            created_ms: 0,
            status: SessionStatus::Running,
            viewers: 0,
            recording: None,
            conversation: None,
            recording_error: None,
            recording_state: None,
        };
        assert_eq!(
            session_text(&s),
            "two\\nlines\\e]0;x\\x07\\u{202e} · shell · running"
        );
        let s = SessionInfo {
            id: SessionId(42),
            cwd: "/home/me/api/".into(),
            created_ms: 1_000,
            ..s
        };
        assert_eq!(session_detail(&s, 301_000), "api · 5 min · 0000002a");
    }
}
