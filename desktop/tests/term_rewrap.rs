//! The desktop's own screen re-wraps when its window narrows and widens again, driven
//! through egui_kittest: the terminal view takes the size of the window, as in the app.

use egui::Vec2;
use egui_kittest::Harness;
use vibemesh_desktop::term::{TermStyle, Terminal, TerminalView};

/// A terminal view filling a window of `size`, showing `bytes` (printed once the
/// terminal has the window's size, as a program's output would be).
fn window(bytes: &[u8], size: Vec2) -> Harness<'static, Terminal> {
    let term = Terminal::new(10, 80, 500);
    let style = TermStyle::default();
    let mut h = Harness::builder().with_size(size).build_ui_state(
        move |ui, term: &mut Terminal| {
            TerminalView::new(term, &style).show(ui);
        },
        term,
    );
    h.run();
    h.state_mut().feed(bytes);
    h.run();
    h
}

#[test]
fn narrow_then_wide_brings_the_cut_lines_back() {
    let long = format!("\x1b[31m{}\x1b[0m{}", "red-".repeat(15), "plain-".repeat(5));
    let bytes = format!("{long}\r\nshort\r\n$ ");
    let mut h = window(bytes.as_bytes(), Vec2::new(900.0, 300.0));
    let wide = h.state().size();
    let before = h.state().contents();
    assert!(before.contains(&long.replace("\x1b[31m", "").replace("\x1b[0m", "")));

    // A quarter of the width: the long line is wrapped over rows, none of it cut.
    h.set_size(Vec2::new(225.0, 300.0));
    h.run();
    let narrow = h.state().size();
    assert!(narrow.1 < wide.1 / 2, "{narrow:?} from {wide:?}");
    let text = h.state().contents();
    assert!(
        text.contains("plain-plain-") && text.contains("short"),
        "{text}"
    );

    h.set_size(Vec2::new(900.0, 300.0));
    h.run();
    assert_eq!(h.state().size(), wide);
    assert_eq!(h.state().contents(), before);
    // The colours came back with the text.
    let red = h.state().screen().cell(0, 0).map(|c| c.fgcolor());
    assert_eq!(red, Some(vt100::Color::Idx(1)));
}
