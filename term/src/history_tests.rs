use crate::{
    BLOCK, Clears, History, Row,
    test_util::{nz, on_cpu},
};

/// A 3-row, 10-column screen keeping no scrollback of its own, its rows going to a
/// history of `rows` rows and `bytes` bytes.
fn screen(rows: usize, bytes: usize) -> vt100::Parser<History> {
    vt100::Parser::new_with_callbacks(nz(3), nz(10), 0, History::new(rows, bytes))
}

fn texts(h: &History) -> Vec<(&str, bool)> {
    h.rows().map(|r| (r.text, r.wrapped)).collect()
}

#[test]
fn rows_that_scroll_off_are_kept_as_text_with_their_wraps_and_colours() {
    let mut p = screen(100, 1 << 20);
    p.process(b"one\r\n\x1b[31mred\x1b[0m two\r\n0123456789abc\r\nx\r\ny\r\nz");
    assert_eq!(
        texts(p.callbacks()),
        [
            ("one", false),
            ("\x1b[31mred\x1b[m two", false),
            ("0123456789", true),
            ("abc", false),
        ]
    );
    assert_eq!(p.screen().contents(), "x\ny\nz");
    assert_eq!(p.screen().scrollback_len(), 0);
}

#[test]
fn the_oldest_rows_go_first_past_either_limit() {
    let mut p = screen(3, 1 << 20);
    for i in 0..10 {
        p.process(format!("{i}\r\n").as_bytes());
    }
    let kept: Vec<_> = texts(p.callbacks()).into_iter().map(|r| r.0).collect();
    assert_eq!(kept, ["5", "6", "7"]);

    let mut p = screen(100, 10);
    for i in 0..10 {
        p.process(format!("line{i}\r\n").as_bytes());
    }
    let h = p.callbacks();
    assert_eq!(h.len(), 2, "{:?}", texts(h));
    assert_eq!(h.bytes(), 10);
}

#[test]
fn memory_is_the_text_kept_two_blocks_and_a_slot_a_row() {
    let mut h = History::new(1_000, 1 << 30);
    let line = "x".repeat(100);
    for _ in 0..100_000 {
        h.push_row(&line, false);
    }
    assert_eq!(h.len(), 1_000);
    assert_eq!(h.bytes(), 100_000);
    let slots = 2_048 * 16;
    assert!(h.memory() <= 100_000 + 2 * BLOCK + slots, "{}", h.memory());
    // A row longer than a block gets one of its own, and every row reads back whole.
    let long = "y".repeat(3 * BLOCK);
    h.push_row(&long, true);
    h.push_row("z", false);
    let rows: Vec<Row> = h.rows().rev().take(3).collect();
    assert_eq!(
        rows[0],
        Row {
            text: "z",
            wrapped: false
        }
    );
    assert_eq!(
        rows[1],
        Row {
            text: &long,
            wrapped: true
        }
    );
    assert_eq!(rows[2].text, line);
    h.clear();
    assert!(h.is_empty() && h.memory() <= slots, "{}", h.memory());
}

#[test]
fn the_alternate_screen_adds_nothing() {
    let mut p = screen(100, 1 << 20);
    p.process(b"\x1b[?1049h");
    for i in 0..10 {
        p.process(format!("{i}\r\n").as_bytes());
    }
    assert!(p.callbacks().is_empty(), "{:?}", texts(p.callbacks()));
}

#[test]
fn a_printed_history_lays_out_again_at_any_width() {
    let mut h = History::new(10, 1 << 20);
    for (text, wrapped) in [("\x1b[1mabcde", true), ("fg", false), ("hi", false)] {
        h.push_row(text, wrapped);
    }
    let mut p = vt100::Parser::new(nz(5), nz(3), 0);
    h.print(|b| p.process(b));
    let rows: Vec<String> = p.screen().rows(0, 3).collect();
    assert_eq!(rows, ["abc", "def", "g", "hi", ""]);
    assert!(p.screen().row_wrapped(0) && p.screen().row_wrapped(1));
    assert!(!p.screen().row_wrapped(2));
    assert!(p.screen().cell(0, 0).unwrap().bold());
    assert!(!p.screen().cell(3, 0).unwrap().bold());
}

