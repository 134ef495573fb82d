//! Re-wrapping a screen on a width change.
//!
//! vt100 cuts every row to the new width, so text cut by narrowing never comes back.
//! [`resize`] instead reads the main screen and its scrollback as logical lines (rows
//! joined where vt100 marks a soft wrap), lays them out again at the new width in a
//! fresh screen, and puts the cursor back on its logical position. The alternate screen
//! is left to its program, which redraws on SIGWINCH: it is only cut, as before.
//!
//! Cost: one pass over the rows, writing the lines into the new screen as they are
//! read (64 KiB at a time); besides the two screens, memory is that buffer and the
//! lines from the cursor's down. Time is that of printing the text again: vt100 parses
//! it (about 40-70 ms of CPU for 10,000 lines of 200 columns in release; see the
//! `rewrap_time` measurement).

use std::{collections::VecDeque, fmt::Write as _, num::NonZeroU16};

use crate::{history::History, sgr::Pen};

/// Resizes `screen` to `rows` x `cols`; on a width change the main screen and its
/// scrollback are re-wrapped (see the module docs). Modes and drawing attributes are
/// kept; the scrollback position returns to the live screen.
pub fn resize(screen: &mut vt100::Screen, rows: NonZeroU16, cols: NonZeroU16) {
    if screen.size().1 == cols {
        screen.set_size(rows, cols);
        return;
    }
    let capacity = screen.scrollback_capacity();
    let mut new = vt100::Parser::new(rows, cols, capacity);
    rebuild(screen, None, &mut new, false);
}

/// Resizes `screen`, which keeps no scrollback of its own but `history` instead, to
/// `rows` x `cols`; rows pushed off the top go to `history`. A width change re-wraps the
/// history and the main screen as [`resize`] does; so does a taller screen, which takes
/// rows back from the history onto the screen as xterm does (vt100 would put blank rows
/// there).
pub fn resize_with(
    screen: &mut vt100::Screen,
    history: &mut History,
    rows: NonZeroU16,
    cols: NonZeroU16,
) {
    let (old_rows, old_cols) = screen.size();
    let mut new = vt100::Parser::new_with_callbacks(
        NonZeroU16::MIN,
        NonZeroU16::MIN,
        0,
        history.empty_like(),
    );
    if old_cols == cols && (rows <= old_rows || history.is_empty()) {
        // Only a parser reports the rows a resize pushes off the top.
        std::mem::swap(new.screen_mut(), screen);
        std::mem::swap(new.callbacks_mut(), history);
        new.set_size(rows, cols);
        std::mem::swap(new.screen_mut(), screen);
        std::mem::swap(new.callbacks_mut(), history);
        return;
    }
    new.set_size(rows, cols);
    // Taller at the same width: the rows below the cursor stay below it, as when
    // vt100 takes rows back from its own scrollback.
    rebuild(screen, Some(history), &mut new, old_cols == cols);
    std::mem::swap(new.callbacks_mut(), history);
}

