use crate::{
    resize,
    sgr::Pen,
    test_util::{nz, on_cpu},
};

fn parser(rows: u16, cols: u16, bytes: &[u8]) -> vt100::Parser {
    let mut p = vt100::Parser::new(nz(rows), nz(cols), 1000);
    p.process(bytes);
    p
}

/// Every row, scrollback first: its text with the attributes where they change, and
/// whether it wraps.
fn all_rows(s: &mut vt100::Screen) -> Vec<String> {
    let (rows, cols) = (s.size().0.get(), s.size().1.get());
    let back = s.scrollback_len();
    let mut out = Vec::new();
    for abs in 0..back + usize::from(rows) {
        let vis = if abs < back {
            s.set_scrollback(back - abs);
            0
        } else {
            s.set_scrollback(0);
            (abs - back) as u16
        };
        let mut row = String::new();
        let mut pen = Pen::default();
        for cell in (0..cols).filter_map(|c| s.cell(vis, c)) {
            if Pen::of(cell) != pen {
                pen = Pen::of(cell);
                row.push_str(&format!("{pen:?}"));
            }
            row.push_str(cell.contents());
        }
        if s.row_wrapped(vis) {
            row.push_str("<wrap>");
        }
        out.push(row);
    }
    s.set_scrollback(0);
    out
}

fn resized(p: &mut vt100::Parser, rows: u16, cols: u16) {
    resize(p.screen_mut(), nz(rows), nz(cols));
}

#[test]
fn narrow_then_wide_restores_the_lines_with_their_colours() {
    let mut text = Vec::new();
    for i in 0..40 {
        text.extend_from_slice(
            format!(
                "\x1b[3{}mline {i} \x1b[1;44m{}\x1b[0m tail {i}\r\n",
                i % 8,
                "x".repeat(i * 3 % 70)
            )
            .as_bytes(),
        );
    }
    text.extend_from_slice(b"$ ");
    let mut p = parser(10, 80, &text);
    let before = all_rows(p.screen_mut());
    let cursor = p.screen().cursor_position();
    resized(&mut p, 10, 17);
    // Cut lines are wrapped, not lost: the last long line is on the screen in pieces.
    let contents = p.screen().contents();
    assert!(contents.contains("tail 39"), "{contents}");
    assert_eq!(p.screen().cursor_position(), (9, 2));
    resized(&mut p, 10, 80);
    assert_eq!(all_rows(p.screen_mut()), before);
    assert_eq!(p.screen().cursor_position(), cursor);
}

#[test]
fn wide_characters_rewrap_whole() {
    let line = "漢字かな交じり文のテスト、幅の広い文字";
    let mut p = parser(12, 40, format!("{line}\r\nnext").as_bytes());
    let before = all_rows(p.screen_mut());
    resized(&mut p, 12, 8);
    assert_eq!(p.screen().rows(0, 8).next().as_deref(), Some("漢字かな"));
    resized(&mut p, 12, 40);
    assert_eq!(all_rows(p.screen_mut()), before);
    assert_eq!(p.screen().cursor_position(), (1, 4));
}

#[test]
fn the_cursor_keeps_its_place_in_its_line() {
    // A prompt with a long command being typed, the cursor moved back into it.
    let mut p = parser(
        5,
        30,
        b"$ echo 0123456789abcdefghijklmnopqrstuvwxyz\x1b[10D",
    );
    assert_eq!(p.screen().cursor_position(), (1, 3));
    resized(&mut p, 5, 10);
    // Logical offset 33 at ten columns: row 3, column 3.
    assert_eq!(p.screen().cursor_position(), (3, 3));
    p.process(b"!");
    resized(&mut p, 5, 60);
    assert_eq!(p.screen().cursor_position(), (0, 34));
    assert_eq!(
        p.screen().contents(),
        "$ echo 0123456789abcdefghijklmnop!rstuvwxyz"
    );
}

#[test]
fn blank_rows_below_the_cursor_do_not_push_the_text_away() {
    let mut p = parser(10, 40, b"one\r\ntwo\r\n$ ");
    resized(&mut p, 10, 20);
    assert_eq!(p.screen().contents().lines().next(), Some("one"));
    assert_eq!(p.screen().cursor_position(), (2, 2));
    assert_eq!(p.screen().scrollback_len(), 0);
}

