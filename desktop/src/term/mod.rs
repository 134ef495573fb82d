//! A terminal widget for egui: draws a [`vt100`] screen itself and turns keys, paste and
//! the mouse into the bytes a program expects. It knows nothing about VibeMesh: feed it
//! output with [`Terminal::feed`], show it with [`TerminalView`], and send the bytes in
//! [`TermResponse::input`] to the program. It could be lifted into any egui app.
//! Keys typed may be drawn before the program echoes them ([`Terminal::set_predict`]),
//! for programs at the far end of a slow link.

mod bindings;
mod echo;
pub mod fonts;
mod keys;
mod mouse;
pub mod palette;
pub mod render;
pub mod row_mesh;
mod scrolled;
mod select;

use std::sync::LazyLock;

use egui::{Event, EventFilter, MouseWheelUnit, PointerButton, Pos2, Sense, Ui, Vec2};
use vibemesh_term::nz;

pub use bindings::{Chord, ChordError, KeyBindings};
pub use keys::{key_bytes, paste_bytes, text_bytes};
pub use mouse::{MouseEvent, report as mouse_report};
pub use palette::Palette;
pub use select::{Point, Selection};

/// Lines of scrollback a terminal keeps by default.
pub const DEFAULT_SCROLLBACK: usize = 5000;
/// The bindings of a view not given its own.
static DEFAULT_BINDINGS: LazyLock<KeyBindings> = LazyLock::new(KeyBindings::default);
/// Lines one wheel notch scrolls.
const WHEEL_LINES: f32 = 3.0;

/// What the program asked for besides drawing (vt100 callbacks).
#[derive(Debug, Default)]
pub struct Signals {
    /// The bell rang since the last [`Terminal::take_bell`].
    pub bell: bool,
    /// The title the program set, if any.
    pub title: Option<String>,
}

impl vt100::Callbacks for Signals {
    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.bell = true;
    }
    fn visual_bell(&mut self, _: &mut vt100::Screen) {
        self.bell = true;
    }
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.title = Some(String::from_utf8_lossy(title).into_owned());
    }
}

/// A terminal's state: the emulated screen, the selection and the view's scroll.
pub struct Terminal {
    parser: vt100::Parser<Signals>,
    scrollback: usize,
    selection: Option<Selection>,
    /// Wheel movement not yet worth a line.
    wheel: f32,
    /// The mouse button held while reporting, and the cell last reported.
    held: Option<u8>,
    last_cell: Option<(u16, u16)>,
    /// The rows' meshes from the last frame.
    meshes: row_mesh::RowMeshes,
    /// Keys guessed ahead of their echo.
    echo: echo::Echo,
}

impl std::fmt::Debug for Terminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminal")
            .field("size", &self.size())
            .finish_non_exhaustive()
    }
}

impl Terminal {
    /// A blank terminal of `rows` x `cols` keeping `scrollback` lines.
    pub fn new(rows: u16, cols: u16, scrollback: usize) -> Self {
        Self {
            parser: vt100::Parser::new_with_callbacks(
                nz(rows),
                nz(cols),
                scrollback,
                Signals::default(),
            ),
            scrollback,
            selection: None,
            wheel: 0.0,
            held: None,
            last_cell: None,
            meshes: Default::default(),
            echo: Default::default(),
        }
    }

