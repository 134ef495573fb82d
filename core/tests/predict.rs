//! The prediction engine against recorded sessions: bash typed into key by key in a PTY
//! (`fixtures/predict/*.cast`, asciinema v2 with input events, as a recording with
//! `record_input` is), replayed over a simulated slow link where every output reaches
//! the client a round trip after it was made, through vt100 as the client's screen.

use std::time::Duration;

use vibemesh_core::predict::{Mode, Overlay, Predictor, Screen};

struct Vt(vt100::Parser);

impl Screen for Vt {
    fn size(&self) -> (u16, u16) {
        let (rows, cols) = self.0.screen().size();
        (rows.get(), cols.get())
    }
    fn cursor(&self) -> (u16, u16) {
        self.0.screen().cursor_position()
    }
    fn char_at(&self, row: u16, col: u16) -> Option<char> {
        let cell = self.0.screen().cell(row, col)?;
        cell.contents().chars().next()
    }
    fn alternate_screen(&self) -> bool {
        self.0.screen().alternate_screen()
    }
}

/// One recorded event: when, typed (`true`) or printed, and the text.
type Event = (Duration, bool, String);

fn load(name: &str) -> (u16, u16, Vec<Event>) {
    let path = format!(
        "{}/tests/fixtures/predict/{name}.cast",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("fixture");
    let mut lines = text.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().expect("header")).unwrap();
    let size = |k: &str| header[k].as_u64().expect("size") as u16;
    let events = lines
        .map(|l| {
            let (t, kind, data): (f64, String, String) = serde_json::from_str(l).expect("event");
            (Duration::from_secs_f64(t), kind == "i", data)
        })
        .collect();
    (size("height"), size("width"), events)
}

/// What a replay showed the user.
#[derive(Clone)]
struct Replay {
    /// For each key typed: its text and the overlay right after it was typed.
    typed: Vec<(String, Overlay)>,
    /// The overlay once everything arrived.
    last: Overlay,
    /// Whether any overlay was drawn while the alternate screen was up.
    drawn_on_alternate: bool,
    /// Drawn cells that differed from the session's own screen at that moment.
    wrong: Vec<String>,
    mispredictions: u64,
}

/// Replays a recording with `rtt` between typing and seeing its echo.
fn replay(name: &str, rtt: Duration, mode: Mode) -> Replay {
    let (rows, cols, events) = load(name);
    // Typed keys reach the client's engine at once; output a round trip later.
    let mut timeline: Vec<Event> = events
        .into_iter()
        .map(|(t, typed, data)| {
            if typed {
                (t, typed, data)
            } else {
                (t + rtt, typed, data)
            }
        })
        .collect();
    timeline.sort_by_key(|e| e.0);
    let nz = |n: u16| std::num::NonZeroU16::new(n).expect("a size");
    let mut screen = Vt(vt100::Parser::new(nz(rows), nz(cols), 0));
    // The session's own screen: every output as it was made, with no delay.
    let mut truth = Vt(vt100::Parser::new(nz(rows), nz(cols), 0));
    let mut made: Vec<(Duration, String)> = timeline
        .iter()
        .filter(|e| !e.1)
        .map(|e| (e.0 - rtt, e.2.clone()))
        .collect();
    made.reverse();
    let mut p = Predictor::new(mode);
    p.set_rtt(rtt);
    let mut replay = Replay {
        typed: Vec::new(),
        last: Overlay::default(),
        drawn_on_alternate: false,
        wrong: Vec::new(),
        mispredictions: 0,
    };
    for (t, typed, data) in timeline {
        // Before a key, every drawn guess must be what the session shows by now (on its
        // main screen: a full-screen program's own screen is not what was guessed on).
        while made.last().is_some_and(|(at, _)| *at < t) {
            let (_, out) = made.pop().expect("an output");
            truth.0.process(out.as_bytes());
        }
        if typed && !truth.alternate_screen() {
            for c in p.overlay().cells {
                let real = truth.char_at(c.row, c.col).unwrap_or(' ');
                if real != c.ch {
                    replay
                        .wrong
                        .push(format!("{c:?} at {t:?}: the session shows {real:?}"));
                }
            }
        }
        if let Some(deadline) = p.deadline().filter(|d| *d <= t) {
            p.expire(deadline);
        }
        if typed {
            p.typed(data.as_bytes(), &screen, t);
            replay.typed.push((data, p.overlay()));
        } else {
            screen.0.process(data.as_bytes());
            p.output(&screen, t);
        }
        if screen.alternate_screen() && !p.overlay().cells.is_empty() {
            replay.drawn_on_alternate = true;
        }
    }
    replay.last = p.overlay();
    replay.mispredictions = p.mispredictions();
    replay
}