#[test]
fn the_alternate_screen_is_left_to_its_program_and_the_main_one_rewraps() {
    let long = "m".repeat(30);
    let mut p = parser(
        5,
        40,
        format!("{long}\r\n$ vim\x1b[?1049h\x1b[Halt text").as_bytes(),
    );
    resized(&mut p, 5, 10);
    assert!(p.screen().alternate_screen());
    assert!(p.screen().contents().starts_with("alt text"));
    resized(&mut p, 5, 40);
    p.process(b"\x1b[?1049l");
    assert!(!p.screen().alternate_screen());
    assert_eq!(p.screen().contents(), format!("{long}\n$ vim"));
    assert_eq!(p.screen().cursor_position(), (1, 5));
}

#[test]
fn modes_and_the_pen_survive_a_rewrap() {
    let mut p = parser(5, 40, b"x\x1b[?2004h\x1b[?1h\x1b[?25l\x1b[31m");
    resized(&mut p, 5, 20);
    let s = p.screen();
    assert!(s.bracketed_paste() && s.application_cursor() && s.hide_cursor());
    assert_eq!(s.fgcolor(), vt100::Color::Idx(1));
}

/// `cargo test -p vibemesh-term --release -- --ignored --nocapture rewrap_time`: wall
/// time, and this thread's time on a CPU (what a busy machine does not inflate).
#[test]
#[ignore = "a measurement: run in release"]
fn rewrap_time() {
    let measure = |what: &str, f: &mut dyn FnMut()| {
        let (t, c) = (std::time::Instant::now(), on_cpu());
        f();
        println!("{what}: {:?} ({:?} on a CPU)", t.elapsed(), on_cpu() - c);
    };
    let mut p = vt100::Parser::new(nz(50), nz(200), 10_000);
    measure("printing 10,050 lines at 200 columns", &mut || {
        for i in 0..10_050 {
            let line = format!("\x1b[32m{i:>6}\x1b[0m {}\r\n", "word ".repeat(i % 40));
            p.process(line.as_bytes());
        }
    });
    for cols in [120, 200, 80, 200] {
        measure(&format!("re-wrapping them to {cols} columns"), &mut || {
            resized(&mut p, 50, cols)
        });
    }
}

#[test]
fn any_output_at_any_sizes_rewraps_without_panicking() {
    // A small deterministic generator: text, wide and combining characters, colours,
    // cursor moves, erases, scroll regions and the alternate screen, at sizes down to 1.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let pieces: &[&str] = &[
        "abc",
        "漢字",
        "e\u{301}",
        "\r\n",
        "\x1b[31m",
        "\x1b[0m",
        "\x1b[44m  ",
        "\x1b[5C",
        "\x1b[2;3H",
        "\x1b[K",
        "\x1b[2J",
        "\x1b[2;4r",
        "\x1b[?1049h",
        "\x1b[?1049l",
        "\t",
        "\x1b[A",
        "\x1b7",
        "\x1b8",
        "0123456789",
    ];
    for _ in 0..200 {
        let (rows, cols) = (1 + next(12) as u16, 1 + next(50) as u16);
        let mut p = parser(rows, cols, b"");
        for _ in 0..next(200) {
            p.process(pieces[next(pieces.len() as u64) as usize].as_bytes());
        }
        for _ in 0..4 {
            let (r, c) = (1 + next(12) as u16, 1 + next(50) as u16);
            resized(&mut p, r, c);
            let (cr, cc) = p.screen().cursor_position();
            assert!(cr < r && cc <= c, "cursor {cr},{cc} outside {r}x{c}");
            p.process(b"more text\r\n");
        }
    }
}

#[test]
fn a_line_reaching_back_into_the_scrollback_keeps_the_cursor_at_its_end() {
    let long: String = (0..290)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let mut p = parser(5, 40, format!("before\r\n{long}").as_bytes());
    assert!(p.screen().scrollback_len() > 0);
    resized(&mut p, 5, 20);
    assert_eq!(p.screen().cursor_position(), (4, 10));
    resized(&mut p, 5, 100);
    assert_eq!(p.screen().cursor_position(), (3, 90));
    assert_eq!(p.screen().contents(), format!("before\n{long}"));
}
