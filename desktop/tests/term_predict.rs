//! Predictive local echo in the terminal widget, over a simulated 300 ms link: the real
//! widget and engine, keys typed through egui, and the "session's" echo fed by the test
//! 300 ms after each key, on the terminal's clock (set by the test, so nothing sleeps).
//! What the user sees is checked twice: the widget's text for screen readers, and its
//! pixels (rendered on the CPU as in `term_snapshots.rs`) against a terminal that holds
//! the same text for real, with no prediction.

use std::time::Duration;

use egui::{Event, ViewportId, accesskit::Role};
use egui_kittest::{Harness, kittest::Queryable};
use image::RgbaImage;
use vibemesh_core::predict::Mode;
use vibemesh_desktop::term::{TermStyle, Terminal, TerminalView};

/// The widget's state as a test sees it.
struct Tty {
    term: Terminal,
    /// Everything the widget sent to the session.
    typed: Vec<u8>,
}

/// A focused 8x40 terminal predicting in `mode`, its clock at 0, showing `bytes`.
fn tty(mode: Mode, bytes: &[u8]) -> Harness<'static, Tty> {
    let mut term = Terminal::new(8, 40, 100);
    term.set_predict(mode);
    term.set_time(Duration::ZERO);
    term.feed(bytes);
    let style = TermStyle::default();
    let mut first = true;
    let mut h = Harness::builder()
        .with_fit_contents()
        .with_context_setup(|ctx| {
            // The same faces in every harness, so two of them draw the same pixels.
            vibemesh_desktop::term::fonts::add_fallbacks(ctx)
                .join()
                .expect("the bold/italic face finder ran");
        })
        .build_ui_state(
            move |ui, s: &mut Tty| {
                let out = TerminalView::new(&mut s.term, &style)
                    .fixed_size(8, 40)
                    .show(ui);
                if first {
                    out.response.request_focus();
                    first = false;
                }
                s.typed.extend(out.input);
            },
            Tty {
                term,
                typed: Vec::new(),
            },
        );
    h.run();
    h
}

/// What a terminal that holds `bytes` for real (no prediction) looks like.
fn real(bytes: &[u8]) -> RgbaImage {
    tty(Mode::Never, bytes)
        .render()
        .expect("renders on the CPU")
}

/// How many pixels of `h`'s widget differ from `expected`.
fn differing(h: &mut Harness<'static, Tty>, expected: &RgbaImage) -> usize {
    let shown = h.render().expect("renders on the CPU");
    assert_eq!(shown.dimensions(), expected.dimensions());
    shown
        .pixels()
        .zip(expected.pixels())
        .filter(|(a, b)| a != b)
        .count()
}

/// Asserts `h` draws exactly what a terminal holding `bytes` draws.
#[track_caller]
fn looks_like(h: &mut Harness<'static, Tty>, bytes: &[u8]) {
    let n = differing(h, &real(bytes));
    assert_eq!(
        n,
        0,
        "{n} pixels differ from a terminal showing {:?}",
        String::from_utf8_lossy(bytes)
    );
}

fn at(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// Types `text` at `ms` on the terminal's clock.
fn key(h: &mut Harness<'static, Tty>, text: &str, ms: u64) {
    h.state_mut().term.set_time(at(ms));
    h.event(Event::Text(text.into()));
    h.run();
}

/// The session's output `bytes` arrive at `ms`.
fn echo(h: &mut Harness<'static, Tty>, bytes: &[u8], ms: u64) {
    h.state_mut().term.set_time(at(ms));
    h.state_mut().term.feed(bytes);
    h.run();
}

/// A frame at `ms`, as egui's timer gives one.
fn frame(h: &mut Harness<'static, Tty>, ms: u64) {
    h.state_mut().term.set_time(at(ms));
    h.run();
}

/// The widget's text, as screen readers get it.
fn shown(h: &Harness<'static, Tty>) -> String {
    h.get_by_role(Role::Terminal).value().unwrap_or_default()
}

/// The text of a terminal that holds `bytes`.
fn text_of(bytes: &[u8]) -> String {
    let mut t = Terminal::new(8, 40, 100);
    t.feed(bytes);
    t.contents()
}

/// When the widget asked for its next frame.
fn repaint_in(h: &Harness<'static, Tty>) -> Duration {
    h.output().viewport_output[&ViewportId::ROOT].repaint_delay
}

/// At a `$ ` prompt, types "ec" and echoes it 300 ms later: the echo of two keys
/// anchors the line and times the round trip.
fn anchored(mode: Mode) -> Harness<'static, Tty> {
    let mut h = tty(mode, b"$ ");
    key(&mut h, "e", 0);
    key(&mut h, "c", 100);
    // Held: until the session answers, where keys land is not known.
    looks_like(&mut h, b"$ ");
    assert_eq!(shown(&h), text_of(b"$ "));
    echo(&mut h, b"e", 300);
    echo(&mut h, b"c", 400);
    assert_eq!(h.state().term.echo_rtt(), Some(at(300)));
    h
}

