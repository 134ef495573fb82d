//! A session's screen: the vt100 parser with its scrollback, and the bytes that redraw it.
//!
//! Everything here is bounded whatever the program prints: OSC strings reach the parser
//! cut to [`OSC_MAX`](super::osc::OSC_MAX) bytes, titles are kept to
//! [`TITLE_MAX`] bytes, and a redraw carries at most [`HISTORY_MAX`] bytes of scrollback.

use vibemesh_core::{
    proto::{TermSize, bounds::TITLE_MAX},
    text::cut,
};

use super::osc::OscLimit;

/// The most bytes of scrollback a redraw carries: the newest lines that fit (a full
/// scrollback of wide, colourful lines could otherwise make a redraw of hundreds of MB).
pub const HISTORY_MAX: usize = 8 << 20;

#[derive(Default)]
struct Callbacks {
    title: Option<String>,
}

impl vt100::Callbacks for Callbacks {
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        let title = String::from_utf8_lossy(title);
        self.title = Some(cut(&title, TITLE_MAX).into_owned());
    }
}

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).unwrap_or(std::num::NonZeroU16::MIN)
}

/// What every [`Screen::render`] starts with: plain colours, a blank screen, the cursor
/// at the top left.
pub const CLEAR: &str = "\x1b[0m\x1b[H\x1b[2J";

/// The screen of one session. Its memory is bounded by the size and the scrollback.
pub struct Screen {
    parser: vt100::Parser<Callbacks>,
    osc: OscLimit,
}

impl Screen {
    /// A blank screen of `size` keeping `scrollback` lines of history.
    pub fn new(size: TermSize, scrollback: usize) -> Self {
        Self {
            parser: vt100::Parser::new_with_callbacks(
                nz(size.rows),
                nz(size.cols),
                scrollback,
                Callbacks::default(),
            ),
            osc: OscLimit::default(),
        }
    }

    /// Feeds program output; returns the new title (cut to [`TITLE_MAX`] bytes) if the
    /// program set one.
    pub fn process(&mut self, bytes: &[u8]) -> Option<String> {
        let bytes = self.osc.filter(bytes);
        self.parser.process(&bytes);
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
    /// ([`vibemesh_term::resize`]), so a snapshot after it shows whole lines again.
    pub fn resize(&mut self, size: TermSize) {
        vibemesh_term::resize(self.parser.screen_mut(), nz(size.rows), nz(size.cols));
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
    pub fn render(&mut self, lines: u32) -> Vec<u8> {
        const ROW_END: &str = "\x1b[0m\r\n";
        let screen = self.parser.screen_mut();
        let mut out = String::from(CLEAR);
        let (rows, cols) = screen.size();
        let (rows, cols) = (rows.get() as usize, cols.get());
        let want = (lines as usize).min(screen.scrollback_len());
        if want > 0 && !screen.alternate_screen() {
            // Take history a screenful at a time, newest first, while it fits...
            let (mut pages, mut taken, mut size) = (Vec::new(), 0, 0);
            while taken < want && size < HISTORY_MAX {
                let n = rows.min(want - taken);
                // Scrolled back this far, the screen's first `n` rows are the lines
                // just older than those taken so far.
                screen.set_scrollback(taken + n);
                let page: Vec<(String, bool)> = screen
                    .rows_formatted(0, cols)
                    .take(n)
                    .enumerate()
                    .map(|(i, row)| (row, screen.row_wrapped(i as u16)))
                    .collect();
                size += page
                    .iter()
                    .map(|r| r.0.len() + ROW_END.len())
                    .sum::<usize>();
                pages.push(page);
                taken += n;
            }
            screen.set_scrollback(0);
            // ...then print it oldest first, and scroll it off the screen into the
            // client's own scrollback before the screen is drawn over it.
            for (row, wrapped) in pages.iter().rev().flatten() {
                out.push_str(row);
                // A row that wraps is full: the next one continues it on the client as
                // on the screen (so the client can re-wrap it too).
                out.push_str(if *wrapped { "\x1b[0m" } else { ROW_END });
            }
            out.push_str(&"\n".repeat(rows));
        }
        if screen.alternate_screen() {
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
