//! Session tabs: the tab strip with activity marks, and the active tab: a terminal, or
//! a structured AI conversation ([`super::conversation`]). The strip ends with the
//! active terminal's echo round trip and whether keys are drawn ahead of it.

use std::{sync::Arc, time::Duration};

use egui::{RichText, Ui};
use vibemesh_core::{
    client::Conversation,
    predict::Mode,
    proto::{Role, SessionId, SessionInfo, TermSize, local::Target},
    text::inert,
};

use super::{DesktopApp, conversation::ConvPane};
use crate::{
    conv::ConvLink,
    machines::Machines,
    model::{MachineKey, Notifier, lock},
    tab::{Link, TabInput, TabLink},
    term::{Terminal, TerminalView},
};

/// Characters of a tab's label shown in the strip (the rest on hover).
const TAB_LABEL_CHARS: usize = 40;

/// `text` cut to `max` characters, with an ellipsis when cut.
fn elide(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A connection or program notice over the bottom of the terminal: laid over it, not
/// above it, so the screen keeps its size (a banner that took a row shrank the terminal
/// and cut its top rows each time it came and went).
fn banner(ui: &mut Ui, term: egui::Rect, text: String) {
    let height = ui.text_style_height(&egui::TextStyle::Body) + 8.0;
    let rect = egui::Rect::from_min_max(
        egui::pos2(term.left() + 8.0, term.bottom() - height - 8.0),
        egui::pos2(term.right() - 8.0, term.bottom() - 8.0),
    );
    ui.painter()
        .rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
    ui.put(
        rect.shrink(4.0),
        egui::Label::new(RichText::new(text).strong()).truncate(),
    );
}

/// What the tab strip says of a terminal's predictive echo: "echo 302 ms ·
/// predicting"; nothing where it is off (this machine's sessions, unless forced on).
pub fn echo_status(term: &Terminal) -> Option<String> {
    if term.predict_mode() == Mode::Never {
        return None;
    }
    let rtt = match term.echo_rtt() {
        Some(rtt) if rtt < Duration::from_millis(10) => {
            format!("echo {:.1} ms", rtt.as_secs_f64() * 1000.0)
        }
        Some(rtt) => format!("echo {} ms", rtt.as_millis()),
        None => "echo not timed yet".into(),
    };
    let on = if term.predicting() {
        "predicting"
    } else {
        "not predicting"
    };
    Some(format!("{rtt} · {on}"))
}

/// What a tab shows.
pub enum TabBody {
    /// A terminal session's screen.
    Terminal(TabLink),
    /// A structured AI session's conversation.
    Conversation(ConvPane),
}

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
    /// The terminal or the conversation.
    pub body: TabBody,
    focus_next: bool,
}

/// Where a tab is opened and how it reaches its machine.
pub struct TabPlace {
    /// The machine.
    pub key: MachineKey,
    /// The machine's name.
    pub machine: String,
    /// Where streams to it go.
    pub target: Target,
    /// What this client may do there.
    pub role: Role,
}

impl Tab {
    /// Opens a tab on `info`: its conversation when it is a structured AI session, its
    /// terminal otherwise.
    pub fn open(
        machines: &Arc<Machines>,
        place: TabPlace,
        info: &SessionInfo,
        size: TermSize,
        notify: Notifier,
    ) -> Self {
        let (rt, backend) = (machines.runtime(), machines.backend().clone());
        let body = if info.conversation.is_some() {
            let watch_only = place.role != Role::Owner;
            let link = ConvLink::open(rt, backend, place.target, info.id, watch_only, notify);
            TabBody::Conversation(ConvPane::new(link, place.role == Role::Owner))
        } else {
            TabBody::Terminal(TabLink::open(
                rt,
                backend,
                place.target,
                info.id,
                size,
                notify,
            ))
        };
        Self {
            key: place.key,
            machine: place.machine,
            session: info.id,
            title: info.title.clone(),
            body,
            focus_next: true,
        }
    }

    /// What the tab strip shows: title, machine, and marks for state and activity. The
    /// title (the creator's or the program's) is kept to one line, control characters
    /// shown as escapes.
    pub fn label(&self) -> String {
        let link = self.link_state();
        let (title, marks) = match &self.body {
            TabBody::Terminal(t) => {
                let s = t.lock();
                let title = s.term.title().unwrap_or(&self.title).to_string();
                let marks = if s.bell {
                    " 🔔"
                } else if s.unseen {
                    " •"
                } else {
                    ""
                };
                (title, marks)
            }
            TabBody::Conversation(c) => (self.title.clone(), c.marks()),
        };
        let mut label = format!("{} · {}", inert(&title), self.machine);
        match &link {
            Link::Exited(e) => label.push_str(&format!(" [{e}]")),
            Link::Reconnecting(_) | Link::Connecting => label.push_str(" [connecting]"),
            Link::Closed(_) => label.push_str(" [closed]"),
            Link::Live => {}
        }
        label.push_str(marks);
        label
    }

