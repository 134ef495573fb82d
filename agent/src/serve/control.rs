//! A control stream: requests in, responses and events out.

use std::sync::Arc;

use tokio::{
    io::{AsyncRead, AsyncWrite},
    sync::{broadcast::error::RecvError, mpsc},
};
use vibemesh_core::{
    ErrorCode, WireError,
    frame::{FrameReader, FrameWriter},
    proto::{
        Role,
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

/// Requests read ahead of the one being handled.
const READ_AHEAD: usize = 16;

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
    let mut watches = Watches::new(watch_tx);
    // Frame reads are not cancel-safe, so they get their own task and a channel.
    let (req_tx, mut req_rx) = mpsc::channel(READ_AHEAD);
    let read_task = tokio::spawn(async move {
        loop {
            let next = reader.recv::<Request>().await;
            let end = !matches!(next, Ok(Some(_)));
            if req_tx.send(next).await.is_err() || end {
                break;
            }
        }
    });
    loop {
        let frame = tokio::select! {
            next = req_rx.recv() => match next {
                Some(Ok(Some(req))) => {
                    let result = handle(&svc, caller, &mut watches, req.body).await;
                    ControlFrame::Response(Response { id: req.id, result })
                }
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
        };
        if writer.send(&frame).await.is_err() {
            break;
        }
    }
    read_task.abort();
    let _ = writer.finish().await;
}

async fn handle(
    svc: &Services,
    caller: Caller,
    watches: &mut Watches,
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
        RequestBody::ListSessions => Ok(ResponseBody::Sessions(svc.sessions.list())),
        RequestBody::CreateSession(req) => {
            owner_only("start sessions")?;
            let s = svc.sessions.create(req)?;
            Ok(ResponseBody::Created(s.info()))
        }
        RequestBody::KillSession(id) => {
            owner_only("kill sessions")?;
            svc.sessions.kill(id).await?;
            Ok(ResponseBody::Killed)
        }
        RequestBody::Files(req) => Ok(ResponseBody::Files(
            svc.files.handle(req, caller.role).await?,
        )),
        RequestBody::Git(req) => {
            let dir = folder_of(svc.files.resolve(git_path(&req))?);
            Ok(ResponseBody::Git(crate::git::handle(&dir, req).await?))
        }
        RequestBody::Watch { path } => {
            let dir = svc.files.resolve(&path)?;
            if !dir.is_dir() {
                return Err(WireError::new(
                    ErrorCode::BadRequest,
                    format!("{} is not a folder", dir.display()),
                ));
            }
            Ok(ResponseBody::Watching(watches.add(dir).await?))
        }
        RequestBody::Unwatch(id) => {
            watches.remove(id)?;
            Ok(ResponseBody::Unwatched)
        }
    }
}
