//! Key bindings: which chords the terminal keeps for itself (copy, paste, scrolling the
//! view) instead of sending them to the program, and the handling of key events with
//! them. Everything not bound goes to the program, so Ctrl+V (vim's block selection,
//! bash's quoted insert) and Ctrl+C reach it.

use std::{fmt, str::FromStr};

use egui::{Event, Key, Modifiers, Ui};
use serde::{Deserialize, Serialize};

use super::{TerminalView, key_bytes, paste_bytes, text_bytes};

/// A key and exactly the modifiers held with it, written as "Ctrl+Shift+C", "Cmd+V",
/// "Shift+Insert" or "Alt+1" (modifiers: Ctrl, Shift, Alt, Cmd; key names as egui
/// spells them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Chord {
    /// The key.
    pub key: Key,
    /// Ctrl held.
    pub ctrl: bool,
    /// Shift held.
    pub shift: bool,
    /// Alt (Option) held.
    pub alt: bool,
    /// macOS's Cmd held.
    pub cmd: bool,
}

impl Chord {
    /// `key` with no modifier.
    pub const fn key(key: Key) -> Self {
        Self {
            key,
            ctrl: false,
            shift: false,
            alt: false,
            cmd: false,
        }
    }

    /// With Ctrl.
    pub const fn ctrl(mut self) -> Self {
        self.ctrl = true;
        self
    }

    /// With Shift.
    pub const fn shift(mut self) -> Self {
        self.shift = true;
        self
    }

    /// With Alt.
    pub const fn alt(mut self) -> Self {
        self.alt = true;
        self
    }

    /// With Cmd.
    pub const fn cmd(mut self) -> Self {
        self.cmd = true;
        self
    }

    /// Whether `key` pressed with `m` is this chord (the modifiers exactly).
    pub fn matches(&self, key: Key, m: Modifiers) -> bool {
        key == self.key
            && m.ctrl == self.ctrl
            && m.shift == self.shift
            && m.alt == self.alt
            && m.mac_cmd == self.cmd
    }
}

impl fmt::Display for Chord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (held, name) in [
            (self.ctrl, "Ctrl+"),
            (self.shift, "Shift+"),
            (self.alt, "Alt+"),
            (self.cmd, "Cmd+"),
        ] {
            if held {
                f.write_str(name)?;
            }
        }
        f.write_str(self.key.name())
    }
}

/// Why a chord could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{chord:?} is not a key chord ({why}); write one like \"Ctrl+Shift+C\"")]
pub struct ChordError {
    /// What was written.
    pub chord: String,
    /// What is wrong with it.
    pub why: String,
}

impl FromStr for Chord {
    type Err = ChordError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why: String| ChordError {
            chord: s.to_string(),
            why,
        };
        // The key may itself be "+" ("Ctrl++"): split the last part off first.
        let (mods, key) = match s.strip_suffix("++") {
            Some(rest) => (rest, "+"),
            None => s.rsplit_once('+').unwrap_or(("", s)),
        };
        let key = Key::from_name(key.trim())
            .or_else(|| Key::from_name(&key.trim().to_ascii_uppercase()))
            .ok_or_else(|| err(format!("no key is called {:?}", key.trim())))?;
        let mut chord = Chord::key(key);
        for m in mods.split('+').map(str::trim).filter(|m| !m.is_empty()) {
            match m.to_ascii_lowercase().as_str() {
                "ctrl" | "control" => chord.ctrl = true,
                "shift" => chord.shift = true,
                "alt" | "option" => chord.alt = true,
                "cmd" | "command" | "super" => chord.cmd = true,
                other => return Err(err(format!("no modifier is called {other:?}"))),
            }
        }
        Ok(chord)
    }
}

impl TryFrom<String> for Chord {
    type Error = ChordError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Chord> for String {
    fn from(c: Chord) -> Self {
        c.to_string()
    }
}

/// The chords a terminal keeps for itself. Defaults: copy Ctrl+Shift+C, paste
/// Ctrl+Shift+V or Shift+Insert (Cmd+C and Cmd+V on macOS); Shift+PageUp/PageDown scroll
/// the view by a screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyBindings {
    /// Copy the selection.
    pub copy: Vec<Chord>,
    /// Paste the clipboard.
    pub paste: Vec<Chord>,
    /// Scroll the view a screen back into history.
    pub scroll_up: Vec<Chord>,
    /// Scroll the view a screen towards the live screen.
    pub scroll_down: Vec<Chord>,
}

impl Default for KeyBindings {
    fn default() -> Self {
        let (copy, paste) = if cfg!(target_os = "macos") {
            (
                vec![Chord::key(Key::C).cmd()],
                vec![Chord::key(Key::V).cmd()],
            )
        } else {
            (
                vec![Chord::key(Key::C).ctrl().shift()],
                vec![
                    Chord::key(Key::V).ctrl().shift(),
                    Chord::key(Key::Insert).shift(),
                ],
            )
        };
        Self {
            copy,
            paste,
            scroll_up: vec![Chord::key(Key::PageUp).shift()],
            scroll_down: vec![Chord::key(Key::PageDown).shift()],
        }
    }
}

