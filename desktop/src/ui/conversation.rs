//! A conversation tab: the connection's state on top, the items (see [`super::conv_items`])
//! in a scroll area that sticks to the bottom while they arrive, and the input box with
//! Send and Interrupt for those who may steer.

use egui::{Key, KeyboardShortcut, Modifiers, RichText, Ui};
use vibemesh_core::{
    client::Conversation,
    proto::ai::{ConvClientFrame, Waiting},
};

use super::conv_items;
use crate::{conv::ConvLink, model::lock, tab::Link};

/// A conversation tab's own state: its connection and what the user is typing.
pub struct ConvPane {
    /// The connection and conversation.
    pub link: ConvLink,
    /// The message being written.
    pub draft: String,
    /// Whether this client may steer: an owner, not attached to watch only.
    pub steer: bool,
    /// Put the cursor in the input box on the next frame (a tab just opened).
    focus_next: bool,
}

impl ConvPane {
    /// A pane on `link`; `owner` when this client's role may steer.
    pub fn new(link: ConvLink, owner: bool) -> Self {
        let steer = owner && !link.watch_only;
        Self {
            link,
            draft: String::new(),
            steer,
            focus_next: true,
        }
    }

    /// Gives the input field keyboard focus on the next frame (the tab was just shown).
    pub fn focus(&mut self) {
        self.focus_next = true;
    }

    /// The conversation as drawn now.
    pub fn conversation(&self) -> Conversation {
        lock(&self.link.state).conv.clone()
    }

    /// Entries that came twice (see [`crate::conv::ConvState::replayed`]).
    pub fn replayed(&self) -> u64 {
        lock(&self.link.state).replayed
    }

    /// Where its connection is.
    pub fn link_state(&self) -> Link {
        lock(&self.link.state).link.clone()
    }

    /// The marks the tab strip shows: waiting for an approval, or new entries.
    pub fn marks(&self) -> &'static str {
        let s = lock(&self.link.state);
        if !s.conv.pending_approvals().is_empty() {
            " [approval]"
        } else if s.unseen {
            " •"
        } else {
            ""
        }
    }

    /// Draws the tab; `machine` names where it runs.
    pub fn show(&mut self, ui: &mut Ui, machine: &str) {
        // Drawn under the lock, as a terminal tab is: the task waits a frame's drawing at
        // most, and a long conversation is not copied every frame.
        let state = self.link.state.clone();
        let mut s = lock(&state);
        s.unseen = false;
        let status = match &s.link {
            Link::Live => s.notice.clone(),
            Link::Connecting => Some(format!("Connecting to {machine}…")),
            Link::Reconnecting(why) => Some(format!(
                "Connection to {machine} lost ({why}); reconnecting…"
            )),
            Link::Exited(e) => Some(format!("The session ended ({e}).")),
            Link::Closed(why) => Some(format!("This conversation is closed: {why}")),
        };
        let live = s.link == Link::Live;
        let conv = &s.conv;
        let mut out = Vec::new();
        egui::Frame::NONE.inner_margin(8.0).show(ui, |ui| {
            if let Some(text) = status {
                ui.label(RichText::new(text).strong());
            }
            egui::Panel::bottom("conversation-input")
                .frame(egui::Frame::NONE.inner_margin(egui::Margin::symmetric(0, 6)))
                .show(ui, |ui| self.input(ui, conv, live, &mut out));
            egui::CentralPanel::default()
                .frame(egui::Frame::NONE)
                .show(ui, |ui| items(ui, conv, self.steer && live, &mut out));
        });
        drop(s);
        for frame in out {
            self.link.send(frame);
        }
    }

    /// The input box and its buttons, or why there are none.
    fn input(
        &mut self,
        ui: &mut Ui,
        conv: &Conversation,
        live: bool,
        out: &mut Vec<ConvClientFrame>,
    ) {
        if !self.steer {
            ui.label(
                RichText::new("Watching: you can follow this conversation but not steer it.")
                    .weak(),
            );
            return;
        }
        if conv.busy {
            ui.horizontal(|ui| {
                let queued = match conv.queued() {
                    0 => String::new(),
                    n => format!(" · {n} queued"),
                };
                ui.label(RichText::new(format!("Working…{queued}")).weak());
                if ui
                    .add_enabled(live, egui::Button::new("Interrupt"))
                    .on_hover_text("Stop the current turn")
                    .clicked()
                {
                    out.push(ConvClientFrame::Interrupt);
                }
            });
        }
        // While a turn runs a message is queued by the agent and sent when it ends.
        let ready = live;
        ui.horizontal(|ui| {
            let label = ui.label("Message");
            // Shift+Enter makes a new line; a plain Enter sends (checked below).
            // A stable id: the busy row above comes and goes, and focus must stay.
            let edit = egui::TextEdit::multiline(&mut self.draft)
                .id(egui::Id::unique("conversation-message"))
                .desired_rows(2)
                .desired_width(ui.available_width() - 70.0)
                .hint_text("Enter sends, Shift+Enter starts a new line")
                .return_key(KeyboardShortcut::new(Modifiers::SHIFT, Key::Enter));
            let r = ui.add(edit).labelled_by(label.id);
            if std::mem::take(&mut self.focus_next) {
                r.request_focus();
            }
            let enter = r.has_focus()
                && ui.input(|i| {
                    i.events.iter().any(|e| {
                    matches!(e, egui::Event::Key { key: Key::Enter, pressed: true, modifiers, .. }
                            if !modifiers.shift)
                })
                });
            let can = ready && !self.draft.trim().is_empty();
            let clicked = ui.add_enabled(can, egui::Button::new("Send")).clicked();
            if can && (clicked || enter) {
                out.push(ConvClientFrame::Prompt(self.draft.trim().to_string()));
                self.draft.clear();
                r.request_focus();
            }
        });
    }
}

/// The items, oldest first, kept scrolled to the newest while they arrive.
fn items(ui: &mut Ui, conv: &Conversation, steer: bool, out: &mut Vec<ConvClientFrame>) {
    egui::ScrollArea::vertical()
        .auto_shrink(false)
        .stick_to_bottom(true)
        .show(ui, |ui| {
            if conv.items.is_empty() {
                ui.label(RichText::new("Nothing said yet.").weak());
            }
            for (i, it) in conv.items.iter().enumerate() {
                conv_items::item(ui, i, it, steer, out);
                ui.add_space(4.0);
            }
            if conv.total_usage.input_tokens + conv.total_usage.output_tokens > 0 {
                let cost = if conv.total_cost_usd > 0.0 {
                    format!(" · ${:.4}", conv.total_cost_usd)
                } else {
                    String::new()
                };
                ui.label(
                    RichText::new(format!(
                        "session total: {} in / {} out tokens{cost}",
                        conv.total_usage.input_tokens, conv.total_usage.output_tokens
                    ))
                    .small()
                    .weak(),
                );
            }
        });
}

/// The sidebar's badge for a structured session that waits for the user, in colours
/// readable on `visuals`' panels.
pub fn waiting_badge(w: &Waiting, visuals: &egui::Visuals) -> (String, egui::Color32) {
    let a = crate::theme::accents(visuals);
    match w {
        Waiting::Approval { tool } => (format!("needs approval: {tool}"), a.bad),
        Waiting::Reply => ("your turn".to_string(), a.info),
    }
}