/// After the key at `index` (an Enter), no key adds a guess: the command line's own
/// guesses may stay until their echo, but nothing typed after it is drawn.
fn nothing_drawn_after(r: &Replay, index: usize, what: &str) {
    let at_enter = &r.typed[index].1;
    for (key, ov) in &r.typed[index + 1..] {
        assert!(
            ov.cells.iter().all(|c| at_enter.cells.contains(c)),
            "{key:?} was drawn {what}: {ov:?}"
        );
        assert!(
            ov.cursor.is_none() || ov.cursor == at_enter.cursor,
            "the cursor moved {what}"
        );
    }
    assert_eq!(r.wrong, Vec::<String>::new(), "drawn wrong {what}");
}

/// How many printable keys were drawn at the moment they were typed.
fn drawn_at_once(r: &Replay) -> (usize, usize) {
    let printable: Vec<_> = r
        .typed
        .iter()
        .filter(|(k, _)| k.len() == 1 && k.as_bytes()[0].is_ascii_graphic())
        .collect();
    let at_once = printable
        .iter()
        .filter(|(k, ov)| ov.cells.last().is_some_and(|c| c.ch.to_string() == *k))
        .count();
    (at_once, printable.len())
}

const SLOW: Duration = Duration::from_millis(300);

#[test]
fn at_300_ms_most_keys_on_a_shell_line_show_at_once_and_none_wrongly() {
    let r = replay("shell_typing", SLOW, Mode::Auto);
    let (at_once, all) = drawn_at_once(&r);
    eprintln!("shell_typing at 300 ms: {at_once} of {all} printable keys drawn at once");
    // Each line's first keys wait for their echo to anchor them; the rest show.
    assert!(at_once * 2 >= all, "{at_once} of {all}");
    assert_eq!(r.mispredictions, 0, "a guess was withdrawn");
    assert_eq!(r.wrong, Vec::<String>::new(), "drawn wrong");
    assert_eq!(
        r.last,
        Overlay::default(),
        "guesses left over the final screen"
    );
    // Every drawn character is underlined: not confirmed yet.
    let drawn = r.typed.iter().flat_map(|(_, ov)| &ov.cells);
    assert!(drawn.clone().all(|c| c.underline || c.ch == ' '));
}

#[test]
fn nothing_typed_at_a_password_prompt_is_ever_drawn() {
    let r = replay("password", SLOW, Mode::Auto);
    // The secret is the keys after the command line's Enter, up to the last Enter.
    let enter = r.typed.iter().position(|(k, _)| k == "\r").expect("Enter");
    let secret = &r.typed[enter + 1..r.typed.len() - 1];
    assert_eq!(
        secret.iter().map(|(k, _)| k.as_str()).collect::<String>(),
        "secret123"
    );
    nothing_drawn_after(&r, enter, "at the password prompt");
    assert_eq!(r.last, Overlay::default());
    // The command line itself was predicted.
    let (at_once, _) = drawn_at_once(&Replay {
        typed: r.typed[..enter].to_vec(),
        ..r.clone()
    });
    assert!(at_once > 0);
}

#[test]
fn a_full_screen_program_gets_no_guesses() {
    let r = replay("vim", SLOW, Mode::Auto);
    let enter = r.typed.iter().position(|(k, _)| k == "\r").expect("Enter");
    nothing_drawn_after(&r, enter, "in vim");
    assert!(!r.drawn_on_alternate);
    assert_eq!(r.last, Overlay::default());
}

#[test]
fn guesses_are_drawn_only_when_the_round_trip_matters_or_when_asked() {
    let fast = Duration::from_millis(5);
    for (rtt, mode, drawn) in [
        (fast, Mode::Auto, false),
        (SLOW, Mode::Never, false),
        (fast, Mode::Always, true),
    ] {
        let r = replay("shell_typing", rtt, mode);
        let (at_once, _) = drawn_at_once(&r);
        assert_eq!(at_once > 0, drawn, "{rtt:?} {mode:?}");
    }
}

/// A screen made by hand: one row of text and a cursor.
struct Line {
    text: Vec<char>,
    cursor: u16,
}

impl Screen for Line {
    fn size(&self) -> (u16, u16) {
        (1, 40)
    }
    fn cursor(&self) -> (u16, u16) {
        (0, self.cursor)
    }
    fn char_at(&self, _: u16, col: u16) -> Option<char> {
        self.text.get(col as usize).copied()
    }
    fn alternate_screen(&self) -> bool {
        false
    }
}

fn line(text: &str) -> Line {
    Line {
        text: text.chars().collect(),
        cursor: text.chars().count() as u16,
    }
}

