//! A session's screen: the vt100 parser, its scrollback, and the bytes that redraw them.
//!
//! The scrollback is a compact [`History`] of text rows, not vt100's own (32 bytes a
//! cell): a busy session's 10,000 lines of history cost what their text does.
//!
//! Everything here is bounded whatever the program prints: OSC strings reach the parser
//! cut to [`OSC_MAX`](super::osc::OSC_MAX) bytes, titles are kept to [`TITLE_MAX`]
//! bytes, the history to its lines and [`HISTORY_MAX`] bytes of text, and so a redraw.

use vibemesh_core::{
    proto::{TermSize, bounds::TITLE_MAX},
    text::cut,
};

use vibemesh_term::{Clears, History, nz};

use super::osc::OscLimit;

/// The most bytes of text the history keeps, and so the most a redraw carries (a full
/// scrollback of wide, colourful lines could otherwise make hundreds of MB).
pub const HISTORY_MAX: usize = 8 << 20;

struct Callbacks {
    title: Option<String>,
    history: History,
}

impl vt100::Callbacks for Callbacks {
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        let title = String::from_utf8_lossy(title);
        self.title = Some(cut(&title, TITLE_MAX).into_owned());
    }

    fn on_scroll(&mut self, contents: vt100::capture::RowContents<'_>, alternate: bool) {
        self.history.on_scroll(contents, alternate);
    }
}

/// What every [`Screen::render`] starts with: plain colours, a blank screen, the cursor
/// at the top left.
pub const CLEAR: &str = "\x1b[0m\x1b[H\x1b[2J";

/// The screen of one session. Its memory is bounded by the size and the scrollback.
pub struct Screen {
    /// The live screen, with no scrollback of vt100's own: rows that leave it go to
    /// the callbacks' history.
    parser: vt100::Parser<Callbacks>,
    osc: OscLimit,
    clears: Clears,
}

impl Screen {
    /// A blank screen of `size` keeping `scrollback` lines of history.
    pub fn new(size: TermSize, scrollback: usize) -> Self {
        Self {
            parser: vt100::Parser::new_with_callbacks(
                nz(size.rows),
                nz(size.cols),
                0,
                Callbacks {
                    title: None,
                    history: History::new(scrollback, HISTORY_MAX),
                },
            ),
            osc: OscLimit::default(),
            clears: Clears::default(),
        }
    }

    /// Feeds program output; returns the new title (cut to [`TITLE_MAX`] bytes) if the
    /// program set one.
    pub fn process(&mut self, bytes: &[u8]) -> Option<String> {
        let bytes = self.osc.filter(bytes);
        let mut rest = &bytes[..];
        // What erases the saved lines erases the history, after the rows before it
        // scrolled off and before those after it do.
        while let Some(end) = self.clears.next(rest) {
            self.parser.process(&rest[..end]);
            self.parser.callbacks_mut().history.clear();
            rest = &rest[end..];
        }
        self.parser.process(rest);
        self.parser.callbacks_mut().title.take()
    }

    /// Output was skipped, and with it the end of whatever sequence the parser was in
    /// (an OSC string ends only at its terminator): end it now, so what follows is read
    /// as output again. CAN returns every parser state to ground. Returns the title, if
    /// an OSC string cut off this way set one.
    pub fn resume(&mut self) -> Option<String> {
        self.process(b"\x18")
    }

    /// Changes the size; a width change re-wraps the main screen and its scrollback
    /// ([`vibemesh_term::resize_with`]), so a snapshot after it shows whole lines again.
    pub fn resize(&mut self, size: TermSize) {
        let (screen, callbacks) = self.parser.screen_and_callbacks_mut();
        let (rows, cols) = (nz(size.rows), nz(size.cols));
        vibemesh_term::resize_with(screen, &mut callbacks.history, rows, cols);
    }

    /// How many lines of history it keeps, and their bytes of text.
    #[cfg(test)]
    pub fn history_size(&self) -> (usize, usize) {
        let history = &self.parser.callbacks().history;
        (history.len(), history.bytes())
    }

    /// The reply a terminal showing this screen gives to `q`.
    pub fn answer(&self, q: vibemesh_term::Query) -> Vec<u8> {
        vibemesh_term::answer(q, self.parser.screen())
    }

    /// The screen's text as a person would read it.
    #[cfg(test)]
    pub fn contents(&self) -> String {
        self.parser.screen().contents()
    }

