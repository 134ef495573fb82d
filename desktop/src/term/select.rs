//! Selecting text with the mouse, in lines that stay put while the view scrolls back.

/// A cell, by line and column. Line 0 is the top of the live screen; scrollback lines are
/// negative, so a selection survives scrolling the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Point {
    /// The line.
    pub line: i64,
    /// The column.
    pub col: u16,
}

/// A selection from where the drag started (`anchor`) to where it is now (`head`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    /// Where it started.
    pub anchor: Point,
    /// Where it ends now.
    pub head: Point,
}

impl Selection {
    /// Start and end, in reading order.
    pub fn ordered(&self) -> (Point, Point) {
        if self.anchor <= self.head {
            (self.anchor, self.head)
        } else {
            (self.head, self.anchor)
        }
    }

    /// Whether the cell is selected (both ends included).
    pub fn contains(&self, line: i64, col: u16) -> bool {
        let (a, b) = self.ordered();
        let p = Point { line, col };
        a <= p && p <= b
    }

    /// Whether it covers nothing (a click, not a drag).
    pub fn is_empty(&self) -> bool {
        self.anchor == self.head
    }

    /// The selected text of what is in view (`scrolled` lines back): rows joined with
    /// newlines, trailing blanks of each row dropped.
    pub fn text(&self, screen: &vt100::Screen) -> String {
        let (rows, cols) = screen.size();
        let (a, b) = self.ordered();
        let top = -(screen.scrollback() as i64);
        let first = (a.line - top).clamp(0, i64::from(rows.get()) - 1) as u16;
        let last = (b.line - top).clamp(0, i64::from(rows.get()) - 1) as u16;
        let start_col = if a.line - top < 0 { 0 } else { a.col };
        let end_col = if b.line - top >= i64::from(rows.get()) {
            cols.get()
        } else {
            b.col.saturating_add(1).min(cols.get())
        };
        screen.contents_between(first, start_col, last, end_col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_across_lines_in_reading_order() {
        let mut p = vt100::Parser::new(
            std::num::NonZeroU16::new(3).unwrap(),
            std::num::NonZeroU16::new(10).unwrap(),
            0,
        );
        p.process(b"hello\r\nworld\r\nthird");
        let sel = Selection {
            anchor: Point { line: 1, col: 2 },
            head: Point { line: 0, col: 1 },
        };
        assert!(sel.contains(0, 5));
        assert!(!sel.contains(1, 3));
        assert_eq!(sel.text(p.screen()), "ello\nwor");
    }
}
