//! Image snapshots of the terminal widget, rendered on the CPU (wgpu on lavapipe or
//! llvmpipe), compared with the committed PNGs in `tests/snapshots/`. To accept a change
//! on purpose: `UPDATE_SNAPSHOTS=1 cargo test -p vibemesh-desktop --test term_snapshots`.

use egui_kittest::{Harness, SnapshotOptions};
use vibemesh_desktop::term::{TermStyle, Terminal, TerminalView};

/// A harness showing `term` in a 40x8 widget, focused (so the cursor is a block).
fn harness(bytes: &[u8]) -> Harness<'static, Terminal> {
    let mut term = Terminal::new(8, 40, 100);
    term.feed(bytes);
    let style = TermStyle::default();
    let mut first = true;
    let mut h = Harness::builder()
        .with_fit_contents()
        .with_context_setup(|ctx| {
            // The fallbacks (CJK here) from the system, and the bold/italic faces
            // installed before the first frame, so every snapshot shows the same fonts.
            vibemesh_desktop::term::fonts::add_fallbacks(ctx)
                .join()
                .expect("the bold/italic face finder ran");
        })
        .build_ui_state(
            move |ui, term: &mut Terminal| {
                let out = TerminalView::new(term, &style).fixed_size(8, 40).show(ui);
                if first {
                    out.response.request_focus();
                    first = false;
                }
            },
            term,
        );
    h.run();
    h
}

fn options() -> SnapshotOptions {
    // Glyph edges differ slightly between CPU rasterisers; colours and layout may not.
    SnapshotOptions::new().threshold(1.0).max_failed_pixels(60)
}

#[test]
fn colours_16_256_and_truecolor() {
    let mut bytes = Vec::new();
    for i in 0..16 {
        bytes.extend(format!("\x1b[48;5;{i}m  ").as_bytes());
    }
    bytes.extend(b"\x1b[0m\r\n");
    for i in 0..8 {
        bytes.extend(format!("\x1b[3{i}mC{i}").as_bytes());
    }
    bytes.extend(b"\x1b[0m\r\n");
    for i in (16..232).step_by(6) {
        bytes.extend(format!("\x1b[48;5;{i}m ").as_bytes());
    }
    bytes.extend(b"\x1b[0m\r\n");
    for i in 0..40 {
        let r = i * 6;
        bytes.extend(format!("\x1b[48;2;{r};80;{}m ", 255 - r).as_bytes());
    }
    bytes.extend(b"\x1b[0m\r\n\x1b[38;2;255;128;0mtrue orange\x1b[0m ");
    let mut h = harness(&bytes);
    h.snapshot_options("term_colours", &options());
}

#[test]
fn attributes_bold_italic_underline_inverse_dim() {
    let bytes = b"plain \x1b[1mbold\x1b[0m \x1b[3mitalic\x1b[0m \x1b[4munder\x1b[0m\r\n\
\x1b[7minverse\x1b[0m \x1b[2mdim\x1b[0m \x1b[1;31mbold red\x1b[0m \x1b[4;32mgreen_ul\x1b[0m\r\n\
\x1b[7;34m blue inverse \x1b[0m\r\n";
    let mut h = harness(bytes);
    h.snapshot_options("term_attributes", &options());
}

#[test]
fn wide_and_combining_characters_and_the_cursor() {
    // Wide CJK cells, a combining acute accent, box drawing, then the cursor after "$ ".
    let bytes = "wide: 日本語 ok\r\ne\u{301} cafe\u{301}\r\n┌──┐│x│└──┘\r\n$ ".as_bytes();
    let mut h = harness(bytes);
    h.snapshot_options("term_wide_cursor", &options());
    let screen = h.state().screen();
    assert!(screen.cell(0, 6).unwrap().is_wide());
    assert_eq!(screen.cursor_position(), (3, 2));
}

#[test]
fn a_screen_that_changed_draws_as_if_drawn_fresh() {
    // The widget keeps each row's mesh while the row is unchanged; a row that changed
    // (text, colours, attributes, the selection) must never show its old look.
    let first = b"\x1b[31mred line\x1b[0m\r\nsecond \x1b[4munder\x1b[0m\r\nthird \xe6\x97\xa5";
    let then =
        b"\x1b[2;1H\x1b[1;44mnow bold on blue\x1b[0m\x1b[K\r\n\x1b[3mitalic\x1b[0m \x1b[7mx\x1b[0m";
    let select = |t: &mut Terminal| {
        t.select(
            vibemesh_desktop::term::Point { line: 0, col: 4 },
            vibemesh_desktop::term::Point { line: 0, col: 12 },
        )
    };

    let mut changed = harness(first);
    let before = changed.render().expect("render the first screen");
    changed.state_mut().feed(then);
    select(changed.state_mut());
    changed.run();
    let after = changed.render().expect("render the changed screen");

    let mut both = first.to_vec();
    both.extend_from_slice(then);
    let mut fresh = harness(&both);
    select(fresh.state_mut());
    fresh.run();
    let expected = fresh.render().expect("render the fresh screen");

    assert_ne!(before, after, "the change must show");
    assert_eq!(after.dimensions(), expected.dimensions());
    let differing = after
        .pixels()
        .zip(expected.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(
        differing, 0,
        "a redrawn row differs from the same row drawn fresh"
    );
}
