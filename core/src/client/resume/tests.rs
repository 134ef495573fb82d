//! The reconnecting stream over in-memory streams: the test plays the agent on the far
//! end of each stream the client dials.

use std::time::Duration;

use tokio::{
    io::{DuplexStream, ReadHalf, WriteHalf},
    sync::mpsc,
};

use crate::{
    ErrorCode, WireError,
    client::{
        AttachEvent, Backoff, BoxRead, BoxWrite, ClientError, ConvEvent, Conversation, Item,
        reattach, reattach_conversation,
    },
    frame::{FrameReader, FrameWriter},
    proto::{
        Provider, SessionId, SessionInfo, SessionStatus, StreamOpen, TermSize,
        ai::{AiEvent, ConvClientFrame, ConvServerFrame, ConversationOpen, Entry},
        attach::{AttachRequest, ServerFrame},
    },
};

/// The agent's end of one dialled stream.
pub(crate) struct Far {
    pub(crate) reader: FrameReader<ReadHalf<DuplexStream>>,
    pub(crate) writer: FrameWriter<WriteHalf<DuplexStream>>,
}

impl Far {
    pub(crate) async fn opened(&mut self) -> StreamOpen {
        self.reader.recv().await.unwrap().expect("an open request")
    }

    pub(crate) async fn send<T: serde::Serialize>(&mut self, frame: T) {
        self.writer.send(&frame).await.unwrap();
    }
}

/// What a dial answers.
pub(crate) type Dialled = std::future::Ready<Result<(BoxRead, BoxWrite), ClientError>>;

/// A dialler whose streams' far ends come out of the receiver, one per try.
pub(crate) fn dialler() -> (impl FnMut() -> Dialled, mpsc::UnboundedReceiver<Far>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let dial = move || {
        let (near, far) = tokio::io::duplex(64 * 1024);
        let (fr, fw) = tokio::io::split(far);
        let _ = tx.send(Far {
            reader: FrameReader::new(fr),
            writer: FrameWriter::new(fw),
        });
        let (r, w) = tokio::io::split(near);
        std::future::ready(Ok((Box::new(r) as BoxRead, Box::new(w) as BoxWrite)))
    };
    (dial, rx)
}

fn info() -> SessionInfo {
    SessionInfo {
        id: SessionId(7),
        title: "claude".into(),
        provider: Provider::Claude,
        command: vec!["claude".into()],
        cwd: "/w".into(),
        size: TermSize::DEFAULT,
        created_ms: 0,
        status: SessionStatus::Running,
        viewers: 1,
        recording: None,
        conversation: None,
        recording_error: None,
        recording_state: None,
    }
}

fn entry(seq: u64, text: &str) -> ConvServerFrame {
    ConvServerFrame::Entry(Entry {
        seq,
        at_ms: 0,
        event: AiEvent::Assistant { text: text.into() },
    })
}

pub(crate) fn fast() -> Backoff {
    Backoff {
        first: Duration::from_millis(1),
        max: Duration::from_millis(1),
        max_tries: None,
    }
}

/// Backoff long enough that the test always acts while the stream waits to retry.
fn slow() -> Backoff {
    Backoff {
        first: Duration::from_secs(3600),
        ..Backoff::default()
    }
}

fn conv_open() -> ConversationOpen {
    ConversationOpen {
        session: SessionId(7),
        after: None,
        watch_only: false,
    }
}

/// The next event, failing the test instead of hanging it.
pub(crate) async fn next<E>(rx: &mut mpsc::Receiver<E>) -> Option<E> {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an event within 10 s")
}

