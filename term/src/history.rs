//! A compact scrollback: the rows that scrolled off a screen, each kept as its text with
//! inline SGR sequences rather than as cells.
//!
//! vt100 keeps scrollback as cells of 32 bytes each: 10,000 rows of 80 columns are 26 MB
//! whatever they show. A session holder keeps its screen with no scrollback of vt100's
//! own and collects each row that leaves it ([`vt100::Callbacks::on_scroll`]) here, in
//! vt100's "basic formatted" form: the text, with an SGR sequence where the attributes
//! change, trailing blanks left out. A row of `seq` output is then a few bytes. A redraw
//! prints the rows as they are; a width change lays them out again ([`crate::resize_with`]).
//!
//! Two things clear the history as they clear vt100's own: `CSI 3 J` (erase saved lines,
//! which `clear` sends) and `ESC c` (full reset). vt100 reports neither to its callbacks,
//! so [`Clears`] finds them in the output.

use std::collections::VecDeque;

use vt100::capture::{BasicFormattedCaptureState, RowContents};

/// One row that scrolled off: its text from plain attributes on, and whether the line
/// goes on in the next row (a soft wrap).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The cells as text with SGR sequences, starting from plain attributes.
    pub text: Box<str>,
    /// Whether the next row continues this line.
    pub wrapped: bool,
}

/// The newest rows that scrolled off a screen, at most `max_rows` of them and at most
/// `max_bytes` of text.
#[derive(Debug)]
pub struct History {
    rows: VecDeque<Row>,
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
        // Written cell by cell into a buffer kept for it, then copied once at its size:
        // growing each row's own string would leave the heap full of holes.
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        // Writing to a String never fails.
        let _ = contents.write_formatted_basic(&mut text, &mut state);
        // vt100 tells whether the row wraps only by the line break it writes before the
        // next row: ask it for that much of the row again.
        let mut probe = FirstChar(None);
        let _ = contents.write_formatted_basic(&mut probe, &mut state);
        let wrapped = probe.0 != Some('\n');
        self.push_row(Row {
            text: text.as_str().into(),
            wrapped,
        });
        self.scratch = text;
    }

    /// Keeps `row` as the newest, dropping the oldest ones over the limits.
    pub fn push_row(&mut self, row: Row) {
        self.bytes += row.text.len();
        self.rows.push_back(row);
        while self.rows.len() > self.max_rows || self.bytes > self.max_bytes {
            let Some(old) = self.rows.pop_front() else {
                break;
            };
            self.bytes -= old.text.len();
        }
    }

    /// Forgets every row.
    pub fn clear(&mut self) {
        self.rows.clear();
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

    /// The bytes of text it keeps (not counting each row's own few bytes).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The rows, oldest first.
    pub fn rows(&self) -> impl DoubleEndedIterator<Item = &Row> + ExactSizeIterator {
        self.rows.iter()
    }

    /// Writes the rows, oldest first, as output that prints them again on a screen of
    /// any width: each from plain attributes, a wrapped row running on into the next.
    /// `sink` gets pieces of about 64 KiB.
    pub fn print(&self, mut sink: impl FnMut(&[u8])) {
        let mut buf = String::new();
        for row in &self.rows {
            buf.push_str("\x1b[0m");
            buf.push_str(&row.text);
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

/// Finds, across reads, the sequences that clear a screen's history: `CSI 3 J` (also as
/// `CSI ? 3 J`) and `ESC c`. It follows the parser's rules as far as these need: a CSI
/// ends at its final byte, CAN and SUB cancel it, ESC starts over.
#[derive(Debug, Default)]
pub struct Clears {
    state: ScanState,
}

#[derive(Debug, Default, Clone, Copy)]
enum ScanState {
    #[default]
    Ground,
    Escape,
    /// In a CSI: its first parameter so far (`None` once it cannot be 3), whether that
    /// parameter is still being read, and whether the sequence can still be ED or DECSED
    /// (no marker but a leading `?`, no intermediate byte).
    Csi {
        first: Option<u16>,
        reading: bool,
        plain: bool,
    },
}

impl Clears {
    /// Reads `bytes` (the next output of the program) and returns the offset just past
    /// the first sequence in it that clears the history, if any; the scan goes on from
    /// there on the next call, with the rest of the bytes.
    pub fn next(&mut self, bytes: &[u8]) -> Option<usize> {
        for (i, &b) in bytes.iter().enumerate() {
            if self.step(b) {
                return Some(i + 1);
            }
        }
        None
    }

    fn step(&mut self, b: u8) -> bool {
        use ScanState::*;
        let (next, found) = match (self.state, b) {
            (_, 0x1b) => (Escape, false),
            (_, 0x18 | 0x1a) => (Ground, false),
            (Ground, _) => (Ground, false),
            (Escape, b'c') => (Ground, true),
            (Escape, b'[') => (
                Csi {
                    first: Some(0),
                    reading: true,
                    plain: true,
                },
                false,
            ),
            (Escape, _) => (Ground, false),
            (
                Csi {
                    first,
                    reading,
                    plain,
                },
                b'0'..=b'9',
            ) => {
                let first = if reading {
                    first.and_then(|n| n.checked_mul(10)?.checked_add(u16::from(b - b'0')))
                } else {
                    first
                };
                (
                    Csi {
                        first,
                        reading,
                        plain,
                    },
                    false,
                )
            }
            (Csi { first, plain, .. }, b';' | b':') => (
                Csi {
                    first,
                    reading: false,
                    plain,
                },
                false,
            ),
            // A leading `?` makes it DECSED, which vt100 treats as ED.
            (
                Csi {
                    first: Some(0),
                    reading: true,
                    plain,
                },
                b'?',
            ) => (
                Csi {
                    first: Some(0),
                    reading: true,
                    plain,
                },
                false,
            ),
            (Csi { first, reading, .. }, 0x20..=0x2f | b'<'..=b'?') => (
                Csi {
                    first,
                    reading,
                    plain: false,
                },
                false,
            ),
            (Csi { first, plain, .. }, 0x40..=0x7e) => {
                (Ground, b == b'J' && first == Some(3) && plain)
            }
            // Other control characters run inside a CSI without ending it.
            (Csi { .. }, _) => (self.state, false),
        };
        self.state = next;
        found
    }
}
