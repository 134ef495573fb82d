//! LocalEcho against a second vt100 standing in for the user's real terminal: what it
//! shows while echoes are on their way, and that it ends up exactly as the session left
//! it.

use std::time::Duration;

use vibemesh_core::predict::Mode;

use crate::{LocalEcho, test_util::nz};

/// The session's bytes through LocalEcho into a real terminal.
struct Rig {
    echo: LocalEcho,
    real: vt100::Parser,
    /// The same bytes straight into a terminal with no prediction at all.
    plain: vt100::Parser,
}

impl Rig {
    fn new(mode: Mode) -> Self {
        Self {
            echo: LocalEcho::new(5, 30, mode),
            real: vt100::Parser::new(nz(5), nz(30), 0),
            plain: vt100::Parser::new(nz(5), nz(30), 0),
        }
    }

    fn at(&self, ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    fn output(&mut self, bytes: &str, ms: u64) {
        let mut out = Vec::new();
        self.echo.output(bytes.as_bytes(), self.at(ms), &mut out);
        self.real.process(&out);
        self.plain.process(bytes.as_bytes());
    }

    fn typed(&mut self, bytes: &str, ms: u64) {
        let mut out = Vec::new();
        self.echo.typed(bytes.as_bytes(), self.at(ms), &mut out);
        self.real.process(&out);
    }

    fn line(&self, row: u16) -> String {
        self.real
            .screen()
            .rows(0, 30)
            .nth(row.into())
            .unwrap_or_default()
    }

    /// The real terminal shows exactly what it would with no prediction: text,
    /// attributes, cursor.
    fn assert_unpredicted(&self) {
        assert_eq!(
            self.real.screen().contents_formatted(),
            self.plain.screen().contents_formatted()
        );
        assert_eq!(
            self.real.screen().cursor_position(),
            self.plain.screen().cursor_position()
        );
    }
}

#[test]
fn guesses_show_at_once_underlined_and_the_echo_leaves_the_screen_unpredicted() {
    let mut r = Rig::new(Mode::Auto);
    r.output("\x1b[32m$\x1b[0m ", 0);
    // The first two keys are held until their echo anchors them, 300 ms later.
    r.typed("e", 10);
    r.typed("c", 110);
    assert_eq!(r.line(0), "$ ");
    r.output("e", 310);
    r.output("c", 410);
    assert_eq!(r.echo.rtt(), Some(Duration::from_millis(300)));
    // From here each key shows the moment it is typed.
    r.typed("h", 420);
    r.typed("o", 430);
    assert_eq!(r.line(0), "$ echo");
    assert_eq!(r.real.screen().cursor_position(), (0, 6));
    let cell = r.real.screen().cell(0, 5).expect("a cell");
    assert!(cell.underline(), "unconfirmed guesses are underlined");
    assert!(!r.real.screen().cell(0, 0).expect("a cell").underline());
    // The echo arrives, with a colour change of the program's own around it.
    r.output("\x1b[1mh", 720);
    assert_eq!(r.line(0), "$ echo");
    r.output("o\x1b[0m", 730);
    r.assert_unpredicted();
    assert_eq!(r.echo.mispredictions(), 0);
}

#[test]
fn a_wrong_guess_is_taken_off_and_the_screen_is_the_sessions() {
    let mut r = Rig::new(Mode::Always);
    r.output("$ ", 0);
    r.typed("ab", 0);
    r.output("ab", 300);
    r.typed("cd", 310);
    assert_eq!(r.line(0), "$ abcd");
    // The program shows something else for `c` (it upper-cases what it reads).
    r.output("C", 610);
    r.assert_unpredicted();
    assert_eq!(r.line(0), "$ abC");
    assert_eq!(r.echo.mispredictions(), 1);
}

#[test]
fn guesses_that_are_never_echoed_go_away_when_they_expire() {
    let mut r = Rig::new(Mode::Always);
    r.output("$ ", 0);
    r.typed("ab", 0);
    r.output("ab", 300);
    r.typed("x", 310);
    assert_eq!(r.line(0), "$ abx");
    let deadline = r.echo.deadline().expect("a key waits");
    assert_eq!(deadline, r.at(310 + 600));
    let mut out = Vec::new();
    r.echo.expire(deadline, &mut out);
    r.real.process(&out);
    r.assert_unpredicted();
}

#[test]
fn background_output_lands_where_the_session_put_it_under_the_guesses() {
    let mut r = Rig::new(Mode::Always);
    r.output("$ ", 0);
    r.typed("ls", 0);
    r.output("ls", 300);
    r.typed(" -l", 310);
    assert_eq!(r.line(0), "$ ls -l");
    // A job prints below and moves the cursor back, as a status line would.
    r.output("\x1b7\x1b[3;1Hjob 1 done\x1b8", 320);
    assert_eq!(r.line(2), "job 1 done");
    assert_eq!(r.line(0), "$ ls -l", "the guesses are still drawn");
    r.output(" -l", 610);
    r.assert_unpredicted();
}

#[test]
fn a_resize_takes_the_guesses_off() {
    let mut r = Rig::new(Mode::Always);
    r.output("$ ", 0);
    r.typed("ab", 0);
    r.output("ab", 300);
    r.typed("c", 310);
    let mut out = Vec::new();
    r.echo.resize(5, 20, r.at(320), &mut out);
    r.real.process(&out);
    r.real.screen_mut().set_size(nz(5), nz(20));
    r.plain.screen_mut().set_size(nz(5), nz(20));
    r.assert_unpredicted();
}