    /// Processes program output.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.parser.process(bytes);
        self.echo_output();
    }

    /// Starts again from a snapshot (bytes that redraw everything), keeping the size,
    /// the title and the predictions.
    pub fn reset_to(&mut self, snapshot: &[u8]) {
        let (rows, cols) = self.size();
        let scrollback = self.scrollback;
        let mut old = std::mem::replace(self, Terminal::new(rows, cols, scrollback));
        self.parser.callbacks_mut().title = old.parser.callbacks_mut().title.take();
        self.keep_echo(&mut old);
        self.parser.process(snapshot);
        self.echo_output();
    }

    /// The screen as the program drew it.
    pub fn screen(&self) -> &vt100::Screen {
        self.parser.screen()
    }

    /// (rows, cols).
    pub fn size(&self) -> (u16, u16) {
        let (r, c) = self.parser.screen().size();
        (r.get(), c.get())
    }

    /// Changes the size (the program is told separately); a width change re-wraps the
    /// main screen and its scrollback ([`vibemesh_term::resize`]), as the session's
    /// holder does with its own screen.
    pub fn resize(&mut self, rows: u16, cols: u16) {
        vibemesh_term::resize(self.parser.screen_mut(), nz(rows), nz(cols));
        // Everything on the screen moved: no guess made before holds.
        self.echo_output();
    }

    /// Whether the bell rang since the last call.
    pub fn take_bell(&mut self) -> bool {
        std::mem::take(&mut self.parser.callbacks_mut().bell)
    }

    /// The title the program set.
    pub fn title(&self) -> Option<&str> {
        self.parser.callbacks().title.as_deref()
    }

    /// The selection, if any.
    pub fn selection(&self) -> Option<&Selection> {
        self.selection.as_ref()
    }

    /// Selects from `anchor` to `head`.
    pub fn select(&mut self, anchor: Point, head: Point) {
        self.selection = Some(Selection { anchor, head });
    }

    /// The selected text, if something is selected.
    pub fn selected_text(&self) -> Option<String> {
        self.selection
            .filter(|s| !s.is_empty())
            .map(|s| s.text(self.screen()))
    }

    /// How many lines of history it holds (vt100 keeps no count; a scroll past the end
    /// stops at it).
    pub fn history_len(&mut self) -> usize {
        let now = self.screen().scrollback();
        self.parser.screen_mut().set_scrollback(usize::MAX);
        let len = self.screen().scrollback();
        self.parser.screen_mut().set_scrollback(now);
        len
    }

    /// Scrolls the view `lines` into history (negative: back towards the live screen).
    pub fn scroll_view(&mut self, lines: i64) {
        let now = self.screen().scrollback() as i64;
        let to = (now + lines).max(0) as usize;
        self.parser.screen_mut().set_scrollback(to);
    }

    /// The text on screen, rows separated by newlines.
    pub fn contents(&self) -> String {
        self.screen().contents()
    }
}

/// How a terminal looks.
#[derive(Debug, Clone, PartialEq)]
pub struct TermStyle {
    /// Font size in points.
    pub font_size: f32,
    /// Colours.
    pub palette: Palette,
}

impl Default for TermStyle {
    fn default() -> Self {
        Self {
            font_size: 14.0,
            palette: Palette::DARK,
        }
    }
}

/// What happened in one frame of a [`TerminalView`].
pub struct TermResponse {
    /// The widget's response (focus, hover, ...).
    pub response: egui::Response,
    /// Bytes to send to the program, in order (the terminal has guessed their echo).
    pub input: Vec<u8>,
    /// The size in cells changed to (rows, cols): tell the program.
    pub resized: Option<(u16, u16)>,
}

/// Shows a [`Terminal`], filling the space it is given.
pub struct TerminalView<'a> {
    term: &'a mut Terminal,
    style: &'a TermStyle,
    /// Read-only: keys and paste are not turned into input.
    read_only: bool,
    /// Exactly this many (rows, cols) instead of filling the space.
    fixed: Option<(u16, u16)>,
    /// A stable id, so focus survives widgets appearing above it.
    id: Option<egui::Id>,
    /// The chords the terminal keeps for itself.
    bindings: &'a KeyBindings,
}

impl<'a> TerminalView<'a> {
    /// A view of `term`.
    pub fn new(term: &'a mut Terminal, style: &'a TermStyle) -> Self {
        Self {
            term,
            style,
            read_only: false,
            fixed: None,
            id: None,
            bindings: &DEFAULT_BINDINGS,
        }
    }

    /// Uses `bindings` for copy, paste and scrolling instead of the defaults.
    pub fn bindings(mut self, bindings: &'a KeyBindings) -> Self {
        self.bindings = bindings;
        self
    }

    /// Gives the widget an id of its own instead of one from its place in the layout:
    /// a banner shown or hidden above it would otherwise change its id and drop focus.
    pub fn id(mut self, id: egui::Id) -> Self {
        self.id = Some(id);
        self
    }

    /// Takes exactly `rows` x `cols` cells instead of all the space there is.
    pub fn fixed_size(mut self, rows: u16, cols: u16) -> Self {
        self.fixed = Some((rows, cols));
        self
    }

    /// Shows output only; typing does nothing.
    pub fn read_only(mut self, yes: bool) -> Self {
        self.read_only = yes;
        self
    }

