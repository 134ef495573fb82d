//! Typing over a slow link: two agents in network namespaces with a 300 ms round trip
//! between them (every UDP datagram held 150 ms each way, see `vibemesh_tests::delay`),
//! and `vibemesh open` on one to a shell on the other. With prediction (the default)
//! typed keys show on the CLI's screen at once; without it each waits a round trip.
//! Either way the screen ends as the session's own, and a password typed at `read -s`
//! is never drawn. Needs root; elsewhere it says why it did not run.

use std::time::{Duration, Instant};

use vibemesh_tests::{PROMPT_SHELL, Term, TestAgent, netns::Netns, pair};

/// What is typed at the prompt.
const LINE: &str = "echo typed-over-a-slow-link";
/// How fast the user types: about eight keys a second.
const PACE: Duration = Duration::from_millis(120);

/// Opens a shell on `box` from `laptop`'s CLI, with `--predict mode`.
fn open(laptop: &TestAgent, mode: &str) -> Term {
    let mut args = vec!["open", "box", "--predict", mode, "--"];
    args.extend_from_slice(PROMPT_SHELL);
    let term = laptop.term(&args, 24, 80);
    term.wait_for("the prompt", |s| s.trim_end().ends_with('$'));
    term
}

/// Types [`LINE`] key by key at [`PACE`]; returns how long each key took to show on
/// the screen.
fn type_line(term: &mut Term) -> Vec<Duration> {
    let mut shown = Vec::new();
    for i in 0..LINE.len() {
        let typed = Instant::now();
        term.send(&LINE[i..=i]);
        let want = format!("$ {}", &LINE[..=i]);
        term.wait_for(&want, |s| s.lines().any(|l| l.starts_with(&want)));
        shown.push(typed.elapsed());
        // The user's pace, not a wait for anything.
        std::thread::sleep(PACE.saturating_sub(typed.elapsed()));
    }
    shown
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn report(what: &str, shown: &[Duration]) -> Vec<Duration> {
    let mut sorted = shown.to_vec();
    sorted.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let within_frame = shown
        .iter()
        .filter(|d| **d < Duration::from_micros(16_700))
        .count();
    eprintln!(
        "{what}: perceived echo p50 {:.1} ms, p99 {:.1} ms; {within_frame} of {} keys within one 60 Hz frame",
        ms(percentile(&sorted, 50)),
        ms(percentile(&sorted, 99)),
        shown.len()
    );
    sorted
}

/// What of `bytes` a terminal would print: escape sequences left out.
fn printed(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            0x1b if bytes.get(i + 1) == Some(&b'[') => {
                i += 2;
                while i < bytes.len() && !(0x40..=0x7e).contains(&bytes[i]) {
                    i += 1;
                }
            }
            0x1b => i += 1,
            b if b.is_ascii_graphic() => out.push(char::from(b)),
            _ => {}
        }
        i += 1;
    }
    out
}

#[test]
fn over_a_300_ms_link_keys_show_at_once_and_the_screen_ends_as_the_sessions() {
    let Some((a_ns, b_ns)) = Netns::lan_pair("pe") else {
        eprintln!("SKIPPED: cannot create network namespaces here (needs root and `ip`)");
        return;
    };
    let _slow = match b_ns.delay_udp(Duration::from_millis(150)) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("SKIPPED: cannot delay the link here (NFQUEUE): {e}");
            return;
        }
    };
    let laptop = a_ns.agent("laptop", 0, "");
    let server = b_ns.agent("server", 4300, "");
    pair(&laptop, &server, "box", "owner");

    // Without prediction: every key waits for its echo, a round trip.
    let mut plain = open(&laptop, "never");
    let slow = report("300 ms round trip, --predict never", &type_line(&mut plain));
    assert!(
        slow[0] >= Duration::from_millis(300),
        "no key can show before its echo: {slow:?}"
    );
    plain.line("");
    let next_prompt = |s: &str| s.contains("\ntyped-over-a-slow-link\n$");
    plain.wait_for("the output and the next prompt", next_prompt);

    // With it (the default, `auto`): once the first keys' echo has anchored the line,
    // the rest show as they are typed.
    let mut predicted = open(&laptop, "auto");
    let shown = type_line(&mut predicted);
    let fast = report("300 ms round trip, --predict auto", &shown);
    let at_once = shown
        .iter()
        .filter(|d| **d < Duration::from_millis(100))
        .count();
    assert!(
        at_once * 2 > LINE.len(),
        "most keys should show well inside the round trip: {fast:?}"
    );
    predicted.line("");
    predicted.wait_for("the output and the next prompt", next_prompt);
    // Guessed cells are underlined until confirmed; once the echo is in, the screen
    // is exactly what it is without prediction, attributes and all.
    assert_eq!(predicted.screen_formatted(), plain.screen_formatted());

    // A password prompt echoes nothing, so nothing typed there is drawn, at any moment.
    predicted.line("read -s -p 'Password: ' pw; echo; echo got-${#pw}");
    // The prompt's own row (the line typed also says "Password: ").
    predicted.wait_for("the prompt", |s| {
        s.lines().any(|l| l.starts_with("Password: "))
    });
    let from = predicted.output().len();
    for key in ["s", "e", "c", "r", "e", "t"] {
        let typed = Instant::now();
        predicted.send(key);
        std::thread::sleep(PACE.saturating_sub(typed.elapsed()));
    }
    predicted.line("");
    predicted.wait_text("got-6");
    let out = predicted.output();
    let during = printed(&out[from..]);
    let before_answer = during.split("got-6").next().unwrap_or_default();
    assert!(
        !before_answer.contains(['s', 'c', 'r']),
        "the password was drawn: {during:?}"
    );
    drop(server);
}
