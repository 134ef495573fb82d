//! The terminal widget's input, driven through egui_kittest as a user would: keys,
//! paste (bracketed when the program asked), selection and copy, the wheel through
//! scrollback, and mouse reports for programs that ask. Each test checks the bytes the
//! program would receive, the text that reaches the clipboard, or what is on screen.

use egui::{
    Event, Modifiers, MouseWheelSource, MouseWheelUnit, OutputCommand, Pos2, Rect, TouchPhase,
    Vec2, ViewportCommand, ViewportId,
};
use egui_kittest::{Harness, kittest::Queryable};
use vibemesh_desktop::term::{TermStyle, Terminal, TerminalView};

/// The widget's state as a test sees it.
struct Tty {
    term: Terminal,
    /// Everything the widget sent to the program.
    typed: Vec<u8>,
    rect: Rect,
    cell: Vec2,
}

const CTRL_SHIFT: Modifiers = Modifiers {
    alt: false,
    ctrl: true,
    shift: true,
    mac_cmd: false,
    command: true,
};

/// A focused 8x40 terminal (500 lines of history) showing `bytes`.
fn tty(bytes: &[u8], read_only: bool) -> Harness<'static, Tty> {
    let mut term = Terminal::new(8, 40, 500);
    term.feed(bytes);
    let style = TermStyle::default();
    let mut first = true;
    let mut h = Harness::builder()
        .with_size(Vec2::new(600.0, 300.0))
        .build_ui_state(
            move |ui, s: &mut Tty| {
                s.cell = TerminalView::cell_size(ui, &style);
                let out = TerminalView::new(&mut s.term, &style)
                    .fixed_size(8, 40)
                    .read_only(read_only)
                    .show(ui);
                if first {
                    out.response.request_focus();
                    first = false;
                }
                s.rect = out.response.rect;
                s.typed.extend(out.input);
            },
            Tty {
                term,
                typed: Vec::new(),
                rect: Rect::NOTHING,
                cell: Vec2::ZERO,
            },
        );
    h.run();
    h
}

/// The middle of the cell at `col`, `row`.
fn at(h: &Harness<'_, Tty>, col: u16, row: u16) -> Pos2 {
    let s = h.state();
    s.rect.min + s.cell * Vec2::new(f32::from(col) + 0.5, f32::from(row) + 0.5)
}

fn take_typed(h: &mut Harness<'_, Tty>) -> Vec<u8> {
    std::mem::take(&mut h.state_mut().typed)
}

fn wheel(h: &Harness<'_, Tty>, lines: f32) {
    h.event(Event::MouseWheel {
        unit: MouseWheelUnit::Line,
        delta: Vec2::new(0.0, lines),
        phase: TouchPhase::Move,
        source: MouseWheelSource::Unknown,
        modifiers: Modifiers::NONE,
    });
}

/// Presses `key` with `mods` held, in one frame, whose output the caller may inspect.
fn chord(h: &mut Harness<'_, Tty>, mods: Modifiers, key: egui::Key) {
    h.event(Event::Key {
        key,
        pressed: true,
        modifiers: mods,
        repeat: false,
        physical_key: None,
    });
    h.step();
}

fn click(h: &mut Harness<'_, Tty>, pos: Pos2) {
    h.hover_at(pos);
    h.drag_at(pos);
    h.step();
    h.drop_at(pos);
    h.step();
}

#[test]
fn keys_reach_the_program_as_a_terminal_sends_them() {
    let mut h = tty(b"", false);
    h.key_press(egui::Key::ArrowUp);
    h.key_press(egui::Key::F5);
    h.key_press_modifiers(Modifiers::CTRL, egui::Key::A);
    h.event(Event::Text("é".into()));
    h.run();
    assert_eq!(take_typed(&mut h), "\x1b[A\x1b[15~\x01é".as_bytes());
    // A program that switches the cursor keys to application mode gets SS3 arrows.
    h.state_mut().term.feed(b"\x1b[?1h");
    h.key_press(egui::Key::ArrowUp);
    h.run();
    assert_eq!(take_typed(&mut h), b"\x1bOA");
}

#[test]
fn paste_is_bracketed_only_when_the_program_asks() {
    let mut h = tty(b"", false);
    h.event(Event::Paste("echo a\nb".into()));
    h.run();
    assert_eq!(take_typed(&mut h), b"echo a\rb");
    h.state_mut().term.feed(b"\x1b[?2004h");
    h.event(Event::Paste("x\x1b[201~y".into()));
    h.run();
    assert_eq!(take_typed(&mut h), b"\x1b[200~xy\x1b[201~");
}

#[test]
fn ctrl_shift_v_and_shift_insert_ask_the_window_for_the_clipboard() {
    let mut h = tty(b"", false);
    for (mods, key) in [
        (CTRL_SHIFT, egui::Key::V),
        (Modifiers::SHIFT, egui::Key::Insert),
    ] {
        chord(&mut h, mods, key);
        let asked = h.output().viewport_output[&ViewportId::ROOT]
            .commands
            .iter()
            .any(|c| matches!(c, ViewportCommand::RequestPaste));
        assert!(asked, "{key:?} did not ask for the clipboard");
        h.run();
        assert_eq!(take_typed(&mut h), b"", "{key:?} reached the program");
    }
}