    /// Bytes that redraw the screen, after `lines` of scrollback (the newest that fit
    /// [`HISTORY_MAX`]), on a blank terminal.
    pub fn render(&self, lines: u32) -> Vec<u8> {
        const ROW_END: &str = "\x1b[0m\r\n";
        let screen = self.parser.screen();
        let history = &self.parser.callbacks().history;
        let mut out = String::from(CLEAR);
        let rows = usize::from(screen.size().0.get());
        if !screen.alternate_screen() {
            // The newest rows asked for that fit...
            let (mut taken, mut size) = (0, 0);
            for row in history.rows().rev().take(lines as usize) {
                size += row.text.len() + ROW_END.len();
                if size > HISTORY_MAX {
                    break;
                }
                taken += 1;
            }
            // ...printed oldest first, then scrolled off the screen into the client's
            // own scrollback before the screen is drawn over them.
            let mut on_its_row = false;
            for row in history.rows().skip(history.len() - taken) {
                out.push_str(row.text);
                // A row that wraps is full: the next one continues it on the client as
                // on the screen (so the client can re-wrap it too).
                out.push_str(if row.wrapped { "\x1b[0m" } else { ROW_END });
                on_its_row = row.wrapped;
            }
            if taken > 0 {
                // Exactly the history goes off the top: from the row after the last
                // (or from its own, when it wraps and the cursor is still on it).
                out.push_str(&"\n".repeat(rows - usize::from(!on_its_row)));
            }
        } else {
            out.push_str("\x1b[?1049h");
        }
        let mut out = out.into_bytes();
        out.extend_from_slice(screen.state_formatted().as_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay(bytes: &[u8], rows: u16, cols: u16) -> vt100::Parser {
        let mut p = vt100::Parser::new(nz(rows), nz(cols), 1000);
        p.process(bytes);
        p
    }

    #[test]
    fn a_render_redraws_the_screen_and_the_history_asked_for() {
        let mut s = Screen::new(TermSize { rows: 5, cols: 20 }, 100);
        for i in 0..30 {
            s.process(format!("line {i}\r\n").as_bytes());
        }
        assert_eq!(s.process(b"\x1b]2;build\x07"), Some("build".into()));
        let mut client = replay(&s.render(10), 5, 20);
        assert!(client.screen().contents().contains("line 29"));
        assert!(client.screen().scrollback_len() >= 10);
        let n = client.screen().scrollback_len();
        client.screen_mut().set_scrollback(n);
        assert!(client.screen().contents().contains("line 1"));
    }

    #[test]
    fn a_redraw_of_a_huge_history_keeps_the_newest_lines_that_fit() {
        let (rows, cols) = (50, 1000);
        let mut s = Screen::new(TermSize { rows, cols }, 10_000);
        // Every cell its own colour: about 12 bytes per cell once formatted, so the
        // history is larger than a redraw may carry.
        for i in 0..1_000 {
            let mut line = format!("line-{i} ");
            for c in 0..990 {
                line.push_str(&format!("\x1b[38;5;{}mx", c % 200 + 16));
            }
            s.process(format!("{line}\r\n").as_bytes());
        }
        let redraw = s.render(10_000);
        assert!(redraw.len() < HISTORY_MAX + (2 << 20), "{}", redraw.len());
        let text = String::from_utf8_lossy(&redraw);
        // The newest history is there, the oldest left out, and whole lines only.
        assert!(text.contains("line-950 ") && text.contains("line-999 "));
        assert!(!text.contains("line-0 ") && !text.contains("line-1 "));
        let oldest: usize = text
            .split("line-")
            .nth(1)
            .and_then(|t| t.split(' ').next()?.parse().ok())
            .expect("a line number");
        assert!((100..950).contains(&oldest), "{oldest}");
        let client = {
            let mut c = vt100::Parser::new(nz(rows), nz(cols), 10_000);
            c.process(&redraw);
            c
        };
        assert!(client.screen().contents().contains("line-999 "));
    }

    #[test]
    fn a_redraw_after_narrow_then_wide_shows_the_whole_lines() {
        // Lines longer than the screen is wide: history rows that wrap reach the client
        // as one line, too.
        let mut s = Screen::new(TermSize { rows: 5, cols: 80 }, 100);
        let long = "0123456789".repeat(12);
        for i in 0..8 {
            s.process(format!("{i}:{long}\r\n").as_bytes());
        }
        s.resize(TermSize { rows: 5, cols: 25 });
        s.resize(TermSize { rows: 5, cols: 80 });
        let mut client = replay(&s.render(100), 5, 80);
        let n = client.screen().scrollback_len();
        client.screen_mut().set_scrollback(n);
        let oldest = client.screen().contents();
        assert!(oldest.contains(&format!("0:{long}")), "{oldest}");
        client.screen_mut().set_scrollback(0);
        assert!(client.screen().contents().contains(&format!("7:{long}")));
    }

    /// What a terminal shows, all of it: its history a row at a time (each cell's
    /// character and attributes, a blank as a space, and whether the row wraps on),
    /// then its screen with cursor and modes.
    fn seen(p: &mut vt100::Parser) -> (Vec<(String, bool)>, String) {
        let screen = p.screen_mut();
        let (rows, cols) = (screen.size().0.get() as usize, screen.size().1.get());
        let n = screen.scrollback_len();
        let mut history = Vec::new();
        for start in (0..n).step_by(rows) {
            screen.set_scrollback(n - start);
            for row in 0..rows.min(n - start) as u16 {
                let look: String = (0..cols)
                    .filter_map(|col| screen.cell(row, col))
                    .map(|c| {
                        let ch = if c.has_contents() { c.contents() } else { " " };
                        let attrs = (c.bold(), c.dim(), c.italic(), c.underline(), c.inverse());
                        format!("{ch}{:?}{:?}{attrs:?}|", c.fgcolor(), c.bgcolor())
                    })
                    .collect();
                history.push((look, screen.row_wrapped(row)));
            }
        }
        screen.set_scrollback(0);
        (history, screen.state_formatted())
    }

    /// Colourful output of every kind a history keeps: 256 and RGB colours, bold,
    /// italic, underline, inverse, wide characters, lines that wrap, gaps, erasures,
    /// scrolling by CSI S and inside a scroll region, `clear` with its `CSI 3 J`.
    fn scripted(i: usize) -> String {
        let (r, g, b) = (i * 7 % 256, i * 13 % 256, i * 29 % 256);
        let mut out = match i % 6 {
            0 => format!("\x1b[38;5;{}m{i} colour\x1b[0m plain\r\n", 16 + i % 200),
            1 => format!("\x1b[1;3;4m{i} bold\x1b[0m \x1b[48;2;{r};{g};{b}m bg \x1b[0m\r\n"),
            2 => format!("{i} 漢字と😀 wide {}\r\n", "é".repeat(i % 50)),
            3 => format!("\x1b[7m{i} inverse {}\x1b[27m\r\n", "x".repeat(i % 90)),
            4 => format!("{i}\x1b[5Cgap\x1b[41m  \x1b[K\x1b[0m\r\n"),
            _ => format!(
                "\x1b[2m{i}\x1b[22m\x1b[38;2;{r};{g};{b}m{}\x1b[39m\r\n",
                "~".repeat(i % 37)
            ),
        };
        match i {
            150 => out.push_str("\x1b[H\x1b[2J\x1b[3Jafter clear\r\n"),
            200 => out.push_str("\x1b[2S"),
            250 => out.push_str("\x1b[1;6r\x1b[6Hin region\r\n\r\n\r\n\x1b[r\x1b[24H"),
            _ => {}
        }
        out
    }

    #[test]
    fn a_redraw_from_the_compact_history_shows_what_the_full_model_shows() {
        let size = |rows, cols| TermSize { rows, cols };
        let mut compact = Screen::new(size(24, 40), 10_000);
        let mut full = vt100::Parser::new(nz(24), nz(40), 10_000);
        let resizes = [
            (100, size(24, 20)),
            (180, size(24, 60)),
            (260, size(30, 60)),
            (300, size(12, 60)),
            (350, size(20, 45)),
        ];
        for i in 0..420 {
            let out = scripted(i);
            compact.process(out.as_bytes());
            full.process(out.as_bytes());
            if let Some(&(_, to)) = resizes.iter().find(|(at, _)| *at == i) {
                compact.resize(to);
                vibemesh_term::resize(full.screen_mut(), nz(to.rows), nz(to.cols));
            }
        }
        let (rows, cols) = (20, 45);
        let mut client = vt100::Parser::new(nz(rows), nz(cols), 20_000);
        client.process(&compact.render(10_000));
        let (mut got, got_screen) = seen(&mut client);
        let (mut want, want_screen) = seen(&mut full);
        assert!(want.len() > 100, "{}", want.len());
        // The client's last history row wraps on only once it prints the next one.
        if let (Some(g), Some(w)) = (got.last_mut(), want.last_mut()) {
            g.1 = w.1;
        }
        for (n, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "history row {n} of {}", want.len());
        }
        assert_eq!(got.len(), want.len());
        assert_eq!(got_screen, want_screen);
        let (lines, bytes) = compact.history_size();
        assert_eq!(lines, want.len());
        // A quarter of what vt100's cells of the same rows take, at most.
        let cells = lines * usize::from(cols) * 32;
        assert!(bytes < cells / 4, "{bytes} bytes for {lines} lines");
    }

    #[test]
    fn output_after_a_skip_inside_a_title_is_shown() {
        let mut s = Screen::new(TermSize::DEFAULT, 10);
        s.process(b"before\r\n\x1b]0;TTTTTTTT");
        // ...the rest of the title and its BEL were skipped.
        s.resume();
        s.process(b"AFTER 1\r\n");
        assert!(s.contents().contains("AFTER 1"), "{}", s.contents());
    }

    #[test]
    fn a_title_is_cut_to_its_limit() {
        let mut s = Screen::new(TermSize::DEFAULT, 10);
        let huge = format!("\x1b]0;{}\x07", "é".repeat(1_000_000));
        let title = s.process(huge.as_bytes()).expect("a title");
        assert!(title.len() <= TITLE_MAX, "{}", title.len());
        assert!(title.starts_with("éé") && title.ends_with(vibemesh_core::text::CUT_MARK));
    }
}
