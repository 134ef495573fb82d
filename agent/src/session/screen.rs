//! A session's screen: the vt100 parser with its scrollback, and the bytes that redraw it.

use vibemesh_core::proto::TermSize;

#[derive(Default)]
struct Callbacks {
    title: Option<String>,
}

impl vt100::Callbacks for Callbacks {
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.title = Some(String::from_utf8_lossy(title).into_owned());
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
        }
    }

    /// Feeds program output; returns the new title if the program set one.
    pub fn process(&mut self, bytes: &[u8]) -> Option<String> {
        self.parser.process(bytes);
        self.parser.callbacks_mut().title.take()
    }

    /// Changes the size.
    pub fn resize(&mut self, size: TermSize) {
        self.parser
            .screen_mut()
            .set_size(nz(size.rows), nz(size.cols));
    }

    /// The screen's text as a person would read it.
    pub fn contents(&self) -> String {
        self.parser.screen().contents()
    }

    /// Bytes that redraw the screen, after `lines` of scrollback, on a blank terminal.
    pub fn render(&mut self, lines: u32) -> Vec<u8> {
        let screen = self.parser.screen_mut();
        let mut out = String::from(CLEAR);
        let (rows, cols) = screen.size();
        let (rows, cols) = (rows.get() as usize, cols.get());
        let want = (lines as usize).min(screen.scrollback_len());
        if want > 0 && !screen.alternate_screen() {
            // Print history oldest first, then scroll it off the screen into the client's
            // own scrollback before the screen is drawn over it.
            let mut k = want;
            while k > 0 {
                screen.set_scrollback(k);
                let n = k.min(rows);
                for row in screen.rows_formatted(0, cols).take(n) {
                    out.push_str(&row);
                    out.push_str("\x1b[0m\r\n");
                }
                k -= n;
            }
            screen.set_scrollback(0);
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
}
