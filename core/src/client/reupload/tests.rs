//! The reconnecting upload over in-memory streams: the test plays the agent.

use bytes::Bytes;

use super::{UploadEvent, reupload};
use crate::{
    ErrorCode, WireError,
    client::{
        BoxRead,
        resume::tests::{Far, dialler, fast, next},
    },
    proto::{
        StreamOpen,
        files::{FileKind, FileMeta, TransferFrame, UploadRequest, Version},
    },
};

const CONTENT: &[u8] = b"the new content";

fn source() -> impl FnMut() -> std::future::Ready<std::io::Result<BoxRead>> {
    || std::future::ready(Ok(Box::new(std::io::Cursor::new(CONTENT)) as BoxRead))
}

fn theirs() -> Version {
    Version {
        modified_ms: 1,
        size: 3,
        hash: [7; 32],
    }
}

fn placed() -> FileMeta {
    FileMeta {
        path: "/w/f".into(),
        kind: FileKind::File,
        size: CONTENT.len() as u64,
        modified_ms: 2,
        version: None,
    }
}

/// Reads one whole upload off `far`: its request and the bytes.
async fn received(far: &mut Far) -> (UploadRequest, Vec<u8>) {
    let StreamOpen::Upload(req) = far.opened().await else {
        panic!("not an upload");
    };
    let mut got = Vec::new();
    loop {
        match far.reader.recv::<TransferFrame>().await.unwrap() {
            Some(TransferFrame::Data(b)) => got.extend_from_slice(&b),
            Some(TransferFrame::End { hash }) => {
                assert_eq!(hash, *blake3::hash(&got).as_bytes());
                return (req, got);
            }
            other => panic!("{other:?}"),
        }
    }
}

/// The events up to the end, as short words.
async fn said(events: &mut tokio::sync::mpsc::Receiver<UploadEvent>) -> Vec<String> {
    let mut said = Vec::new();
    loop {
        match next(events).await.expect("an event") {
            UploadEvent::Started { reconnected } => said.push(format!("start {reconnected}")),
            UploadEvent::Sent(_) => {}
            UploadEvent::Reconnecting { .. } => said.push("reconnecting".into()),
            UploadEvent::Done(_) => {
                said.push("done".into());
                return said;
            }
            UploadEvent::Closed(e) => {
                said.push(format!("closed {}", e.message));
                return said;
            }
            UploadEvent::Detached => panic!("detached"),
        }
    }
}

fn req() -> UploadRequest {
    UploadRequest {
        path: "~/f".into(),
        size: CONTENT.len() as u64,
        expected: Some(theirs()),
    }
}

#[tokio::test]
async fn an_upload_whose_answer_was_lost_is_recognised_not_a_conflict() {
    let (dial, mut fars) = dialler();
    let (_h, mut events, driver) = reupload(dial, source(), req(), fast());
    let driver = tokio::spawn(driver);
    // All of it goes up; the agent puts it in place, and the answer is lost.
    let mut far = fars.recv().await.unwrap();
    let (first, got) = received(&mut far).await;
    assert_eq!((first.expected, got.as_slice()), (Some(theirs()), CONTENT));
    drop(far);
    // Sent again naming what it replaced, it is refused: the file is ours now.
    let mut far = fars.recv().await.unwrap();
    assert!(matches!(far.opened().await, StreamOpen::Upload(r) if r.expected == Some(theirs())));
    far.send(TransferFrame::Failed(WireError::new(
        ErrorCode::Conflict,
        "/w/f changed since you read it",
    )))
    .await;
    drop(far);
    // So it names its own content: accepted exactly when that is what is there.
    let mut far = fars.recv().await.unwrap();
    let (again, got) = received(&mut far).await;
    assert_eq!(got, CONTENT);
    let ours = again.expected.expect("a version");
    assert_eq!(ours.hash, *blake3::hash(CONTENT).as_bytes());
    far.send(TransferFrame::Done(placed())).await;
    assert_eq!(
        said(&mut events).await,
        [
            "start false",
            "reconnecting",
            "start true",
            "reconnecting",
            "start true",
            "done"
        ]
    );
    driver.await.unwrap();
}

#[tokio::test]
async fn a_real_conflict_is_reported_as_the_agent_said_it() {
    let (dial, mut fars) = dialler();
    let (_h, mut events, driver) = reupload(dial, source(), req(), fast());
    let driver = tokio::spawn(driver);
    let mut far = fars.recv().await.unwrap();
    received(&mut far).await;
    drop(far);
    let mut far = fars.recv().await.unwrap();
    far.opened().await;
    far.send(TransferFrame::Failed(WireError::new(
        ErrorCode::Conflict,
        "/w/f changed since you read it",
    )))
    .await;
    drop(far);
    // Someone else's content is there: naming ours is refused too.
    let mut far = fars.recv().await.unwrap();
    far.opened().await;
    far.send(TransferFrame::Failed(WireError::new(
        ErrorCode::Conflict,
        "/w/f changed since you read it; read it again before saving",
    )))
    .await;
    let said = said(&mut events).await;
    assert_eq!(
        said.last().unwrap(),
        "closed /w/f changed since you read it"
    );
    driver.await.unwrap();
}

#[tokio::test]
async fn an_upload_cut_before_its_end_is_sent_again_as_it_was() {
    let (dial, mut fars) = dialler();
    let (_h, mut events, driver) = reupload(dial, source(), req(), fast());
    let driver = tokio::spawn(driver);
    let mut far = fars.recv().await.unwrap();
    far.opened().await;
    let _ = far.reader.recv::<TransferFrame>().await;
    drop(far);
    // Nothing landed, so a conflict now is real: no second try with our own content.
    let mut far = fars.recv().await.unwrap();
    let (again, got) = received(&mut far).await;
    assert_eq!((again.expected, got.as_slice()), (Some(theirs()), CONTENT));
    far.send(TransferFrame::Done(placed())).await;
    let said = said(&mut events).await;
    assert_eq!(said.last().unwrap(), "done");
    driver.await.unwrap();
    let _ = Bytes::new();
}
