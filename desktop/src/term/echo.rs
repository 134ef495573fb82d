//! Predictive local echo in the widget: the core engine ([`Predictor`]) fed with the
//! terminal's own screen on every output, typed key, resize and reset, and its guesses
//! ([`Terminal::overlay`]) drawn over the cells by [`super::render`]. Over a slow link a
//! key then shows at once, underlined until the session's echo confirms it, instead of
//! a round trip later.
//!
//! The engine sees the screen through [`VtScreen`], the one view of a vt100 every front
//! end shares, always of the live screen: a view scrolled back into history shows other
//! rows, which the engine would take for the session overwriting its guesses.

use std::time::{Duration, Instant};

use vibemesh_core::predict::{Mode, Overlay, Predictor};
use vibemesh_term::VtScreen;

use super::Terminal;

/// Where the terminal's times come from.
#[derive(Debug, Clone, Copy)]
enum Clock {
    /// Real time, since this instant.
    Real(Instant),
    /// A time set from outside ([`Terminal::set_time`]): tests replay a slow link
    /// without waiting for it.
    Set(Duration),
}

/// A terminal's prediction state.
#[derive(Debug)]
pub(super) struct Echo {
    predictor: Predictor,
    mode: Mode,
    clock: Clock,
}

impl Default for Echo {
    fn default() -> Self {
        // Off until the owner asks: a terminal for this machine's own programs echoes
        // faster than any guess could show.
        Self {
            predictor: Predictor::new(Mode::Never),
            mode: Mode::Never,
            clock: Clock::Real(Instant::now()),
        }
    }
}

impl Echo {
    fn now(&self) -> Duration {
        match self.clock {
            Clock::Real(epoch) => epoch.elapsed(),
            Clock::Set(now) => now,
        }
    }
}