    /// Gives the terminal (or the conversation's input) keyboard focus on the next
    /// frame, so typing right after a tab is opened or switched to arrives.
    pub(super) fn focus(&mut self) {
        match &mut self.body {
            TabBody::Terminal(_) => self.focus_next = true,
            TabBody::Conversation(pane) => pane.focus(),
        }
    }

    /// Its terminal widget's id (whether it has focus decides where Ctrl+C/V go).
    pub fn term_id(&self) -> egui::Id {
        egui::Id::unique(("terminal", self.key, self.session))
    }

    /// The text on its screen (empty for a conversation).
    pub fn screen_text(&self) -> String {
        match &self.body {
            TabBody::Terminal(t) => t.lock().term.contents(),
            TabBody::Conversation(_) => String::new(),
        }
    }

    /// Its conversation, for a structured AI session.
    pub fn conversation(&self) -> Option<Conversation> {
        match &self.body {
            TabBody::Conversation(c) => Some(c.conversation()),
            TabBody::Terminal(_) => None,
        }
    }

    /// Where its connection is.
    pub fn link_state(&self) -> Link {
        match &self.body {
            TabBody::Terminal(t) => t.lock().link.clone(),
            TabBody::Conversation(c) => c.link_state(),
        }
    }
}

impl DesktopApp {
    /// Sets the active terminal's prediction mode from the preferences and, on another
    /// machine, gives it the path's round trip until it has timed an echo itself;
    /// returns what the strip says of it and how many guesses were taken back.
    fn prepare_echo(&mut self) -> Option<(String, u64)> {
        let tab = self.tabs.get(self.active?)?;
        let TabBody::Terminal(link) = &tab.body else {
            return None;
        };
        let remote = tab.key != MachineKey::Local;
        let path_rtt = if remote {
            lock(&self.model).machine(tab.key).and_then(|m| m.rtt_us)
        } else {
            None
        };
        let mut s = link.lock();
        s.term.set_predict(self.prefs.predict.mode_for(remote));
        if let Some(us) = path_rtt
            && s.term.echo_rtt().is_none()
        {
            // A lower bound of the echo's round trip (the program's time to answer
            // comes on top), enough to start drawing on a slow link before any key was
            // timed; the engine's timing of each echo corrects it from then on.
            s.term.set_rtt(Duration::from_micros(us));
        }
        echo_status(&s.term).map(|status| (status, s.term.mispredictions()))
    }

    /// Shows tab `i` and gives it keyboard focus.
    pub(super) fn activate(&mut self, i: usize) {
        if let Some(tab) = self.tabs.get_mut(i) {
            tab.focus();
            self.active = Some(i);
        }
    }

    pub(super) fn center(&mut self, ui: &mut Ui, machines: &Arc<Machines>) {
        if self.tabs.is_empty() {
            egui::Frame::NONE.inner_margin(16.0).show(ui, |ui| {
                ui.heading("No session open");
                ui.label(
                    "Pick a session in the sidebar, or start one with \"New session\" \
                     (or the + next to a machine).",
                );
                let offline: Vec<String> = lock(&self.model)
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
        let echo = self.prepare_echo();
        let mut close = None;
        let mut switch = None;
        // One row, scrolling sideways when the tabs do not fit; long titles elided.
        egui::ScrollArea::horizontal().show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.add_space(4.0);
                for (i, tab) in self.tabs.iter().enumerate() {
                    let active = self.active == Some(i);
                    let label = tab.label();
                    let r = ui.selectable_label(active, elide(&label, TAB_LABEL_CHARS));
                    if r.on_hover_text(label).clicked() {
                        switch = Some(i);
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
                if let Some((status, taken_back)) = &echo {
                    let about = format!(
                        "How long typed keys take to come back from the session. While \
                         predicting, keys show at once, underlined until their echo \
                         confirms them ({taken_back} taken back so far). Settings: \
                         Predictive echo."
                    );
                    ui.label(RichText::new(status).small().weak())
                        .on_hover_text(about);
                }
            });
        });
        if let Some(i) = switch {
            self.activate(i);
        }
        if let Some(i) = close {
            self.tabs.remove(i);
            self.save_tabs();
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
        let term_id = tab.term_id();
        let link = match &mut tab.body {
            TabBody::Terminal(link) => link,
            TabBody::Conversation(pane) => {
                pane.show(ui, &tab.machine);
                return;
            }
        };
        let status = {
            let mut s = link.lock();
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
        let read_only = !matches!(link.lock().link, Link::Live);
        let out = {
            let mut s = link.lock();
            TerminalView::new(&mut s.term, &style)
                .id(term_id)
                .bindings(&self.prefs.keys.terminal)
                .read_only(read_only)
                .show(ui)
        };
        if let Some(text) = status {
            banner(ui, out.response.rect, text);
        }
        if tab.focus_next {
            out.response.request_focus();
            tab.focus_next = false;
        }
        if let Some((rows, cols)) = out.resized {
            let size = TermSize { rows, cols };
            self.term_size = size;
            link.send(TabInput::Resize(size));
        }
        if !out.input.is_empty() {
            link.send(TabInput::Bytes(out.input));
        }
    }
}
