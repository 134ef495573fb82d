//! Finding, in a program's output, what erases a terminal's saved lines.
//!
//! vt100 reports neither `CSI 3 J` nor `ESC c` to its callbacks, so a screen whose
//! history is kept outside vt100 ([`crate::History`]) finds them here, to clear it at the
//! same place in the output.

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
