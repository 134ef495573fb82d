//! What the typed bytes are, key by key: a printable character, Backspace, or anything
//! else. An escape sequence (an arrow, a function key, Alt+key) is one key however it is
//! split across reads, and a bracketed paste is one key with all it contains.

/// One key, as far as guessing is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Key {
    /// A printable ASCII character.
    Char(char),
    /// Backspace (DEL or BS).
    Erase,
    /// Anything else: its effect cannot be guessed.
    Other,
}

/// Where the splitter is inside an escape sequence.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Ground,
    /// After ESC.
    Escape,
    /// After ESC O: one more byte.
    Ss3,
    /// After ESC [: parameters up to a final byte.
    Csi,
}

/// Splits typed bytes into keys, keeping its place across calls.
#[derive(Debug, Default)]
pub(super) struct Keys {
    state: State,
    /// The CSI's parameter bytes so far (enough to tell the paste brackets).
    params: Vec<u8>,
    /// Inside a bracketed paste.
    pasting: bool,
}

impl Keys {
    /// The key `b` completes, if any.
    pub(super) fn feed(&mut self, b: u8) -> Option<Key> {
        match self.state {
            State::Ground if b == 0x1b => {
                self.state = State::Escape;
                None
            }
            State::Ground if self.pasting => None,
            State::Ground => Some(match b {
                0x20..=0x7e => Key::Char(char::from(b)),
                0x7f | 0x08 => Key::Erase,
                _ => Key::Other,
            }),
            State::Escape => {
                self.state = match b {
                    b'[' => State::Csi,
                    b'O' => State::Ss3,
                    _ => State::Ground,
                };
                self.params.clear();
                (self.state == State::Ground).then_some(Key::Other)
            }
            State::Ss3 => {
                self.state = State::Ground;
                Some(Key::Other)
            }
            State::Csi if (0x40..=0x7e).contains(&b) => {
                self.state = State::Ground;
                match (self.params.as_slice(), b) {
                    (b"200", b'~') => self.pasting = true,
                    (b"201", b'~') => self.pasting = false,
                    _ => {}
                }
                Some(Key::Other)
            }
            State::Csi => {
                if self.params.len() < 16 {
                    self.params.push(b);
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Key, Keys};

    fn keys(input: &[&[u8]]) -> Vec<Key> {
        let mut k = Keys::default();
        input
            .iter()
            .flat_map(|chunk| chunk.iter().filter_map(|&b| k.feed(b)).collect::<Vec<_>>())
            .collect()
    }

    #[test]
    fn sequences_are_one_key_however_they_are_split() {
        use Key::*;
        assert_eq!(keys(&[b"a\x1b[A", b"b"]), [Char('a'), Other, Char('b')]);
        assert_eq!(keys(&[b"\x1b", b"[1;5", b"C", b"x"]), [Other, Char('x')]);
        assert_eq!(keys(&[b"\x1bOP\x1bx\x7f"]), [Other, Other, Erase]);
        assert_eq!(
            keys(&[b"\x1b[200~ab\r", b"c\x1b[201~d"]),
            [Other, Other, Char('d')]
        );
        assert_eq!(keys(&[b"\r\t\x03"]), [Other, Other, Other]);
    }
}
