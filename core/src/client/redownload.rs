//! A download that survives: the reconnecting stream ([`super::reconnecting`]) for a file
//! coming from an agent. When the connection drops (the agent restarted, the network
//! went away) it asks for the rest, from the bytes it has
//! ([`StreamOpen::DownloadFrom`]), as long as the file is the one it started on; a file
//! that changed comes again from byte 0 ([`DownloadEvent::Started`] says which). The
//! hash at the end covers the whole file either way: the agent hashes the part it does
//! not send again, and this side keeps hashing across connections, so a file that
//! arrived in pieces is checked as a whole.
//!
//! An agent that predates resuming answers [`StreamOpen::DownloadFrom`] with a frame no
//! download has; the next try asks it for the whole file again, as before.

use std::{
    convert::Infallible,
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use tokio::sync::mpsc;

use super::{
    BoxRead, BoxWrite, ClientError,
    resume::{Backoff, Command, Ended, Resumable, Status, StreamHandle, is_final, reconnecting},
};
use crate::{
    ErrorCode, WireError,
    frame::{FrameError, FrameReader, FrameWriter},
    proto::{
        StreamOpen,
        files::{DownloadFromRequest, DownloadRequest, FileMeta, TransferFrame},
    },
};

/// What a reconnecting download reports, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum DownloadEvent {
    /// The stream is open (again, when `reconnected`); the file's bytes from `offset`
    /// follow. An `offset` below what the reader kept means start over from there: on a
    /// reconnection, 0 means the file changed since the first start.
    Started {
        /// The file as the agent has it now.
        meta: FileMeta,
        /// Where the bytes that follow go in the file.
        offset: u64,
        /// Whether this is a reconnection.
        reconnected: bool,
    },
    /// The next bytes of the file.
    Data(Bytes),
    /// The connection is down; the next try comes after `delay`.
    Reconnecting {
        /// Failed tries in a row so far.
        attempt: u32,
        /// The wait before the next try.
        delay: Duration,
        /// Why the last connection or try failed.
        error: String,
    },
    /// Every byte came and the whole file's hash matched the agent's; nothing follows.
    Done,
    /// The download failed for good (the file is gone, access was refused, the tries
    /// ran out, the bytes arrived damaged): discard what came; nothing follows.
    Closed(WireError),
    /// Stopped on request; nothing follows.
    Detached,
}

/// What opening a download stream answers: the file and where its bytes start.
#[derive(Debug, Clone)]
pub struct DownloadStart {
    /// The file as the agent has it now.
    pub meta: FileMeta,
    /// Where the bytes that follow go in the file.
    pub offset: u64,
}

impl From<Status<DownloadStart>> for DownloadEvent {
    fn from(s: Status<DownloadStart>) -> Self {
        match s {
            Status::Attached { info, reconnected } => DownloadEvent::Started {
                meta: info.meta,
                offset: info.offset,
                reconnected,
            },
            Status::Reconnecting {
                attempt,
                delay,
                error,
            } => DownloadEvent::Reconnecting {
                attempt,
                delay,
                error,
            },
            Status::Closed(e) => DownloadEvent::Closed(e),
            Status::Detached => DownloadEvent::Detached,
        }
    }
}

/// Downloads `path` over streams from `dial`, resuming after every lost connection
/// until the file is in, fails for good or the handle detaches. Returns the handle (only
/// to stop it), the events (bounded: a slow writer slows the download, never grows
/// memory) and the driver to run.
pub fn redownload<D, F>(
    dial: D,
    path: String,
    backoff: Backoff,
) -> (
    StreamHandle<Infallible>,
    mpsc::Receiver<DownloadEvent>,
    impl Future<Output = ()>,
)
where
    D: FnMut() -> F,
    F: Future<Output = Result<(BoxRead, BoxWrite), ClientError>>,
{
    let kind = Redownload {
        path,
        started: None,
        kept: 0,
        hasher: blake3::Hasher::new(),
        legacy: Arc::new(AtomicBool::new(false)),
    };
    reconnecting(kind, dial, backoff)
}

/// The download kind; its resume state is what came so far.
struct Redownload {
    path: String,
    /// The file's time and size in the first `Start` of the bytes kept.
    started: Option<(u64, u64)>,
    /// Bytes handed on so far.
    kept: u64,
    /// The hash of those bytes.
    hasher: blake3::Hasher,
    /// Set when the agent did not understand [`StreamOpen::DownloadFrom`].
    legacy: Arc<AtomicBool>,
}

/// How the next stream is opened.
struct Open {
    from: Option<DownloadFromRequest>,
    path: String,
    legacy: Arc<AtomicBool>,
}

impl Resumable for Redownload {
    type Cmd = Infallible;
    type Event = DownloadEvent;
    type Info = DownloadStart;
    type Conn = (DownloadStart, FrameReader<BoxRead>);
    type Open = Open;

