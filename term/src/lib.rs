//! The screen engine shared by the session holder (agent) and the desktop app.
//!
//! Both keep a [`vt100`] parser of a session's screen. vt100 cuts lines on a width change;
//! [`resize`] re-wraps the main screen and its scrollback instead, as modern terminals
//! do; [`resize_with`] does the same for a screen whose scrollback is a compact
//! [`History`] of text rows (the session holder's, a few bytes a row where vt100 keeps 32
//! a cell). [`QueryFilter`] finds the queries a program sends to its terminal (cursor
//! position, device attributes, colours), so the session side can [`answer`] each once
//! from its own screen and keep them from every client. [`LocalEcho`] draws predicted
//! keystrokes over a real terminal the CLI writes a session to. [`Preview`] keeps a
//! watched session's screen for the few lines a card shows.

mod clears;
mod history;
mod local_echo;
mod preview;
mod query;
mod reflow;
mod sgr;

pub use clears::Clears;
pub use history::{BLOCK, History, Row};
pub use local_echo::{LocalEcho, VtScreen};
pub use preview::Preview;
pub use query::{DEFAULT_BG, DEFAULT_CURSOR, DEFAULT_FG, QUERY_MAX, Query, QueryFilter, answer};
pub use reflow::{resize, resize_with};

/// `n` as a screen dimension for vt100, which has no screen of 0 rows or columns: 0
/// counts as 1.
pub fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n.max(1)).unwrap_or(std::num::NonZeroU16::MIN)
}

#[cfg(test)]
mod history_tests;
#[cfg(test)]
mod local_echo_tests;
#[cfg(test)]
mod query_tests;
#[cfg(test)]
mod reflow_tests;
#[cfg(test)]
mod test_util;
