//! The link against a stand-in holder on real sockets: what it does when the connection
//! breaks or closes.

use std::time::Duration;

use tokio::net::UnixListener;
use vibemesh_core::proto::{Provider, SessionId, TermSize, holder::HolderState};

use super::*;

fn hello() -> FromHolder {
    FromHolder::Hello(HolderHello {
        version: HOLDER_VERSION,
        holder_pid: 4242,
        state: HolderState {
            id: SessionId(1),
            provider: Provider::Shell,
            command: vec!["sh".into()],
            cwd: "/".into(),
            created_ms: 0,
            pid: None,
            title: "sh".into(),
            size: TermSize::DEFAULT,
            exited: None,
            recording: None,
            recording_error: None,
        },
    })
}

/// The stand-in holder's end of a connection.
type HolderEnd = (FrameReader<OwnedReadHalf>, FrameWriter<OwnedWriteHalf>);

/// A link to one end of a socket pair (a holder that has greeted), reporting its events
/// on a channel; the other end, and the channel.
fn linked(socket: Option<PathBuf>) -> (Arc<Link>, HolderEnd, mpsc::UnboundedReceiver<LinkEvent>) {
    let (agent_end, holder_end) = UnixStream::pair().expect("socket pair");
    let (tx, rx) = mpsc::unbounded_channel();
    let hook: EventHook = Box::new(move |ev| {
        let _ = tx.send(ev);
    });
    let link = Link::start(agent_end, true, socket, Some(4242), None, hook);
    let (r, w) = holder_end.into_split();
    (link, (FrameReader::new(r), FrameWriter::new(w)), rx)
}

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("in time")
}

/// A viewer of `link`, subscribed after a first (blank) snapshot the stand-in holder
/// answers on `r` and `w`.
async fn a_viewer(
    link: &Arc<Link>,
    r: &mut FrameReader<OwnedReadHalf>,
    w: &mut FrameWriter<OwnedWriteHalf>,
) -> tokio::sync::broadcast::Receiver<Output> {
    let snap = tokio::spawn({
        let link = link.clone();
        async move { link.snapshot(0).await }
    });
    within(r.recv::<ToHolder>()).await.expect("read");
    w.send(&FromHolder::Snapshot {
        bytes: Bytes::new(),
        more: false,
    })
    .await
    .expect("send");
    match within(snap).await.expect("task").expect("snapshot") {
        (_, Subscription::Live(viewer)) => viewer,
        _ => panic!("the session runs"),
    }
}

#[tokio::test]
async fn a_broken_connection_is_made_again_and_nothing_is_lost() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("1.sock");
    let listener = UnixListener::bind(&sock).expect("listen");
    let (link, (mut r, mut w), _events) = linked(Some(sock));

    // A viewer, subscribed after a snapshot.
    let snap = tokio::spawn({
        let link = link.clone();
        async move { link.snapshot(0).await }
    });
    let req = within(r.recv::<ToHolder>())
        .await
        .expect("read")
        .expect("open");
    assert_eq!(req, ToHolder::Snapshot { scrollback: 0 });
    let screen = Bytes::from_static(b"screen");
    w.send(&FromHolder::Snapshot {
        bytes: screen.clone(),
        more: false,
    })
    .await
    .expect("send");
    let (bytes, sub) = within(snap).await.expect("task").expect("a snapshot");
    assert_eq!(bytes, screen);
    let Subscription::Live(mut viewer) = sub else {
        panic!("the session runs")
    };

    // A request the holder takes, then the connection breaks (a frame that does not
    // decode) before it answers.
    let again = tokio::spawn({
        let link = link.clone();
        async move { link.snapshot(5).await }
    });
    let req = within(r.recv::<ToHolder>())
        .await
        .expect("read")
        .expect("open");
    assert_eq!(req, ToHolder::Snapshot { scrollback: 5 });
    let mut raw = w.into_inner();
    tokio::io::AsyncWriteExt::write_all(&mut raw, &[0, 0, 0, 3, 0xff, 0xff, 0xff])
        .await
        .expect("garbage");

    // The link connects again on the socket: hello first, then the question again.
    let (conn, _) = within(listener.accept()).await.expect("a new connection");
    let (r, w) = conn.into_split();
    let (mut r, mut w) = (FrameReader::new(r), FrameWriter::new(w));
    let first = within(r.recv::<ToHolder>()).await.expect("read");
    assert!(matches!(first, Some(ToHolder::Hello { .. })), "{first:?}");
    let again_req = within(r.recv::<ToHolder>()).await.expect("read");
    assert_eq!(again_req, Some(ToHolder::Snapshot { scrollback: 5 }));
    w.send(&hello()).await.expect("send");
    w.send(&FromHolder::Snapshot {
        bytes: Bytes::from_static(b"again"),
        more: false,
    })
    .await
    .expect("send");
    let (bytes, _) = within(again).await.expect("task").expect("a snapshot");
    assert_eq!(bytes, Bytes::from_static(b"again"));
    // The viewer is told to start afresh; the link is well.
    let next = within(viewer.recv()).await.expect("output");
    assert!(matches!(next, Output::Reset), "{next:?}");
    assert_eq!(link.trouble(), None);
    assert_eq!(link.ended(), Ended::No);
    drop(raw);
}

#[tokio::test]
async fn a_holder_that_goes_away_is_reported_and_viewers_are_told() {
    let (link, (mut r, mut w), mut events) = linked(None);
    let mut viewer = a_viewer(&link, &mut r, &mut w).await;
    drop((r, w));
    assert_eq!(within(link.closed()).await, Ended::HolderGone);
    let why = link.trouble().expect("a reason");
    assert!(why.contains("closed the connection"), "{why}");
    assert!(matches!(within(viewer.recv()).await, Ok(Output::Exited(_))));
    let reported =
        std::iter::from_fn(|| events.try_recv().ok()).any(|e| matches!(e, LinkEvent::Trouble));
    assert!(reported);
    // Asking now fails at once, saying why.
    let err = within(link.snapshot(0)).await.err().expect("no snapshot");
    assert!(err.contains("closed the connection"), "{err}");
}

/// A holder that dropped output for a slow agent greets anew, and its hello says the
/// program has ended meanwhile: viewers are told to redraw first and hear of the end
/// after, so the screen they redraw is the last one (they used to hear only of the end,
/// and a viewer that fell behind at a program's end never saw its last lines).
#[tokio::test]
async fn a_fresh_hello_after_lost_output_redraws_before_the_end() {
    let (link, (mut r, mut w), _events) = linked(None);
    let mut viewer = a_viewer(&link, &mut r, &mut w).await;
    let FromHolder::Hello(mut again) = hello() else {
        unreachable!()
    };
    again.state.exited = Some(ExitInfo {
        code: Some(0),
        signal: None,
    });
    w.send(&FromHolder::Hello(again)).await.expect("send");
    let first = within(viewer.recv()).await.expect("output");
    assert!(matches!(first, Output::Reset), "{first:?}");
    let then = within(viewer.recv()).await.expect("output");
    assert!(matches!(then, Output::Exited(_)), "{then:?}");
    assert!(link.exit_info().is_some());
}
