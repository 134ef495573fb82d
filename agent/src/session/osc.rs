//! Bounds the OSC strings of a program's output before the holder's vt100 parses them.
//!
//! vt100's parser (vte, built with `std`) gathers an OSC string (`ESC ] ... BEL`: a
//! title, a clipboard copy) whole in a buffer that grows as long as the string does, and
//! keeps the buffer's capacity afterwards. So a program printing a 100 MB window title
//! would make its holder hold hundreds of MB, for good. [`OscLimit`] stands in front of
//! the parser and drops the bytes of an OSC string past [`OSC_MAX`], keeping its end, so
//! the parser sees a short OSC string and draws the same screen (OSC strings never draw).
//! Viewers still get the program's output exactly as it was: only the holder's own
//! screen is fed through this.
//!
//! It follows vte 0.15's state machine where an OSC string starts and ends:
//! - ESC enters the escape state from any state (and ends an OSC string);
//! - in the escape state `]` starts an OSC string; ESC, DEL, bytes from 0x80 and C0
//!   controls other than CAN and SUB stay in it; anything else leaves it;
//! - an OSC string ends at BEL, CAN, SUB or ESC.

use std::borrow::Cow;

/// The most bytes of one OSC string the holder's parser sees: room for any title (cut
/// to [`vibemesh_core::proto::bounds::TITLE_MAX`] afterwards) and the usual hyperlinks.
pub const OSC_MAX: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// Anything but the two below (vte's ground, CSI, DCS, ... states).
    Other,
    /// Just after ESC.
    Escape,
    /// Inside an OSC string, this many bytes into it.
    Osc(usize),
}

/// Cuts OSC strings short on their way into a parser; keeps its state between chunks.
#[derive(Debug)]
pub struct OscLimit {
    state: State,
    max: usize,
}

impl Default for OscLimit {
    fn default() -> Self {
        Self::new(OSC_MAX)
    }
}

impl OscLimit {
    /// A limit of `max` bytes per OSC string.
    pub fn new(max: usize) -> Self {
        Self {
            state: State::Other,
            max,
        }
    }

    /// `bytes` without what lies past the limit inside OSC strings; borrowed when
    /// nothing is dropped (all but the rarest chunks).
    pub fn filter<'a>(&mut self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let mut out: Option<Vec<u8>> = None;
        let mut i = 0;
        while i < bytes.len() {
            if self.state == State::Other {
                // Nothing to do until the next ESC.
                let n = bytes[i..]
                    .iter()
                    .position(|&b| b == 0x1b)
                    .unwrap_or(bytes.len() - i);
                if let Some(o) = out.as_mut() {
                    o.extend_from_slice(&bytes[i..i + n]);
                }
                i += n;
                if i == bytes.len() {
                    break;
                }
            }
            let keep = self.step(bytes[i]);
            match (&mut out, keep) {
                (Some(o), true) => o.push(bytes[i]),
                (None, false) => out = Some(bytes[..i].to_vec()),
                _ => {}
            }
            i += 1;
        }
        match out {
            Some(o) => Cow::Owned(o),
            None => Cow::Borrowed(bytes),
        }
    }

    /// Moves on by one byte; whether the parser gets it.
    fn step(&mut self, b: u8) -> bool {
        let (next, keep) = match (self.state, b) {
            (_, 0x1b) => (State::Escape, true),
            (State::Escape, b']') => (State::Osc(0), true),
            (State::Escape, 0x18 | 0x1a) => (State::Other, true),
            (State::Escape, 0x00..=0x1f | 0x7f..=0xff) => (State::Escape, true),
            (State::Osc(_), 0x07 | 0x18 | 0x1a) => (State::Other, true),
            (State::Osc(n), _) if n < self.max => (State::Osc(n + 1), true),
            (State::Osc(n), _) => (State::Osc(n), false),
            (State::Escape | State::Other, _) => (State::Other, true),
        };
        self.state = next;
        keep
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Titles(Vec<Vec<u8>>);

    impl vt100::Callbacks for Titles {
        fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
            self.0.push(title.to_vec());
        }
    }

    fn parser() -> vt100::Parser<Titles> {
        let n = |v| std::num::NonZeroU16::new(v).unwrap();
        vt100::Parser::new_with_callbacks(n(8), n(30), 20, Titles::default())
    }

    #[test]
    fn a_huge_title_is_cut_and_what_follows_is_kept() {
        let mut limit = OscLimit::new(10);
        let mut p = parser();
        let mut input = b"before\x1b]0;".to_vec();
        input.extend(std::iter::repeat_n(b'T', 100_000));
        input.extend_from_slice(b"\x07after");
        // In pieces, as a PTY delivers it.
        for chunk in input.chunks(4096) {
            p.process(&limit.filter(chunk));
        }
        assert_eq!(p.callbacks().0, vec![b"TTTTTTTT".to_vec()]);
        assert_eq!(p.screen().contents(), "beforeafter");
        // Short ones pass untouched, borrowed.
        let plain = b"\x1b]2;ok\x1b\\x";
        assert!(matches!(limit.filter(plain), Cow::Borrowed(_)));
    }

    /// Random output: with a tiny limit the screen is exactly the screen without it,
    /// so the limit never drops a byte vte would draw (it tracks vte's states exactly).
    #[test]
    fn the_screen_never_changes() {
        const ALPHABET: &[u8] =
            b"\x1b\x1b\x1b]]]]\x07\x18\x1a\x7f\x9c\x90\xe2\x82\xac;0aZ[P\\^_X \r\n\x08\x05mH";
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..300 {
            let len = (next() % 3000) as usize;
            let input: Vec<u8> = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            let (mut plain, mut cut) = (parser(), parser());
            let mut limit = OscLimit::new(2);
            for chunk in input.chunks(1 + (next() % 64) as usize) {
                plain.process(chunk);
                cut.process(&limit.filter(chunk));
            }
            assert_eq!(
                plain.screen().contents_formatted(),
                cut.screen().contents_formatted(),
                "{input:?}"
            );
        }
    }
}
