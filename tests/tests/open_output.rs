//! `open` and `run` show a program's output from its first byte, in order, as if it ran
//! in this terminal: what it printed before the CLI attached reaches the user's
//! terminal too, not only the session's scrollback. Read from the byte stream the CLI
//! wrote to its terminal, not from a final screen.

use vibemesh_tests::{Term, TestAgent, pair};

/// How many lines the programs print: far more than a screen and its scrollback.
const LINES: u64 = 20_000;
/// How long megabytes of output may take through debug builds on a busy machine; the
/// limit only catches a hang.
const SLOW: std::time::Duration = std::time::Duration::from_secs(240);

/// The lines of a terminal's byte stream that are only a number, in order (escape
/// sequences removed).
fn numbers(raw: &[u8]) -> Vec<u64> {
    let text = String::from_utf8_lossy(raw);
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            plain.push(c);
            continue;
        }
        // CSI: ESC [ parameters, then one final byte; other escapes: one more byte.
        if chars.next_if_eq(&'[').is_some() {
            for p in chars.by_ref() {
                if ('@'..='~').contains(&p) {
                    break;
                }
            }
        } else {
            chars.next();
        }
    }
    plain
        .split(['\r', '\n'])
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Checks that the terminal got exactly 1..=`n`, in order; says where it went wrong.
fn check_all_lines(what: &str, t: &Term, n: u64) {
    let got = numbers(&t.output());
    let want: Vec<u64> = (1..=n).collect();
    if got == want {
        return;
    }
    let first_wrong = got
        .iter()
        .zip(&want)
        .position(|(g, w)| g != w)
        .unwrap_or(got.len().min(want.len()));
    panic!(
        "{what}: the terminal got {} numbered lines, the first {:?}, and they differ from \
         1..={n} at line {}: {:?}; the screen shows:\n{}",
        got.len(),
        got.first(),
        first_wrong + 1,
        got.get(first_wrong..(first_wrong + 3).min(got.len())),
        t.screen()
    );
}

fn seq(n: u64) -> [String; 3] {
    ["seq".into(), "1".into(), n.to_string()]
}

/// Runs `vibemesh <args> -- seq 1 LINES` in a terminal and checks every line arrived.
fn run_seq(agent: &TestAgent, args: &[&str], what: &str) {
    let seq = seq(LINES);
    let mut all: Vec<&str> = args.to_vec();
    all.push("--");
    all.extend(seq.iter().map(String::as_str));
    let mut t = agent.term(&all, 24, 80);
    assert_eq!(t.wait_exit(), 0, "{what}: {}", t.screen());
    check_all_lines(what, &t, LINES);
}

#[test]
fn open_here_shows_every_line_from_the_first_twenty_times() {
    let a = TestAgent::start("laptop");
    for run in 1..=20 {
        run_seq(&a, &["open", "local"], &format!("open local, run {run}"));
    }
}

#[test]
fn open_on_a_peer_and_run_show_every_line_from_the_first() {
    let a = TestAgent::start("laptop");
    let b = TestAgent::start("server");
    pair(&a, &b, "box", "owner");
    for run in 1..=5 {
        run_seq(&a, &["open", "box"], &format!("open box, run {run}"));
    }
    for run in 1..=3 {
        run_seq(&a, &["run"], &format!("run, run {run}"));
    }
}

#[test]
fn the_first_attach_gets_the_start_even_after_an_agent_restart_and_only_once() {
    let agent = TestAgent::start("box");
    let dir = tempfile::tempdir().unwrap();
    let seq = seq(LINES);
    let seq: Vec<&str> = seq.iter().map(String::as_str).collect();
    let id = agent.open_detached("local", dir.path(), &seq);
    // Someone who only watches gets the screen, not the start. Attached once the program
    // has ended: a watcher that came before its first screenful would rightly see line 1
    // (on a loaded machine, seq may not have printed anything yet).
    let deadline = std::time::Instant::now() + vibemesh_tests::TIMEOUT;
    while agent.json(&["ls", "local"])[0]["status"]["exited"].is_null() {
        assert!(std::time::Instant::now() < deadline, "seq never ended");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut watcher = agent.term(&["attach", "local", &id, "--watch"], 24, 80);
    assert_eq!(watcher.wait_exit(), 0);
    let watched = numbers(&watcher.output());
    assert_eq!(watched.last(), Some(&LINES), "{}", watcher.screen());
    assert!(
        watched.first() > Some(&1),
        "a watcher gets the screen, not the start: {:?}",
        watched.first()
    );
    // The agent dies before anyone attached to type; the start is kept by the holder.
    let home = agent.crash();
    let agent = TestAgent::spawn(home, "box");
    let mut t = agent.term(&["attach", "local", &id], 24, 80);
    assert_eq!(t.wait_exit(), 0, "{}", t.screen());
    check_all_lines("the first attach after a restart", &t, LINES);
    // Only the first: the next attach gets the screen again.
    let mut again = agent.term(&["attach", "local", &id], 24, 80);
    assert_eq!(again.wait_exit(), 0);
    let later = numbers(&again.output());
    assert_eq!(later.last(), Some(&LINES));
    assert!(later.first() > Some(&1), "{:?}", later.first());
}

#[test]
fn output_past_the_limit_shows_its_start_says_what_is_missing_and_ends_right() {
    let agent = TestAgent::start("box");
    let dir = tempfile::tempdir().unwrap();
    // The program says through a FIFO when it has printed everything.
    let fifo = dir.path().join("printed");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    // About 4.8 MB, more than the 4 MiB kept before the first attach.
    let total = 700_000u64;
    let script = format!("seq 1 {total}; echo > {}", fifo.display());
    let id = agent.open_detached("local", dir.path(), &["sh", "-c", &script]);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(std::fs::read(&fifo).is_ok()));
    assert_eq!(
        rx.recv_timeout(SLOW),
        Ok(true),
        "the program never finished"
    );
    let mut t = agent.term(&["attach", "local", &id], 24, 80);
    assert_eq!(t.wait_exit_within(SLOW), 0, "{}", t.screen());
    let raw = t.output();
    let said: &[u8] = b"more bytes of output came before this attach than are kept";
    let notice = raw
        .windows(said.len())
        .position(|w| w == said)
        .unwrap_or_else(|| panic!("no notice of what is not shown:\n{}", t.screen()));
    // Before the notice: the start, every line in order.
    let start = numbers(&raw[..notice]);
    let kept = start.len() as u64;
    assert!(kept > 400_000, "only {kept} lines of the start were shown");
    assert_eq!(start, (1..=kept).collect::<Vec<_>>(), "the start has gaps");
    // After it: the screen as it is now (with what is not drawn into it yet), which
    // ends with the last line.
    let end = numbers(&raw[notice..]);
    assert_eq!(end.last(), Some(&total));
    assert!(t.screen().contains(&total.to_string()), "{}", t.screen());
}