impl Terminal {
    /// Runs `f` with the engine and the live screen (not the rows of history the view
    /// may be scrolled to), at the terminal's time.
    fn with_live<R>(&mut self, f: impl FnOnce(&mut Predictor, &VtScreen<'_>, Duration) -> R) -> R {
        let back = self.parser.screen().scrollback();
        if back > 0 {
            self.parser.screen_mut().set_scrollback(0);
        }
        let now = self.echo.now();
        let r = f(
            &mut self.echo.predictor,
            &VtScreen(self.parser.screen()),
            now,
        );
        if back > 0 {
            self.parser.screen_mut().set_scrollback(back);
        }
        r
    }

    /// The screen changed (output, a resize, a reset): the engine confirms or withdraws
    /// its guesses against it.
    pub(super) fn echo_output(&mut self) {
        self.with_live(|p, screen, now| p.output(screen, now));
    }

    /// The user typed `bytes`, about to be sent: the engine guesses them against the
    /// screen as it is before the session has seen them.
    pub(super) fn echo_typed(&mut self, bytes: &[u8]) {
        self.with_live(|p, screen, now| p.typed(bytes, screen, now));
    }

    /// Withdraws guesses whose echo is overdue; returns how long until the next check
    /// is due, if a key waits for its echo.
    pub(super) fn echo_expire(&mut self) -> Option<Duration> {
        let now = self.echo.now();
        self.echo.predictor.expire(now);
        let due = self.echo.predictor.deadline()?;
        // Never zero: egui answers a zero delay with two frames.
        Some(due.saturating_sub(now).max(Duration::from_millis(1)))
    }

    /// Predicts typed keys in `mode` (a new terminal: [`Mode::Never`]).
    pub fn set_predict(&mut self, mode: Mode) {
        if self.echo.mode != mode {
            self.echo.mode = mode;
            self.echo.predictor.set_mode(mode);
        }
    }

    /// The mode keys are predicted in.
    pub fn predict_mode(&self) -> Mode {
        self.echo.mode
    }

    /// Tells the engine the link's round trip (it also times the echo of keys itself).
    pub fn set_rtt(&mut self, rtt: Duration) {
        self.echo.predictor.set_rtt(rtt);
    }

    /// The round trip guesses go by, once known.
    pub fn echo_rtt(&self) -> Option<Duration> {
        self.echo.predictor.rtt()
    }

    /// Whether guesses are drawn now (the mode allows it and the round trip is long
    /// enough to notice).
    pub fn predicting(&self) -> bool {
        self.echo.predictor.active()
    }

    /// How many times drawn guesses had to be taken back.
    pub fn mispredictions(&self) -> u64 {
        self.echo.predictor.mispredictions()
    }

    /// What is drawn over the screen now: the guesses, and where the cursor is guessed
    /// to be. Nothing while the view is scrolled back into history.
    pub fn overlay(&self) -> Overlay {
        if self.screen().scrollback() > 0 {
            return Overlay::default();
        }
        self.echo.predictor.overlay()
    }

    /// From now on the terminal's clock reads `now` (until set again) instead of real
    /// time; a terminal's times count from its creation. For tests, which play a slow
    /// link without waiting for it.
    pub fn set_time(&mut self, now: Duration) {
        self.echo.clock = Clock::Set(now);
    }

    /// Moves the predictions of `old`, which this terminal replaces, over: the mode, the
    /// clock, the round trip timed so far and the guesses, which the new screen then
    /// confirms or withdraws as any output would.
    pub(super) fn keep_echo(&mut self, old: &mut Terminal) {
        self.echo = std::mem::take(&mut old.echo);
    }
}

/// The screen's text as [`vt100::Screen::contents`] writes it, with the guessed cells
/// of `overlay` in place: what the user reads.
pub(super) fn shown_contents(screen: &vt100::Screen, overlay: &Overlay) -> String {
    if overlay.cells.is_empty() {
        return screen.contents();
    }
    let (rows, cols) = screen.size();
    let (rows, cols) = (rows.get(), cols.get());
    let mut out = String::new();
    let mut wrapping = false;
    for row in 0..rows {
        // Blank cells before text are spaces; after the last text, nothing.
        let mut written = 0u16;
        let mut col = 0u16;
        while col < cols {
            let Some(cell) = screen.cell(row, col) else {
                break;
            };
            let guess = overlay
                .cells
                .iter()
                .rev()
                .find(|g| (g.row, g.col) == (row, col));
            let mut buf = [0u8; 4];
            let (text, width) = match guess {
                // An erased cell is blank.
                Some(g) if g.ch == ' ' => ("", 1),
                Some(g) => (&*g.ch.encode_utf8(&mut buf), 1),
                None => (cell.contents(), if cell.is_wide() { 2 } else { 1 }),
            };
            if !text.is_empty() {
                out.extend(std::iter::repeat_n(' ', usize::from(col - written)));
                out.push_str(text);
                written = col + width;
            }
            col += width;
        }
        if written == 0 && wrapping {
            out.push('\n');
        }
        wrapping = screen.row_wrapped(row);
        if !wrapping {
            out.push('\n');
        }
    }
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use vibemesh_core::predict::Cell;

    use super::*;

    fn screen(bytes: &[u8]) -> vt100::Parser {
        let mut p = vt100::Parser::new(
            std::num::NonZeroU16::new(4).unwrap(),
            std::num::NonZeroU16::new(10).unwrap(),
            0,
        );
        p.process(bytes);
        p
    }

    #[test]
    fn shown_text_is_the_screens_with_no_guess_and_has_the_guesses_otherwise() {
        // Wide characters, a wrapped row, blank cells between words.
        let bytes = "日本 x  y\r\nabcdefghijkl\r\n$ ".as_bytes();
        let p = screen(bytes);
        assert_eq!(
            shown_contents(p.screen(), &Overlay::default()),
            p.screen().contents()
        );
        let guess = |col, ch| Cell {
            row: 3,
            col,
            ch,
            underline: true,
        };
        let overlay = Overlay {
            cells: vec![guess(2, 'l'), guess(3, 's'), guess(5, 'x')],
            cursor: Some((3, 6)),
        };
        let mut echoed = bytes.to_vec();
        echoed.extend(b"ls x");
        assert_eq!(
            shown_contents(p.screen(), &overlay),
            screen(&echoed).screen().contents()
        );
        // Backspace's erase blanks a cell that shows a character.
        let p = screen(b"$ lx");
        let overlay = Overlay {
            cells: vec![Cell {
                row: 0,
                col: 3,
                ch: ' ',
                underline: false,
            }],
            cursor: Some((0, 3)),
        };
        assert_eq!(shown_contents(p.screen(), &overlay), "$ l");
    }
}
