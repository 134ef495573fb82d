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
    },
};

use super::{Caller, Services};

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
                    let result = handle(&svc, caller, req.body).await;
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
    }
}
