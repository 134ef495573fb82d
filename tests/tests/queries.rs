//! A program's terminal queries (cursor position, device attributes, colours) are
//! answered once, by the session itself, however many viewers watch and whether or not
//! any does; and the session's screen re-wraps on resize, so a re-attach after a narrow
//! window shows whole lines. Real agents, the real CLI in real PTYs whose terminals
//! answer queries as a user's would ([`vibemesh_tests::Term::answer_queries`]).

use vibemesh_tests::{TestAgent, pair};

/// Agent `a` paired as owner with agent `b` ("build-box").
fn laptop_and_server() -> (TestAgent, TestAgent) {
    let a = TestAgent::start("laptop");
    let b = TestAgent::start("server");
    pair(&a, &b, "build-box", "owner");
    (a, b)
}

/// Runs `script` in bash on build-box, detached; returns the session id.
fn detached(a: &TestAgent, dir: &tempfile::TempDir, script: &str) -> String {
    a.open_detached(
        "build-box",
        dir.path(),
        &["bash", "--norc", "--noprofile", "-c", script],
    )
}

/// After `go` is typed: asks for the cursor position, the device attributes, the
/// background colour and the cursor position again, each after the answer to the one
/// before, then prints everything it read (a second answer to any query would be read
/// as part of the next one).
const ASK: &str = r#"stty -echo -icanon; printf 'ready\n'; read -r go
printf 'abc\033[6n'; IFS= read -r -d R cpr
printf '\033[c'; IFS= read -r -d c da
printf '\033]11;?\033\\'; IFS= read -r -d '\' bg
printf '\033[6n'; IFS= read -r -d R cpr2
printf '\nanswers:%q|%q|%q|%q:end\n' "$cpr" "$da" "$bg" "$cpr2"
read -r done"#;

#[test]
fn a_query_gets_exactly_one_answer_with_two_viewers() {
    let (a, _b) = laptop_and_server();
    let dir = tempfile::tempdir().unwrap();
    let id = detached(&a, &dir, ASK);
    let mut t1 = a.term(&["attach", "build-box", &id], 24, 80);
    t1.answer_queries();
    t1.wait_text("ready");
    let t2 = a.term(&["attach", "build-box", &id], 24, 80);
    t2.answer_queries();
    t2.wait_text("ready");
    t1.line("go");
    let expected = r"answers:$'\E[2;4'|$'\E[?62;22'|$'\E]11;rgb:1e1e/1e1e/1e1e\E'|$'\E[2;4':end";
    for t in [&t1, &t2] {
        let screen = t.wait_text(":end");
        assert!(screen.contains(expected), "{screen}");
    }
    // The viewers never saw the queries: nothing reached their terminals to answer.
    for t in [&t1, &t2] {
        let out = t.output();
        let seen = [&b"\x1b[6n"[..], b"\x1b[c", b"\x1b]11;?"];
        for q in seen {
            assert!(
                !out.windows(q.len()).any(|w| w == q),
                "{q:?} reached a viewer"
            );
        }
    }
}

#[test]
fn a_query_is_answered_with_nobody_watching() {
    let (a, _b) = laptop_and_server();
    let dir = tempfile::tempdir().unwrap();
    let script = r#"stty -echo -icanon; printf 'xy\033[6n'; IFS= read -r -d R cpr
printf '\033]10;?\007'; IFS= read -r -d $'\a' fg
printf '\nanswers:%q|%q:end\n' "$cpr" "$fg"; read -r done"#;
    let id = detached(&a, &dir, script);
    // Attached only now: the answers were given before anyone watched.
    let t = a.term(&["attach", "build-box", &id], 24, 80);
    let screen = t.wait_text(":end");
    assert!(
        screen.contains(r"answers:$'\E[1;3'|$'\E]10;rgb:d4d4/d4d4/d4d4':end"),
        "{screen}"
    );
}

#[test]
fn a_reattach_after_narrow_then_wide_shows_the_whole_lines() {
    let (a, _b) = laptop_and_server();
    let dir = tempfile::tempdir().unwrap();
    let script = r#"stty -echo; for i in $(seq 15); do printf 0123456789; done
printf '\nprinted\n'; while read -r l; do stty size; done"#;
    let id = detached(&a, &dir, script);
    let mut t = a.term(&["attach", "build-box", &id], 24, 80);
    t.wait_text("printed");
    t.resize(24, 30);
    t.line("");
    t.wait_text("24 30");
    t.resize(24, 80);
    t.line("");
    t.wait_text("24 80");
    t.send("\r~.");
    assert_eq!(t.wait_exit(), 0);
    let again = a.term(&["attach", "build-box", &id], 24, 80);
    let screen = again.wait_text("24 80");
    // The 150 digits are one line again, over two rows, not three cut 30-column pieces.
    assert!(screen.contains(&"0123456789".repeat(15)), "{screen}");
}
