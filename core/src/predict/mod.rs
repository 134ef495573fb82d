//! Predictive local echo: what a terminal front end may draw before a session echoes
//! what was typed, and when to take it back. One engine for the CLI, the desktop and
//! the browser; each front end only shows its [`Predictor::overlay`] on top of its own
//! screen.
//!
//! The approach is mosh's, kept to what is safe without the agent's help:
//! - a printable key is guessed to appear at the cursor, which moves one column on;
//!   Backspace over a character typed on this line is guessed to erase it;
//! - any other key (Enter, Tab, Ctrl keys, arrows, a paste) ends the guessing until the
//!   session has answered: its effect cannot be guessed;
//! - after such a key, or at the start, keys typed are *held*: not drawn, since where
//!   they land is not known (a prompt may be on its way). Once the key's own effect
//!   has shown (the cursor left where it was typed), an echo of the first two held keys
//!   just before the session's cursor anchors the rest there, and from then on each key
//!   is drawn at once. So where nothing is echoed (a password prompt), nothing is drawn;
//! - a guess the session's screen contradicts, or that is not confirmed in time, ends
//!   the guessing: every guess is withdrawn at once, and nothing is guessed again until
//!   everything typed has had time to come back;
//! - nothing is guessed on the alternate screen (full-screen programs move the cursor as
//!   they please), in the last column (where the line would wrap), over text already on
//!   the line (typing in its middle shifts it), or across a resize.
//!
//! Guesses are drawn only when the round trip is long enough to matter ([`Mode::Auto`]:
//! above 30 ms, off again below 20 ms), underlined until confirmed.

mod keys;

use std::{collections::VecDeque, time::Duration};

use keys::{Key, Keys};

/// What the engine needs to know of a front end's screen, after it applied the output
/// received so far. Rows and columns count from 0.
pub trait Screen {
    /// Rows and columns.
    fn size(&self) -> (u16, u16);
    /// Where the session's cursor is.
    fn cursor(&self) -> (u16, u16);
    /// The character shown at a cell; `None` or `' '` for a blank one.
    fn char_at(&self, row: u16, col: u16) -> Option<char>;
    /// Whether a full-screen program has switched to the alternate screen.
    fn alternate_screen(&self) -> bool;
}

/// When guesses are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Mode {
    /// When the round trip is long enough to notice (above 30 ms).
    #[default]
    Auto,
    /// Always, on any link.
    Always,
    /// Never.
    Never,
}

impl Mode {
    /// Whether guesses could be drawn on a link whose round trip is at most `bound`
    /// (an exchange that took that long, say): a front end that pays to follow the
    /// screen for the engine can skip it when they never could be.
    pub fn may_draw(self, bound: Duration) -> bool {
        match self {
            Mode::Always => true,
            Mode::Never => false,
            Mode::Auto => bound >= HIDE_BELOW,
        }
    }
}

/// Round trips above this turn drawing on ([`Mode::Auto`]).
const SHOW_ABOVE: Duration = Duration::from_millis(30);
/// ...and below this turn it off again, so a round trip near the line does not flicker.
const HIDE_BELOW: Duration = Duration::from_millis(20);
/// The least time a guess waits for its echo before it counts as wrong.
const MIN_PATIENCE: Duration = Duration::from_millis(250);
/// How long a key waits for its echo before any round trip is known: long enough for
/// the slowest links this is for, so the first keys can time one.
const FIRST_PATIENCE: Duration = Duration::from_secs(1);

/// One cell the front end draws over its screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// Its row.
    pub row: u16,
    /// Its column.
    pub col: u16,
    /// The character to draw; `' '` for an erased cell.
    pub ch: char,
    /// Drawn underlined: not confirmed yet.
    pub underline: bool,
}

/// What to draw over the screen now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overlay {
    /// The guessed cells, in the order they were typed.
    pub cells: Vec<Cell>,
    /// Where the cursor is guessed to be, if any guess is drawn.
    pub cursor: Option<(u16, u16)>,
}

/// Echoed keys that anchor the held ones: one could be the prompt's own last character.
const ANCHOR_KEYS: usize = 2;

/// A guessed cell, not confirmed yet.
#[derive(Debug, Clone, Copy)]
struct Guess {
    row: u16,
    col: u16,
    /// `' '` for Backspace's erase.
    ch: char,
    /// Backspace's: the session's cursor comes back onto the cell, not past it.
    erase: bool,
    /// It replaced an earlier guess for the cell: until every key is echoed, the screen
    /// may show what an earlier one did there.
    replaced: bool,
    /// What the cell to its left will show once it is echoed (`' '` for blank): if the
    /// screen shows something else there, the line moved under it (scrolled, erased,
    /// redrawn) and the guess is stale.
    left: char,
    made: Duration,
}

