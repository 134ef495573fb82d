//! Bounds on what programs and owners put into messages, so that every message fits a
//! frame.
//!
//! A session's title is set by its program (OSC 0 and 2), its command line and folder by
//! whoever started it; none of them may make a frame the reader refuses, which would end
//! the stream, and with it every other session's news, for the client reading it. So
//! holders cut a title to [`TITLE_MAX`] where the program sets it, a [`SessionInfo`] is
//! cut to [`FIELD_MAX`] per text field before it travels alone (an event, an attach
//! answer: [`SessionInfo::bounded`]), and a listing is cut further, evenly, until it fits
//! one frame ([`fit_listing`]). Cut text ends in [`crate::text::CUT_MARK`].

use serde::Serialize;

use super::{SessionInfo, SessionStatus, ai::Waiting};
use crate::{frame::MAX_FRAME, text::cut};

/// The longest title a session keeps, in bytes (cut on a character boundary).
pub const TITLE_MAX: usize = 1024;

/// The longest text field of a [`SessionInfo`] sent on its own, in bytes; the command
/// line counts as one field. With seven such fields an info stays far below a frame.
pub const FIELD_MAX: usize = 4096;

/// What a listing may take of a frame: the rest is room for the response around it.
pub const LISTING_MAX: usize = MAX_FRAME - 4096;

/// Limits tried in turn, smallest last, until a listing fits.
const LISTING_STEPS: [usize; 5] = [FIELD_MAX, 1024, 256, 64, 16];

fn cut_in_place(s: &mut String, max: usize) {
    if s.len() > max {
        *s = cut(s, max).into_owned();
    }
}

/// Keeps the words of `command` while they fit `max` bytes in all; the first word that
/// does not fit is cut, or replaced by the mark when too little room is left (which may
/// then go over `max` by the mark's 3 bytes), and the rest dropped.
fn cut_command(command: &mut Vec<String>, max: usize) {
    let mark = crate::text::CUT_MARK;
    let mut used = 0;
    for i in 0..command.len() {
        let room = max.saturating_sub(used);
        if command[i].len() > room {
            command[i] = if room >= mark.len() {
                cut(&command[i], room).into_owned()
            } else {
                mark.to_string()
            };
            command.truncate(i + 1);
            return;
        }
        used += command[i].len();
    }
}

impl SessionInfo {
    /// Cuts every text field to at most `max` bytes (the command line as a whole, which
    /// may keep a last word of just the mark).
    pub fn cut_fields(&mut self, max: usize) {
        cut_in_place(&mut self.title, max);
        cut_command(&mut self.command, max);
        cut_in_place(&mut self.cwd, max);
        for s in [&mut self.recording, &mut self.recording_error]
            .into_iter()
            .flatten()
        {
            cut_in_place(s, max);
        }
        if let SessionStatus::Unreachable(why) = &mut self.status {
            cut_in_place(why, max);
        }
        if let SessionStatus::Exited(e) = &mut self.status
            && let Some(sig) = &mut e.signal
        {
            cut_in_place(sig, max);
        }
        if let Some(Waiting::Approval { tool }) =
            self.conversation.as_mut().and_then(|c| c.waiting.as_mut())
        {
            cut_in_place(tool, max);
        }
    }

    /// This info with its text fields cut to [`FIELD_MAX`]: what is sent of it alone.
    pub fn bounded(mut self) -> Self {
        self.cut_fields(FIELD_MAX);
        self
    }
}

/// The size of `value` as postcard encodes it.
pub fn encoded_len<T: Serialize + ?Sized>(value: &T) -> usize {
    postcard::serialize_with_flavor(value, postcard::ser_flavors::Size::default())
        .unwrap_or(usize::MAX)
}

/// Cuts the text fields of every session in `list`, evenly, just as far as needed for
/// the list to encode in [`LISTING_MAX`] bytes. Only a list of thousands of sessions
/// could still be too long at the smallest limit: then the newest are left out.
pub fn fit_listing(list: &mut Vec<SessionInfo>) {
    for max in LISTING_STEPS {
        if encoded_len(list) <= LISTING_MAX {
            return;
        }
        for s in list.iter_mut() {
            s.cut_fields(max);
        }
    }
    while encoded_len(list) > LISTING_MAX {
        let keep = list.len() * LISTING_MAX / encoded_len(list).max(1);
        list.truncate(keep.min(list.len() - 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Provider, SessionId, TermSize};

    fn info(n: u32, text: &str) -> SessionInfo {
        SessionInfo {
            id: SessionId(n),
            title: text.repeat(3),
            provider: Provider::Shell,
            command: vec!["sh".into(), "-c".into(), text.into()],
            cwd: format!("/home/{text}"),
            size: TermSize::DEFAULT,
            created_ms: u64::from(n),
            status: SessionStatus::Unreachable(text.into()),
            viewers: 0,
            recording: Some(text.into()),
            conversation: None,
            recording_error: Some(text.into()),
            recording_state: None,
        }
    }

    #[test]
    fn one_info_always_fits_a_frame() {
        let big = "é".repeat(600_000);
        let b = info(1, &big).bounded();
        assert!(encoded_len(&b) < 8 * FIELD_MAX, "{}", encoded_len(&b));
        assert!(b.title.ends_with(crate::text::CUT_MARK));
        assert_eq!(b.command[..2], ["sh", "-c"]);
        assert!(b.command[2].len() <= FIELD_MAX - 4);
        // Small ones are left alone.
        assert_eq!(info(2, "x").bounded(), info(2, "x"));
    }

    #[test]
    fn a_command_keeps_its_first_words() {
        let mut c: Vec<String> = ["python3", "-c", "print(1)", "more"]
            .map(String::from)
            .to_vec();
        cut_command(&mut c, 14);
        assert_eq!(c, ["python3", "-c", "pr…"]);
        let mut c = vec!["abcdefgh".to_string(), "x".into()];
        cut_command(&mut c, 8);
        assert_eq!(c, ["abcdefgh", "…"]);
    }

    #[test]
    fn a_listing_of_the_most_sessions_fits_one_frame() {
        // 1000 sessions (the default limit) with every field as long as one may be.
        let mut list: Vec<_> = (0..1000).map(|n| info(n, &"t".repeat(FIELD_MAX))).collect();
        fit_listing(&mut list);
        assert_eq!(list.len(), 1000);
        assert!(encoded_len(&list) <= LISTING_MAX);
        // Short listings are not touched.
        let mut short: Vec<_> = (0..3).map(|n| info(n, "short")).collect();
        fit_listing(&mut short);
        assert_eq!(short, (0..3).map(|n| info(n, "short")).collect::<Vec<_>>());
        // Absurd numbers still give a valid frame.
        let mut huge: Vec<_> = (0..20_000).map(|n| info(n, "x")).collect();
        fit_listing(&mut huge);
        assert!(encoded_len(&huge) <= LISTING_MAX && !huge.is_empty());
    }
}
