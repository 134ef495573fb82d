//! An attach stream: snapshot, live output, keys and size.

use std::sync::Arc;

use bytes::BytesMut;
use n0_future::task::AbortOnDropHandle;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    sync::{
        broadcast::error::{RecvError, TryRecvError},
        mpsc,
    },
};
use vibemesh_core::{
    ErrorCode, WireError,
    frame::{FrameReader, FrameWriter},
    proto::{
        Role,
        attach::{AttachRequest, ClientFrame, MAX_OUTPUT_CHUNK, ServerFrame},
    },
};

use super::{Caller, Services};
use crate::session::{
    Session, SessionManager,
    hub::{Output, Subscription},
};

/// Counts a viewer for as long as it is attached.
struct ViewerGuard {
    session: Arc<Session>,
    sessions: Arc<SessionManager>,
}

impl Drop for ViewerGuard {
    fn drop(&mut self) {
        self.session.add_viewers(-1);
        self.sessions.updated(&self.session);
    }
}

pub(super) async fn run<R, W>(
    svc: Arc<Services>,
    caller: Caller,
    req: AttachRequest,
    reader: FrameReader<R>,
    mut writer: FrameWriter<W>,
) where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let session = match svc.sessions.get(req.session) {
        Ok(s) => s,
        Err(e) => {
            let _ = writer.send(&ServerFrame::Refused(e)).await;
            let _ = writer.finish().await;
            return;
        }
    };
    let interactive = caller.role == Role::Owner && !req.watch_only;
    if interactive
        && let Some(size) = req.size
        && let Err(e) = session.resize(size)
    {
        let _ = writer.send(&ServerFrame::Refused(e)).await;
        return;
    }
    session.add_viewers(1);
    let _guard = ViewerGuard {
        session: session.clone(),
        sessions: svc.sessions.clone(),
    };
    svc.sessions.updated(&session);
    // The first interactive attach (`open`, `run`, a new tab) gets the output from the
    // program's first byte, so nothing printed before it attached is lost; watchers and
    // later attaches get the screen.
    let shown = if interactive {
        session.replay(req.scrollback).await
    } else {
        session.snapshot(req.scrollback).await
    };
    let (snap, sub) = match shown {
        Ok(v) => v,
        Err(e) => {
            let _ = writer.send(&ServerFrame::Refused(e)).await;
            let _ = writer.finish().await;
            return;
        }
    };
    if writer
        .send(&ServerFrame::Attached(session.info()))
        .await
        .is_err()
        || send_snapshot(&mut writer, snap).await.is_err()
    {
        return;
    }
    let (notice_tx, notice_rx) = mpsc::channel(4);
    // Aborted however this ends (the agent shutting down drops this future): the task
    // holds the stream's read half, and the stream closes only when both halves go.
    let input = AbortOnDropHandle::new(tokio::spawn(read_input(
        svc.clone(),
        session.clone(),
        interactive,
        req.size,
        reader,
        notice_tx,
    )));
    send_output(&session, sub, notice_rx, &mut writer).await;
    drop(input);
    let _ = writer.finish().await;
}

/// Sends a snapshot, which may be larger than one frame: the first piece as
/// [`ServerFrame::Snapshot`] (the client starts a fresh screen), the rest as output.
async fn send_snapshot<W: AsyncWrite + Unpin>(
    writer: &mut FrameWriter<W>,
    snap: bytes::Bytes,
) -> Result<(), vibemesh_core::frame::FrameError> {
    let mut rest = snap;
    let first = rest.split_to(rest.len().min(MAX_OUTPUT_CHUNK));
    writer.send(&ServerFrame::Snapshot(first)).await?;
    while !rest.is_empty() {
        let piece = rest.split_to(rest.len().min(MAX_OUTPUT_CHUNK));
        writer.send(&ServerFrame::Output(piece)).await?;
    }
    Ok(())
}

