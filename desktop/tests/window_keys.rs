//! The window's keys with a real shell behind the terminal: Ctrl+V reaches the program
//! (vim's block selection, bash's quoted insert) while text fields still paste with it,
//! and tabs switch from the keyboard with the keys going to the tab shown.

mod common;

use common::{App, shows, start_app, start_app_with_shell};
use egui::{Event, Key, Modifiers, ViewportCommand, ViewportId};
use egui_kittest::kittest::Queryable;

/// Ctrl as the window reports it: on Linux and Windows it is also the command key.
const CTRL: Modifiers = Modifiers {
    ctrl: true,
    command: !cfg!(target_os = "macos"),
    ..Modifiers::NONE
};

/// Presses and releases `key` with `mods` in one frame, as the window reports it (the
/// key events carry the modifiers); the frame's output is the caller's to inspect.
fn chord(app: &mut App, mods: Modifiers, key: Key) {
    let ev = |pressed| Event::Key {
        key,
        physical_key: None,
        pressed,
        repeat: false,
        modifiers: mods,
    };
    app.harness.input_mut().events.extend([ev(true), ev(false)]);
    app.harness.step();
}

fn asked_for_clipboard(app: &App) -> bool {
    app.harness.output().viewport_output[&ViewportId::ROOT]
        .commands
        .iter()
        .any(|c| matches!(c, ViewportCommand::RequestPaste))
}

#[test]
fn the_window_leaves_ctrl_c_and_ctrl_v_to_the_app() {
    // egui's own shortcuts would turn Ctrl+V into a paste before the terminal sees it.
    assert!(!vibemesh_desktop::native_options().clipboard_shortcuts);
}

#[test]
fn ctrl_v_reaches_the_program_and_still_pastes_in_a_text_field() {
    let mut app = start_app();
    app.wait("this machine online", |h| shows(h, "This machine: online"));

    // In the dialog's Folder field Ctrl+V asks the window for the clipboard.
    app.new_session_on(0);
    app.harness.get_by_label("Folder").focus();
    app.harness.run_ok();
    chord(&mut app, CTRL, Key::V);
    assert!(
        asked_for_clipboard(&app),
        "Ctrl+V in a text field did not paste"
    );
    app.harness.run_ok();

    // In the terminal it is the byte 0x16, read here by `od` with the tty in raw mode
    // (without -iexten the tty itself would take it as "literal next").
    app.start_tab(0);
    app.type_line("stty raw -echo -iexten; echo re''ady; head -c1 | od -An -tx1; stty sane");
    app.wait_line(0, "ready");
    chord(&mut app, CTRL, Key::V);
    assert!(!asked_for_clipboard(&app), "Ctrl+V in the terminal pasted");
    app.wait_line(0, "16");
}

#[test]
fn ctrl_v_starts_vims_block_selection() {
    let mut app = start_app_with_shell();
    // No vimrc, so the mode line is vim's own; `showmode` says the mode at the bottom.
    app.type_line("vim -u NONE -N -c 'set showmode' -c 'call setline(1, \"block\")'");
    app.wait("vim with its buffer", |h| {
        h.state().tabs()[0].screen_text().contains("block")
    });
    // Vim reads keys once it has started (a key typed while it still starts up may be
    // dropped): it has when it answers a command.
    app.type_line(":echo 'rea' . 'dy'");
    app.wait("vim answering", |h| {
        h.state().tabs()[0]
            .screen_text()
            .lines()
            .any(|l| l.trim() == "ready")
    });
    chord(&mut app, CTRL, Key::V);
    app.harness.run_ok();
    assert!(!asked_for_clipboard(&app), "Ctrl+V in vim pasted");
    app.wait("vim in block selection", |h| {
        h.state().tabs()[0]
            .screen_text()
            .contains("-- VISUAL BLOCK --")
    });
    chord(&mut app, Modifiers::NONE, Key::Escape);
    app.type_line(":q!");
    app.wait("back at the shell", |h| {
        !h.state().tabs()[0].screen_text().contains("VISUAL")
    });
}

#[test]
fn tabs_switch_from_the_keyboard_and_typing_follows() {
    let mut app = start_app_with_shell();
    app.new_session_on(0);
    app.start_tab(1);

    // Ctrl+Tab from the last tab wraps to the first.
    chord(&mut app, CTRL, Key::Tab);
    app.type_line("echo one-$((6*7))");
    app.wait_line(0, "one-42");
    // Ctrl+PageDown: the next one.
    chord(&mut app, CTRL, Key::PageDown);
    app.type_line("echo two-$((6*7))");
    app.wait_line(1, "two-42");
    // Alt+1 (Cmd+1 on macOS): the first.
    let number = if cfg!(target_os = "macos") {
        Modifiers::MAC_CMD
    } else {
        Modifiers::ALT
    };
    chord(&mut app, number, Key::Num1);
    app.type_line("echo three-$((6*7))");
    app.wait_line(0, "three-42");
    // None of the switching keys reached a program as input: each command line is
    // exactly what was typed.
    for n in 0..2 {
        let text = app.harness.state().tabs()[n].screen_text();
        for line in text.lines().filter(|l| l.contains("echo")) {
            let typed = line.split_once("# ").map_or(line, |(_, t)| t).trim_end();
            assert!(
                typed.starts_with("echo ") && typed.ends_with("-$((6*7))") && !typed.contains('\t'),
                "a switching key was typed into tab {n}:\n{text}"
            );
        }
    }
}

#[test]
fn the_command_palette_does_everything_from_the_keyboard() {
    let palette = if cfg!(target_os = "macos") {
        Modifiers::MAC_CMD | Modifiers::SHIFT
    } else {
        CTRL | Modifiers::SHIFT
    };
    let mut app = start_app();
    app.wait("this machine online", |h| shows(h, "This machine: online"));
    // A new session, twice, with no mouse: the palette, a few letters, Enter; then the
    // form's Start.
    for n in 0..2 {
        chord(&mut app, palette, Key::P);
        app.harness.run_ok();
        app.type_line("new sess this");
        app.wait("the New session form", |h| shows(h, "Start"));
        app.start_tab(n);
    }
    // Back to the first tab by name, picked with Down from the matches.
    chord(&mut app, palette, Key::P);
    app.harness.run_ok();
    app.harness.event(Event::Text("show tab".into()));
    app.harness.run_ok();
    assert_eq!(
        app.harness
            .query_all_by_label_contains("Show tab: ")
            .count(),
        2,
        "{}",
        app.describe()
    );
    app.harness.key_press(Key::ArrowDown);
    app.harness.key_press(Key::ArrowUp);
    app.harness.key_press(Key::Enter);
    app.harness.run_ok();
    assert!(
        !shows(&app.harness, "Show tab: "),
        "the palette stayed open"
    );
    app.type_line("echo first-$((6*7))");
    app.wait_line(0, "first-42");
    // Esc closes it without doing anything.
    chord(&mut app, palette, Key::P);
    app.harness.run_ok();
    app.harness.event(Event::Text("settings".into()));
    app.harness.run_ok();
    // The top bar's button and the palette's line.
    assert_eq!(app.count("Settings"), 2, "{}", app.describe());
    app.harness.key_press(Key::Escape);
    app.harness.run_ok();
    assert_eq!(app.count("Settings"), 1, "{}", app.describe());
}
