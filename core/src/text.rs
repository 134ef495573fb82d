//! Text from another machine, a file system or a program, made inert for a terminal.
//!
//! A file name, a session title or a model's reply can hold escape sequences: printed
//! raw, `ESC ] 52 ; c ; <base64> BEL` fills the clipboard of the terminal (or tmux)
//! showing it, `ESC ] 0 ; ... BEL` retitles the window, `CSI` sequences move the cursor
//! and repaint what was printed before. Every front end that writes such text where a
//! terminal interprets it passes it through [`inert`] or [`inert_text`] first; `--json`
//! output and file contents (`vibemesh cat`) stay exact.
//!
//! What is escaped, so that it shows and does nothing:
//! - C0 controls (U+0000–U+001F) and DEL (U+007F): `\e` for ESC, `\n`, `\t`, `\r`, and
//!   `\xNN` for the rest (`\x07` for BEL); a byte of a file name that is not UTF-8
//!   (which travels as NUL and two hex digits, [`crate::proto::files::path_to_wire`])
//!   shows as `\xff`, as `ls -b` shows it;
//! - C1 controls (U+0080–U+009F), which some terminals take as `CSI`, `OSC` and the like
//!   when they come UTF-8 encoded: `\u{9b}`;
//! - the bidi embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069),
//!   which reorder what follows them on the line ("Trojan Source"): `\u{202e}`.
//!
//! The other bidi marks (U+200E, U+200F, U+061C) are left alone: they only set the
//! direction of neutral characters around them and cannot reverse a whole run.

use std::{borrow::Cow, fmt::Write};