    fn next_open(&self) -> Open {
        let from = match self.started {
            Some((modified_ms, size)) if self.kept > 0 && !self.legacy.load(Ordering::Relaxed) => {
                Some(DownloadFromRequest {
                    path: self.path.clone(),
                    offset: self.kept,
                    modified_ms,
                    size,
                })
            }
            _ => None,
        };
        Open {
            from,
            path: self.path.clone(),
            legacy: self.legacy.clone(),
        }
    }

    async fn open(
        open: Open,
        reader: BoxRead,
        writer: BoxWrite,
    ) -> Result<(DownloadStart, Self::Conn), ClientError> {
        let mut writer = FrameWriter::new(writer);
        let req = match &open.from {
            Some(from) => StreamOpen::DownloadFrom(from.clone()),
            None => StreamOpen::Download(DownloadRequest {
                path: open.path.clone(),
            }),
        };
        writer.send(&req).await?;
        // Nothing more goes up; the agent only needs the request.
        let _ = writer.finish().await;
        let mut reader = FrameReader::new(reader);
        let unknown = || {
            open.legacy.store(true, Ordering::Relaxed);
            ClientError::Unexpected("the agent cannot resume a download; starting over")
        };
        match reader.recv::<TransferFrame>().await {
            Ok(Some(TransferFrame::Start(meta))) => {
                let offset = match &open.from {
                    Some(from) if from.resumes(&meta) => from.offset,
                    _ => 0,
                };
                let start = DownloadStart { meta, offset };
                Ok((start.clone(), (start, reader)))
            }
            Ok(Some(TransferFrame::Failed(e))) => Err(ClientError::Remote(e)),
            // An agent that predates `DownloadFrom` answers with a control stream's
            // closing frame, which is no download's first frame.
            Ok(Some(_)) | Err(FrameError::Malformed(_)) if open.from.is_some() => Err(unknown()),
            Ok(Some(_)) => Err(ClientError::Unexpected("expected the start of a download")),
            Ok(None) => Err(ClientError::Closed),
            Err(e) => Err(e.into()),
        }
    }

    async fn run(
        &mut self,
        (start, mut reader): Self::Conn,
        _cmds: &mut mpsc::UnboundedReceiver<Command<Infallible>>,
        events: &mpsc::Sender<DownloadEvent>,
    ) -> Ended<DownloadEvent> {
        // The `Started` event went out with the offset; the state follows it.
        self.restart(&start);
        run(self, &mut reader, events).await
    }

    fn offline(&mut self, cmd: Infallible) -> Option<DownloadEvent> {
        match cmd {}
    }
}

impl Redownload {
    /// Takes the start of a stream: from 0 the bytes kept are dropped.
    fn restart(&mut self, start: &DownloadStart) {
        if start.offset == 0 {
            self.kept = 0;
            self.hasher = blake3::Hasher::new();
            self.started = Some((start.meta.modified_ms, start.meta.size));
        }
    }
}

/// Serves one stream until it ends: hands on the bytes and checks the hash at the end.
async fn run(
    kind: &mut Redownload,
    reader: &mut FrameReader<BoxRead>,
    events: &mpsc::Sender<DownloadEvent>,
) -> Ended<DownloadEvent> {
    loop {
        let ev = match reader.recv::<TransferFrame>().await {
            Ok(Some(TransferFrame::Data(b))) => {
                kind.hasher.update(&b);
                kind.kept += b.len() as u64;
                DownloadEvent::Data(b)
            }
            Ok(Some(TransferFrame::End { hash })) => {
                if *kind.hasher.finalize().as_bytes() != hash {
                    return Ended::Final(DownloadEvent::Closed(WireError::new(
                        ErrorCode::BadRequest,
                        "the file arrived damaged or changed while it was copied: its hash \
                         does not match the agent's",
                    )));
                }
                return Ended::Final(DownloadEvent::Done);
            }
            Ok(Some(TransferFrame::Failed(e))) if is_final(&e) => {
                return Ended::Final(DownloadEvent::Closed(e));
            }
            Ok(Some(TransferFrame::Failed(e))) => return Ended::Lost(e.to_string()),
            Ok(Some(_)) => {
                return Ended::Final(DownloadEvent::Closed(WireError::new(
                    ErrorCode::BadRequest,
                    "unexpected frame in a download",
                )));
            }
            Ok(None) => return Ended::Lost("the download stream ended early".into()),
            // The connection broke (the agent's reason rides in it when it gave one).
            Err(e @ FrameError::Io(_)) => match ClientError::from(e) {
                e if e.wire().is_some_and(is_final) => {
                    let w = e.wire().cloned().unwrap_or_else(|| e.into());
                    return Ended::Final(DownloadEvent::Closed(w));
                }
                e => return Ended::Lost(e.to_string()),
            },
            Err(e) => return Ended::Final(DownloadEvent::Closed(e.to_wire())),
        };
        if events.send(ev).await.is_err() {
            return Ended::Detached;
        }
    }
}

#[cfg(test)]
mod tests;
