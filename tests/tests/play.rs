//! `vibemesh play`: an absolute clock that keeps to `--speed`, the idle limit, the keys
//! asciinema has, bounded memory for any file, and no input that makes it panic or hang.
//!
//! Timing is what these tests are about, so some assert elapsed time, with bounds wide
//! enough for a loaded 2-core machine. Everything else waits on output.

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use vibemesh_tests::{Term, vibemesh_bin};

const HEADER: &str = r#"{"version":2,"width":80,"height":24}"#;

/// Writes a cast file of `header` and `lines`.
fn cast(dir: &Path, name: &str, header: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    let mut text = format!("{header}\n");
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn event(time: f64, data: &str) -> String {
    serde_json::to_string(&(time, "o", data)).unwrap()
}

/// What a `vibemesh play` run printed.
struct Played {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs `vibemesh play ARGS` without a terminal; fails the test if it runs past `limit`.
fn play(args: &[&str], limit: Duration) -> Played {
    let started = Instant::now();
    let mut child = Command::new(vibemesh_bin())
        .arg("play")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn vibemesh play");
    let pid = child.id();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        out.read_to_end(&mut s).unwrap();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).unwrap();
        s
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait().unwrap()));
    let status = match rx.recv_timeout(limit) {
        Ok(s) => s,
        Err(_) => {
            let pid = nix::unistd::Pid::from_raw(pid as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            panic!("vibemesh play {args:?} still ran after {limit:?}");
        }
    };
    let took = started.elapsed();
    Played {
        code: status.code(),
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: err.join().unwrap(),
        took,
    }
}

#[test]
fn speed_is_kept_on_an_absolute_clock_whatever_the_number_of_events() {
    let dir = tempfile::tempdir().unwrap();
    // 20 s of recording in 4000 events, 5 ms apart: a sleep per event would take far
    // longer than the 2 s that 10x asks for.
    let lines: Vec<String> = (0..4000)
        .map(|i| event(f64::from(i) * 0.005, &format!("event {i}\r\n")))
        .collect();
    let path = cast(dir.path(), "speed.cast", HEADER, &lines);
    let p = play(
        &[path.to_str().unwrap(), "--speed", "10"],
        Duration::from_secs(30),
    );
    assert_eq!(p.code, Some(0), "{}", p.stderr);
    let expected: String = (0..4000).map(|i| format!("event {i}\r\n")).collect();
    assert!(p.stdout == expected, "all output, in order");
    let secs = p.took.as_secs_f64();
    assert!(
        (1.6..=3.0).contains(&secs),
        "20 s at 10x took {secs:.2} s, not about 2 s"
    );
}

#[test]
fn the_idle_limit_caps_pauses_from_the_flag_or_the_recording() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [event(0.0, "a"), event(100.0, "b"), event(200.0, "c")];
    // The recording's own idle_time_limit, as asciinema honours it.
    let header = r#"{"version":2,"width":80,"height":24,"idle_time_limit":0.5}"#;
    let own = cast(dir.path(), "own.cast", header, &lines);
    let p = play(&[own.to_str().unwrap()], Duration::from_secs(20));
    assert_eq!(
        (p.code, p.stdout.as_str()),
        (Some(0), "abc"),
        "{}",
        p.stderr
    );
    assert!(p.took < Duration::from_secs(5), "took {:?}", p.took);
    // The flag, under asciinema's name, and over the recording's own limit.
    let plain = cast(dir.path(), "idle.cast", HEADER, &lines);
    for (file, limit) in [(&plain, "0.5"), (&own, "0.1")] {
        let p = play(
            &[file.to_str().unwrap(), "--idle-time-limit", limit],
            Duration::from_secs(20),
        );
        assert_eq!(
            (p.code, p.stdout.as_str()),
            (Some(0), "abc"),
            "{}",
            p.stderr
        );
        assert!(p.took < Duration::from_secs(5), "took {:?}", p.took);
    }
}