#[test]
fn a_guess_the_screen_contradicts_is_withdrawn_at_once() {
    let ms = Duration::from_millis;
    let mut p = Predictor::new(Mode::Always);
    p.set_rtt(ms(300));
    p.typed(b"abc", &line("$ "), ms(0));
    assert_eq!(
        p.overlay(),
        Overlay::default(),
        "held until an echo anchors them"
    );
    p.output(&line("$ a"), ms(300));
    assert_eq!(
        p.overlay(),
        Overlay::default(),
        "one echoed key could be the prompt's"
    );
    p.output(&line("$ ab"), ms(300));
    let drawn: String = p.overlay().cells.iter().map(|c| c.ch).collect();
    assert_eq!(drawn, "c");
    assert_eq!(p.overlay().cursor, Some((0, 5)));
    // The program echoed something else for `c`.
    p.output(&line("$ abX"), ms(310));
    assert_eq!(p.overlay(), Overlay::default());
    assert_eq!(p.mispredictions(), 1);
}

#[test]
fn a_guess_never_echoed_expires_and_nothing_is_guessed_until_all_is_back() {
    let ms = Duration::from_millis;
    let mut p = Predictor::new(Mode::Always);
    p.set_rtt(ms(100));
    p.typed(b"ab", &line("$ "), ms(0));
    p.output(&line("$ ab"), ms(100));
    p.typed(b"c", &line("$ ab"), ms(120));
    assert_eq!(p.overlay().cells.len(), 1);
    assert_eq!(
        p.deadline(),
        Some(ms(370)),
        "twice the round trip, at least 250 ms"
    );
    p.expire(ms(369));
    assert_eq!(p.overlay().cells.len(), 1);
    p.expire(ms(370));
    assert_eq!(p.overlay(), Overlay::default());
    assert_eq!(p.mispredictions(), 1);
    p.output(&line("$ ab"), ms(400));
    p.typed(b"d", &line("$ ab"), ms(410));
    assert_eq!(p.overlay(), Overlay::default());
}

#[test]
fn a_password_after_a_command_ending_in_its_first_letter_is_not_drawn() {
    // `sudo ls`, Enter, then the password `secret`: the late echo of the command's
    // last `s` must not anchor the held `secret`.
    let ms = Duration::from_millis;
    let mut p = Predictor::new(Mode::Always);
    p.set_rtt(ms(300));
    p.typed(b"su", &line("$ "), ms(0));
    p.output(&line("$ su"), ms(300));
    p.typed(b"do ls", &line("$ su"), ms(310));
    p.typed(b"\r", &line("$ su"), ms(320));
    p.typed(b"secret", &line("$ su"), ms(330));
    p.output(&line("$ sudo ls"), ms(620));
    let drawn: String = p.overlay().cells.iter().map(|c| c.ch).collect();
    assert_eq!(drawn, "", "{:?}", p.overlay());
}

#[test]
fn a_resize_withdraws_every_guess() {
    struct Sized(Line, u16);
    impl Screen for Sized {
        fn size(&self) -> (u16, u16) {
            (1, self.1)
        }
        fn cursor(&self) -> (u16, u16) {
            self.0.cursor()
        }
        fn char_at(&self, row: u16, col: u16) -> Option<char> {
            self.0.char_at(row, col)
        }
        fn alternate_screen(&self) -> bool {
            false
        }
    }
    let ms = Duration::from_millis;
    let mut p = Predictor::new(Mode::Always);
    p.set_rtt(ms(300));
    p.typed(b"ab", &Sized(line("$ "), 40), ms(0));
    p.output(&Sized(line("$ ab"), 40), ms(300));
    p.typed(b"c", &Sized(line("$ ab"), 40), ms(310));
    assert_eq!(p.overlay().cells.len(), 1);
    p.output(&Sized(line("$ ab"), 30), ms(320));
    assert_eq!(p.overlay(), Overlay::default());

    // A resize with nothing waiting (a page fitting its terminal as it opens) does not
    // keep the next keys from being guessed once their echo anchors them, however fast
    // they come.
    let mut p = Predictor::new(Mode::Always);
    p.output(&Sized(line("$ "), 40), ms(0));
    p.output(&Sized(line("$ "), 30), ms(10));
    let mut t = 20;
    for (typed, echoed) in [("a", "$ "), ("b", "$ a"), ("c", "$ ab")] {
        p.output(&Sized(line(echoed), 30), ms(t));
        p.typed(typed.as_bytes(), &Sized(line(echoed), 30), ms(t));
        t += 300;
    }
    p.output(&Sized(line("$ abc"), 30), ms(t));
    p.typed(b"d", &Sized(line("$ abc"), 30), ms(t + 10));
    let drawn: String = p.overlay().cells.iter().map(|c| c.ch).collect();
    assert_eq!(drawn, "d");
}