#[test]
fn a_drag_selects_and_ctrl_shift_c_copies_without_interrupting() {
    let mut h = tty(b"hello world\r\nsecond line", false);
    let (from, to) = (at(&h, 0, 0), at(&h, 4, 0));
    h.hover_at(from);
    h.drag_at(from);
    h.step();
    h.hover_at(to);
    h.step();
    h.drop_at(to);
    h.step();
    chord(&mut h, CTRL_SHIFT, egui::Key::C);
    let copied: Vec<&OutputCommand> = h.output().platform_output.commands.iter().collect();
    assert!(
        copied
            .iter()
            .any(|c| matches!(c, OutputCommand::CopyText(t) if t == "hello")),
        "copied {copied:?}"
    );
    h.run();
    assert_eq!(take_typed(&mut h), b"");
    // Ctrl+C (the window's copy command) with nothing selected is the interrupt.
    let p = at(&h, 20, 5);
    click(&mut h, p);
    h.event(Event::Copy);
    h.run();
    assert_eq!(take_typed(&mut h), [0x03]);
}

#[test]
fn the_wheel_scrolls_history_and_typing_returns_to_the_live_screen() {
    let lines: String = (0..100).map(|i| format!("line {i}\r\n")).collect();
    let mut h = tty(lines.as_bytes(), false);
    assert!(h.state().term.contents().contains("line 99"));
    h.hover_at(at(&h, 10, 4));
    wheel(&h, 10.0);
    h.run();
    let shown = h.state().term.contents();
    assert!(!shown.contains("line 99"), "{shown}");
    assert!(shown.contains("line 70"), "30 lines back: {shown}");
    assert_eq!(take_typed(&mut h), b"", "the wheel typed something");
    h.event(Event::Text("x".into()));
    h.run();
    assert!(h.state().term.contents().contains("line 99"));
    assert_eq!(take_typed(&mut h), b"x");
}

#[test]
fn a_view_scrolled_back_says_how_far_and_the_live_screen_says_nothing() {
    let lines: String = (0..100).map(|i| format!("line {i}\r\n")).collect();
    let mut h = tty(lines.as_bytes(), false);
    assert!(h.query_by_label_contains("lines back").is_none());
    h.hover_at(at(&h, 10, 4));
    wheel(&h, 10.0);
    h.run();
    // 100 lines and the cursor's row on 8 rows: 93 of history, 30 of them back.
    assert!(
        h.query_by_label_contains("30 of 93 lines back").is_some(),
        "no mark while scrolled back"
    );
    h.event(Event::Text("x".into()));
    h.run();
    assert!(h.query_by_label_contains("lines back").is_none());
}

#[test]
fn mouse_reports_go_to_programs_that_ask() {
    // SGR reports of presses and releases, as vim and htop ask for.
    let mut h = tty(b"\x1b[?1000h\x1b[?1006h", false);
    let p = at(&h, 2, 1);
    click(&mut h, p);
    h.run();
    assert_eq!(take_typed(&mut h), b"\x1b[<0;3;2M\x1b[<0;3;2m");
    h.hover_at(at(&h, 5, 3));
    wheel(&h, 1.0);
    h.run();
    let typed = take_typed(&mut h);
    assert!(typed.starts_with(b"\x1b[<64;6;4M"), "{typed:?}");
    // A program in the alternate screen without mouse support scrolls by arrow keys.
    h.state_mut()
        .term
        .feed(b"\x1b[?1000l\x1b[?1006l\x1b[?1049h");
    wheel(&h, -1.0);
    h.run();
    assert_eq!(take_typed(&mut h), b"\x1b[B\x1b[B\x1b[B");
}

#[test]
fn a_read_only_view_sends_nothing() {
    let mut h = tty(b"\x1b[?1000h", true);
    h.event(Event::Text("x".into()));
    h.event(Event::Paste("y".into()));
    h.key_press(egui::Key::Enter);
    let p = at(&h, 1, 1);
    click(&mut h, p);
    h.run();
    assert_eq!(take_typed(&mut h), b"");
}

#[test]
fn ctrl_v_goes_to_the_program_and_ctrl_shift_v_pastes() {
    let mut h = tty(b"", false);
    chord(&mut h, Modifiers::CTRL, egui::Key::V);
    let asked = h.output().viewport_output[&ViewportId::ROOT]
        .commands
        .iter()
        .any(|c| matches!(c, ViewportCommand::RequestPaste));
    assert!(!asked, "Ctrl+V asked for the clipboard");
    h.run();
    assert_eq!(take_typed(&mut h), [0x16]);
}

#[test]
fn a_quick_alt_chord_keeps_its_escape() {
    // Alt pressed and released within one frame (the events of one frame, as the window
    // delivers them): the frame ends with no modifier held, but the key event that
    // produced the text had Alt.
    let mut h = tty(b"", false);
    let key = |pressed, modifiers| Event::Key {
        key: egui::Key::B,
        pressed,
        modifiers,
        repeat: false,
        physical_key: None,
    };
    h.input_mut().events.extend([
        key(true, Modifiers::ALT),
        Event::Text("b".into()),
        key(false, Modifiers::NONE),
    ]);
    h.step();
    assert_eq!(take_typed(&mut h), b"\x1bb");
}

#[test]
fn a_selection_becomes_the_primary_selection_and_a_middle_click_pastes_it() {
    let mut h = tty(b"hello world", false);
    let (from, to) = (at(&h, 0, 0), at(&h, 4, 0));
    h.hover_at(from);
    h.drag_at(from);
    h.step();
    h.hover_at(to);
    h.step();
    // The release alone, in its own frame (drop_at adds a frame with the pointer gone).
    h.event(Event::PointerButton {
        pos: to,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: Modifiers::NONE,
    });
    h.step();
    let settled = h
        .output()
        .platform_output
        .commands
        .iter()
        .any(|c| matches!(c, OutputCommand::TextSelectionSettled(t) if t == "hello"));
    assert!(
        settled,
        "the selection did not become the PRIMARY selection"
    );
    h.run();
    let pos = at(&h, 10, 3);
    h.event(Event::MiddleClickPaste {
        pos,
        text: "from primary".into(),
    });
    h.run();
    assert_eq!(take_typed(&mut h), b"from primary");
}
