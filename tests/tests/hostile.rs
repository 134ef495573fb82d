//! Peers that misbehave: garbage frames, oversized frames, a viewer that never reads.
//! The agent must keep serving everyone else, and its memory must stay bounded.

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vibemesh_core::{
    ErrorCode,
    frame::{FrameReader, FrameWriter},
    proto::{
        StreamOpen,
        attach::{AttachRequest, ServerFrame},
        control::ControlFrame,
    },
};
use vibemesh_tests::{InProcPeer, SHELL, TestAgent, pair};

/// Reads what the agent sends back on a stream until it ends (bounded).
async fn drain(recv: &mut vibemesh_core::client::BoxRead) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(vibemesh_tests::TIMEOUT, recv.read_to_end(&mut out)).await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_oversized_frames_end_only_their_own_stream() {
    let server = TestAgent::start("server");
    let peer = InProcPeer::bind().await;
    peer.pair(&server, "owner").await.expect("pair");
    let conn = peer.connect(&server).await.expect("connect");

    // Pure garbage where the stream's opening frame should be.
    let (mut r, mut w) = conn.open_stream().await.unwrap();
    w.write_all(&[0, 0, 0, 8, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8])
        .await
        .unwrap();
    let reply = drain(&mut r).await;
    let mut fr = FrameReader::new(&reply[..]);
    match fr.recv::<ControlFrame>().await {
        Ok(Some(ControlFrame::Closing(e))) => assert_eq!(e.code, ErrorCode::Malformed),
        other => panic!("expected a Malformed closing frame, got {other:?}"),
    }

    // A length far over the limit: refused without reading (or allocating) the body.
    let (mut r, mut w) = conn.open_stream().await.unwrap();
    w.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
    let reply = drain(&mut r).await;
    let mut fr = FrameReader::new(&reply[..]);
    match fr.recv::<ControlFrame>().await {
        Ok(Some(ControlFrame::Closing(e))) => assert_eq!(e.code, ErrorCode::FrameTooLarge),
        other => panic!("expected a FrameTooLarge closing frame, got {other:?}"),
    }

    // A valid control stream, then a request that does not decode (a kind this agent
    // does not know): refused alone, by its id, and the stream goes on until the client
    // ends it.
    let (mut r, w) = conn.open_stream().await.unwrap();
    let mut fw = FrameWriter::new(w);
    fw.send(&StreamOpen::Control).await.unwrap();
    let mut w = fw.into_inner();
    w.write_all(&[0, 0, 0, 3, 0x01, 0x63, 0xff]).await.unwrap();
    w.shutdown().await.unwrap();
    let reply = drain(&mut r).await;
    let mut fr = FrameReader::new(&reply[..]);
    match fr.recv::<ControlFrame>().await {
        Ok(Some(ControlFrame::Response(resp))) => {
            assert_eq!(resp.id, 1);
            let e = resp.result.expect_err("refused");
            assert_eq!(e.code, ErrorCode::Malformed);
        }
        other => panic!("expected a Malformed answer to request 1, got {other:?}"),
    }
    assert!(matches!(fr.recv::<ControlFrame>().await, Ok(None)));

    // A frame without even a request id: nothing to answer, so the stream is closed.
    let (mut r, w) = conn.open_stream().await.unwrap();
    let mut fw = FrameWriter::new(w);
    fw.send(&StreamOpen::Control).await.unwrap();
    let mut w = fw.into_inner();
    w.write_all(&[0, 0, 0, 1, 0xff]).await.unwrap();
    let reply = drain(&mut r).await;
    let mut fr = FrameReader::new(&reply[..]);
    match fr.recv::<ControlFrame>().await {
        Ok(Some(ControlFrame::Closing(e))) => assert_eq!(e.code, ErrorCode::Malformed),
        other => panic!("expected a Malformed closing frame, got {other:?}"),
    }

    // The same connection, and the CLI, are still served.
    let (control, _ev, driver) = conn.control().await.expect("control stream");
    tokio::spawn(driver.run());
    assert!(
        control
            .list_sessions()
            .await
            .expect("still served")
            .is_empty()
    );
    let out = server.ok(&["ls"]);
    assert!(out.contains("No sessions"), "{out}");
    peer.ep.close().await;
}