    /// The size of one cell for `style`, in points: whole pixels, so that every cell
    /// starts on a pixel and glyphs stay crisp.
    pub fn cell_size(ui: &Ui, style: &TermStyle) -> Vec2 {
        let font = egui::FontId::monospace(style.font_size);
        let ppp = ui.ctx().pixels_per_point();
        let size = ui
            .ctx()
            .fonts_mut(|f| Vec2::new(f.glyph_width(&font, 'M'), f.row_height(&font)));
        (size * ppp).round().max(Vec2::splat(1.0)) / ppp
    }

    /// Lays out, handles input and paints. While a typed key waits for its echo, asks
    /// egui for a frame when it is overdue (and withdraws it then); nothing otherwise.
    pub fn show(mut self, ui: &mut Ui) -> TermResponse {
        // Overdue guesses go before keys typed now are guessed after them.
        self.term.echo_expire();
        let cell = Self::cell_size(ui, self.style);
        let size = match self.fixed {
            Some((r, c)) => egui::vec2(cell.x * c as f32, cell.y * r as f32),
            None => ui.available_size().max(cell),
        };
        let (rect, response) = match self.id {
            Some(id) => {
                let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
                (rect, ui.interact(rect, id, Sense::click_and_drag()))
            }
            None => ui.allocate_exact_size(size, Sense::click_and_drag()),
        };
        let cols = ((rect.width() / cell.x).floor() as u16).clamp(1, 1000);
        let rows = ((rect.height() / cell.y).floor() as u16).clamp(1, 1000);
        let mut resized = None;
        if self.term.size() != (rows, cols) {
            self.term.resize(rows, cols);
            resized = Some((rows, cols));
        }
        let mut input = Vec::new();
        let focused = response.has_focus();
        if response.clicked() || response.drag_started() {
            response.request_focus();
        }
        let id = response.id;
        if focused {
            // Tab, arrows and Escape belong to the program, not to egui's focus moves.
            let filter = EventFilter {
                tab: true,
                horizontal_arrows: true,
                vertical_arrows: true,
                escape: true,
            };
            ui.memory_mut(|m| m.set_focus_lock_filter(id, filter));
            let events = ui.input(|i| i.filtered_events(&filter));
            self.handle_keys(ui, &events, &mut input);
        }
        self.handle_mouse(ui, &response, rect.min, cell, &mut input);
        if !input.is_empty() {
            // Guessed against the screen the keys were typed at, before they go out.
            self.term.echo_typed(&input);
        }
        if let Some(due) = self.term.echo_expire() {
            ui.ctx().request_repaint_after(due);
        }

        let term = &mut *self.term;
        let back = term.screen().scrollback();
        let history = if back > 0 { term.history_len() } else { 0 };
        let overlay = term.overlay();
        let screen = term.parser.screen();
        let frame = render::Frame {
            origin: rect.min,
            cell,
            font: egui::FontId::monospace(self.style.font_size),
            palette: &self.style.palette,
            selection: term.selection.as_ref(),
            cursor: Some(if focused {
                render::CursorLook::Block
            } else {
                render::CursorLook::Hollow
            }),
            overlay: &overlay,
        };
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, self.style.palette.bg);
        render::paint(&painter, screen, &frame, &mut term.meshes);
        response.widget_info(|| {
            let mut info = egui::WidgetInfo::labeled(egui::Role::Terminal, true, "terminal");
            info.current_text_value = Some(echo::shown_contents(screen, &overlay));
            info
        });
        scrolled::show(ui, rect, &self.style.palette, back, history, rows);
        TermResponse {
            response,
            input,
            resized,
        }
    }

    fn handle_mouse(
        &mut self,
        ui: &Ui,
        response: &egui::Response,
        origin: Pos2,
        cell: Vec2,
        input: &mut Vec<u8>,
    ) {
        let (rows, cols) = self.term.size();
        let to_cell = |p: Pos2| {
            let v = (p - origin) / cell;
            (
                (v.x.max(0.0) as u16).min(cols - 1),
                (v.y.max(0.0) as u16).min(rows - 1),
            )
        };
        let screen = self.term.screen();
        let mode = screen.mouse_protocol_mode();
        let encoding = screen.mouse_protocol_encoding();
        let mods = ui.input(|i| i.modifiers);
        // Shift bypasses reporting, so text can still be selected (the xterm convention).
        let reporting = mode != vt100::MouseProtocolMode::None && !mods.shift && !self.read_only;
        let (events, hover) = ui.input(|i| (i.events.clone(), i.pointer.hover_pos()));
        let inside = hover.is_some_and(|p| response.rect.contains(p));

        for ev in &events {
            match ev {
                Event::MouseWheel { unit, delta, .. } if inside => {
                    let lines = match unit {
                        MouseWheelUnit::Point => delta.y / cell.y,
                        MouseWheelUnit::Line => delta.y * WHEEL_LINES,
                        MouseWheelUnit::Page => delta.y * rows as f32,
                    };
                    self.term.wheel += lines;
                    let whole = self.term.wheel.trunc();
                    self.term.wheel -= whole;
                    let n = whole as i64;
                    if n == 0 {
                        continue;
                    }
                    let (c, r) = to_cell(hover.unwrap_or(origin));
                    if reporting {
                        let ev = if n > 0 {
                            MouseEvent::WheelUp
                        } else {
                            MouseEvent::WheelDown
                        };
                        for _ in 0..n.unsigned_abs().min(10) {
                            input.extend(
                                mouse_report(mode, encoding, ev, c, r, mods).unwrap_or_default(),
                            );
                        }
                    } else if self.term.screen().alternate_screen() && !self.read_only {
                        // Full-screen programs without mouse support scroll by arrow keys.
                        let key = if n > 0 { b"\x1b[A" } else { b"\x1b[B" };
                        let app = self.term.screen().application_cursor();
                        for _ in 0..n.unsigned_abs().min(50) {
                            if app {
                                input.extend_from_slice(&[0x1b, b'O', key[2]]);
                            } else {
                                input.extend_from_slice(key);
                            }
                        }
                    } else {
                        self.term.scroll_view(n);
                    }
                }
                Event::PointerButton {
                    pos,
                    button,
                    pressed,
                    ..
                } if reporting && (response.rect.contains(*pos) || self.term.held.is_some()) => {
                    let b = match button {
                        PointerButton::Primary => 0,
                        PointerButton::Middle => 1,
                        PointerButton::Secondary => 2,
                        _ => continue,
                    };
                    let (c, r) = to_cell(*pos);
                    let ev = if *pressed {
                        self.term.held = Some(b);
                        MouseEvent::Press(b)
                    } else {
                        self.term.held = None;
                        MouseEvent::Release(b)
                    };
                    self.term.last_cell = Some((c, r));
                    input.extend(mouse_report(mode, encoding, ev, c, r, mods).unwrap_or_default());
                }
                // The window's PRIMARY selection (Linux), pasted where no program takes
                // the middle button.
                Event::MiddleClickPaste { pos, text }
                    if !reporting && !self.read_only && response.rect.contains(*pos) =>
                {
                    let bracketed = self.term.screen().bracketed_paste();
                    input.extend(paste_bytes(text, bracketed));
                }
                Event::PointerMoved(pos) if reporting && response.rect.contains(*pos) => {
                    let cr = to_cell(*pos);
                    if self.term.last_cell != Some(cr) {
                        self.term.last_cell = Some(cr);
                        let ev = MouseEvent::Motion(self.term.held);
                        input.extend(
                            mouse_report(mode, encoding, ev, cr.0, cr.1, mods).unwrap_or_default(),
                        );
                    }
                }
                _ => {}
            }
        }
        if reporting {
            return;
        }
        // Selecting with the mouse.
        let top = -(self.term.screen().scrollback() as i64);
        let point = |p: Pos2| {
            let (c, r) = to_cell(p);
            Point {
                line: top + i64::from(r),
                col: c,
            }
        };
        if response.drag_started()
            && let Some(p) = response.interact_pointer_pos()
        {
            // Egui decides on a drag only once the pointer has moved a little: anchor at
            // where the button went down, so a quick drag keeps its first characters.
            let from = ui.input(|i| i.pointer.press_origin()).unwrap_or(p);
            self.term.select(point(from), point(p));
        } else if response.dragged()
            && let (Some(p), Some(sel)) = (response.interact_pointer_pos(), self.term.selection)
        {
            self.term.select(sel.anchor, point(p));
        } else if response.clicked() {
            self.term.selection = None;
        }
        if response.drag_stopped()
            && let Some(text) = self.term.selected_text()
        {
            // The PRIMARY selection on Linux (the window sets it), for middle-click paste.
            ui.ctx().output_mut(|o| {
                o.commands
                    .push(egui::OutputCommand::TextSelectionSettled(text))
            });
        }
    }
}