#[test]
fn keys_show_underlined_before_their_echo_and_the_echo_leaves_the_plain_screen() {
    let mut h = anchored(Mode::Auto);
    assert!(h.state().term.predicting(), "300 ms is worth predicting");
    key(&mut h, "h", 500);
    key(&mut h, "o", 550);
    assert_eq!(h.state().typed, b"echo");
    // Both keys on screen a round trip before their echo, underlined, the cursor after.
    assert_eq!(shown(&h), text_of(b"$ echo"));
    looks_like(&mut h, b"$ ec\x1b[4mho\x1b[0m");
    let plain = real(b"$ ec");
    assert_ne!(differing(&mut h, &plain), 0, "the guesses are not drawn");
    // A frame is asked for when "h" is overdue (twice the round trip after it was
    // typed), not before: nothing repaints while waiting.
    assert_eq!(repaint_in(&h), at(500 + 600 - 550));

    echo(&mut h, b"h", 800);
    looks_like(&mut h, b"$ ech\x1b[4mo\x1b[0m");
    echo(&mut h, b"o", 850);
    // Confirmed: the screen is the session's own, exactly as with no prediction.
    looks_like(&mut h, b"$ echo");
    assert_eq!(shown(&h), text_of(b"$ echo"));
    assert!(h.state().term.overlay().cells.is_empty());
    assert_eq!(repaint_in(&h), Duration::MAX, "an idle terminal repaints");
    assert_eq!(h.state().term.mispredictions(), 0);
}

#[test]
fn a_guess_whose_echo_never_comes_is_taken_back_when_due() {
    let mut h = anchored(Mode::Auto);
    key(&mut h, "x", 500);
    looks_like(&mut h, b"$ ec\x1b[4mx\x1b[0m");
    let due = repaint_in(&h);
    assert_eq!(due, at(600));
    // The frame egui's timer gives just before it is due changes nothing...
    frame(&mut h, 1099);
    looks_like(&mut h, b"$ ec\x1b[4mx\x1b[0m");
    // ...the one when it is due takes the guess back.
    frame(&mut h, 1100);
    looks_like(&mut h, b"$ ec");
    assert_eq!(h.state().term.mispredictions(), 1);
    assert_eq!(repaint_in(&h), Duration::MAX);
}

#[test]
fn at_a_password_prompt_nothing_typed_is_drawn() {
    let mut h = anchored(Mode::Auto);
    key(&mut h, "h", 500);
    echo(&mut h, b"h", 800);
    h.state_mut().term.set_time(at(900));
    h.key_press(egui::Key::Enter);
    h.run();
    let prompt = b"$ ech\r\nPassword: ";
    echo(&mut h, b"\r\nPassword: ", 1200);
    looks_like(&mut h, prompt);
    // The session echoes nothing: every key stays held, never drawn.
    for (i, c) in "hunter2".chars().enumerate() {
        key(&mut h, &c.to_string(), 1300 + 50 * i as u64);
        assert!(h.state().term.overlay().cells.is_empty());
        assert!(!shown(&h).contains("hu"), "{}", shown(&h));
    }
    assert!(h.state().typed.ends_with(b"\rhunter2"));
    looks_like(&mut h, prompt);
    // The held keys expire unseen.
    frame(&mut h, 2000);
    looks_like(&mut h, prompt);
    assert_eq!(h.state().term.mispredictions(), 0);
}

#[test]
fn with_prediction_off_keys_wait_for_their_echo() {
    let mut h = anchored(Mode::Never);
    assert!(!h.state().term.predicting());
    key(&mut h, "h", 500);
    key(&mut h, "o", 550);
    assert_eq!(shown(&h), text_of(b"$ ec"));
    looks_like(&mut h, b"$ ec");
    // Forced on, the same keys would show.
    h.state_mut().term.set_predict(Mode::Always);
    frame(&mut h, 560);
    looks_like(&mut h, b"$ ec\x1b[4mho\x1b[0m");
}

#[test]
fn a_view_scrolled_into_history_shows_no_guess() {
    let lines: String = (0..20).map(|i| format!("line {i}\r\n")).collect();
    let mut h = tty(Mode::Always, lines.as_bytes());
    h.state_mut().term.feed(b"$ ");
    key(&mut h, "a", 0);
    key(&mut h, "b", 10);
    echo(&mut h, b"ab", 300);
    key(&mut h, "c", 400);
    assert!(shown(&h).ends_with("$ abc"), "{}", shown(&h));
    h.state_mut().term.scroll_view(5);
    frame(&mut h, 410);
    assert!(!shown(&h).contains("$ ab"), "{}", shown(&h));
    assert!(h.state().term.overlay().cells.is_empty());
    // The guess stands: back on the live screen it shows again.
    h.state_mut().term.scroll_view(-5);
    frame(&mut h, 420);
    assert!(shown(&h).ends_with("$ abc"), "{}", shown(&h));
}