/// Forwards output until the program ends, the client leaves or the stream fails.
async fn send_output<W: AsyncWrite + Unpin>(
    session: &Session,
    mut sub: Subscription,
    mut notices: mpsc::Receiver<ServerFrame>,
    writer: &mut FrameWriter<W>,
) {
    // An item taken while coalescing that must be handled next: another kind of
    // output, or the news that this viewer lagged.
    let mut held: Option<Result<Output, RecvError>> = None;
    loop {
        let mut rx = match sub {
            Subscription::Exited(info) => {
                let _ = writer.send(&ServerFrame::Exited(info)).await;
                return;
            }
            Subscription::Live(rx) => rx,
        };
        loop {
            let next = match held.take() {
                Some(o) => o,
                None => tokio::select! {
                    o = rx.recv() => o,
                    n = notices.recv() => match n {
                        Some(frame) => {
                            if writer.send(&frame).await.is_err() { return; }
                            continue;
                        }
                        // The client stopped sending: it detached.
                        None => return,
                    },
                },
            };
            let frame = match next {
                Ok(Output::Data(first)) => {
                    // Coalesce what is already queued into one frame.
                    let mut buf: Option<BytesMut> = None;
                    loop {
                        if buf.as_ref().map_or(first.len(), |b| b.len()) >= MAX_OUTPUT_CHUNK {
                            break;
                        }
                        match rx.try_recv() {
                            Ok(Output::Data(more)) => {
                                buf.get_or_insert_with(|| BytesMut::from(&first[..]))
                                    .extend_from_slice(&more);
                            }
                            Ok(other) => {
                                held = Some(Ok(other));
                                break;
                            }
                            // Output was lost to this viewer: it must get a fresh
                            // screen, not a gap.
                            Err(TryRecvError::Lagged(n)) => {
                                held = Some(Err(RecvError::Lagged(n)));
                                break;
                            }
                            Err(TryRecvError::Empty | TryRecvError::Closed) => break,
                        }
                    }
                    ServerFrame::Output(buf.map_or(first, BytesMut::freeze))
                }
                Ok(Output::Resized(size)) => ServerFrame::Resized(size),
                Ok(Output::Exited(info)) => {
                    let _ = writer.send(&ServerFrame::Exited(info)).await;
                    return;
                }
                // This viewer fell behind, or output was missed while the link to the
                // holder was made anew: skip it forward to a fresh screen.
                Err(RecvError::Lagged(_)) | Ok(Output::Reset) => {
                    let (snap, fresh) = match session.snapshot(0).await {
                        Ok(v) => v,
                        Err(e) => {
                            let _ = writer.send(&ServerFrame::Closed(e)).await;
                            return;
                        }
                    };
                    if send_snapshot(writer, snap).await.is_err() {
                        return;
                    }
                    sub = fresh;
                    break;
                }
                Err(RecvError::Closed) => return,
            };
            if writer.send(&frame).await.is_err() {
                return;
            }
        }
    }
}

/// Reads keys and sizes from the client until it detaches.
async fn read_input<R: AsyncRead + Unpin>(
    svc: Arc<Services>,
    session: Arc<Session>,
    interactive: bool,
    mut size: Option<vibemesh_core::proto::TermSize>,
    mut reader: FrameReader<R>,
    notices: mpsc::Sender<ServerFrame>,
) {
    let mut warned = false;
    loop {
        let frame = match reader.recv::<ClientFrame>().await {
            Ok(Some(f)) => f,
            Ok(None) => return,
            Err(e) => {
                let _ = notices.send(ServerFrame::Closed(e.to_wire())).await;
                return;
            }
        };
        // Numbered keys are acknowledged once the session has them.
        let (frame, seq) = match frame {
            ClientFrame::Keys { seq, bytes } => (ClientFrame::Input(bytes), Some(seq)),
            other => (other, None),
        };
        match frame {
            ClientFrame::Input(bytes) if interactive => {
                // The most recently active owner's size wins.
                if let Some(s) = size {
                    follow_size(&svc, &session, s);
                }
                match session.write_input(bytes).await {
                    Ok(()) => {
                        if let Some(seq) = seq {
                            let _ = notices.send(ServerFrame::Typed(seq)).await;
                        }
                    }
                    Err(e) => {
                        let _ = notices.send(ServerFrame::Notice(e)).await;
                    }
                }
            }
            ClientFrame::Input(_) | ClientFrame::Keys { .. } => {
                if !warned {
                    warned = true;
                    let msg = WireError::new(
                        ErrorCode::Forbidden,
                        "input refused: you are watching this session and cannot type into it",
                    );
                    let _ = notices.send(ServerFrame::Notice(msg)).await;
                }
            }
            ClientFrame::Resize(s) => {
                if !s.is_valid() {
                    let msg = WireError::new(ErrorCode::BadRequest, format!("invalid size {s}"));
                    let _ = notices.send(ServerFrame::Notice(msg)).await;
                    continue;
                }
                size = Some(s);
                if interactive {
                    follow_size(&svc, &session, s);
                }
            }
        }
    }
}

fn follow_size(svc: &Services, session: &Session, size: vibemesh_core::proto::TermSize) {
    match session.resize(size) {
        Ok(true) => svc.sessions.updated(session),
        Ok(false) => {}
        Err(e) => tracing::debug!("resize refused: {e}"),
    }
}
