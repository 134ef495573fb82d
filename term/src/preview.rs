//! A session's screen kept only to show a few of its lines: the live preview on a
//! session's card (the browser's home page). No scrollback, no answers to queries: just
//! what the screen shows, as plain text.

use crate::nz;

/// The screen of a session watched for its preview.
pub struct Preview {
    parser: vt100::Parser,
}

impl Preview {
    /// A blank screen of `rows` x `cols`.
    pub fn new(rows: u16, cols: u16) -> Preview {
        Preview {
            parser: vt100::Parser::new(nz(rows), nz(cols), 0),
        }
    }

    /// The session's whole screen drawn from scratch (an attach's snapshot).
    pub fn snapshot(&mut self, bytes: &[u8]) {
        let (rows, cols) = self.parser.screen().size();
        self.parser = vt100::Parser::new(rows, cols, 0);
        self.parser.process(bytes);
    }

    /// Output, as the program wrote it.
    pub fn output(&mut self, bytes: &[u8]) {
        self.parser.process(bytes);
    }

    /// The session's size changed.
    pub fn resize(&mut self, rows: u16, cols: u16) {
        self.parser.screen_mut().set_size(nz(rows), nz(cols));
    }

    /// The last `n` lines down to the cursor or the last line with text, whichever is
    /// lower, trailing blanks trimmed: a shell's prompt and what came just before it, or
    /// the bottom of a full-screen program. Lines are plain text (vt100 keeps no control
    /// characters in its cells).
    pub fn lines(&self, n: usize) -> Vec<String> {
        let screen = self.parser.screen();
        let (_, cols) = screen.size();
        let rows: Vec<String> = screen
            .rows(0, cols.get())
            .map(|r| r.trim_end().to_string())
            .collect();
        let cursor = usize::from(screen.cursor_position().0);
        let last_text = rows.iter().rposition(|r| !r.is_empty()).unwrap_or(0);
        let end = cursor.max(last_text).min(rows.len().saturating_sub(1)) + 1;
        let start = end.saturating_sub(n);
        rows[start..end.min(rows.len())].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::Preview;

    #[test]
    fn shows_the_last_lines_down_to_the_prompt() {
        let mut p = Preview::new(10, 20);
        p.output(b"one\r\ntwo\r\nthree\r\nfour\r\n$ ");
        assert_eq!(p.lines(3), ["three", "four", "$"]);
        assert_eq!(p.lines(20), ["one", "two", "three", "four", "$"]);
    }

    #[test]
    fn a_cursor_below_the_text_keeps_the_blank_lines_above_it() {
        let mut p = Preview::new(6, 20);
        p.output(b"done\r\n\r\n\r\n");
        assert_eq!(p.lines(2), ["", ""]);
        assert_eq!(p.lines(4), ["done", "", "", ""]);
    }

    #[test]
    fn a_snapshot_replaces_the_screen_and_a_resize_keeps_it() {
        let mut p = Preview::new(4, 20);
        p.output(b"old stuff\r\nmore");
        p.snapshot(b"\x1b[H\x1b[2Jfresh\r\n\x1b[1;31mred\x1b[m line");
        assert_eq!(p.lines(5), ["fresh", "red line"]);
        p.resize(2, 6);
        assert_eq!(p.lines(5), ["fresh", "red li"]);
    }

    #[test]
    fn the_bottom_of_a_full_screen_program() {
        let mut p = Preview::new(3, 10);
        p.output(b"\x1b[?1049h\x1b[Htop\x1b[2;1Hload 1.0\x1b[3;1Hq quits\x1b[1;1H");
        assert_eq!(p.lines(2), ["load 1.0", "q quits"]);
    }
}
