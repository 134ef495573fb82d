//! Checks that `seq` output arrived whole: every line one more than the line before.
//!
//! A re-snapshot legitimately skips output, so after one the checker resynchronises on
//! the next complete line. Any other jump is output the agent dropped without telling
//! the viewer, and any step back is output it sent twice.

/// The running state of the check.
#[derive(Debug, Clone)]
pub struct SeqCheck {
    /// The number the next line should hold; `None` while resynchronising.
    next: Option<u64>,
    acc: u64,
    digits: u32,
    /// The current line is not a plain number (or started before a resync).
    skip_line: bool,
    /// The verdict so far.
    pub verdict: SeqVerdict,
}

/// What the check found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqVerdict {
    /// Numbered lines seen.
    pub lines: u64,
    /// Places where lines were missing with no re-snapshot to account for it.
    pub gaps: u32,
    /// Lines missing at those places.
    pub lines_lost: u64,
    /// Places where a number repeated or went backwards (output sent twice).
    pub repeats: u32,
}

impl SeqVerdict {
    /// True when nothing was lost or repeated silently.
    pub fn ok(&self) -> bool {
        self.gaps == 0 && self.repeats == 0
    }
}

impl Default for SeqCheck {
    fn default() -> Self {
        Self {
            next: Some(1),
            acc: 0,
            digits: 0,
            skip_line: false,
            verdict: SeqVerdict::default(),
        }
    }
}

impl SeqCheck {
    /// Checks the next chunk of output.
    pub fn feed(&mut self, chunk: &[u8]) {
        for &c in chunk {
            match c {
                b'0'..=b'9' => {
                    self.acc = self.acc.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                    self.digits += 1;
                }
                b'\r' => {}
                b'\n' => {
                    if !self.skip_line && self.digits > 0 {
                        self.line(self.acc);
                    }
                    self.acc = 0;
                    self.digits = 0;
                    self.skip_line = false;
                }
                _ => self.skip_line = true,
            }
        }
    }

    /// The stream restarted (a snapshot came): accept whatever line comes next.
    pub fn resync(&mut self) {
        self.next = None;
        self.acc = 0;
        self.digits = 0;
        self.skip_line = true;
    }

    fn line(&mut self, n: u64) {
        let v = &mut self.verdict;
        v.lines += 1;
        match self.next {
            Some(want) if n > want => {
                v.gaps += 1;
                v.lines_lost += n - want;
            }
            Some(want) if n < want => v.repeats += 1,
            _ => {}
        }
        self.next = Some(n + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_split_lost_and_repeated_output() {
        let mut c = SeqCheck::default();
        c.feed(b"1\r\n2\r\n3");
        c.feed(b"\r\n4\r\n");
        assert_eq!(c.verdict.lines, 4);
        assert!(c.verdict.ok());
        c.feed(b"9\r\n10\r\n");
        assert_eq!((c.verdict.gaps, c.verdict.lines_lost), (1, 4));
        c.feed(b"10\r\n11\r\n");
        assert_eq!(c.verdict.repeats, 1);
        c.resync();
        c.feed(b"\x1b[H\x1b[2J99\r\n500\r\n501\r\n__DONE__\r\n");
        assert_eq!((c.verdict.gaps, c.verdict.repeats), (1, 1));
    }
}
