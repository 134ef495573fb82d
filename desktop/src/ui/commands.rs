//! The command palette (Ctrl+Shift+P, Cmd+Shift+P on macOS): every action of the window
//! by name, found by typing a few letters, run with Enter. Up and Down pick, Esc closes.
//! With it, nothing in the window needs the mouse.

use std::sync::Arc;

use egui::{Context, Key, RichText};

use super::{DesktopApp, Dialog, confirm::Confirm};
use crate::{
    machines::Machines,
    model::{MachineKey, Reach, lock},
};

/// The palette while it is open.
#[derive(Debug, Default)]
pub struct Palette {
    /// What was typed.
    query: String,
    /// The picked line among those that match.
    picked: usize,
}

/// What a line of the palette does.
#[derive(Debug, Clone)]
enum Action {
    NewSession(MachineKey),
    ShowTab(usize),
    StopTab(usize),
    AddMachine,
    PairDevice,
    Settings,
}

/// Whether every word of `query` is in `name` (any case).
fn matches(name: &str, query: &str) -> bool {
    let name = name.to_lowercase();
    query
        .to_lowercase()
        .split_whitespace()
        .all(|w| name.contains(w))
}

impl DesktopApp {
    /// Opens the palette, or closes it when open.
    pub(super) fn toggle_palette(&mut self) {
        self.palette = match self.palette {
            Some(_) => None,
            None => Some(Palette::default()),
        };
    }

    /// Every action there is right now, by name.
    fn actions(&self) -> Vec<(String, Action)> {
        let mut all = Vec::new();
        for m in lock(&self.model).machines.iter() {
            if m.reach == Reach::Online {
                all.push((
                    format!("New session on {}", m.name),
                    Action::NewSession(m.key),
                ));
            }
        }
        for (i, tab) in self.tabs.iter().enumerate() {
            all.push((format!("Show tab: {}", tab.label()), Action::ShowTab(i)));
        }
        if let Some(i) = self.active.filter(|i| *i < self.tabs.len()) {
            let label = self.tabs[i].label();
            all.push((format!("Stop session: {label}"), Action::StopTab(i)));
        }
        all.push(("Add machine".into(), Action::AddMachine));
        all.push(("Pair a device".into(), Action::PairDevice));
        all.push(("Settings".into(), Action::Settings));
        all
    }

    /// Draws the palette when open, and runs what is chosen.
    pub(super) fn palette_ui(&mut self, ctx: &Context, machines: &Arc<Machines>) {
        let Some(mut palette) = self.palette.take() else {
            return;
        };
        let found: Vec<(String, Action)> = self
            .actions()
            .into_iter()
            .filter(|(name, _)| matches(name, &palette.query))
            .collect();
        let (up, down, enter) = ctx.input_mut(|i| {
            (
                i.consume_key(egui::Modifiers::NONE, Key::ArrowUp),
                i.consume_key(egui::Modifiers::NONE, Key::ArrowDown),
                i.consume_key(egui::Modifiers::NONE, Key::Enter),
            )
        });
        if down {
            palette.picked = (palette.picked + 1).min(found.len().saturating_sub(1));
        }
        if up {
            palette.picked = palette.picked.saturating_sub(1);
        }
        palette.picked = palette.picked.min(found.len().saturating_sub(1));
        let mut chosen = enter
            .then(|| found.get(palette.picked).map(|f| f.1.clone()))
            .flatten();
        let modal = egui::Modal::new(egui::Id::unique("command palette")).show(ctx, |ui| {
            ui.set_width(420.0);
            let field = ui.add(
                egui::TextEdit::singleline(&mut palette.query)
                    .hint_text("Type a command")
                    .desired_width(f32::INFINITY),
            );
            field.request_focus();
            if field.changed() {
                palette.picked = 0;
            }
            for (i, (name, action)) in found.iter().enumerate() {
                let text = RichText::new(name);
                if ui.selectable_label(i == palette.picked, text).clicked() {
                    chosen = Some(action.clone());
                }
            }
            if found.is_empty() {
                ui.label(RichText::new("No command matches.").weak());
            }
        });
        let closed = modal.should_close();
        match chosen {
            Some(action) => self.run_action(action, machines),
            None if !closed => self.palette = Some(palette),
            None => {}
        }
    }

    fn run_action(&mut self, action: Action, machines: &Arc<Machines>) {
        match action {
            Action::NewSession(key) => self.dialog = Some(Dialog::new_session(key, &self.prefs)),
            Action::ShowTab(i) => self.activate(i),
            Action::StopTab(i) => {
                if let Some(tab) = self.tabs.get(i) {
                    self.confirm = Some(Confirm::Stop {
                        key: tab.key,
                        id: tab.session,
                        what: tab.label(),
                    });
                }
            }
            Action::AddMachine => {
                self.dialog = Some(Dialog::add_machine());
                lock(&self.model).join_result = None;
            }
            Action::PairDevice => {
                self.dialog = Some(Dialog::pair_device());
                lock(&self.model).ticket = None;
            }
            Action::Settings => self.dialog = Some(Dialog::settings(machines.backend().home())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn every_word_must_be_in_the_name() {
        assert!(matches("New session on build-box", "new box"));
        assert!(matches("Show tab: bash · build-box", "TAB bash"));
        assert!(!matches("Settings", "new"));
        assert!(matches("Settings", ""));
    }
}