/// When held keys may be anchored.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Barrier {
    /// Once their echo shows.
    #[default]
    Free,
    /// Once the session's cursor has left this cell, where the last key that could not be
    /// guessed was typed: its effect has arrived.
    At((u16, u16)),
    /// Not before then, and not while keys come: what was typed last is unknown (after
    /// a misprediction, say), so nothing is held or guessed until all of it is back.
    Blind(Duration),
}

/// The prediction state of one attached terminal.
#[derive(Debug, Default)]
pub struct Predictor {
    mode: Mode,
    rtt: Option<Duration>,
    showing: bool,
    keys: Keys,
    /// The screen's size when last seen.
    size: Option<(u16, u16)>,
    barrier: Barrier,
    /// The session echoed what was typed where it was guessed: new keys are guessed.
    anchored: bool,
    /// Printable keys typed while not anchored, and when.
    held: Vec<(char, Duration)>,
    guesses: VecDeque<Guess>,
    /// Where the cursor will be once every guess is echoed; `None` when no guess waits.
    cursor: Option<(u16, u16)>,
    /// Printable keys typed on this line since anchoring: how far Backspace may be
    /// guessed (never into the prompt).
    typed: u16,
    mispredictions: u64,
}

impl Predictor {
    /// A predictor in `mode`, with no round trip known yet (nothing is drawn in
    /// [`Mode::Auto`] until one is).
    pub fn new(mode: Mode) -> Self {
        Self {
            mode,
            showing: mode == Mode::Always,
            ..Self::default()
        }
    }

