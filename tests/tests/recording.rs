//! Every session is recorded as asciinema v2; the recording replays to the same screen.

use std::{num::NonZeroU16, path::Path};

use vibemesh_agent::cast::{CastEvent, CastReader, Header};
use vibemesh_core::proto::{
    SessionInfo,
    attach::{AttachRequest, ServerFrame},
};
use vibemesh_tests::{InProcPeer, TestAgent};

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