/// The agent's peak resident memory, in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .expect("VmHWM")
        / 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_that_never_reads_blocks_nobody_and_grows_nothing() {
    let server = TestAgent::start_with("server", "record = false");
    let laptop = TestAgent::start("laptop");
    pair(&laptop, &server, "srv", "owner");
    let dir = tempfile::tempdir().unwrap();

    // A session that floods 256 MiB of output, then says it is done and waits.
    let flood = server.open_detached(
        "local",
        dir.path(),
        &[
            "sh",
            "-c",
            "head -c 268435456 /dev/zero | tr '\\0' x; echo; echo FLOOD-DONE; exec cat",
        ],
    );
    // The stuck viewer: attaches, then never reads again.
    let peer = InProcPeer::bind().await;
    peer.pair(&server, "owner").await.expect("pair");
    let conn = peer.connect(&server).await.expect("connect");
    let (_info, stuck_reader, _stuck_writer) = conn
        .attach(AttachRequest {
            session: flood.parse().unwrap(),
            size: None,
            scrollback: 0,
            watch_only: true,
        })
        .await
        .expect("attach");

    // Meanwhile another session on the same agent answers at once.
    let other = laptop.open_detached("srv", dir.path(), SHELL);
    let mut t = laptop.term(&["attach", "srv", &other], 24, 80);
    t.line("echo responsive-$((20+22))");
    t.wait_text("responsive-42");

    // A reading viewer of the flood gets to its end. 256 MiB through debug builds takes
    // 25-30 s on 2 cores: the limit is there to catch a hang, not to time it.
    let watcher = laptop.term(&["attach", "srv", &flood, "--watch"], 24, 80);
    watcher.wait_for_within("FLOOD-DONE", std::time::Duration::from_secs(180), |s| {
        s.contains("FLOOD-DONE")
    });
    t.line("echo still-$((1+1))");
    t.wait_text("still-2");

    let peak = peak_rss_mib(server.pid());
    assert!(
        peak < 160,
        "agent peaked at {peak} MiB while 256 MiB went to a stuck viewer"
    );
    drop(stuck_reader);
    peer.ep.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_that_falls_behind_is_moved_forward_to_a_fresh_screen() {
    let server = TestAgent::start_with("server", "record = false");
    let peer = InProcPeer::bind().await;
    peer.pair(&server, "owner").await.expect("pair");
    let conn = peer.connect(&server).await.expect("connect");
    let dir = tempfile::tempdir().unwrap();
    let id = server.open_detached(
        "local",
        dir.path(),
        &[
            "sh",
            "-c",
            "read go; seq 1 3000000; echo SEQ-DONE; exec cat",
        ],
    );
    let (_info, mut reader, mut writer) = conn
        .attach(AttachRequest {
            session: id.parse().unwrap(),
            size: None,
            scrollback: 0,
            watch_only: false,
        })
        .await
        .expect("attach");
    assert!(matches!(
        reader.next().await,
        Ok(Some(ServerFrame::Snapshot(_)))
    ));
    writer.input(Bytes::from_static(b"go\r")).await.unwrap();
    // Read slowly (a viewer on a slow link) so the broadcast ring keeps overflowing. Every
    // stretch of output between two snapshots must be whole: numbers in order, no gap.
    let mut snapshots = 0;
    let mut parser = vt100::Parser::new(
        std::num::NonZeroU16::new(24).unwrap(),
        std::num::NonZeroU16::new(80).unwrap(),
        0,
    );
    let mut lines = SeqChecker::default();
    loop {
        let frame = tokio::time::timeout(vibemesh_tests::TIMEOUT, reader.next())
            .await
            .expect("output keeps coming")
            .expect("stream ok")
            .expect("stream open");
        // The slow link: the agent keeps producing meanwhile.
        let _ = tokio::time::timeout(
            std::time::Duration::from_millis(10),
            std::future::pending::<()>(),
        )
        .await;
        match frame {
            ServerFrame::Snapshot(b) => {
                snapshots += 1;
                lines.resync();
                parser = vt100::Parser::new(
                    std::num::NonZeroU16::new(24).unwrap(),
                    std::num::NonZeroU16::new(80).unwrap(),
                    0,
                );
                parser.process(&b);
            }
            ServerFrame::Output(b) => {
                lines.feed(&b);
                parser.process(&b);
            }
            _ => {}
        }
        if parser.screen().contents().contains("SEQ-DONE") {
            break;
        }
    }
    assert!(
        snapshots >= 1,
        "a stalled viewer should have been re-snapshotted"
    );
    let screen = parser.screen().contents();
    assert!(
        screen.contains("3000000"),
        "the fresh screen is the real one:\n{screen}"
    );
    peer.ep.close().await;
}

/// Checks that `seq` output arrives without gaps between snapshots.
#[derive(Default)]
struct SeqChecker {
    carry: Vec<u8>,
    expect: Option<u64>,
    skip_partial: bool,
}

impl SeqChecker {
    /// After a snapshot the next line may be a tail; numbering starts again after it.
    fn resync(&mut self) {
        self.carry.clear();
        self.expect = None;
        self.skip_partial = true;
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.carry.extend_from_slice(bytes);
        while let Some(i) = self.carry.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.carry.drain(..=i).collect();
            if std::mem::take(&mut self.skip_partial) {
                continue;
            }
            let text = String::from_utf8_lossy(&line);
            let Ok(n) = text.trim().parse::<u64>() else {
                continue;
            };
            if let Some(e) = self.expect {
                assert_eq!(
                    n, e,
                    "output lost without a fresh snapshot: {e} was expected"
                );
            }
            self.expect = Some(n + 1);
        }
    }
}
