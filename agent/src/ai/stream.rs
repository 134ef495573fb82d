//! A conversation stream: the session's entries (replayed after the client's last one,
//! then live) out; prompts, approvals and interrupts in.

use std::sync::Arc;

use n0_future::task::AbortOnDropHandle;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    sync::{broadcast::error::RecvError, mpsc},
};
use vibemesh_core::{
    ErrorCode, WireError,
    frame::{FrameReader, FrameWriter},
    proto::ai::{ConvClientFrame, ConvServerFrame, ConversationOpen},
};

use super::{AiSessions, session::Conv};

/// Counts a viewer for as long as it is attached.
struct ViewerGuard(Arc<Conv>);

impl Drop for ViewerGuard {
    fn drop(&mut self) {
        self.0.add_viewers(-1);
    }
}

/// Serves one conversation stream to its end. `may_steer` is false for viewers.
pub async fn run<R, W>(
    ai: &AiSessions,
    may_steer: bool,
    req: ConversationOpen,
    reader: FrameReader<R>,
    mut writer: FrameWriter<W>,
) where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let Some(conv) = ai.get(req.session) else {
        let e = WireError::new(
            ErrorCode::NotFound,
            format!("no structured session {}", req.session),
        );
        let _ = writer.send(&ConvServerFrame::Refused(e)).await;
        let _ = writer.finish().await;
        return;
    };
    conv.add_viewers(1);
    let _guard = ViewerGuard(conv.clone());
    // Older entries are read from the log on disk: not on an async thread.
    let c = conv.clone();
    let after = req.after.unwrap_or(0);
    let Ok((replay, mut live)) = tokio::task::spawn_blocking(move || c.subscribe(after)).await
    else {
        return;
    };
    if writer
        .send(&ConvServerFrame::Attached(conv.info()))
        .await
        .is_err()
    {
        return;
    }
    let mut last = req.after.unwrap_or(0);
    for e in replay {
        last = e.seq;
        if writer.send(&ConvServerFrame::Entry(e)).await.is_err() {
            return;
        }
    }
    let (notice_tx, mut notices) = mpsc::channel(8);
    // Aborted however this ends, also when the agent's shutdown drops this future.
    let input = AbortOnDropHandle::new(tokio::spawn(read_input(
        conv.clone(),
        may_steer && !req.watch_only,
        reader,
        notice_tx,
    )));
    loop {
        let frames = tokio::select! {
            e = live.recv() => match e {
                Ok(e) if e.seq <= last => continue,
                Ok(e) => vec![ConvServerFrame::Entry(e)],
                // Fell behind: catch up from the session's own copy.
                Err(RecvError::Lagged(_)) => {
                    let c = conv.clone();
                    tokio::task::spawn_blocking(move || c.entries_after(last))
                        .await
                        .unwrap_or_default()
                        .into_iter()
                        .map(ConvServerFrame::Entry)
                        .collect()
                }
                Err(RecvError::Closed) => break,
            },
            n = notices.recv() => match n {
                Some(f) => vec![f],
                // The client stopped sending: it detached.
                None => break,
            },
        };
        for f in frames {
            if let ConvServerFrame::Entry(e) = &f {
                last = e.seq;
            }
            if writer.send(&f).await.is_err() {
                return;
            }
        }
    }
    drop(input);
    let _ = writer.finish().await;
}

async fn read_input<R: AsyncRead + Unpin>(
    conv: Arc<Conv>,
    may_steer: bool,
    mut reader: FrameReader<R>,
    notices: mpsc::Sender<ConvServerFrame>,
) {
    loop {
        let frame = match reader.recv::<ConvClientFrame>().await {
            Ok(Some(f)) => f,
            Ok(None) => return,
            Err(e) => {
                let _ = notices.send(ConvServerFrame::Closed(e.to_wire())).await;
                return;
            }
        };
        let result = if !may_steer {
            Err(WireError::new(
                ErrorCode::Forbidden,
                "you are watching this session and cannot steer it",
            ))
        } else {
            match frame {
                // Starting the provider looks it up on PATH and saves the session's
                // meta: not on an async thread.
                ConvClientFrame::Prompt(text) => {
                    let c = conv.clone();
                    tokio::task::spawn_blocking(move || c.prompt(text))
                        .await
                        .unwrap_or_else(|e| Err(WireError::new(ErrorCode::Internal, e.to_string())))
                }
                ConvClientFrame::Answer { approval, decision } => conv.answer(&approval, decision),
                ConvClientFrame::Interrupt => conv.interrupt(),
                ConvClientFrame::End => {
                    conv.end(false);
                    Ok(())
                }
            }
        };
        if let Err(e) = result {
            let _ = notices.send(ConvServerFrame::Notice(e)).await;
        }
    }
}
