//! Predictive local echo for a front end that shows a session by handing its bytes to a
//! real terminal (the CLI): a vt100 mirror of that terminal, the core engine's guesses
//! drawn over it, and taken off again before each output, so the session's bytes land
//! on exactly the screen they were made for.

use std::time::Duration;

use vibemesh_core::predict::{Cell, Mode, Overlay, Predictor, Screen};

use crate::{nz, sgr::Pen};

/// A vt100 screen as the prediction engine sees it: what every front end that keeps
/// its own vt100 (the CLI's mirror, the desktop's terminal) hands the engine.
pub struct VtScreen<'a>(pub &'a vt100::Screen);

impl Screen for VtScreen<'_> {
    fn size(&self) -> (u16, u16) {
        let (rows, cols) = self.0.size();
        (rows.get(), cols.get())
    }
    fn cursor(&self) -> (u16, u16) {
        self.0.cursor_position()
    }
    fn char_at(&self, row: u16, col: u16) -> Option<char> {
        let cell = self.0.cell(row, col)?;
        if cell.is_wide_continuation() {
            // Not blank: nothing may be guessed into half a wide character.
            return Some('\0');
        }
        cell.contents().chars().next()
    }
    fn alternate_screen(&self) -> bool {
        self.0.alternate_screen()
    }
}

/// One attached terminal's predictions, and what of them is drawn on it now.
///
/// Times (`now`) are a monotonic clock's reading since any fixed point the caller
/// chooses (an `Instant` taken at start natively, `performance.now()` in a browser).
pub struct LocalEcho {
    mirror: vt100::Parser,
    predictor: Predictor,
    /// What is drawn over the mirror now.
    drawn: Overlay,
}

impl LocalEcho {
    /// A terminal of `rows` x `cols` that guesses in `mode`.
    pub fn new(rows: u16, cols: u16, mode: Mode) -> Self {
        Self {
            mirror: vt100::Parser::new(nz(rows), nz(cols), 0),
            predictor: Predictor::new(mode),
            drawn: Overlay::default(),
        }
    }

    /// The session's `bytes` arrived at `now`: appends to `out` what to write to the
    /// terminal (the guesses taken off, the bytes, the guesses still standing).
    pub fn output(&mut self, bytes: &[u8], now: Duration, out: &mut Vec<u8>) {
        self.undraw(out);
        out.extend_from_slice(bytes);
        self.mirror.process(bytes);
        self.predictor.output(&VtScreen(self.mirror.screen()), now);
        self.redraw(out);
    }

    /// The user typed `bytes` (on their way to the session) at `now`: appends to `out`
    /// the guesses to draw.
    pub fn typed(&mut self, bytes: &[u8], now: Duration, out: &mut Vec<u8>) {
        self.predictor
            .typed(bytes, &VtScreen(self.mirror.screen()), now);
        self.redraw(out);
    }

    /// When [`LocalEcho::expire`] should run next, if a key waits for its echo.
    pub fn deadline(&self) -> Option<Duration> {
        self.predictor.deadline()
    }

    /// Takes the guesses off if the oldest waited too long for its echo.
    pub fn expire(&mut self, now: Duration, out: &mut Vec<u8>) {
        self.predictor.expire(now);
        self.redraw(out);
    }

    /// The terminal is now `rows` x `cols` (before the session redraws for it).
    pub fn resize(&mut self, rows: u16, cols: u16, now: Duration, out: &mut Vec<u8>) {
        self.undraw(out);
        self.mirror.screen_mut().set_size(nz(rows), nz(cols));
        self.predictor.output(&VtScreen(self.mirror.screen()), now);
        self.redraw(out);
    }

    /// Sets when guesses are drawn; appends to `out` what that changes on screen.
    pub fn set_mode(&mut self, mode: Mode, out: &mut Vec<u8>) {
        self.predictor.set_mode(mode);
        self.redraw(out);
    }

    /// The round trip the guesses go by, once known.
    pub fn rtt(&self) -> Option<Duration> {
        self.predictor.rtt()
    }

    /// Whether guesses are drawn now.
    pub fn active(&self) -> bool {
        self.predictor.active()
    }

    /// How many times drawn guesses had to be taken back.
    pub fn mispredictions(&self) -> u64 {
        self.predictor.mispredictions()
    }

    /// Draws the engine's overlay in place of the one drawn now.
    fn redraw(&mut self, out: &mut Vec<u8>) {
        let screen = self.mirror.screen();
        let (_, cols) = screen.size();
        // In the last column the terminal may be about to wrap, a state moving the
        // cursor away and back would lose.
        let wrapping = screen.cursor_position().1 + 1 >= cols.get();
        let next = if wrapping {
            Overlay::default()
        } else {
            self.predictor.overlay()
        };
        if next == self.drawn {
            return;
        }
        self.undraw(out);
        if next.cells.is_empty() {
            return;
        }
        let screen = self.mirror.screen();
        let mut s = String::new();
        let pen = screen.attributes_formatted();
        for Cell {
            row,
            col,
            ch,
            underline,
        } in &next.cells
        {
            cup(&mut s, *row, *col);
            s.push_str(&pen);
            if *underline {
                s.push_str("\x1b[4m");
            }
            s.push(*ch);
        }
        match next.cursor {
            Some((row, col)) => cup(&mut s, row, col),
            None => s.push_str(&screen.cursor_state_formatted()),
        }
        s.push_str(&pen);
        out.extend_from_slice(s.as_bytes());
        self.drawn = next;
    }

    /// Puts back what the mirror holds where guesses are drawn, and the cursor and pen.
    fn undraw(&mut self, out: &mut Vec<u8>) {
        if self.drawn.cells.is_empty() {
            return;
        }
        let screen = self.mirror.screen();
        let mut s = String::new();
        for c in std::mem::take(&mut self.drawn).cells {
            cup(&mut s, c.row, c.col);
            match screen.cell(c.row, c.col) {
                Some(cell) => {
                    Pen::of(cell).write(&mut s);
                    match cell.contents() {
                        // Erased, as it was (not a written space).
                        "" => s.push_str("\x1b[X"),
                        text => s.push_str(text),
                    }
                }
                None => s.push_str("\x1b[0m\x1b[X"),
            }
        }
        s.push_str(&screen.cursor_state_formatted());
        s.push_str(&screen.attributes_formatted());
        out.extend_from_slice(s.as_bytes());
    }
}

/// Moves the cursor to a cell (rows and columns from 0).
fn cup(s: &mut String, row: u16, col: u16) {
    use std::fmt::Write as _;
    let _ = write!(s, "\x1b[{};{}H", u32::from(row) + 1, u32::from(col) + 1);
}
