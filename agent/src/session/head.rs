//! The start of a session's output, kept for its first attach.
//!
//! `vibemesh open box -- make test` creates the session and then attaches: whatever the
//! program printed in between would reach the user only as a screen snapshot (the last
//! screenful and some scrollback), so the start of a build log went missing. Instead the
//! holder keeps every byte the program prints from its first one until the first
//! interactive attach claims them ([`Head::claim`]); that attach begins with exactly what
//! the program wrote, in order, as if it had been attached from the start. Later attaches
//! (and a claim that comes too late) get the usual snapshot.
//!
//! Memory is bounded: past [`HEAD_LIMIT`] the head stops growing and counts what it
//! missed; the replay then shows the first part, says how much is not shown, and goes on
//! with the screen as it is now (and its scrollback), so the terminal still ends up
//! right.

/// The most bytes of output kept for the first attach.
pub const HEAD_LIMIT: usize = 4 << 20;

/// Plain colours and a fresh line before a line of our own.
const NOTICE_START: &[u8] = b"\x1b[0m\r\n";

/// Output since the program started, until the first attach claims it.
#[derive(Debug, Default)]
pub struct Head {
    /// `None` once claimed: output is no longer kept.
    kept: Option<Vec<u8>>,
    /// Bytes printed after the head was full.
    missed: u64,
}

/// What a claimed head holds.
#[derive(Debug)]
pub struct Claimed {
    /// The output from the first byte (up to the limit).
    pub bytes: Vec<u8>,
    /// Bytes printed after those that are not in `bytes`; when not zero, the screen as it
    /// is now must follow [`Claimed::notice`].
    pub missed: u64,
}

impl Head {
    /// A head that keeps output from now on.
    pub fn new() -> Self {
        Self {
            kept: Some(Vec::new()),
            missed: 0,
        }
    }

    /// Keeps `chunk` (what fits), unless the head was claimed.
    pub fn record(&mut self, chunk: &[u8]) {
        let Some(kept) = self.kept.as_mut() else {
            return;
        };
        if self.missed > 0 {
            self.missed += chunk.len() as u64;
            return;
        }
        let room = HEAD_LIMIT - kept.len();
        if chunk.len() <= room {
            kept.extend_from_slice(chunk);
            return;
        }
        kept.extend_from_slice(&chunk[..room]);
        // End at a line break, so the notice does not land inside a line or an escape
        // sequence; what is cut off counts as missed.
        let end = kept.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        self.missed = (kept.len() - end + chunk.len() - room) as u64;
        kept.truncate(end);
    }

    /// Takes what was kept, once: `None` when it was claimed before.
    pub fn claim(&mut self) -> Option<Claimed> {
        self.kept.take().map(|bytes| Claimed {
            bytes,
            missed: std::mem::take(&mut self.missed),
        })
    }
}

impl Claimed {
    /// The line that stands between the kept start and the screen of now, when output
    /// was missed.
    pub fn notice(&self) -> Vec<u8> {
        let mut line = NOTICE_START.to_vec();
        line.extend_from_slice(
            format!(
                "[vibemesh: {} more bytes of output came before this attach than are kept \
                 ({} MiB); the screen as it is now follows]\r\n",
                self.missed,
                HEAD_LIMIT >> 20
            )
            .as_bytes(),
        );
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_until_claimed_once() {
        let mut h = Head::new();
        h.record(b"1\r\n");
        h.record(b"2\r\n");
        let c = h.claim().expect("first claim");
        assert_eq!(c.bytes, b"1\r\n2\r\n");
        assert_eq!(c.missed, 0);
        h.record(b"3\r\n");
        assert!(h.claim().is_none(), "a head is claimed once");
    }

    #[test]
    fn stops_at_the_limit_on_a_line_break_and_counts_the_rest() {
        let mut h = Head::new();
        let line = b"0123456789abcde\n";
        for _ in 0..HEAD_LIMIT / line.len() {
            h.record(line);
        }
        h.record(b"partial line without end");
        h.record(b"more");
        let c = h.claim().unwrap();
        assert_eq!(c.bytes.len(), HEAD_LIMIT);
        assert!(c.bytes.ends_with(b"\n"));
        assert_eq!(c.missed, 28);
        let mut h = Head::new();
        h.record(&vec![b'x'; HEAD_LIMIT - 3]);
        h.record(b"\nabcdef");
        let c = h.claim().unwrap();
        assert_eq!(c.bytes.len(), HEAD_LIMIT - 2);
        assert_eq!(c.missed, 6);
        assert!(String::from_utf8_lossy(&c.notice()).contains("6 more bytes"));
    }
}