#[tokio::test]
async fn a_dropped_conversation_redials_and_resumes_after_the_last_entry() {
    let (dial, mut fars) = dialler();
    let (handle, mut events, driver) = reattach_conversation(dial, conv_open(), fast());
    let driver = tokio::spawn(driver);
    let mut conv = Conversation::new();

    let mut far = fars.recv().await.unwrap();
    let StreamOpen::Conversation(open) = far.opened().await else {
        panic!("not a conversation");
    };
    assert_eq!(open.after, None);
    far.send(ConvServerFrame::Attached(info())).await;
    far.send(entry(1, "one")).await;
    far.send(entry(2, "two")).await;
    assert!(matches!(
        next(&mut events).await,
        Some(ConvEvent::Attached {
            reconnected: false,
            ..
        })
    ));
    for _ in 0..2 {
        let Some(ConvEvent::Entry(e)) = next(&mut events).await else {
            panic!("an entry");
        };
        assert!(conv.apply(&e));
    }
    // The agent restarts: the stream breaks.
    drop(far);
    assert!(matches!(
        next(&mut events).await,
        Some(ConvEvent::Reconnecting { attempt: 1, .. })
    ));

    let mut far = fars.recv().await.unwrap();
    let StreamOpen::Conversation(open) = far.opened().await else {
        panic!("not a conversation");
    };
    assert_eq!(open.after, Some(2), "only what came after the last entry");
    far.send(ConvServerFrame::Attached(info())).await;
    far.send(entry(3, "three")).await;
    assert!(matches!(
        next(&mut events).await,
        Some(ConvEvent::Attached {
            reconnected: true,
            ..
        })
    ));
    let Some(ConvEvent::Entry(e)) = next(&mut events).await else {
        panic!("an entry");
    };
    assert!(conv.apply(&e));
    let texts: Vec<_> = conv
        .items
        .iter()
        .map(|i| match i {
            Item::Assistant { text, .. } => text.as_str(),
            _ => "?",
        })
        .collect();
    assert_eq!(texts, ["one", "two", "three"]);

    // What the user sends goes out on the new connection.
    handle.send(ConvClientFrame::Prompt("hi".into()));
    let sent: ConvClientFrame = far.reader.recv().await.unwrap().unwrap();
    assert_eq!(sent, ConvClientFrame::Prompt("hi".into()));
    handle.detach();
    assert_eq!(next(&mut events).await, Some(ConvEvent::Detached));
    driver.await.unwrap();
}

#[tokio::test]
async fn a_dropped_terminal_reattaches_with_its_last_size_and_reports_unconfirmed_keys() {
    use crate::proto::attach::ClientFrame;
    let (dial, mut fars) = dialler();
    let req = AttachRequest {
        session: SessionId(7),
        size: Some(TermSize { rows: 24, cols: 80 }),
        scrollback: 0,
        watch_only: false,
    };
    let (handle, mut events, driver) = reattach(dial, req, fast());
    let driver = tokio::spawn(driver);

    let mut far = fars.recv().await.unwrap();
    far.opened().await;
    far.send(ServerFrame::Attached(info())).await;
    assert!(matches!(
        next(&mut events).await,
        Some(AttachEvent::Attached { .. })
    ));
    let size = TermSize {
        rows: 50,
        cols: 132,
    };
    handle.resize(size);
    handle.input("ls\r");
    let got: ClientFrame = far.reader.recv().await.unwrap().unwrap();
    assert_eq!(got, ClientFrame::Resize(size));
    let got: ClientFrame = far.reader.recv().await.unwrap().unwrap();
    assert!(matches!(got, ClientFrame::Keys { seq: 1, .. }), "{got:?}");
    // The agent goes before it confirmed the keys.
    drop(far);
    assert_eq!(
        next(&mut events).await,
        Some(AttachEvent::Unconfirmed { bytes: 3 }),
        "keys never confirmed are reported, not sent again"
    );
    assert!(matches!(
        next(&mut events).await,
        Some(AttachEvent::Reconnecting { attempt: 1, .. })
    ));

    let mut far = fars.recv().await.unwrap();
    let StreamOpen::Attach(again) = far.opened().await else {
        panic!("not an attach");
    };
    assert_eq!(
        again.size,
        Some(size),
        "the size carried into the next attach"
    );
    far.send(ServerFrame::Attached(info())).await;
    assert!(matches!(
        next(&mut events).await,
        Some(AttachEvent::Attached {
            reconnected: true,
            ..
        })
    ));
    // Nothing from before arrives again: the next frame is what is typed now.
    handle.input("x");
    let got: ClientFrame = far.reader.recv().await.unwrap().unwrap();
    assert!(
        matches!(&got, ClientFrame::Keys { seq: 1, bytes } if &bytes[..] == b"x"),
        "{got:?}"
    );
    handle.detach();
    assert_eq!(next(&mut events).await, Some(AttachEvent::Detached));
    driver.await.unwrap();
}

