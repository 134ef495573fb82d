//! A control stream: requests in, responses and events out.

use std::sync::Arc;

use n0_future::task::AbortOnDropHandle;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    sync::{Semaphore, broadcast::error::RecvError, mpsc},
};
use vibemesh_core::{
    ErrorCode, WireError,
    frame::{FrameError, FrameReader, FrameWriter},
    proto::{
        Role,
        bounds::fit_listing,
        control::{ControlFrame, Event, Request, RequestBody, Response, ResponseBody},
        git::GitRequest,
    },
};

use super::{Caller, Services};
use crate::watch::Watches;

/// The path a git request is about.
fn git_path(req: &GitRequest) -> &str {
    match req {
        GitRequest::Status { path }
        | GitRequest::Diff { path, .. }
        | GitRequest::Log { path, .. }
        | GitRequest::Branches { path }
        | GitRequest::Worktrees { path } => path,
    }
}

/// A folder itself, or the folder a file is in.
fn folder_of(path: std::path::PathBuf) -> std::path::PathBuf {
    if path.is_dir() {
        return path;
    }
    path.parent().map(|p| p.to_path_buf()).unwrap_or(path)
}

/// Requests read ahead of the ones being handled.
const READ_AHEAD: usize = 16;
/// Requests handled at once per stream: a slow one (a big git log, a kill waiting for a
/// stubborn process) does not hold up the others.
const IN_FLIGHT: usize = 16;

pub(super) async fn run<R, W>(
    svc: Arc<Services>,
    caller: Caller,
    mut reader: FrameReader<R>,
    mut writer: FrameWriter<W>,
) where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let mut events = svc.sessions.subscribe();
    let (watch_tx, mut watch_rx) = mpsc::channel(READ_AHEAD);
    let mut watches = Watches::new(watch_tx, svc.files.clone(), svc.watch_budget.of(caller.id));
    let (resp_tx, mut resp_rx) = mpsc::channel::<Response>(READ_AHEAD);
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    // Frame reads are not cancel-safe, so they get their own task and a channel. It is
    // aborted however this ends (the agent's shutdown drops this future): it holds the
    // stream's read half, and the stream closes only when both halves go.
    let (req_tx, mut req_rx) = mpsc::channel(READ_AHEAD);
    let read_task = AbortOnDropHandle::new(tokio::spawn(async move {
        loop {
            let next = reader
                .recv_raw()
                .await
                .map(|b| b.map(|b| Incoming::decode(&b)));
            let end = !matches!(next, Ok(Some(_)));
            if req_tx.send(next).await.is_err() || end {
                break;
            }
        }
    }));
    loop {
        let frame = tokio::select! {
            next = req_rx.recv() => match next {
                // A request this agent cannot read (a string that is not UTF-8, a kind
                // from a newer client) is refused alone; the stream goes on.
                Some(Ok(Some(Incoming::Unreadable { id: Some(id), error }))) => {
                    let mut e = error.to_wire();
                    e.message = format!("this request could not be read: {}", e.message);
                    ControlFrame::Response(Response { id, result: Err(e) })
                }
                // Not even an id: nothing to answer, the client is broken.
                Some(Ok(Some(Incoming::Unreadable { id: None, error }))) => {
                    let _ = writer.send(&ControlFrame::Closing(error.to_wire())).await;
                    break;
                }
                Some(Ok(Some(Incoming::Request(Request { id, body })))) => match body {
                    RequestBody::Watch { path } => {
                        let result = watch(&mut watches, &path).await;
                        ControlFrame::Response(Response { id, result })
                    }
                    RequestBody::Unwatch(w) => {
                        let result = watches.remove(w).map(|()| ResponseBody::Unwatched);
                        ControlFrame::Response(Response { id, result })
                    }
                    body => {
                        // The permit is released before the answer is queued, so a
                        // full answer queue can never starve new permits.
                        let Ok(permit) = in_flight.clone().acquire_owned().await else { break };
                        let (svc, resp_tx) = (svc.clone(), resp_tx.clone());
                        tokio::spawn(async move {
                            let result = handle(&svc, caller, body).await;
                            drop(permit);
                            let _ = resp_tx.send(Response { id, result }).await;
                        });
                        continue;
                    }
                },
                Some(Err(e)) => {
                    let _ = writer.send(&ControlFrame::Closing(e.to_wire())).await;
                    break;
                }
                Some(Ok(None)) | None => break,
            },
            ev = events.recv() => match ev {
                Ok(ev) => ControlFrame::Event(ev),
                Err(RecvError::Lagged(_)) => ControlFrame::Event(Event::Lagged),
                Err(RecvError::Closed) => break,
            },
            Some(ev) = watch_rx.recv() => ControlFrame::Event(ev),
            Some(resp) = resp_rx.recv() => ControlFrame::Response(resp),
        };
        if send(&mut writer, &frame).await.is_err() {
            break;
        }
    }
    drop(read_task);
    let _ = writer.finish().await;
}