    /// Sets when guesses are drawn.
    pub fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
        self.update_showing();
    }

    /// The connection's current round trip, where the front end knows it from its
    /// transport. The engine also times the echo of each key it matched on the screen
    /// (a confirmed guess, the held keys that anchored), smoothed as TCP smooths its
    /// round trip (7/8 old, 1/8 new): front ends need not know it.
    pub fn set_rtt(&mut self, rtt: Duration) {
        self.rtt = Some(rtt);
        self.update_showing();
    }

    /// The round trip guesses are drawn by: set, or timed from the echo.
    pub fn rtt(&self) -> Option<Duration> {
        self.rtt
    }

    /// A key typed at `typed` was seen echoed at `now`.
    fn sample_echo(&mut self, typed: Duration, now: Duration) {
        let sample = now.saturating_sub(typed);
        self.rtt = Some(match self.rtt {
            None => sample,
            Some(rtt) => (rtt * 7 + sample) / 8,
        });
        self.update_showing();
    }

    /// Whether guesses are drawn now: for the status line.
    pub fn active(&self) -> bool {
        self.showing
    }

    /// How many times drawn guesses were withdrawn: the screen contradicted one, or it
    /// was not confirmed in time.
    pub fn mispredictions(&self) -> u64 {
        self.mispredictions
    }

    fn update_showing(&mut self) {
        self.showing = match (self.mode, self.rtt) {
            (Mode::Always, _) => true,
            (Mode::Never, _) | (Mode::Auto, None) => false,
            (Mode::Auto, Some(rtt)) if rtt > SHOW_ABOVE => true,
            (Mode::Auto, Some(rtt)) if rtt < HIDE_BELOW => false,
            (Mode::Auto, Some(_)) => self.showing,
        };
    }

    /// The user typed `bytes` (what is about to be sent to the session) at `now`, with
    /// `screen` as received so far.
    pub fn typed(&mut self, bytes: &[u8], screen: &impl Screen, now: Duration) {
        self.check(screen, now);
        for &b in bytes {
            let Some(key) = self.keys.feed(b) else {
                continue;
            };
            if screen.alternate_screen() {
                self.clear();
                continue;
            }
            if let Barrier::Blind(until) = self.barrier {
                if now < until {
                    self.barrier = Barrier::Blind(until.max(now + self.patience()));
                    continue;
                }
                self.barrier = Barrier::Free;
            }
            match key {
                Key::Char(ch) if self.anchored => self.guess_char(ch, screen, now),
                Key::Char(ch) => self.hold(ch, screen, now),
                Key::Erase if self.anchored => self.guess_erase(screen, now),
                Key::Erase | Key::Other => self.stop(screen, now),
            }
        }
    }

    /// A resize moves what is on the screen: nothing guessed before it holds.
    /// With nothing waiting, the line is only anchored again from its next echo: a
    /// page fitting its terminal as it opens must not blind the first keys typed.
    fn check(&mut self, screen: &impl Screen, now: Duration) {
        let size = screen.size();
        if self.size.is_some_and(|s| s != size) {
            if self.guesses.is_empty() && self.held.is_empty() {
                self.clear();
            } else {
                self.withdraw(now);
            }
        }
        self.size = Some(size);
    }

    /// Holds a key typed while not anchored, until an echo shows where keys land.
    fn hold(&mut self, ch: char, screen: &impl Screen, now: Duration) {
        if self.held.len() >= usize::from(screen.size().1) {
            return self.stop(screen, now);
        }
        self.held.push((ch, now));
    }

    fn guess_char(&mut self, ch: char, screen: &impl Screen, now: Duration) {
        let (_, cols) = screen.size();
        let (row, col) = self.cursor.unwrap_or_else(|| screen.cursor());
        // Over text already there, the line would shift: only a blank cell, the same
        // character, or a cell of our own guesses.
        let free = match screen.char_at(row, col) {
            None | Some(' ') => true,
            Some(c) => c == ch || self.guesses.iter().any(|g| (g.row, g.col) == (row, col)),
        };
        if col + 1 >= cols || !free {
            return self.stop(screen, now);
        }
        self.push(Guess {
            row,
            col,
            ch,
            erase: false,
            replaced: false,
            left: self.left_of(row, col, screen),
            made: now,
        });
        self.cursor = Some((row, col + 1));
        self.typed += 1;
    }

    fn guess_erase(&mut self, screen: &impl Screen, now: Duration) {
        let (row, col) = self.cursor.unwrap_or_else(|| screen.cursor());
        if self.typed == 0 || col == 0 {
            return self.stop(screen, now);
        }
        let col = col - 1;
        self.push(Guess {
            row,
            col,
            ch: ' ',
            erase: true,
            replaced: false,
            left: self.left_of(row, col, screen),
            made: now,
        });
        self.cursor = Some((row, col));
        self.typed -= 1;
    }

    /// What the cell left of `(row, col)` will show once every guess is echoed.
    fn left_of(&self, row: u16, col: u16, screen: &impl Screen) -> char {
        let Some(left) = col.checked_sub(1) else {
            return ' ';
        };
        match self
            .guesses
            .iter()
            .rev()
            .find(|g| (g.row, g.col) == (row, left))
        {
            Some(g) => g.ch,
            None => screen.char_at(row, left).unwrap_or(' '),
        }
    }

    fn push(&mut self, mut guess: Guess) {
        // A later guess for the same cell replaces an earlier one (a character typed
        // over one erased).
        let before = self.guesses.len();
        self.guesses
            .retain(|g| (g.row, g.col) != (guess.row, guess.col));
        guess.replaced = self.guesses.len() < before;
        self.guesses.push_back(guess);
    }

    /// Ends the guessing after a key whose effect cannot be guessed. Keys typed next
    /// are held until the key's effect and then their echo have shown. The guesses made
    /// before it stay until their echo confirms them (it comes before the key's effect).
    fn stop(&mut self, screen: &impl Screen, now: Duration) {
        self.barrier = if self.anchored {
            // Every key so far was guessed: the key was typed where the guesses end.
            Barrier::At(self.cursor.unwrap_or_else(|| screen.cursor()))
        } else if !self.held.is_empty() {
            // Held keys before it landed who knows where.
            Barrier::Blind(now + self.patience())
        } else if self.barrier == Barrier::Free {
            Barrier::At(screen.cursor())
        } else {
            self.barrier
        };
        self.anchored = false;
        self.held.clear();
        self.cursor = None;
        self.typed = 0;
    }

    /// Forgets every guess and held key.
    fn clear(&mut self) {
        self.anchored = false;
        self.held.clear();
        self.guesses.clear();
        self.cursor = None;
        self.typed = 0;
    }

    /// Withdraws every guess, and guesses nothing until all typed so far is back.
    fn withdraw(&mut self, now: Duration) {
        if self.showing && !self.guesses.is_empty() {
            self.mispredictions += 1;
        }
        self.clear();
        self.barrier = Barrier::Blind(now + self.patience());
    }

    /// The session's output up to `now` has been applied to `screen`: confirm the
    /// guesses it shows, withdraw every guess if it contradicts one.
    pub fn output(&mut self, screen: &impl Screen, now: Duration) {
        self.check(screen, now);
        if screen.alternate_screen() {
            return self.clear();
        }
        if let Barrier::Blind(until) = self.barrier {
            if now < until {
                return;
            }
            self.barrier = Barrier::Free;
        }
        let cursor = screen.cursor();
        while let Some(&g) = self.guesses.front() {
            let cell = (g.row, g.col);
            // Echoed: a character leaves the cursor past its cell, Backspace on it.
            let echoed = if g.erase {
                cursor <= cell
            } else {
                cursor > cell
            };
            if echoed && screen.char_at(g.row, g.col).unwrap_or(' ') == g.ch {
                self.guesses.pop_front();
                if !g.replaced {
                    self.sample_echo(g.made, now);
                }
                continue;
            }
            // The session wrote past the cell, or moved up, without showing the guess:
            // it did something else with the key. (An ignored Backspace shows nothing,
            // and a cell typed over may show an earlier key for now: those expire.)
            if !g.erase && !g.replaced && (cursor > cell || cursor.0 < g.row) {
                return self.withdraw(now);
            }
            // Whatever is left of it was echoed before it: if that changed, the line
            // moved (output scrolled it, the program erased or redrew it).
            let pending_left = self
                .guesses
                .iter()
                .any(|o| o.row == g.row && o.col + 1 == g.col);
            if g.col > 0
                && !pending_left
                && screen.char_at(g.row, g.col - 1).unwrap_or(' ') != g.left
            {
                return self.withdraw(now);
            }
            break;
        }
        if self.guesses.is_empty() {
            // Everything guessed is on the screen: guess from the session's own cursor.
            self.cursor = None;
            if matches!(self.barrier, Barrier::At(at) if at != cursor) {
                self.barrier = Barrier::Free;
            }
            if self.barrier == Barrier::Free && !self.held.is_empty() {
                self.anchor(screen, now);
            }
        }
        self.expire(now);
    }

    /// Anchors the held keys if the screen shows the first of them (at least
    /// [`ANCHOR_KEYS`], the most that match) just before its cursor: the rest are
    /// guessed from there on.
    fn anchor(&mut self, screen: &impl Screen, now: Duration) {
        let (row, col) = screen.cursor();
        // A cell with nothing (a wide character's second half) matches no key.
        let before: Vec<Option<char>> = (0..col).map(|c| screen.char_at(row, c)).collect();
        let longest = self.held.len().min(before.len());
        let Some(echoed) = (ANCHOR_KEYS..=longest).rev().find(|&k| {
            before[before.len() - k..]
                .iter()
                .zip(&self.held[..k])
                .all(|(shown, (typed, _))| *shown == Some(*typed))
        }) else {
            return;
        };
        self.sample_echo(self.held[echoed - 1].1, now);
        let rest = self.held.split_off(echoed);
        self.held.clear();
        self.anchored = true;
        self.cursor = None;
        self.typed = u16::try_from(echoed).unwrap_or(u16::MAX);
        for (ch, _) in rest {
            if !self.anchored {
                // A key of the rest could not be guessed: the ones after it are held.
                self.hold(ch, screen, now);
            } else {
                self.guess_char(ch, screen, now);
            }
        }
    }

    /// When [`Predictor::expire`] should next run, if a key waits for its echo: the
    /// oldest guess's, or the newest held key's (typed one per round trip, the first
    /// key of a line is echoed alone, which anchors nothing, and the second comes a
    /// round trip later).
    pub fn deadline(&self) -> Option<Duration> {
        let oldest = match (self.guesses.front(), self.held.last().map(|h| h.1)) {
            (Some(g), Some(t)) => Some(g.made.min(t)),
            (Some(g), None) => Some(g.made),
            (None, t) => t,
        };
        oldest.map(|t| t + self.patience())
    }

    /// Withdraws every guess if the oldest key waited too long for its echo (the
    /// program stopped echoing, or the key did something else).
    pub fn expire(&mut self, now: Duration) {
        if self.deadline().is_some_and(|d| now >= d) {
            self.withdraw(now);
        }
    }

    fn patience(&self) -> Duration {
        self.rtt
            .map_or(FIRST_PATIENCE, |rtt| (rtt * 2).max(MIN_PATIENCE))
    }

    /// What to draw over the screen now: the guesses, when drawing is on (an erased
    /// cell as a plain blank). The cursor where the guesses end, until the session
    /// moves it (after Enter, say, where it goes is the session's to say).
    pub fn overlay(&self) -> Overlay {
        if !self.showing || self.guesses.is_empty() {
            return Overlay::default();
        }
        let cursor = match self.barrier {
            _ if self.anchored => self.cursor,
            Barrier::At(at) => Some(at),
            _ => None,
        };
        Overlay {
            cells: self
                .guesses
                .iter()
                .map(|g| Cell {
                    row: g.row,
                    col: g.col,
                    ch: g.ch,
                    underline: !g.erase,
                })
                .collect(),
            cursor,
        }
    }
}
