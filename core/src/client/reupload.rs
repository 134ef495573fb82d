//! An upload that survives: the reconnecting stream ([`super::reconnecting`]) for a file
//! going to an agent. The agent puts a file in place only once all of it came with the
//! right hash (to a temporary file, renamed), so a cut upload left nothing, and the next
//! try sends it again from the start.
//!
//! One cut is special: the last frame went out, the agent put the file in place, and its
//! answer was lost. Sent again with the version it replaced, it would now be refused as a
//! conflict (the file changed: into our own content). So a conflict after a try that sent
//! everything is followed by one more try naming our own content as the version it
//! replaces ([`Version`] is checked by its hash): it succeeds exactly when what is there
//! is what we sent, and then it writes the same bytes again; anything else is the real
//! conflict, reported as the agent first worded it. Someone else's change is never
//! overwritten, and the user never untangles a conflict with themselves.

use std::{convert::Infallible, future::Future, time::Duration};

use tokio::{io::AsyncReadExt, sync::mpsc};

use super::{
    BoxRead, BoxWrite, ClientError, Upload, open_upload,
    resume::{Backoff, Command, Ended, Resumable, Status, StreamHandle, is_final, reconnecting},
};
use crate::{
    ErrorCode, WireError,
    proto::files::{FileMeta, TRANSFER_CHUNK, UploadRequest, Version},
};

/// What a reconnecting upload reports, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadEvent {
    /// The stream is open (again, when `reconnected`); the file goes up from its start.
    Started {
        /// Whether this is a reconnection.
        reconnected: bool,
    },
    /// Bytes sent so far on this stream.
    Sent(u64),
    /// The connection is down; the next try comes after `delay`.
    Reconnecting {
        /// Failed tries in a row so far.
        attempt: u32,
        /// The wait before the next try.
        delay: Duration,
        /// Why the last connection or try failed.
        error: String,
    },
    /// The file is in place, as this metadata; nothing follows.
    Done(FileMeta),
    /// The upload failed for good (refused, a real conflict, the tries ran out, the
    /// local file unreadable); nothing was written; nothing follows.
    Closed(WireError),
    /// Stopped on request; nothing follows.
    Detached,
}

impl From<Status<()>> for UploadEvent {
    fn from(s: Status<()>) -> Self {
        match s {
            Status::Attached { reconnected, .. } => UploadEvent::Started { reconnected },
            Status::Reconnecting {
                attempt,
                delay,
                error,
            } => UploadEvent::Reconnecting {
                attempt,
                delay,
                error,
            },
            Status::Closed(e) => UploadEvent::Closed(e),
            Status::Detached => UploadEvent::Detached,
        }
    }
}

/// Uploads what `source` reads (from its start on every call; exactly `req.size` bytes)
/// to `req.path` over streams from `dial`, sending it again after every lost connection
/// until it is in place, fails for good or the handle detaches. Returns the handle (only
/// to stop it), the events and the driver to run.
pub fn reupload<D, F, S, SF>(
    dial: D,
    source: S,
    req: UploadRequest,
    backoff: Backoff,
) -> (
    StreamHandle<Infallible>,
    mpsc::Receiver<UploadEvent>,
    impl Future<Output = ()>,
)
where
    D: FnMut() -> F,
    F: Future<Output = Result<(BoxRead, BoxWrite), ClientError>>,
    S: FnMut() -> SF,
    SF: Future<Output = std::io::Result<BoxRead>>,
{
    let kind = Reupload {
        source,
        req,
        sent_all: None,
        first_conflict: None,
    };
    reconnecting(kind, dial, backoff)
}

/// The upload kind; its resume state is whether a try sent everything, and the conflict
/// that followed.
struct Reupload<S> {
    source: S,
    req: UploadRequest,
    /// The hash of the whole file, once a try sent its last frame.
    sent_all: Option<[u8; 32]>,
    /// The conflict a try after that met; the next try names our own content.
    first_conflict: Option<WireError>,
}