/// One frame from the client.
enum Incoming {
    /// A request.
    Request(Request),
    /// A frame that is not a request this agent can read, and its id when that much
    /// could be read.
    Unreadable { id: Option<u64>, error: FrameError },
}

impl Incoming {
    fn decode(body: &[u8]) -> Self {
        match Request::decode(body) {
            Ok(req) => Incoming::Request(req),
            Err((id, error)) => Incoming::Unreadable { id, error },
        }
    }
}

/// Sends one frame. An answer too large for a frame becomes an error for its request
/// alone: nothing of it was written, so the stream is still in step.
async fn send<W: AsyncWrite + Unpin>(
    writer: &mut FrameWriter<W>,
    frame: &ControlFrame,
) -> Result<(), FrameError> {
    match writer.send(frame).await {
        Err(FrameError::TooLarge(n)) => match frame {
            ControlFrame::Response(Response { id, .. }) => {
                let e = WireError::new(
                    ErrorCode::TooLarge,
                    format!(
                        "the answer is {n} bytes, over the {} KiB limit of one frame",
                        vibemesh_core::frame::MAX_FRAME / 1024
                    ),
                );
                let refusal = ControlFrame::Response(Response {
                    id: *id,
                    result: Err(e),
                });
                writer.send(&refusal).await
            }
            _ => Err(FrameError::TooLarge(n)),
        },
        other => other,
    }
}

async fn watch(watches: &mut Watches, path: &str) -> Result<ResponseBody, WireError> {
    Ok(ResponseBody::Watching(watches.add(path).await?))
}

/// The folder a git request works in. Its repository is checked by
/// [`crate::git::handle`]: refused when its work tree, git folder or objects are outside
/// the roots (a dotfiles repository at `~` would show files the roots exclude, a `.git`
/// file can name any repository) or when its own config names a program git would run.
fn git_dir(svc: &Services, req: &GitRequest) -> Result<std::path::PathBuf, WireError> {
    Ok(folder_of(svc.files.resolve(git_path(req))?))
}

async fn handle(
    svc: &Services,
    caller: Caller,
    body: RequestBody,
) -> Result<ResponseBody, WireError> {
    let owner_only = |what: &str| {
        if caller.role == Role::Owner {
            Ok(())
        } else {
            Err(WireError::new(
                ErrorCode::Forbidden,
                format!("a viewer may not {what}; ask the owner for an owner ticket"),
            ))
        }
    };
    match body {
        RequestBody::Info => Ok(ResponseBody::Info(svc.info(caller))),
        RequestBody::ListSessions => {
            let mut all = svc.sessions.list();
            all.extend(svc.ai.list());
            all.sort_by_key(|s| s.created_ms);
            // Recordings grow all the time: their size is measured on disk now.
            let mut all = tokio::task::spawn_blocking(move || {
                for s in &mut all {
                    if let Some(r) = &mut s.recording_state {
                        crate::session::recorder::measure(r);
                    }
                }
                all
            })
            .await
            .map_err(|e| WireError::new(ErrorCode::Internal, e.to_string()))?;
            // Whatever sessions hold, the answer fits a frame: a listing that did not
            // would end this stream, for every request on it.
            fit_listing(&mut all);
            Ok(ResponseBody::Sessions(all))
        }
        RequestBody::CreateSession(mut req) => {
            owner_only("start sessions")?;
            svc.ai.terminal_command(&mut req)?;
            let s = svc.sessions.create(req).await?;
            Ok(ResponseBody::Created(s.info()))
        }
        RequestBody::KillSession(id) => {
            owner_only("kill sessions")?;
            if svc.ai.kill(id).await? {
                return Ok(ResponseBody::Killed("stopped".into()));
            }
            Ok(ResponseBody::Killed(svc.sessions.kill(id).await?))
        }
        RequestBody::Files(req) => Ok(ResponseBody::Files(
            svc.files.handle(req, caller.role).await?,
        )),
        RequestBody::Git(req) => {
            let dir = git_dir(svc, &req)?;
            let answer = crate::git::handle(&svc.files, &dir, req).await?;
            Ok(ResponseBody::Git(answer))
        }
        RequestBody::StartConversation(req) => {
            owner_only("start sessions")?;
            Ok(ResponseBody::Created(svc.ai.start(req).await?))
        }
        RequestBody::Watch { .. } | RequestBody::Unwatch(_) => Err(WireError::new(
            ErrorCode::Internal,
            "watches are handled by the stream itself",
        )),
    }
}