/// `s` as one line: every control character escaped, line breaks and tabs included,
/// and a backslash doubled so that the escaped form reads back to exactly one original
/// (as `ls -b` does). For names, titles, commands, paths: anything shown in a table or
/// a message that must stay on its line.
pub fn inert(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// `s` as text of several lines: like [`inert`], except that a line break (`\n` or
/// `\r\n`) and a tab stay as they are, and a backslash is left alone. For a
/// conversation's messages, tool output and error messages, which are prose and code:
/// doubling every backslash there would garble each regex, path and string literal, so
/// a literal `\e` in such text reads the same as an escaped ESC (the exact text is in
/// `--json` and in the session). A lone `\r` is escaped: on a terminal it moves back to
/// the start of the line, so what follows would overwrite what was printed before it.
pub fn inert_text(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

/// Whether `c` does something on a terminal (or reorders the line) when printed.
fn is_active(c: char) -> bool {
    matches!(c, '\0'..='\x1f' | '\x7f' | '\u{80}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape(s: &str, multiline: bool) -> Cow<'_, str> {
    // Whether the character at `i` is printed as it is.
    let kept = |i: usize, c: char| match c {
        '\\' | '\n' | '\t' => multiline,
        // CR LF is a line break; a lone CR overwrites the line.
        '\r' => multiline && s[i + 1..].starts_with('\n'),
        c => !is_active(c),
    };
    if s.char_indices().all(|(i, c)| kept(i, c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut skip = 0;
    for (i, c) in s.char_indices() {
        if skip > 0 {
            skip -= 1;
            continue;
        }
        // A byte of a name that is not UTF-8, as it travels (see
        // `proto::files::path_to_wire`): shown as the byte, as `ls -b` does.
        if c == '\0'
            && let Some(b) = crate::proto::files::escaped_byte(&s.as_bytes()[i..])
        {
            let _ = write!(out, "\\x{b:02x}");
            skip = 2;
            continue;
        }
        match c {
            c if kept(i, c) => out.push(c),
            '\\' => out.push_str("\\\\"),
            '\x1b' => out.push_str("\\e"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c <= '\x7f' => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

/// The mark [`cut`] leaves where it cut text short.
pub const CUT_MARK: &str = "…";

/// `s` cut to at most `max` bytes on a character boundary, ending in [`CUT_MARK`] when
/// anything was cut (when `max` leaves room for it): for text a program, a peer or an
/// owner controls that must fit a bound, such as a title or a field of a listing.
/// Borrowed, unchanged, when it fits.
pub fn cut(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    if max < CUT_MARK.len() {
        return Cow::Borrowed(&s[..s.floor_char_boundary(max)]);
    }
    let keep = s.floor_char_boundary(max - CUT_MARK.len());
    Cow::Owned(format!("{}{CUT_MARK}", &s[..keep]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        for s in ["", "notes.txt", "build logs · grün 日本語", "a b\u{200f}c"] {
            assert!(matches!(inert(s), Cow::Borrowed(b) if b == s), "{s:?}");
            assert!(matches!(inert_text(s), Cow::Borrowed(b) if b == s), "{s:?}");
        }
        let multi = "fn main() {\n\tprintln!(\"a\\nb\");\r\n}\n";
        assert!(matches!(inert_text(multi), Cow::Borrowed(_)));
    }

    #[test]
    fn c0_and_del_become_visible() {
        let osc52 = "clip\x1b]52;c;ZWNobyBwd25lZAo=\x07";
        assert_eq!(inert(osc52), "clip\\e]52;c;ZWNobyBwd25lZAo=\\x07");
        assert_eq!(inert("\x1b]0;evil\x1b\\"), "\\e]0;evil\\e\\\\");
        assert_eq!(inert("a\0b\x08c\x7fd\x1f"), "a\\x00b\\x08c\\x7fd\\x1f");
        // A byte of a file name that is not UTF-8, as it travels, shows as that byte;
        // a NUL that escapes no such byte shows as NUL.
        assert_eq!(inert("odd-\0ff-name"), "odd-\\xff-name");
        assert_eq!(inert_text("\0e9\u{e9}"), "\\xe9\u{e9}");
        assert_eq!(inert("\x0041"), "\\x0041");
        assert_eq!(inert("two\nlines\tand\rcr"), "two\\nlines\\tand\\rcr");
    }

    #[test]
    fn c1_and_bidi_controls_become_visible() {
        assert_eq!(inert("csi\u{9b}31m"), "csi\\u{9b}31m");
        assert_eq!(inert("\u{80}\u{9f}"), "\\u{80}\\u{9f}");
        // "Trojan Source": the override would show `exe.txt` as `txt.exe`.
        assert_eq!(inert("a\u{202e}txt.exe"), "a\\u{202e}txt.exe");
        assert_eq!(
            inert("\u{202a}\u{202b}\u{202c}\u{202d}\u{2066}\u{2067}\u{2068}\u{2069}"),
            "\\u{202a}\\u{202b}\\u{202c}\\u{202d}\\u{2066}\\u{2067}\\u{2068}\\u{2069}"
        );
        // Just outside the ranges: ordinary characters.
        assert_eq!(inert("\u{a0}\u{2029}\u{206a}"), "\u{a0}\u{2029}\u{206a}");
    }

    #[test]
    fn one_line_form_is_unambiguous() {
        // A literal backslash-e and an ESC read differently.
        assert_eq!(inert("\\e"), "\\\\e");
        assert_eq!(inert("\x1b"), "\\e");
        assert_ne!(inert("\\e"), inert("\x1b"));
        assert_eq!(inert("C:\\dir"), "C:\\\\dir");
    }

    #[test]
    fn text_form_keeps_lines_and_tabs_but_no_escapes() {
        assert_eq!(
            inert_text("line 1\n\tline 2\r\nline 3"),
            "line 1\n\tline 2\r\nline 3"
        );
        // A lone CR would overwrite the line: escaped, also at the very end.
        assert_eq!(inert_text("safe\rEVIL\r"), "safe\\rEVIL\\r");
        assert_eq!(
            inert_text("hi \x1b[2J\x1b]52;c;eA==\x07\u{9b}H\x7f\u{202e}"),
            "hi \\e[2J\\e]52;c;eA==\\x07\\u{9b}H\\x7f\\u{202e}"
        );
        // Backslashes are text here (code, regexes, paths).
        assert_eq!(inert_text("a\\nb \x1b"), "a\\nb \\e");
    }

    #[test]
    fn nothing_active_survives_any_input() {
        let all: String = (0u32..0x2100).filter_map(char::from_u32).collect();
        for out in [inert(&all), inert_text(&all)] {
            let bad: Vec<char> = out
                .chars()
                .filter(|&c| is_active(c) && c != '\n' && c != '\t' && c != '\r')
                .collect();
            assert!(bad.is_empty(), "{bad:?}");
        }
        assert!(!inert(&all).contains(['\n', '\t', '\r']));
    }

    #[test]
    fn cut_keeps_whole_characters_and_marks_the_cut() {
        assert!(matches!(cut("short", 5), Cow::Borrowed("short")));
        assert_eq!(cut("abcdefgh", 6), "abc…");
        // "ü" is two bytes: never split.
        let s = "üüüüü";
        for max in 0..=s.len() {
            let c = cut(s, max);
            assert!(c.len() <= max, "{max}: {c:?}");
        }
        assert_eq!(cut(s, 6), "ü…");
        assert_eq!(cut(s, 2), "ü");
        assert_eq!(cut("日本語のテキスト", 9), "日本…");
    }
}