/// Lays the main screen of `screen` out again in `new` (a blank parser of the new size),
/// after the rows of `history` if given, and puts `new`'s screen in its place; with
/// `keep_bottom` the blank rows at the bottom are laid out too.
fn rebuild<C: vt100::Callbacks>(
    screen: &mut vt100::Screen,
    history: Option<&History>,
    new: &mut vt100::Parser<C>,
    keep_bottom: bool,
) {
    // Work on the old screen through a parser of its own, so it can be switched to
    // its main grid when the alternate one is shown.
    let mut old = vt100::Parser::new(NonZeroU16::MIN, NonZeroU16::MIN, 0);
    std::mem::swap(old.screen_mut(), screen);
    let alternate = old.screen().alternate_screen();
    if alternate {
        old.process(b"\x1b[?47l");
    }
    if let Some(history) = history {
        history.print(|bytes| new.process(bytes));
    }
    relay(old.screen_mut(), new, keep_bottom);
    let (rows, cols) = new.screen().size();
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
/// non-blank row or the cursor's, or to its bottom with `keep_bottom`) into `new`, and moves the cursor to where it was in
/// its logical line.
///
/// The lines before the cursor's go through vt100's own dump of logical lines (fast:
/// no per-cell lookups); the cursor's line and those below it, a screenful at most,
/// are written cell by cell, to follow the cursor into the new layout.
fn relay<C: vt100::Callbacks>(
    old: &mut vt100::Screen,
    new: &mut vt100::Parser<C>,
    keep_bottom: bool,
) {
    let (old_rows, old_cols) = (old.size().0.get(), old.size().1.get());
    let back = old.scrollback_len();
    let (crow, ccol) = old.cursor_position();
    let cursor = back + usize::from(crow);
    old.set_scrollback(0);
    let last = if keep_bottom {
        back + usize::from(old_rows) - 1
    } else {
        (crow + 1..old_rows)
            .rev()
            .find(|&r| !blank(old, r, old_cols))
            .map_or(cursor, |r| back + usize::from(r))
    };
    let mut rows = Rows::new(old, back);
    let start = (0..cursor)
        .rev()
        .take_while(|&abs| rows.wrapped(abs))
        .last()
        .unwrap_or(cursor);
    // The dump breaks the line after every row that does not wrap but the last: all
    // but the last `after` lines it writes come before the cursor's. (Counted from the
    // end: scrolling back through the whole history to count from the start would widen
    // every row of it to the screen's width.)
    let total = back + usize::from(old_rows);
    let after = (cursor..total - 1)
        .filter(|&abs| !rows.wrapped(abs))
        .count();
    let mut dump = Dump {
        new,
        keep: after,
        held: VecDeque::new(),
        line: String::new(),
        buf: String::new(),
    };
    let mut state = vt100::capture::BasicFormattedCaptureState::new();
    let range = vt100::capture::BasicFormattedCaptureRange::Full(&mut state);
    // The dump never fails.
    let _ = rows.screen.write_contents_formatted_basic(&mut dump, range);
    dump.buf.push_str("\x1b[0m");
    dump.flush();
    let cols = usize::from(new.screen().size().1.get());
    let mut layout = Layout {
        cols,
        row: 0,
        col: 0,
    };
    let mark = write_cells(&mut rows, start..=last, (cursor, ccol), &mut layout, new);
    rows.screen.set_scrollback(0);
    place_cursor(new, &layout, mark);
}

/// Writes rows `span` of `rows` cell by cell into `new`, laying them out in `layout`;
/// returns where (row and column of `layout`) the cell at `cursor` (a row and a column
/// of `rows`) went.
fn write_cells<C: vt100::Callbacks>(
    rows: &mut Rows<'_>,
    span: std::ops::RangeInclusive<usize>,
    (cursor, ccol): (usize, u16),
    layout: &mut Layout,
    new: &mut vt100::Parser<C>,
) -> (usize, usize) {
    let old_cols = rows.screen.size().1.get();
    let last = *span.end();
    let mut mark = None;
    let mut line = String::new();
    let mut pen = Pen::default();
    for abs in span {
        let (screen, vis) = rows.at(abs);
        let wrapped = abs < last && screen.row_wrapped(vis);
        let end = row_end(screen, vis, old_cols, wrapped);
        let mut col = 0;
        while col < end {
            if abs == cursor && col >= ccol && mark.is_none() {
                mark = Some((layout.row, layout.col));
            }
            let Some(cell) = screen.cell(vis, col) else {
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
            let extra = usize::from(ccol.saturating_sub(col));
            mark = Some((layout.row, layout.col + extra));
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
    mark.unwrap_or((layout.row, layout.col))
}

/// Moves the cursor of `new`, which is at the end of what `layout` laid out, to `mark`
/// (a row and a column of `layout`; a column past the width continues on the next
/// rows, scrolling when they are not written yet).
fn place_cursor<C: vt100::Callbacks>(
    new: &mut vt100::Parser<C>,
    layout: &Layout,
    (row, col): (usize, usize),
) {
    let cols = layout.cols;
    let (row, col) = (row + col / cols, col % cols);
    let height = usize::from(new.screen().size().0.get());
    let end = usize::from(new.screen().cursor_position().0);
    let mut target = (end + row).saturating_sub(layout.row);
    let mut out = String::new();
    if target >= height {
        let _ = write!(out, "\x1b[{height};1H{}", "\n".repeat(target - height + 1));
        target = height - 1;
    }
    let _ = write!(out, "\x1b[{};{}H", target + 1, col + 1);
    new.process(out.as_bytes());
}

/// The rows of a screen by their index from the oldest line of scrollback, scrolled
/// back a page at a time (scrolling back costs a pass over the page).
struct Rows<'a> {
    screen: &'a mut vt100::Screen,
    back: usize,
    page: usize,
    /// The first row of the page scrolled to.
    shown: usize,
}

impl<'a> Rows<'a> {
    fn new(screen: &'a mut vt100::Screen, back: usize) -> Self {
        let page = usize::from(screen.size().0.get());
        Self {
            screen,
            back,
            page,
            shown: back,
        }
    }

    /// The screen scrolled to show row `abs`, and where it shows it.
    fn at(&mut self, abs: usize) -> (&vt100::Screen, u16) {
        let first = if abs < self.back {
            abs - abs % self.page
        } else {
            self.back
        };
        if first != self.shown {
            self.screen.set_scrollback(self.back - first);
            self.shown = first;
        }
        (self.screen, (abs - first) as u16)
    }

    fn wrapped(&mut self, abs: usize) -> bool {
        let (screen, vis) = self.at(abs);
        screen.row_wrapped(vis)
    }
}

/// Feeds vt100's dump of logical lines to the new screen, but for its last `keep`
/// lines and the unfinished one after them, which it drops.
struct Dump<'a, C: vt100::Callbacks> {
    new: &'a mut vt100::Parser<C>,
    keep: usize,
    /// The newest finished lines, `keep` at most.
    held: VecDeque<String>,
    /// The line being written.
    line: String,
    /// What is passed on, up to 64 KiB at a time.
    buf: String,
}

impl<C: vt100::Callbacks> Dump<'_, C> {
    fn flush(&mut self) {
        self.new.process(self.buf.as_bytes());
        self.buf.clear();
    }
}

impl<C: vt100::Callbacks> std::fmt::Write for Dump<'_, C> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let mut parts = s.split('\n');
        self.line.extend(parts.next());
        for part in parts {
            let done = std::mem::replace(&mut self.line, part.to_owned());
            self.held.push_back(done);
            if self.held.len() > self.keep
                && let Some(old) = self.held.pop_front()
            {
                self.buf.push_str(&old);
                self.buf.push_str("\r\n");
                if self.buf.len() >= 64 << 10 {
                    self.flush();
                }
            }
        }
        Ok(())
    }
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