#[tokio::test]
async fn keys_typed_while_reconnecting_are_refused() {
    let (dial, mut fars) = dialler();
    let req = AttachRequest {
        session: SessionId(7),
        size: None,
        scrollback: 0,
        watch_only: false,
    };
    let (handle, mut events, driver) = reattach(dial, req, slow());
    let driver = tokio::spawn(driver);
    drop(fars.recv().await.unwrap());
    assert!(matches!(
        next(&mut events).await,
        Some(AttachEvent::Reconnecting { .. })
    ));
    handle.input("ls\r");
    assert_eq!(
        next(&mut events).await,
        Some(AttachEvent::NotSent { bytes: 3 })
    );
    handle.detach();
    assert_eq!(next(&mut events).await, Some(AttachEvent::Detached));
    driver.await.unwrap();
}

#[tokio::test]
async fn a_final_error_ends_it_with_closed() {
    // Refused on opening: not found is final, no retry.
    let (dial, mut fars) = dialler();
    let (_handle, mut events, driver) = reattach_conversation(dial, conv_open(), fast());
    let driver = tokio::spawn(driver);
    let mut far = fars.recv().await.unwrap();
    far.opened().await;
    let gone = WireError::new(ErrorCode::NotFound, "no such session");
    far.send(ConvServerFrame::Refused(gone.clone())).await;
    assert_eq!(next(&mut events).await, Some(ConvEvent::Closed(gone)));
    assert_eq!(next(&mut events).await, None);
    driver.await.unwrap();
    assert!(fars.try_recv().is_err(), "no second dial");

    // Closed for good while attached (access revoked).
    let (dial, mut fars) = dialler();
    let (_handle, mut events, driver) = reattach_conversation(dial, conv_open(), fast());
    let driver = tokio::spawn(driver);
    let mut far = fars.recv().await.unwrap();
    far.opened().await;
    far.send(ConvServerFrame::Attached(info())).await;
    let revoked = WireError::new(ErrorCode::Revoked, "access revoked");
    far.send(ConvServerFrame::Closed(revoked.clone())).await;
    assert!(matches!(
        next(&mut events).await,
        Some(ConvEvent::Attached { .. })
    ));
    assert_eq!(next(&mut events).await, Some(ConvEvent::Closed(revoked)));
    assert_eq!(next(&mut events).await, None);
    driver.await.unwrap();
}

#[tokio::test]
async fn what_is_sent_offline_is_refused_and_detach_while_reconnecting_ends_it() {
    let (dial, mut fars) = dialler();
    let (handle, mut events, driver) = reattach_conversation(dial, conv_open(), slow());
    let driver = tokio::spawn(driver);
    let mut far = fars.recv().await.unwrap();
    far.opened().await;
    // A transient refusal (the agent shutting down): try again, later.
    let down = WireError::new(ErrorCode::Shutdown, "the agent is restarting");
    far.send(ConvServerFrame::Refused(down)).await;
    assert!(matches!(
        next(&mut events).await,
        Some(ConvEvent::Reconnecting { attempt: 1, .. })
    ));
    let prompt = ConvClientFrame::Prompt("are you there?".into());
    handle.send(prompt.clone());
    assert_eq!(next(&mut events).await, Some(ConvEvent::NotSent(prompt)));
    handle.detach();
    assert_eq!(next(&mut events).await, Some(ConvEvent::Detached));
    assert_eq!(next(&mut events).await, None);
    driver.await.unwrap();
}

#[tokio::test]
async fn detach_while_a_try_hangs_ends_it() {
    // A dial that never answers (a peer behind a dead network).
    let dial = || std::future::pending::<Result<(BoxRead, BoxWrite), ClientError>>();
    let (handle, mut events, driver) = reattach_conversation(dial, conv_open(), fast());
    let driver = tokio::spawn(driver);
    let prompt = ConvClientFrame::Interrupt;
    handle.send(prompt.clone());
    assert_eq!(next(&mut events).await, Some(ConvEvent::NotSent(prompt)));
    handle.detach();
    assert_eq!(next(&mut events).await, Some(ConvEvent::Detached));
    driver.await.unwrap();
}