#[test]
fn damaged_timestamps_and_lines_neither_panic_nor_hang_and_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    // One absurd timestamp in an otherwise good file costs no time.
    let lines = [event(0.1, "a"), event(1e300, "b"), event(0.2, "c")];
    let absurd = cast(dir.path(), "absurd.cast", HEADER, &lines);
    let p = play(&[absurd.to_str().unwrap()], Duration::from_secs(20));
    assert!(!p.stderr.contains("panicked"), "{}", p.stderr);
    assert_eq!(
        (p.code, p.stdout.as_str()),
        (Some(0), "abc"),
        "{}",
        p.stderr
    );
    assert!(p.took < Duration::from_secs(5), "took {:?}", p.took);
    assert!(p.stderr.contains("line 3: 1e300 s ahead"), "{}", p.stderr);

    let mut lines = vec![
        event(0.1, "one "),
        event(1e300, "two "),
        event(0.2, "three "),
        event(-5.0, "four "),
        r#"[1e400, "o", "lost "]"#.to_string(),
        r#"[NaN, "o", "lost "]"#.to_string(),
        "not json at all".to_string(),
        event(0.3, "five "),
    ];
    lines.push(r#"[0.4, "o", "cut of"#.to_string());
    // The last line has no line break: a crash cut it there.
    let text = format!("{HEADER}\n{}", lines.join("\n"));
    let path = dir.path().join("damaged.cast");
    std::fs::write(&path, text).unwrap();
    let p = play(&[path.to_str().unwrap()], Duration::from_secs(20));
    assert!(!p.stderr.contains("panicked"), "{}", p.stderr);
    assert_eq!(p.stdout, "one two three four five ");
    assert!(p.took < Duration::from_secs(5), "took {:?}", p.took);
    assert_eq!(p.code, Some(1), "damaged lines fail the run: {}", p.stderr);
    for says in [
        "3 damaged line(s) skipped (first: line 6",
        "line 3: 1e300 s ahead",
        "earlier than the one before",
        "line 10 is cut short",
    ] {
        assert!(p.stderr.contains(says), "{says:?} in:\n{}", p.stderr);
    }
}

#[test]
fn bad_speeds_and_bad_files_get_a_clear_error_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let good = cast(dir.path(), "good.cast", HEADER, &[event(0.0, "x")]);
    let good = good.to_str().unwrap();
    for (args, says) in [
        (
            vec![good, "--speed", "1e-300"],
            "--speed must be between 0.01 and 1000 (got 1e-300)",
        ),
        (
            vec![good, "--speed", "0"],
            "--speed must be between 0.01 and 1000 (got 0)",
        ),
        (vec![good, "--speed", "NaN"], "--speed must be between"),
        (vec![good, "--speed", "inf"], "--speed must be between"),
        (
            vec![good, "-i", "0"],
            "--idle-time-limit must be a positive number",
        ),
    ] {
        let p = play(&args, Duration::from_secs(10));
        assert_eq!(p.code, Some(1), "{args:?}: {}", p.stderr);
        assert!(p.stderr.contains(says), "{args:?}: {}", p.stderr);
        assert!(p.stdout.is_empty(), "{args:?} played: {}", p.stdout);
    }
    let empty = cast(dir.path(), "empty.cast", "", &[]);
    std::fs::write(&empty, "").unwrap();
    let garbage = dir.path().join("garbage.cast");
    std::fs::write(&garbage, b"\x89PNG\r\n\x1a\n\0\0\0").unwrap();
    let v1 = cast(dir.path(), "v1.cast", r#"{"version":1,"stdout":[]}"#, &[]);
    for (file, says) in [
        (empty, "line 1: empty file"),
        (garbage, "line 1: the header is not JSON"),
        (v1, "not an asciinema v2 or v3 recording"),
        (dir.path().join("missing.cast"), "cannot open"),
    ] {
        let p = play(&[file.to_str().unwrap()], Duration::from_secs(10));
        assert_eq!(p.code, Some(1), "{file:?}: {}", p.stderr);
        assert!(p.stderr.contains(says), "{file:?}: {}", p.stderr);
        assert!(!p.stderr.contains("panicked"), "{}", p.stderr);
    }
}

