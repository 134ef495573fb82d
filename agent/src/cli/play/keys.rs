//! The keys `vibemesh play` obeys while it plays to a terminal, as `asciinema play`
//! binds them (space, `.`, `]`, Ctrl-C), plus the right arrow of asciinema's web player
//! and `q`.

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Space: pause, or resume.
    Pause,
    /// `.`: while paused, play the next output event.
    Step,
    /// `]`: play up to the next marker and pause there.
    NextMarker,
    /// Right arrow: skip 5 seconds ahead.
    Forward,
    /// `q` or Ctrl-C.
    Quit,
}

/// How far the right arrow skips, in seconds of the recording.
pub const FORWARD_SECS: f64 = 5.0;

/// The keys in a chunk of typed bytes (anything else is ignored).
pub fn decode(bytes: &[u8]) -> Vec<Key> {
    let mut keys = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let key = match bytes[i] {
            b' ' => Some(Key::Pause),
            b'.' => Some(Key::Step),
            b']' => Some(Key::NextMarker),
            b'q' | b'Q' | 0x03 => Some(Key::Quit),
            // Right arrow: CSI C, or SS3 C in application cursor mode.
            0x1b if matches!(bytes.get(i + 1..i + 3), Some(b"[C" | b"OC")) => {
                i += 2;
                Some(Key::Forward)
            }
            _ => None,
        };
        keys.extend(key);
        i += 1;
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_keys_and_arrows_and_ignores_the_rest() {
        assert_eq!(
            decode(b" .x]\x1b[C\x1bOC\x1b[Dq\x03"),
            [
                Key::Pause,
                Key::Step,
                Key::NextMarker,
                Key::Forward,
                Key::Forward,
                Key::Quit,
                Key::Quit
            ]
        );
        assert!(decode(b"\x1b").is_empty());
    }
}
