//! The window's own keys, seen before any widget: tab switching, the command palette,
//! and the system's
//! copy/cut/paste shortcuts for text fields. The window leaves those shortcuts to the app
//! (`clipboard_shortcuts` off, see [`crate::native_options`]) so that a focused terminal
//! gets Ctrl+C and Ctrl+V as keys for its program; everywhere else they are turned back
//! into the copy, cut and paste commands text fields expect.

use egui::{Context, Event, Key};

use super::DesktopApp;

/// Alt+1..9 (Cmd+1..9 on macOS) show the tab of that number.
const NUMBER_KEYS: [Key; 9] = [
    Key::Num1,
    Key::Num2,
    Key::Num3,
    Key::Num4,
    Key::Num5,
    Key::Num6,
    Key::Num7,
    Key::Num8,
    Key::Num9,
];

/// Where a key asks to go.
#[derive(Clone, Copy)]
enum Switch {
    Next,
    Prev,
    To(usize),
}

impl DesktopApp {
    /// Handles this frame's window keys and removes them from the input, so the
    /// terminal does not also send them to its program.
    pub(super) fn window_keys(&mut self, ctx: &Context) {
        let term_focused = self
            .active
            .and_then(|i| self.tabs.get(i))
            .is_some_and(|t| ctx.memory(|m| m.has_focus(t.term_id())));
        let keys = &self.prefs.keys;
        let mut switch = None;
        let mut paste = false;
        let mut palette = false;
        ctx.input_mut(|i| {
            i.events.retain_mut(|ev| {
                let Event::Key {
                    key,
                    pressed,
                    modifiers: m,
                    ..
                } = ev
                else {
                    return true;
                };
                let (key, m) = (*key, *m);
                if keys.palette.iter().any(|c| c.matches(key, m)) {
                    palette |= *pressed;
                    return false;
                }
                if keys.next_tab.iter().any(|c| c.matches(key, m)) {
                    switch = switch.or(pressed.then_some(Switch::Next));
                    return false;
                }
                if keys.prev_tab.iter().any(|c| c.matches(key, m)) {
                    switch = switch.or(pressed.then_some(Switch::Prev));
                    return false;
                }
                let number_mod = if cfg!(target_os = "macos") {
                    m.mac_cmd && !m.alt
                } else {
                    m.alt && !m.command
                };
                if number_mod
                    && !m.shift
                    && let Some(n) = NUMBER_KEYS.iter().position(|k| *k == key)
                {
                    switch = switch.or(pressed.then_some(Switch::To(n)));
                    return false;
                }
                if term_focused || !*pressed || !m.command_only() {
                    return true;
                }
                match key {
                    Key::C => *ev = Event::Copy,
                    Key::X => *ev = Event::Cut,
                    Key::V => {
                        paste = true;
                        return false;
                    }
                    _ => {}
                }
                true
            });
        });
        if palette {
            self.toggle_palette();
        }
        if paste {
            // The window reads the clipboard and sends it as a paste event next frame.
            ctx.send_viewport_cmd(egui::ViewportCommand::RequestPaste);
        }
        let n = self.tabs.len();
        let Some(switch) = switch.filter(|_| n > 0) else {
            return;
        };
        let now = self.active.unwrap_or(0);
        let to = match switch {
            Switch::Next => (now + 1) % n,
            Switch::Prev => (now + n - 1) % n,
            Switch::To(i) if i < n => i,
            Switch::To(_) => return,
        };
        self.activate(to);
    }
}