/// What a bound chord does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Copy,
    Paste,
    ScrollUp,
    ScrollDown,
}

impl KeyBindings {
    fn action(&self, key: Key, m: Modifiers) -> Option<Action> {
        let hit = |list: &[Chord]| list.iter().any(|c| c.matches(key, m));
        [
            (&self.copy, Action::Copy),
            (&self.paste, Action::Paste),
            (&self.scroll_up, Action::ScrollUp),
            (&self.scroll_down, Action::ScrollDown),
        ]
        .into_iter()
        .find(|(list, _)| hit(list))
        .map(|(_, a)| a)
    }
}

impl TerminalView<'_> {
    /// Turns this frame's key, text and paste events into input, in order. A text event
    /// takes the modifiers of the key press that produced it (the event just before),
    /// not the ones held at the end of the frame: a quick Alt+b released within the
    /// frame still sends ESC b.
    pub(super) fn handle_keys(&mut self, ui: &Ui, events: &[Event], input: &mut Vec<u8>) {
        let mut typed = false;
        let mut key_mods = ui.input(|i| i.modifiers);
        for ev in events {
            match ev {
                Event::Text(t) if !self.read_only => {
                    input.extend(text_bytes(t, key_mods));
                    typed = true;
                }
                Event::Key {
                    key,
                    pressed: true,
                    modifiers,
                    ..
                } => {
                    key_mods = *modifiers;
                    if let Some(action) = self.bindings.action(*key, *modifiers) {
                        self.act(ui, action);
                        continue;
                    }
                    if self.read_only {
                        continue;
                    }
                    let app = self.term.screen().application_cursor();
                    if let Some(b) = key_bytes(*key, *modifiers, app) {
                        input.extend(b);
                        typed = true;
                    }
                }
                // The window's own copy command (a Copy key, or the system's shortcut when
                // the window turns it into one).
                Event::Copy => {
                    if let Some(text) = self.term.selected_text() {
                        ui.ctx().copy_text(text);
                        self.term.selection = None;
                    } else if !cfg!(target_os = "macos") && !self.read_only {
                        // Ctrl+C with nothing selected is the interrupt, as in any terminal.
                        input.push(0x03);
                        typed = true;
                    }
                }
                Event::Cut if !cfg!(target_os = "macos") && !self.read_only => {
                    input.push(0x18);
                    typed = true;
                }
                Event::Paste(text) if !self.read_only => {
                    let bracketed = self.term.screen().bracketed_paste();
                    input.extend(paste_bytes(text, bracketed));
                    typed = true;
                }
                _ => {}
            }
        }
        if typed {
            // Typing returns to the live screen and drops a selection, as terminals do.
            self.term.scroll_view(i64::MIN / 2);
            self.term.selection = None;
        }
    }

    fn act(&mut self, ui: &Ui, action: Action) {
        let (rows, _) = self.term.size();
        match action {
            Action::Copy => {
                if let Some(text) = self.term.selected_text() {
                    ui.ctx().copy_text(text);
                }
            }
            Action::Paste => self.request_paste(ui),
            Action::ScrollUp => self.term.scroll_view(i64::from(rows)),
            Action::ScrollDown => self.term.scroll_view(-i64::from(rows)),
        }
    }

    /// Asks the window for the clipboard, which comes back as an [`Event::Paste`].
    fn request_paste(&self, ui: &Ui) {
        if !self.read_only {
            ui.ctx()
                .send_viewport_cmd(egui::ViewportCommand::RequestPaste);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chords_read_and_write_as_people_type_them() {
        let c: Chord = "Ctrl+Shift+C".parse().unwrap();
        assert_eq!(c, Chord::key(Key::C).ctrl().shift());
        assert_eq!(c.to_string(), "Ctrl+Shift+C");
        assert_eq!("cmd+v".parse::<Chord>().unwrap(), Chord::key(Key::V).cmd());
        assert_eq!(
            "Shift+PageUp".parse::<Chord>().unwrap(),
            Chord::key(Key::PageUp).shift()
        );
        assert_eq!(
            "Ctrl++".parse::<Chord>().unwrap(),
            Chord::key(Key::Plus).ctrl()
        );
        assert!("Hyper+C".parse::<Chord>().is_err());
        assert!("Ctrl+Nope".parse::<Chord>().is_err());
        let json = serde_json::to_string(&KeyBindings::default()).unwrap();
        assert_eq!(
            serde_json::from_str::<KeyBindings>(&json).unwrap(),
            KeyBindings::default()
        );
    }

    #[test]
    fn a_chord_needs_exactly_its_modifiers() {
        let copy = Chord::key(Key::C).ctrl().shift();
        let ctrl_shift = Modifiers {
            ctrl: true,
            shift: true,
            command: true,
            ..Modifiers::NONE
        };
        assert!(copy.matches(Key::C, ctrl_shift));
        assert!(!copy.matches(Key::C, Modifiers::CTRL));
        assert!(!copy.matches(Key::V, ctrl_shift));
    }
}
