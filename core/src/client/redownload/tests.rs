//! The reconnecting download over in-memory streams: the test plays the agent.

use bytes::Bytes;

use super::{DownloadEvent, redownload};
use crate::{
    ErrorCode, WireError,
    client::resume::tests::{Far, dialler, fast, next},
    proto::{
        StreamOpen,
        control::ControlFrame,
        files::{FileKind, FileMeta, TransferFrame},
    },
};

fn meta(modified_ms: u64, size: u64) -> FileMeta {
    FileMeta {
        path: "/w/big".into(),
        kind: FileKind::File,
        size,
        modified_ms,
        version: None,
    }
}

fn hash(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    for p in parts {
        h.update(p);
    }
    *h.finalize().as_bytes()
}

async fn data(far: &mut Far, b: &'static [u8]) {
    far.send(TransferFrame::Data(Bytes::from_static(b))).await;
}

/// Collects the events up to the end: the file as a writer at `offset`s would have it.
async fn collect(
    events: &mut tokio::sync::mpsc::Receiver<DownloadEvent>,
) -> (Vec<u8>, Vec<String>) {
    let mut file = Vec::new();
    let mut said = Vec::new();
    loop {
        match next(events).await.expect("an event") {
            DownloadEvent::Started { offset, .. } => {
                file.truncate(offset as usize);
                said.push(format!("start {offset}"));
            }
            DownloadEvent::Data(b) => file.extend_from_slice(&b),
            DownloadEvent::Reconnecting { .. } => said.push("reconnecting".into()),
            DownloadEvent::Done => return (file, said),
            DownloadEvent::Closed(e) => {
                said.push(format!("closed {}", e.message));
                return (file, said);
            }
            DownloadEvent::Detached => panic!("detached"),
        }
    }
}

#[tokio::test]
async fn a_cut_download_asks_for_the_rest_and_checks_the_whole_file() {
    let (dial, mut fars) = dialler();
    let (_h, mut events, driver) = redownload(dial, "~/big".into(), fast());
    let driver = tokio::spawn(driver);
    let mut far = fars.recv().await.unwrap();
    assert!(matches!(far.opened().await, StreamOpen::Download(r) if r.path == "~/big"));
    far.send(TransferFrame::Start(meta(5, 6))).await;
    data(&mut far, b"abc").await;
    drop(far);

    let mut far = fars.recv().await.unwrap();
    let StreamOpen::DownloadFrom(from) = far.opened().await else {
        panic!("not a resumed download");
    };
    assert_eq!((from.offset, from.modified_ms, from.size), (3, 5, 6));
    far.send(TransferFrame::Start(meta(5, 6))).await;
    data(&mut far, b"def").await;
    // The hash covers the whole file, the part not sent again too.
    far.send(TransferFrame::End {
        hash: hash(&[b"abcdef"]),
    })
    .await;
    let (file, said) = collect(&mut events).await;
    assert_eq!(file, b"abcdef");
    assert_eq!(said, ["start 0", "reconnecting", "start 3"]);
    driver.await.unwrap();
}

#[tokio::test]
async fn a_file_that_changed_during_the_cut_comes_again_from_the_start() {
    let (dial, mut fars) = dialler();
    let (_h, mut events, driver) = redownload(dial, "~/big".into(), fast());
    let driver = tokio::spawn(driver);
    let mut far = fars.recv().await.unwrap();
    far.opened().await;
    far.send(TransferFrame::Start(meta(5, 6))).await;
    data(&mut far, b"abc").await;
    drop(far);

    let mut far = fars.recv().await.unwrap();
    assert!(matches!(far.opened().await, StreamOpen::DownloadFrom(_)));
    // Another time: the agent sends it all.
    far.send(TransferFrame::Start(meta(9, 4))).await;
    data(&mut far, b"wxyz").await;
    far.send(TransferFrame::End {
        hash: hash(&[b"wxyz"]),
    })
    .await;
    let (file, said) = collect(&mut events).await;
    assert_eq!(file, b"wxyz");
    assert_eq!(said, ["start 0", "reconnecting", "start 0"]);
    driver.await.unwrap();
}

#[tokio::test]
async fn a_prefix_that_changed_unseen_fails_the_hash_and_is_not_kept() {
    let (dial, mut fars) = dialler();
    let (_h, mut events, driver) = redownload(dial, "~/big".into(), fast());
    let driver = tokio::spawn(driver);
    let mut far = fars.recv().await.unwrap();
    far.opened().await;
    far.send(TransferFrame::Start(meta(5, 6))).await;
    data(&mut far, b"abc").await;
    drop(far);
    let mut far = fars.recv().await.unwrap();
    far.opened().await;
    far.send(TransferFrame::Start(meta(5, 6))).await;
    data(&mut far, b"def").await;
    // Same time and size, other first bytes: the agent's hash is of what it has now.
    far.send(TransferFrame::End {
        hash: hash(&[b"XYZdef"]),
    })
    .await;
    let (_, said) = collect(&mut events).await;
    assert!(
        said.last().unwrap().contains("hash does not match"),
        "{said:?}"
    );
    driver.await.unwrap();
}

#[tokio::test]
async fn an_agent_that_cannot_resume_sends_the_whole_file_again() {
    let (dial, mut fars) = dialler();
    let (_h, mut events, driver) = redownload(dial, "~/big".into(), fast());
    let driver = tokio::spawn(driver);
    let mut far = fars.recv().await.unwrap();
    far.opened().await;
    far.send(TransferFrame::Start(meta(5, 6))).await;
    data(&mut far, b"abc").await;
    drop(far);
    // What an agent that predates `DownloadFrom` answers to it.
    let mut far = fars.recv().await.unwrap();
    assert!(matches!(far.opened().await, StreamOpen::DownloadFrom(_)));
    far.send(ControlFrame::Closing(WireError::new(
        ErrorCode::BadRequest,
        "malformed frame",
    )))
    .await;
    drop(far);
    let mut far = fars.recv().await.unwrap();
    assert!(matches!(far.opened().await, StreamOpen::Download(_)));
    far.send(TransferFrame::Start(meta(5, 6))).await;
    data(&mut far, b"abcdef").await;
    far.send(TransferFrame::End {
        hash: hash(&[b"abcdef"]),
    })
    .await;
    let (file, said) = collect(&mut events).await;
    assert_eq!(file, b"abcdef");
    assert_eq!(said, ["start 0", "reconnecting", "reconnecting", "start 0"]);
    driver.await.unwrap();
}

#[tokio::test]
async fn a_deleted_file_ends_with_the_agents_message() {
    let (dial, mut fars) = dialler();
    let (_h, mut events, driver) = redownload(dial, "~/big".into(), fast());
    let driver = tokio::spawn(driver);
    let mut far = fars.recv().await.unwrap();
    far.opened().await;
    far.send(TransferFrame::Start(meta(5, 6))).await;
    data(&mut far, b"abc").await;
    drop(far);
    let mut far = fars.recv().await.unwrap();
    far.opened().await;
    far.send(TransferFrame::Failed(WireError::new(
        ErrorCode::NotFound,
        "/w/big does not exist",
    )))
    .await;
    let (_, said) = collect(&mut events).await;
    assert_eq!(said.last().unwrap(), "closed /w/big does not exist");
    driver.await.unwrap();
}
