//! Every session is recorded as asciinema v2; the recording replays to the same screen.

use std::{num::NonZeroU16, path::Path, time::Duration};

use vibemesh_agent::cast::{CastEvent, CastReader, Header};
use vibemesh_core::proto::{
    SessionInfo,
    attach::{AttachRequest, ServerFrame},
};
use vibemesh_tests::{InProcPeer, SHELL, Term, TestAgent, vibemesh_bin};

fn nz(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap()
}

/// A whole recording (part), which must be valid asciinema v2 to its last line.
fn read_cast(path: &Path) -> (Header, Vec<CastEvent>) {
    let file = std::fs::File::open(path).expect("recording exists");
    let reader = CastReader::open(std::io::BufReader::new(file)).expect("a valid header");
    let header = reader.header().clone();
    let events = reader.collect::<Result<Vec<_>, _>>().expect("valid events");
    (header, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cast_file_parses_and_replays_to_the_final_screen() {
    let server = TestAgent::start("server");
    let dir = tempfile::tempdir().unwrap();
    let script = "printf '\\033[1;31mred\\033[0m plain \\342\\202\\254 done\\n'; seq 1 10; printf 'last line'";
    let id = server.open_detached("local", dir.path(), &["sh", "-c", script]);

    // Wait for the exit through the protocol, then take the agent's final screen.
    let peer = InProcPeer::bind().await;
    peer.pair(&server, "viewer").await.expect("pair");
    let conn = peer.connect(&server).await.expect("connect");
    let (info, mut reader, _writer): (SessionInfo, _, _) = conn
        .attach(AttachRequest {
            session: id.parse().unwrap(),
            size: None,
            scrollback: 0,
            watch_only: true,
        })
        .await
        .expect("attach");
    let mut agent_screen = vt100::Parser::new(nz(info.size.rows), nz(info.size.cols), 0);
    loop {
        match reader.next().await.expect("frame").expect("open") {
            ServerFrame::Snapshot(b) | ServerFrame::Output(b) => agent_screen.process(&b),
            ServerFrame::Exited(e) => {
                assert_eq!(e.code, Some(0));
                break;
            }
            _ => {}
        }
    }
    let expected = agent_screen.screen().contents();
    assert!(
        expected.contains("last line") && expected.contains("€ done"),
        "{expected}"
    );

    // The recording on the agent parses as asciinema v2 and replays to that screen.
    let list = server.json(&["ls"]);
    let path = list[0]["recording"].as_str().expect("recorded").to_string();
    let (header, events) = read_cast(Path::new(&path));
    assert_eq!(
        (header.width, header.height),
        (info.size.cols, info.size.rows)
    );
    let mut replay = vt100::Parser::new(nz(header.height), nz(header.width), 0);
    for ev in events.iter().filter(|e| e.kind == "o") {
        replay.process(ev.data.as_bytes());
    }
    assert_eq!(replay.screen().contents(), expected);
    let first = events.first().expect("events").data.clone();
    assert!(
        first.contains("\u{1b}[1;31mred"),
        "colours are recorded: {first:?}"
    );

    // `vibemesh play` shows the same screen in a terminal of the same size.
    let t = server.term(
        &["play", &path, "--speed", "1000"],
        header.height,
        header.width,
    );
    t.wait_text("last line");
    assert_eq!(t.screen(), expected);
    peer.ep.close().await;
}

/// An agent with `limits` in its config, a shell session in it attached in a terminal,
/// and `lines` of `seq` output flooded through it.
fn flood(limits: &str, lines: u32) -> (TestAgent, Term, tempfile::TempDir) {
    let agent = TestAgent::start_with("box", limits);
    let dir = tempfile::tempdir().unwrap();
    let id = agent.open_detached("local", dir.path(), SHELL);
    let mut t = Term::spawn(
        &vibemesh_bin(),
        &["attach", "local", &id],
        &[("VIBEMESH_HOME", agent.path())],
        24,
        80,
    );
    t.line(&format!("seq 1 {lines}; echo FLOOD-$((1+1))"));
    t.wait_for_within("the flood's end", Duration::from_secs(180), |s| {
        s.contains("FLOOD-2")
    });
    (agent, t, dir)
}

#[test]
fn a_flood_rotates_the_recording_within_its_limit_and_the_session_goes_on() {
    // 2 MiB in 2 parts; the flood writes about 4 MB of recording.
    let (agent, mut t, _dir) = flood("recording_max_mb = 2\nrecording_parts = 2", 400_000);
    let list = agent.json(&["ls", "local"]);
    let s = &list[0];
    let rec = &s["recording_state"];
    let parts: Vec<String> = rec["parts"]
        .as_array()
        .unwrap_or_else(|| panic!("recording_state in ls --json: {s}"))
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    assert_eq!(parts.len(), 2, "{rec}");
    assert_eq!(
        parts[0],
        s["recording"].as_str().unwrap(),
        "the first part stays"
    );
    assert!(rec["dropped_parts"].as_u64().unwrap() >= 2, "{rec}");
    assert_eq!(
        (rec["max_bytes"].as_u64(), rec["max_parts"].as_u64()),
        (Some(2 << 20), Some(2))
    );
    assert!(s["recording_error"].is_null(), "{s}");

    // On disk: the parts listed and nothing else of this session, within the limit
    // (a part may pass its share by the one event that filled it).
    let folder = Path::new(&parts[0]).parent().unwrap();
    let stem = Path::new(&parts[0])
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let mut on_disk: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.contains(&stem))
        .collect();
    on_disk.sort();
    let mut listed = parts.clone();
    listed.sort();
    assert_eq!(on_disk, listed);
    let bytes: u64 = parts
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(
        bytes <= (2 << 20) + 2 * (512 << 10),
        "{bytes} bytes on disk"
    );
    assert_eq!(
        rec["bytes"].as_u64(),
        Some(bytes),
        "measured when listed: {rec}"
    );

    // Each part is a whole recording: the first has the flood's start, a later one its
    // end, and each plays on its own.
    let text = |p: &str| -> String {
        read_cast(Path::new(p))
            .1
            .into_iter()
            .map(|e| e.data)
            .collect()
    };
    let first = text(&parts[0]);
    assert!(
        first.contains("\r1\r\n2\r\n3\r\n"),
        "the first part starts the flood: {:?}",
        &first[..first.len().min(400)]
    );
    assert!(
        text(&parts[1]).contains("FLOOD-2"),
        "the newest part has its end"
    );
    let play = std::process::Command::new(vibemesh_bin())
        .args(["play", &parts[1], "--speed", "1000"])
        .output()
        .unwrap();
    assert!(
        play.status.success(),
        "{}",
        String::from_utf8_lossy(&play.stderr)
    );
    assert!(String::from_utf8_lossy(&play.stdout).contains("FLOOD-2"));

    // The listing says the recording was cut; the session runs on, typing and all.
    assert!(
        agent
            .ok(&["ls", "local"])
            .contains("running, recording trimmed")
    );
    t.line("echo still-$((40+2))");
    t.wait_text("still-42");
}

#[test]
fn with_one_part_a_full_recording_stops_and_says_why_while_the_session_goes_on() {
    let (agent, mut t, _dir) = flood("recording_max_mb = 1\nrecording_parts = 1", 200_000);
    let list = agent.json(&["ls", "local"]);
    let s = &list[0];
    let err = s["recording_error"].as_str().unwrap_or_default();
    assert!(err.contains("size limit of 1 MiB"), "{s}");
    let path = s["recording"].as_str().unwrap();
    assert_eq!(s["recording_state"]["parts"], serde_json::json!([path]));
    let size = std::fs::metadata(path).unwrap().len();
    assert!(size <= 1 << 20, "{size}");
    assert_eq!(s["recording_state"]["bytes"].as_u64(), Some(size));
    let (_, events) = read_cast(Path::new(path));
    assert!(!events.is_empty());
    assert!(
        agent
            .ok(&["ls", "local"])
            .contains("running, recording incomplete")
    );
    t.line("echo still-$((40+2))");
    t.wait_text("still-42");
}
