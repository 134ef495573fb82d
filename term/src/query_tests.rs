use crate::{QUERY_MAX, Query, QueryFilter, answer, test_util::nz};

fn run(chunks: &[&[u8]]) -> (Vec<u8>, Vec<(usize, Query)>) {
    let mut f = QueryFilter::default();
    let (mut out, mut found) = (Vec::new(), Vec::new());
    for c in chunks {
        f.filter(c, &mut out, &mut found);
        assert!(f.held.len() <= QUERY_MAX);
    }
    f.flush(&mut out);
    (out, found)
}

const STREAM: &[u8] = b"a\x1b[6nb\x1b[31mred\x1b[c\x1b[0c\x1b]11;?\x1b\\\x1b]10;?\x07\
\x1b[>c\x1b[>0q\x1b[?6n\x1b[5n\x1b]0;title\x07\x1b[6;1H\x1b\x1b[6nz\x1b]12;?\x07";

#[test]
fn queries_are_taken_out_where_they_were_and_everything_else_passes() {
    let (out, found) = run(&[STREAM]);
    assert_eq!(out, b"ab\x1b[31mred\x1b]0;title\x07\x1b[6;1H\x1bz".to_vec());
    use Query::*;
    assert_eq!(
        found,
        vec![
            (1, CursorPosition),
            (10, PrimaryAttributes),
            (10, PrimaryAttributes),
            (
                10,
                Colour {
                    which: 11,
                    st: true
                }
            ),
            (
                10,
                Colour {
                    which: 10,
                    st: false
                }
            ),
            (10, SecondaryAttributes),
            (10, Version),
            (10, DecCursorPosition),
            (10, Status),
            (27, CursorPosition),
            (
                28,
                Colour {
                    which: 12,
                    st: false
                }
            ),
        ]
    );
}

#[test]
fn no_query_is_the_start_of_another() {
    for (a, _) in crate::query::QUERIES {
        for (b, _) in crate::query::QUERIES {
            assert!(a == b || !b.starts_with(a), "{a:?} starts {b:?}");
        }
    }
}

#[test]
fn a_query_split_across_reads_is_found_all_the_same() {
    let whole = run(&[STREAM]);
    for cut in 0..STREAM.len() {
        assert_eq!(
            run(&[&STREAM[..cut], &STREAM[cut..]]),
            whole,
            "cut at {cut}"
        );
    }
    let bytes: Vec<&[u8]> = STREAM.chunks(1).collect();
    assert_eq!(run(&bytes), whole);
}

#[test]
fn only_the_start_of_a_possible_query_is_held_back() {
    let mut f = QueryFilter::default();
    let (mut out, mut found) = (Vec::new(), Vec::new());
    f.filter(b"text\x1b[3", &mut out, &mut found);
    // `ESC [ 3` cannot become a query: all of it is out at once.
    assert_eq!(out, b"text\x1b[3");
    out.clear();
    f.filter(b"1mx\x1b[", &mut out, &mut found);
    assert_eq!(out, b"1mx");
    f.filter(b"6n", &mut out, &mut found);
    assert_eq!((out.as_slice(), found.len()), (&b"1mx"[..], 1));
}

#[test]
fn answers_come_from_the_screen_in_the_shape_asked() {
    let mut p = vt100::Parser::new(nz(24), nz(80), 0);
    p.process(b"\r\n\r\nab");
    let s = p.screen();
    assert_eq!(answer(Query::CursorPosition, s), b"\x1b[3;3R");
    assert_eq!(answer(Query::DecCursorPosition, s), b"\x1b[?3;3R");
    assert_eq!(answer(Query::Status, s), b"\x1b[0n");
    assert_eq!(answer(Query::PrimaryAttributes, s), b"\x1b[?62;22c");
    assert_eq!(
        answer(
            Query::Colour {
                which: 11,
                st: true
            },
            s
        ),
        b"\x1b]11;rgb:1e1e/1e1e/1e1e\x1b\\"
    );
    assert_eq!(
        answer(
            Query::Colour {
                which: 10,
                st: false
            },
            s
        ),
        b"\x1b]10;rgb:d4d4/d4d4/d4d4\x07"
    );
    // Printing into the last column leaves vt100's cursor past it; a terminal says
    // the last column.
    p.process(b"\r\n");
    p.process(&[b'x'; 80]);
    assert_eq!(answer(Query::CursorPosition, p.screen()), b"\x1b[4;80R");
}

/// `cargo test -p vibemesh-term --release -- --ignored --nocapture filter_speed`
#[test]
#[ignore = "a measurement: run in release"]
fn filter_speed() {
    let mut colourful = Vec::new();
    while colourful.len() < 64 << 20 {
        colourful.extend_from_slice(b"\x1b[38;5;196mred\x1b[0m plain text \x1b[1mbold\x1b[0m\r\n");
    }
    let plain = vec![b'x'; 64 << 20];
    for (what, bytes) in [("colourful", &colourful), ("plain", &plain)] {
        let mut f = QueryFilter::default();
        let (mut out, mut found) = (Vec::with_capacity(64 << 10), Vec::new());
        let t = std::time::Instant::now();
        for chunk in bytes.chunks(64 << 10) {
            out.clear();
            f.filter(chunk, &mut out, &mut found);
        }
        let secs = t.elapsed().as_secs_f64();
        println!("{what}: {:.0} MB/s", bytes.len() as f64 / secs / 1e6);
    }
}