impl<S, SF> Resumable for Reupload<S>
where
    S: FnMut() -> SF,
    SF: Future<Output = std::io::Result<BoxRead>>,
{
    type Cmd = Infallible;
    type Event = UploadEvent;
    type Info = ();
    type Conn = Upload;
    type Open = UploadRequest;

    fn next_open(&self) -> UploadRequest {
        let mut req = self.req.clone();
        if let (Some(hash), Some(_)) = (self.sent_all, &self.first_conflict) {
            req.expected = Some(Version {
                modified_ms: 0,
                size: req.size,
                hash,
            });
        }
        req
    }

    async fn open(
        req: UploadRequest,
        reader: BoxRead,
        writer: BoxWrite,
    ) -> Result<((), Upload), ClientError> {
        Ok(((), open_upload(reader, writer, req).await?))
    }

    async fn run(
        &mut self,
        up: Upload,
        _cmds: &mut mpsc::UnboundedReceiver<Command<Infallible>>,
        events: &mpsc::Sender<UploadEvent>,
    ) -> Ended<UploadEvent> {
        match self.send(up, events).await {
            Ok(meta) => Ended::Final(UploadEvent::Done(meta)),
            Err(Sent::Detached) => Ended::Detached,
            Err(Sent::Local(e)) => Ended::Final(UploadEvent::Closed(e)),
            Err(Sent::Failed(e)) => self.failed(e),
        }
    }

    fn offline(&mut self, cmd: Infallible) -> Option<UploadEvent> {
        match cmd {}
    }
}

/// Why one try ended without the file in place.
enum Sent {
    /// Nobody reads the events any more.
    Detached,
    /// The local file could not be read as announced.
    Local(WireError),
    /// The agent or the connection failed.
    Failed(ClientError),
}

impl<S, SF> Reupload<S>
where
    S: FnMut() -> SF,
    SF: Future<Output = std::io::Result<BoxRead>>,
{
    /// Sends the whole file on one stream and waits for the agent's answer.
    async fn send(
        &mut self,
        mut up: Upload,
        events: &mpsc::Sender<UploadEvent>,
    ) -> Result<FileMeta, Sent> {
        let local = |e: std::io::Error| {
            Sent::Local(WireError::new(
                ErrorCode::BadRequest,
                format!("cannot read the file to upload: {e}"),
            ))
        };
        let mut file = (self.source)().await.map_err(local)?;
        let mut hasher = blake3::Hasher::new();
        let mut buf = vec![0u8; TRANSFER_CHUNK];
        let mut left = self.req.size;
        while left > 0 {
            let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = file.read(&mut buf[..want]).await.map_err(local)?;
            if n == 0 {
                return Err(local(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "it shrank while it was copied",
                )));
            }
            hasher.update(&buf[..n]);
            up.send(&buf[..n]).await.map_err(Sent::Failed)?;
            left -= n as u64;
            if events.send(UploadEvent::Sent(up.sent())).await.is_err() {
                return Err(Sent::Detached);
            }
        }
        // From here the agent may put the file in place even if its answer is lost.
        self.sent_all = Some(*hasher.finalize().as_bytes());
        up.finish().await.map_err(Sent::Failed)
    }

    /// What a failed try means: try again, try naming our own content, or stop.
    fn failed(&mut self, e: ClientError) -> Ended<UploadEvent> {
        let Some(w) = e.wire() else {
            return Ended::Lost(e.to_string());
        };
        if w.code == ErrorCode::Conflict && self.sent_all.is_some() {
            if let Some(first) = &self.first_conflict {
                return Ended::Final(UploadEvent::Closed(first.clone()));
            }
            self.first_conflict = Some(w.clone());
            return Ended::Lost(format!(
                "{w}; checking whether it is the upload whose answer was lost"
            ));
        }
        if is_final(w) {
            return Ended::Final(UploadEvent::Closed(w.clone()));
        }
        Ended::Lost(e.to_string())
    }
}

#[cfg(test)]
mod tests;