#[test]
fn the_round_trip_is_timed_from_the_echo_when_the_front_end_does_not_know_it() {
    let ms = Duration::from_millis;
    let mut p = Predictor::new(Mode::Auto);
    assert!(!p.active(), "nothing drawn before a round trip is known");
    // Two keys typed 100 ms apart, echoed 300 ms after each: the second anchors them.
    p.typed(b"a", &line("$ "), ms(0));
    p.typed(b"b", &line("$ "), ms(100));
    p.output(&line("$ a"), ms(300));
    assert_eq!(p.rtt(), None, "one echoed key could be the prompt's");
    p.output(&line("$ ab"), ms(400));
    assert_eq!(p.rtt(), Some(ms(300)));
    assert!(p.active(), "300 ms is worth guessing over");
    // Output that echoes no key times nothing.
    p.output(&line("$ ab"), ms(900));
    assert_eq!(p.rtt(), Some(ms(300)));
    // A link that got fast: the smoothed round trip falls below the line, and drawing
    // stops.
    let mut t = ms(1000);
    while p.active() {
        p.typed(b"c", &line("$ ab"), t);
        p.output(&line("$ abc"), t + ms(2));
        p.typed(b"\x7f", &line("$ abc"), t + ms(10));
        p.output(&line("$ ab"), t + ms(12));
        t += ms(50);
        assert!(t < ms(10_000), "never stopped: {:?}", p.rtt());
    }
    assert!(p.rtt().is_some_and(|r| r < ms(20)), "{:?}", p.rtt());
    // A key never echoed (a password) times nothing.
    p.typed(b"x", &line("$ ab"), t);
    p.expire(t + ms(60_000));
    p.output(&line("$ ab"), t + ms(60_000));
    assert!(p.rtt().is_some_and(|r| r < ms(20)), "{:?}", p.rtt());
}

/// A screen of several rows made by hand.
struct Rows {
    rows: Vec<Vec<char>>,
    cursor: (u16, u16),
}

impl Screen for Rows {
    fn size(&self) -> (u16, u16) {
        (self.rows.len() as u16, 40)
    }
    fn cursor(&self) -> (u16, u16) {
        self.cursor
    }
    fn char_at(&self, row: u16, col: u16) -> Option<char> {
        self.rows.get(row as usize)?.get(col as usize).copied()
    }
    fn alternate_screen(&self) -> bool {
        false
    }
}

fn rows(lines: &[&str], cursor: (u16, u16)) -> Rows {
    Rows {
        rows: lines.iter().map(|l| l.chars().collect()).collect(),
        cursor,
    }
}

#[test]
fn guesses_on_a_line_that_scrolled_away_are_withdrawn_at_once() {
    let ms = Duration::from_millis;
    let mut p = Predictor::new(Mode::Always);
    p.set_rtt(ms(300));
    p.typed(b"ls", &rows(&["", "$ "], (1, 2)), ms(0));
    p.output(&rows(&["", "$ ls"], (1, 4)), ms(300));
    p.typed(b" -l", &rows(&["", "$ ls"], (1, 4)), ms(310));
    assert_eq!(p.overlay().cells.len(), 3);
    // Output from the background scrolls the prompt up a row before the echo is back:
    // the guessed cells on the bottom row would sit on the wrong line.
    p.output(&rows(&["$ ls", ""], (1, 0)), ms(320));
    assert_eq!(p.overlay(), Overlay::default());
    assert_eq!(p.mispredictions(), 1);
}

#[test]
fn keys_typed_one_per_round_trip_are_anchored_before_they_expire() {
    let ms = Duration::from_millis;
    let mut p = Predictor::new(Mode::Always);
    p.set_rtt(ms(300));
    p.typed(b"a", &line("$ "), ms(0));
    p.output(&line("$ a"), ms(300));
    // The second key is typed once the first shows; its echo is a little late.
    p.typed(b"b", &line("$ a"), ms(305));
    p.expire(ms(610));
    p.output(&line("$ ab"), ms(615));
    p.typed(b"c", &line("$ ab"), ms(620));
    let drawn: String = p.overlay().cells.iter().map(|c| c.ch).collect();
    assert_eq!(drawn, "c");
}

#[test]
fn a_link_faster_than_the_line_could_never_draw_in_auto() {
    let ms = Duration::from_millis;
    assert!(!Mode::Auto.may_draw(ms(3)), "a LAN's attach");
    assert!(Mode::Auto.may_draw(ms(300)));
    assert!(Mode::Always.may_draw(ms(0)));
    assert!(!Mode::Never.may_draw(ms(500)));
}