/// Feeds `bytes` to a scanner one byte at a time; the offsets (in `bytes`) just past
/// each sequence found.
fn clears(bytes: &[u8]) -> Vec<usize> {
    let mut scan = Clears::default();
    let mut found = Vec::new();
    for (i, b) in bytes.iter().enumerate() {
        if scan.next(std::slice::from_ref(b)).is_some() {
            found.push(i + 1);
        }
    }
    found
}

#[test]
fn the_sequences_that_erase_saved_lines_are_found_even_split_across_reads() {
    assert_eq!(clears(b"ab\x1b[3Jcd"), [6]);
    assert_eq!(clears(b"\x1b[H\x1b[2J\x1b[3J"), [11]);
    assert_eq!(clears(b"\x1b[?3J"), [5]);
    assert_eq!(clears(b"\x1b[03;1J"), [7]);
    assert_eq!(clears(b"x\x1bc"), [3]);
    // Not these: other erasures, markers, intermediates, a cancelled sequence.
    for other in [
        &b"\x1b[2J"[..],
        b"\x1b[13J",
        b"\x1b[1;3J",
        b"\x1b[>3J",
        b"\x1b[3 J",
        b"\x1b[3\x18J",
        b"\x1b[3K",
        b"3J c",
    ] {
        assert_eq!(clears(other), [] as [usize; 0], "{other:?}");
    }
    // A whole read: the offset past the first, then the scan goes on from there.
    let mut scan = Clears::default();
    let bytes = b"a\x1b[3Jb\x1bcz";
    assert_eq!(scan.next(bytes), Some(5));
    assert_eq!(scan.next(&bytes[5..]), Some(3));
    assert_eq!(scan.next(&bytes[8..]), None);
}

/// `cargo test -p vibemesh-term --release -- --ignored --nocapture history_time`: what
/// keeping the history as text costs the parser, against vt100's own scrollback, for
/// `seq`-like and colourful output (this thread's time on a CPU, which a busy machine
/// does not inflate), and the memory each holds after.
#[test]
#[ignore = "a measurement: run in release"]
fn history_time() {
    let seq: Vec<u8> = (1..=1_000_000)
        .flat_map(|i| format!("{i}\r\n").into_bytes())
        .collect();
    let colour: Vec<u8> = (0..200_000)
        .flat_map(|i| {
            format!(
                "\x1b[3{}m{i:>6}\x1b[0m {}\r\n",
                i % 8,
                "word ".repeat(i % 14)
            )
            .into_bytes()
        })
        .collect();
    for (what, out) in [("seq 1 1000000", &seq), ("200,000 coloured lines", &colour)] {
        let mut full = vt100::Parser::new(nz(24), nz(80), 10_000);
        let c = on_cpu();
        for chunk in out.chunks(4096) {
            full.process(chunk);
        }
        let full_cpu = on_cpu() - c;
        let mut compact =
            vt100::Parser::new_with_callbacks(nz(24), nz(80), 0, History::new(10_000, 8 << 20));
        let c = on_cpu();
        for chunk in out.chunks(4096) {
            compact.process(chunk);
        }
        let compact_cpu = on_cpu() - c;
        let mb = out.len() as f64 / 1e6;
        println!(
            "{what} ({mb:.1} MB): vt100 scrollback {full_cpu:?}, text history {compact_cpu:?} ({:.2}x); history {} rows in {:.2} MB (vt100's cells: {:.1} MB)",
            compact_cpu.as_secs_f64() / full_cpu.as_secs_f64(),
            compact.callbacks().len(),
            compact.callbacks().memory() as f64 / 1e6,
            (10_000 * 80 * 32) as f64 / 1e6,
        );
    }
}