/// Plays a control stream's agent: answers the two requests a watch opens with,
/// `Info` and `ListSessions` (with `sessions`).
async fn serve_control(far: &mut Far, sessions: &[SessionInfo]) {
    use crate::proto::control::{
        AgentInfo, ControlFrame, Request, RequestBody, Response, ResponseBody,
    };
    for _ in 0..2 {
        let Some(req) = far.reader.recv::<Request>().await.unwrap() else {
            return;
        };
        let body = match req.body {
            RequestBody::Info => ResponseBody::Info(AgentInfo {
                id: crate::SecretKey::from_bytes(&[7; 32]).public(),
                name: "box".into(),
                version: "test".into(),
                os: "linux".into(),
                providers: vec![],
                provider_status: vec![],
                your_role: crate::proto::Role::Owner,
            }),
            RequestBody::ListSessions => ResponseBody::Sessions(sessions.to_vec()),
            other => panic!("unexpected {other:?}"),
        };
        far.send(ControlFrame::Response(Response {
            id: req.id,
            result: Ok(body),
        }))
        .await;
    }
}

#[tokio::test]
async fn a_watch_lists_on_every_connection_and_again_when_it_fell_behind() {
    use crate::{
        client::{WatchEvent, watch},
        proto::control::{ControlFrame, Event, Request, RequestBody, Response, ResponseBody},
    };
    let (dial, mut fars) = dialler();
    let (handle, mut events, driver) = watch(dial, fast());
    let driver = tokio::spawn(driver);

    let mut far = fars.recv().await.unwrap();
    assert!(matches!(far.opened().await, StreamOpen::Control));
    serve_control(&mut far, &[info()]).await;
    let Some(WatchEvent::Attached {
        info: w,
        reconnected: false,
    }) = next(&mut events).await
    else {
        panic!("attached");
    };
    assert_eq!(w.agent.name, "box");
    assert_eq!(w.sessions, [info()]);
    // Pushed events come through; a lag makes it list again.
    far.send(ControlFrame::Event(Event::SessionRemoved(SessionId(7))))
        .await;
    far.send(ControlFrame::Event(Event::Lagged)).await;
    assert!(matches!(
        next(&mut events).await,
        Some(WatchEvent::Event(Event::SessionRemoved(SessionId(7))))
    ));
    let req: Request = far.reader.recv().await.unwrap().unwrap();
    assert!(matches!(req.body, RequestBody::ListSessions));
    far.send(ControlFrame::Response(Response {
        id: req.id,
        result: Ok(ResponseBody::Sessions(vec![])),
    }))
    .await;
    assert!(matches!(
        next(&mut events).await,
        Some(WatchEvent::Relisted(s)) if s.is_empty()
    ));

    // The agent goes, even refusing us on the way: a watch retries all the same.
    far.send(ControlFrame::Closing(WireError::new(
        ErrorCode::Revoked,
        "access revoked",
    )))
    .await;
    drop(far);
    assert!(matches!(
        next(&mut events).await,
        Some(WatchEvent::Reconnecting { attempt: 1, .. })
    ));
    let mut far = fars.recv().await.unwrap();
    far.opened().await;
    serve_control(&mut far, &[]).await;
    let Some(WatchEvent::Attached {
        info: w,
        reconnected: true,
    }) = next(&mut events).await
    else {
        panic!("attached again");
    };
    assert!(w.sessions.is_empty());
    handle.detach();
    assert!(matches!(
        next(&mut events).await,
        Some(WatchEvent::Detached)
    ));
    driver.await.unwrap();
}

#[test]
fn backoff_doubles_up_to_the_limit() {
    let b = Backoff::default();
    assert_eq!(b.delay(1), Duration::from_millis(100));
    assert_eq!(b.delay(2), Duration::from_millis(200));
    assert_eq!(b.delay(4), Duration::from_millis(800));
    assert_eq!(b.delay(30), Duration::from_secs(5));
}