/// The peak memory (VmHWM) of a running process, in KiB.
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[test]
fn a_large_recording_plays_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.cast");
    // 120 MB: 30000 events of 4000 bytes, 1 ms apart.
    let payload = "y".repeat(3998) + "\\r\\n";
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "{HEADER}").unwrap();
    for i in 0..30_000 {
        writeln!(f, "[{:.3}, \"o\", \"{payload}\"]", f64::from(i) * 0.001).unwrap();
    }
    f.into_inner().unwrap().sync_all().unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 100_000_000, "{size}");

    let mut child = Command::new(vibemesh_bin())
        .args(["play", path.to_str().unwrap(), "--speed", "1000"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().unwrap();
    let total: u64 = 30_000 * 4000;
    // Read all but the last MiB: the player is still running (blocked on the pipe) and
    // has read nearly all of the file. Its peak memory so far is its peak.
    let mut buf = vec![0u8; 1 << 16];
    let mut read = 0u64;
    while read < total - (1 << 20) {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "the output ended after {read} of {total} bytes");
        read += n as u64;
    }
    let peak = peak_kib(child.id());
    std::io::copy(&mut out, &mut std::io::sink()).unwrap();
    assert!(child.wait().unwrap().success());
    assert!(
        peak < 64 * 1024,
        "playing a {} MB file took {} MB of memory",
        size >> 20,
        peak >> 10
    );
}

/// The highest `frame-N` on the screen.
fn last_frame(screen: &str) -> Option<u32> {
    screen
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("frame-")?.parse().ok())
        .max()
}

fn frame(time: f64, n: u32) -> String {
    event(time, &format!("frame-{n}\r\n"))
}

#[test]
fn keys_pause_step_resume_skip_and_quit_and_the_terminal_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    // Frames 0-2 at once; 3 after a 2.8 s gap; 4-10 every 0.1 s; 11 after 6 s; 12 long
    // after, then a marker, then 13 a second after the marker.
    let mut lines: Vec<String> = (0..3).map(|n| frame(f64::from(n) * 0.1, n)).collect();
    lines.push(frame(3.0, 3));
    lines.extend((4..=10).map(|n| frame(3.0 + f64::from(n - 3) * 0.1, n)));
    lines.push(frame(10.0, 11));
    lines.push(frame(400.0, 12));
    lines.push(serde_json::to_string(&(500.0, "m", "here")).unwrap());
    lines.push(frame(501.0, 13));
    lines.push(frame(10_000.0, 14));
    let path = cast(dir.path(), "keys.cast", HEADER, &lines);
    let mut t = Term::spawn(
        &vibemesh_bin(),
        &["play", path.to_str().unwrap()],
        &[],
        24,
        80,
    );
    assert_eq!(t.is_cooked(), Some(true), "a fresh terminal is cooked");
    t.wait_text("frame-2");
    assert_eq!(t.is_cooked(), Some(false), "raw mode while playing");

    // Space pauses at frame 2 (frame 3 is 2.8 s away); `.` shows frame 3 at once.
    t.send(" ");
    let stepped = Instant::now();
    t.send(".");
    t.wait_text("frame-3");
    assert!(
        stepped.elapsed() < Duration::from_millis(1500),
        "`.` stepped to frame 3 after {:?}",
        stepped.elapsed()
    );
    // Paused: frame 4 (0.1 s after frame 3) does not come.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(last_frame(&t.screen()), Some(3), "{}", t.screen());
    // Space resumes from there.
    t.send(" ");
    t.wait_text("frame-10");

    // Right arrow twice skips 10 s: frame 11, 6.3 s away, comes at once.
    let skipped = Instant::now();
    t.send("\x1b[C\x1b[C");
    t.wait_text("frame-11");
    assert!(
        skipped.elapsed() < Duration::from_secs(3),
        "the arrow skipped after {:?}",
        skipped.elapsed()
    );

    // `]` plays up to the marker (frame 12, ~390 s away) and pauses there.
    t.send("]");
    t.wait_text("frame-12");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(last_frame(&t.screen()), Some(12), "paused at the marker");
    t.send(" ");
    t.wait_text("frame-13");

    // `q` quits long before frame 14, and the terminal is as it was.
    t.send("q");
    assert_eq!(t.wait_exit(), 0);
    assert_eq!(last_frame(&t.screen()), Some(13));
    assert_eq!(t.is_cooked(), Some(true), "the terminal is restored");
}

#[test]
fn ctrl_c_quits_and_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [frame(0.0, 1), frame(1000.0, 2)];
    let path = cast(dir.path(), "c.cast", HEADER, &lines);
    let mut t = Term::spawn(
        &vibemesh_bin(),
        &["play", path.to_str().unwrap()],
        &[],
        24,
        80,
    );
    t.wait_text("frame-1");
    t.send("\x03");
    assert_eq!(t.wait_exit(), 0);
    assert_eq!(t.is_cooked(), Some(true), "the terminal is restored");
}
