//! A compact scrollback: the rows that scrolled off a screen, kept as text with inline
//! SGR sequences rather than as cells.
//!
//! vt100 keeps scrollback as cells of 32 bytes each: 10,000 rows of 80 columns are 26 MB
//! whatever they show. A session holder keeps its screen with no scrollback of vt100's
//! own and collects each row that leaves it ([`vt100::Callbacks::on_scroll`]) here, in
//! vt100's "basic formatted" form: the text, with an SGR sequence where the attributes
//! change, trailing blanks left out. A row of `seq` output is then a few bytes. A redraw
//! prints the rows as they are; a width change lays them out again
//! ([`crate::resize_with`]).
//!
//! The rows' text sits end to end in blocks of [`BLOCK`] bytes, each row described by 16
//! bytes: no allocation per row, so a long-lived history does not scatter small
//! allocations across the heap, and a block is freed when its last row goes. Memory is
//! at most the text kept, two blocks, and 16 bytes a row.

use std::collections::VecDeque;

use vt100::capture::{BasicFormattedCaptureState, RowContents};

/// The size of a block of row text (a row longer than that gets a block of its own).
/// Large enough that the allocator maps each on its own, away from the heap.
pub const BLOCK: usize = 128 << 10;

/// One row that scrolled off: its text from plain attributes on, and whether the line
/// goes on in the next row (a soft wrap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row<'a> {
    /// The cells as text with SGR sequences, starting from plain attributes.
    pub text: &'a str,
    /// Whether the next row continues this line.
    pub wrapped: bool,
}

/// Where a row's text is: block number (counted from the first block ever), offset and
/// length in it.
#[derive(Clone, Copy, Debug)]
struct Slot {
    block: u32,
    start: u32,
    len: u32,
    wrapped: bool,
}

#[derive(Debug)]
struct Block {
    text: String,
    /// Rows whose text is in this block and still kept.
    rows: usize,
}

/// The newest rows that scrolled off a screen, at most `max_rows` of them and at most
/// `max_bytes` of text.
#[derive(Debug)]
pub struct History {
    blocks: VecDeque<Block>,
    /// The number of the first block in `blocks`.
    first_block: u32,
    rows: VecDeque<Slot>,
    bytes: usize,
    max_rows: usize,
    max_bytes: usize,
    /// Where a row is written before it is kept.
    scratch: String,
}

impl History {
    /// An empty history that keeps `max_rows` rows and `max_bytes` bytes of text at most.
    pub fn new(max_rows: usize, max_bytes: usize) -> Self {
        Self {
            blocks: VecDeque::new(),
            first_block: 0,
            rows: VecDeque::new(),
            bytes: 0,
            max_rows,
            max_bytes,
            scratch: String::new(),
        }
    }

    /// An empty history with the same limits.
    pub fn empty_like(&self) -> Self {
        Self::new(self.max_rows, self.max_bytes)
    }

    /// Keeps the row that just scrolled off, dropping the oldest ones over the limits.
    pub fn push(&mut self, contents: &RowContents<'_>) {
        if self.max_rows == 0 {
            return;
        }
        let mut state = BasicFormattedCaptureState::new();
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        // Writing to a String never fails.
        let _ = contents.write_formatted_basic(&mut text, &mut state);
        // vt100 tells whether the row wraps only by the line break it writes before the
        // next row: ask it for that much of the row again.
        let mut probe = FirstChar(None);
        let _ = contents.write_formatted_basic(&mut probe, &mut state);
        self.push_row(&text, probe.0 != Some('\n'));
        self.scratch = text;
    }

    /// Keeps a row of `text` as the newest, dropping the oldest ones over the limits.
    pub fn push_row(&mut self, text: &str, wrapped: bool) {
        if self.max_rows == 0 || text.len() > self.max_bytes {
            return;
        }
        let fits = self
            .blocks
            .back()
            .is_some_and(|b| b.text.capacity() - b.text.len() >= text.len());
        if !fits {
            self.blocks.push_back(Block {
                text: String::with_capacity(BLOCK.max(text.len())),
                rows: 0,
            });
        }
        let block = self.first_block + self.blocks.len() as u32 - 1;
        let Some(last) = self.blocks.back_mut() else {
            return;
        };
        let slot = Slot {
            block,
            start: last.text.len() as u32,
            len: text.len() as u32,
            wrapped,
        };
        last.text.push_str(text);
        last.rows += 1;
        self.rows.push_back(slot);
        self.bytes += text.len();
        while self.rows.len() > self.max_rows || self.bytes > self.max_bytes {
            self.pop_oldest();
        }
    }

    fn pop_oldest(&mut self) {
        let Some(slot) = self.rows.pop_front() else {
            return;
        };
        self.bytes -= slot.len as usize;
        let i = (slot.block - self.first_block) as usize;
        if let Some(b) = self.blocks.get_mut(i) {
            b.rows -= 1;
        }
        // A block goes once none of its rows is kept and nothing more is written to it.
        while self.blocks.len() > 1 && self.blocks.front().is_some_and(|b| b.rows == 0) {
            self.blocks.pop_front();
            self.first_block += 1;
        }
    }

    /// Forgets every row.
    pub fn clear(&mut self) {
        self.blocks.clear();
        self.rows.clear();
        self.first_block = 0;
        self.bytes = 0;
    }

    /// How many rows it keeps.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether it keeps no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The bytes of text it keeps.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The bytes it has allocated: its blocks and the description of each row.
    pub fn memory(&self) -> usize {
        let blocks: usize = self.blocks.iter().map(|b| b.text.capacity()).sum();
        blocks + self.rows.capacity() * std::mem::size_of::<Slot>()
    }

    /// The rows, oldest first.
    pub fn rows(&self) -> impl DoubleEndedIterator<Item = Row<'_>> + ExactSizeIterator {
        self.rows.iter().map(|slot| {
            let block = &self.blocks[(slot.block - self.first_block) as usize];
            let start = slot.start as usize;
            Row {
                text: block
                    .text
                    .get(start..start + slot.len as usize)
                    .unwrap_or_default(),
                wrapped: slot.wrapped,
            }
        })
    }

    /// Writes the rows, oldest first, as output that prints them again on a screen of
    /// any width: each from plain attributes, a wrapped row running on into the next.
    /// `sink` gets pieces of about 64 KiB.
    pub fn print(&self, mut sink: impl FnMut(&[u8])) {
        let mut buf = String::new();
        for row in self.rows() {
            buf.push_str("\x1b[0m");
            buf.push_str(row.text);
            if !row.wrapped {
                buf.push_str("\x1b[0m\r\n");
            }
            if buf.len() >= 64 << 10 {
                sink(buf.as_bytes());
                buf.clear();
            }
        }
        buf.push_str("\x1b[0m");
        sink(buf.as_bytes());
    }
}

impl vt100::Callbacks for History {
    fn on_scroll(&mut self, contents: RowContents<'_>, alternate_screen: bool) {
        // As in xterm, the alternate screen keeps no history.
        if !alternate_screen {
            self.push(&contents);
        }
    }
}

/// A writer that keeps the first character written and then stops the writing.
struct FirstChar(Option<char>);

impl std::fmt::Write for FirstChar {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 = s.chars().next();
        Err(std::fmt::Error)
    }
}
