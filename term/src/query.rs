//! The queries a program sends its terminal, found in its output and answered once.
//!
//! A session can have any number of viewers (the desktop, browsers, CLIs in real
//! terminals), and each would answer a query it saw: the program would read several
//! replies, or none when nobody watches. So the session side answers, from its own
//! screen, at the exact point in the output where the query was, and [`QueryFilter`]
//! removes the answered queries from what the viewers get (as tmux does).
//!
//! The filter is a small streaming state machine: it holds back at most the few bytes
//! of a sequence that may still become a query ([`QUERY_MAX`]), and nothing else, so a
//! sequence split across reads is still found and output is never delayed.

use std::fmt::Write as _;

/// A query [`answer`] replies to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Query {
    /// DSR `CSI 5 n`: is the terminal OK.
    Status,
    /// CPR `CSI 6 n`: where the cursor is.
    CursorPosition,
    /// DECXCPR `CSI ? 6 n`: where the cursor is, the DEC way.
    DecCursorPosition,
    /// DA1 `CSI c` or `CSI 0 c`: what kind of terminal this is.
    PrimaryAttributes,
    /// DA2 `CSI > c` or `CSI > 0 c`: its model and version.
    SecondaryAttributes,
    /// XTVERSION `CSI > q` or `CSI > 0 q`: its name and version.
    Version,
    /// OSC 10, 11 or 12 `?`: the default foreground, background or cursor colour;
    /// `st` is whether the query ended with ST (`ESC \`) rather than BEL, and the answer
    /// ends the same way.
    Colour {
        /// 10 (foreground), 11 (background) or 12 (cursor).
        which: u8,
        /// Ended with ST rather than BEL.
        st: bool,
    },
}

/// Every query, spelled out as it arrives (after its ESC). None is the start of
/// another, so the first that a sequence starts is the one it may become.
pub(crate) const QUERIES: &[(&[u8], Query)] = &[
    (b"[5n", Query::Status),
    (b"[6n", Query::CursorPosition),
    (b"[?6n", Query::DecCursorPosition),
    (b"[c", Query::PrimaryAttributes),
    (b"[0c", Query::PrimaryAttributes),
    (b"[>c", Query::SecondaryAttributes),
    (b"[>0c", Query::SecondaryAttributes),
    (b"[>q", Query::Version),
    (b"[>0q", Query::Version),
    (
        b"]10;?\x07",
        Query::Colour {
            which: 10,
            st: false,
        },
    ),
    (
        b"]11;?\x07",
        Query::Colour {
            which: 11,
            st: false,
        },
    ),
    (
        b"]12;?\x07",
        Query::Colour {
            which: 12,
            st: false,
        },
    ),
    (
        b"]10;?\x1b\\",
        Query::Colour {
            which: 10,
            st: true,
        },
    ),
    (
        b"]11;?\x1b\\",
        Query::Colour {
            which: 11,
            st: true,
        },
    ),
    (
        b"]12;?\x1b\\",
        Query::Colour {
            which: 12,
            st: true,
        },
    ),
];

/// The most bytes the filter holds back: the longest query with its ESC.
pub const QUERY_MAX: usize = 8;

/// The default foreground colour answered to OSC 10: the desktop's dark theme.
pub const DEFAULT_FG: (u8, u8, u8) = (0xd4, 0xd4, 0xd4);
/// The default background colour answered to OSC 11: the desktop's dark theme.
pub const DEFAULT_BG: (u8, u8, u8) = (0x1e, 0x1e, 0x1e);
/// The cursor colour answered to OSC 12: the desktop's dark theme.
pub const DEFAULT_CURSOR: (u8, u8, u8) = (0xae, 0xaf, 0xad);

/// Finds queries in a stream of output and takes them out (see the module docs).
#[derive(Default, Debug)]
pub struct QueryFilter {
    /// The start of a sequence that may still become a query: ESC and what followed.
    pub(crate) held: Vec<u8>,
}

impl QueryFilter {
    /// Appends `input` to `out` without its queries; each query found is pushed to
    /// `found` with the length `out` had where it was. The start of a possible query at
    /// the end of `input` is held back until the next call decides it.
    pub fn filter(&mut self, input: &[u8], out: &mut Vec<u8>, found: &mut Vec<(usize, Query)>) {
        let mut rest = input;
        while !rest.is_empty() {
            if self.held.is_empty() {
                // Outside any sequence: copy up to the next ESC in one go.
                match rest.iter().position(|&b| b == 0x1b) {
                    None => {
                        out.extend_from_slice(rest);
                        return;
                    }
                    Some(i) => {
                        out.extend_from_slice(&rest[..i]);
                        self.held.push(0x1b);
                        rest = &rest[i + 1..];
                    }
                }
                continue;
            }
            let b = rest[0];
            rest = &rest[1..];
            self.held.push(b);
            let body = &self.held[1..];
            // Most sequences stop being a possible query at their first or second byte.
            let mut could_be = QUERIES.iter().filter(|(s, _)| s.starts_with(body));
            if let Some((s, q)) = could_be.next() {
                if s.len() == body.len() {
                    found.push((out.len(), *q));
                    self.held.clear();
                }
            } else {
                // Not a query after all: let it through, and look at its last byte
                // again (it may be the ESC of the next sequence).
                self.held.pop();
                out.append(&mut self.held);
                if b == 0x1b {
                    self.held.push(b);
                } else {
                    out.push(b);
                }
            }
        }
    }

    /// Lets through what is held back (output skipped, or the stream ended).
    pub fn flush(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.held);
    }
}

/// The reply to `q` from a terminal showing `screen`: what the program reads back.
pub fn answer(q: Query, screen: &vt100::Screen) -> Vec<u8> {
    let mut out = String::new();
    let (row, col) = screen.cursor_position();
    // vt100 leaves the cursor one past the last column after printing there.
    let col = col.min(screen.size().1.get() - 1);
    let _ = match q {
        Query::Status => write!(out, "\x1b[0n"),
        Query::CursorPosition => write!(out, "\x1b[{};{}R", row + 1, col + 1),
        Query::DecCursorPosition => write!(out, "\x1b[?{};{}R", row + 1, col + 1),
        // A VT220 with ANSI colour (what xterm says, less its optional features).
        Query::PrimaryAttributes => write!(out, "\x1b[?62;22c"),
        Query::SecondaryAttributes => write!(out, "\x1b[>0;0;0c"),
        Query::Version => write!(out, "\x1bP>|vibemesh {}\x1b\\", env!("CARGO_PKG_VERSION")),
        Query::Colour { which, st } => {
            let (r, g, b) = match which {
                10 => DEFAULT_FG,
                11 => DEFAULT_BG,
                _ => DEFAULT_CURSOR,
            };
            let end = if st { "\x1b\\" } else { "\x07" };
            write!(
                out,
                "\x1b]{which};rgb:{r:02x}{r:02x}/{g:02x}{g:02x}/{b:02x}{b:02x}{end}"
            )
        }
    };
    out.into_bytes()
}
