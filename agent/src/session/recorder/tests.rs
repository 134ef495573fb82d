use super::*;

#[test]
fn split_characters_are_joined_and_garbage_replaced() {
    let mut carry = Vec::new();
    let euro = "€".as_bytes();
    assert_eq!(take_utf8(&mut carry, &[b'a', euro[0]]), "a");
    assert_eq!(take_utf8(&mut carry, &euro[1..]), "€");
    assert_eq!(take_utf8(&mut carry, &[0xff, b'b']), "\u{fffd}b");
    assert!(carry.is_empty());
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn writes_header_and_events_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.cast");
    let mut r = Recorder::create(&path, TermSize::DEFAULT, "t", &["sh".into()]).unwrap();
    r.output(b"hi\r\n");
    r.resize(TermSize {
        rows: 30,
        cols: 100,
    });
    drop(r);
    let lines = lines(&path);
    assert_eq!(lines[0]["version"], 2);
    assert_eq!(lines[1][1], "o");
    assert_eq!(lines[1][2], "hi\r\n");
    assert_eq!(lines[2][2], "100x30");
}

#[test]
fn parts_rotate_keeping_the_first_and_the_newest_each_a_whole_recording() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.cast");
    let mut r = Recorder::create(&path, TermSize::DEFAULT, "t", &[]).unwrap();
    r.set_limits(RecordingLimits {
        max_bytes: 30_000,
        parts: 3,
    });
    let chunk = [b'y'; 1000];
    for i in 0..100 {
        if i == 50 {
            r.resize(TermSize {
                rows: 40,
                cols: 120,
            });
        }
        r.output(&chunk);
    }
    assert_eq!(r.error(), None);
    let st = r.state();
    assert_eq!(st.parts.len(), 3, "{st:?}");
    assert_eq!(st.parts[0], path.display().to_string());
    assert!(st.dropped_parts > 0 && st.dropped_bytes > 0, "{st:?}");
    let on_disk: u64 = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert_eq!(
        on_disk, st.bytes,
        "every kept part and nothing else is on disk"
    );
    assert!(st.bytes <= 30_000 + 3 * 1100, "{}", st.bytes);
    for p in &st.parts {
        let lines = lines(Path::new(p));
        assert_eq!(lines[0]["version"], 2, "{p} has its own header");
        let first_time = lines[1][0].as_f64().unwrap();
        assert!(first_time < 1.0, "{p} has its own clock: {first_time}");
    }
    // The newest part's header has the size the terminal had when it started.
    let newest = lines(Path::new(st.parts.last().unwrap()));
    assert_eq!(
        (newest[0]["width"].clone(), newest[0]["height"].clone()),
        (120.into(), 40.into())
    );
    // Reports: at once, then only when there is news; the size is measured on disk.
    assert!(r.report(false).is_some());
    assert!(r.report(false).is_none());
    r.output(b"more");
    assert!(r.report(false).is_none(), "a size that grew is not news");
    let mut listed = r.report(true).unwrap();
    listed.bytes = 0;
    measure(&mut listed);
    assert_eq!(listed.bytes, r.state().bytes);
    for _ in 0..40 {
        r.output(&chunk);
    }
    assert!(r.report(false).is_some(), "a new part is news");
}

#[test]
fn one_part_stops_at_the_limit_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.cast");
    let mut r = Recorder::create(&path, TermSize::DEFAULT, "t", &[]).unwrap();
    r.set_limits(RecordingLimits {
        max_bytes: 10_000,
        parts: 1,
    });
    for _ in 0..50 {
        r.output(&[b'z'; 1000]);
    }
    let err = r.error().expect("stopped");
    assert!(err.contains("size limit"), "{err}");
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size <= 10_000, "{size}");
    assert_eq!(r.state().parts.len(), 1);
    assert_eq!(part_path(&path, 2), dir.path().join("s.2.cast"));
}
