//! Re-wrapping a screen on a width change.
//!
//! vt100 cuts every row to the new width, so text cut by narrowing never comes back.
//! [`resize`] instead reads the main screen and its scrollback as logical lines (rows
//! joined where vt100 marks a soft wrap), lays them out again at the new width in a
//! fresh screen, and puts the cursor back on its logical position. The alternate screen
//! is left to its program, which redraws on SIGWINCH: it is only cut, as before.
//!
//! Cost: one pass over the rows, writing each logical line into the new screen as it is
//! read; besides the two screens, memory is one logical line.

use std::{fmt::Write as _, num::NonZeroU16};

use crate::sgr::Pen;

/// Resizes `screen` to `rows` x `cols`; on a width change the main screen and its
/// scrollback are re-wrapped (see the module docs). Modes and drawing attributes are
/// kept; the scrollback position returns to the live screen.
pub fn resize(screen: &mut vt100::Screen, rows: NonZeroU16, cols: NonZeroU16) {
    if screen.size().1 == cols {
        screen.set_size(rows, cols);
        return;
    }
    // Work on the old screen through a parser of its own, so it can be switched to
    // its main grid when the alternate one is shown.
    let mut old = vt100::Parser::new(NonZeroU16::MIN, NonZeroU16::MIN, 0);
    std::mem::swap(old.screen_mut(), screen);
    let alternate = old.screen().alternate_screen();
    if alternate {
        old.process(b"\x1b[?47l");
    }
    let capacity = old.screen().scrollback_capacity();
    let mut new = vt100::Parser::new(rows, cols, capacity);
    relay(old.screen_mut(), &mut new);
    let mut tail = String::new();
    if alternate {
        // Where leaving the alternate screen (?1049l) puts the cursor back.
        tail.push_str("\x1b7\x1b[?47h");
        old.process(b"\x1b[?47h");
        old.screen_mut().set_size(rows, cols);
        tail.push_str(&old.screen().contents_formatted());
    } else if old.screen().hide_cursor() {
        tail.push_str("\x1b[?25l");
    }
    tail.push_str(&old.screen().input_mode_formatted());
    tail.push_str(&old.screen().attributes_formatted());
    new.process(tail.as_bytes());
    std::mem::swap(screen, new.screen_mut());
}

/// Where a cell lands when laid out at a width: vt100's own wrapping rule (a character
/// that does not fit the rest of the row starts the next one).
struct Layout {
    cols: usize,
    row: usize,
    col: usize,
}

impl Layout {
    fn put(&mut self, width: usize) {
        if self.col + width > self.cols {
            self.row += 1;
            self.col = 0;
        }
        self.col += width;
    }

    fn newline(&mut self) {
        self.row += 1;
        self.col = 0;
    }
}

/// Writes the main screen of `old` (scrollback, then the screen down to its last
/// non-blank row or the cursor's) into `new`, and moves the cursor to where it was in
/// its logical line.
fn relay(old: &mut vt100::Screen, new: &mut vt100::Parser) {
    let (old_rows, old_cols) = (old.size().0.get(), old.size().1.get());
    let back = old.scrollback_len();
    let (crow, ccol) = old.cursor_position();
    let cursor = back + usize::from(crow);
    old.set_scrollback(0);
    let last = (crow + 1..old_rows)
        .rev()
        .find(|&r| !blank(old, r, old_cols))
        .map_or(cursor, |r| back + usize::from(r));
    let cols = usize::from(new.screen().size().1.get());
    let mut layout = Layout { cols, row: 0, col: 0 };
    let mut mark = None;
    let mut line = String::new();
    let mut pen = Pen::default();
    for abs in 0..=last {
        let vis = if abs < back {
            old.set_scrollback(back - abs);
            0
        } else {
            old.set_scrollback(0);
            (abs - back) as u16
        };
        let wrapped = abs < last && old.row_wrapped(vis);
        let end = row_end(old, vis, old_cols, wrapped);
        let mut col = 0;
        while col < end {
            if abs == cursor && col >= ccol && mark.is_none() {
                mark = Some((layout.row, layout.col));
            }
            let Some(cell) = old.cell(vis, col) else {
                break;
            };
            let width = if cell.is_wide() { 2 } else { 1 };
            col += width;
            if cell.is_wide_continuation() {
                continue;
            }
            let p = Pen::of(cell);
            if p != pen {
                p.write(&mut line);
                pen = p;
            }
            match cell.contents() {
                "" => line.push(' '),
                c => line.push_str(c),
            }
            layout.put(width.into());
        }
        if abs == cursor && mark.is_none() {
            // Past the row's text: as many columns further as it was.
            mark = Some((layout.row, layout.col + usize::from(ccol.saturating_sub(col))));
        }
        if !wrapped {
            if pen != Pen::default() {
                pen = Pen::default();
                pen.write(&mut line);
            }
            if abs < last {
                line.push_str("\r\n");
                layout.newline();
            }
            new.process(line.as_bytes());
            line.clear();
        }
    }
    old.set_scrollback(0);
    let (mark_row, mark_col) = mark.unwrap_or((layout.row, layout.col));
    let (mark_row, mark_col) = (mark_row + mark_col / cols, mark_col % cols);
    // The last row written is on the screen where the new cursor is now; count back.
    let rows = usize::from(new.screen().size().0.get());
    let end = usize::from(new.screen().cursor_position().0);
    let mut target = (end + mark_row).saturating_sub(layout.row);
    let mut out = String::new();
    if target >= rows {
        // The cursor is on a row not written yet (past the text at the bottom).
        let _ = write!(out, "\x1b[{rows};1H{}", "\n".repeat(target - rows + 1));
        target = rows - 1;
    }
    let _ = write!(out, "\x1b[{};{}H", target + 1, mark_col + 1);
    new.process(out.as_bytes());
}

/// Whether visible row `row` shows nothing at all.
fn blank(screen: &vt100::Screen, row: u16, cols: u16) -> bool {
    (0..cols).all(|c| {
        screen
            .cell(row, c)
            .is_none_or(|cell| !cell.has_contents() && Pen::of(cell).is_plain())
    })
}

/// How many cells of visible row `row` to keep: a wrapped row all of them, any other
/// row up to its last cell that shows something. (vt100 does not mark a row wrapped
/// when a wide character did not fit its last column, as tmux: such a line stays cut.)
fn row_end(screen: &vt100::Screen, row: u16, cols: u16, wrapped: bool) -> u16 {
    if wrapped {
        return cols;
    }
    let shows = |c: u16| {
        screen
            .cell(row, c)
            .is_some_and(|cell| cell.has_contents() || !Pen::of(cell).is_plain())
    };
    (0..cols).rev().find(|&c| shows(c)).map_or(0, |c| c + 1)
}
