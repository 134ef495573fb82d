//! The client side of a control stream.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use tokio::sync::{mpsc, oneshot};

use super::{BoxRead, BoxWrite, ClientError};
use crate::sync::lock;
use crate::{
    WireError,
    frame::{FrameReader, FrameWriter},
    proto::{
        SessionId, SessionInfo, StreamOpen,
        control::{
            AgentInfo, ControlFrame, CreateSession, Event, Request, RequestBody, ResponseBody,
        },
    },
};

/// Events a slow consumer may leave queued before the driver waits for it.
const EVENT_QUEUE: usize = 256;

/// Requests waiting for their answer, and why the stream ended once it has: a request
/// made after the end fails at once instead of waiting for an answer nobody will route.
#[derive(Default)]
struct PendingState {
    waiting: HashMap<u64, oneshot::Sender<Result<ResponseBody, WireError>>>,
    ended: Option<WireError>,
}

type Pending = Mutex<PendingState>;

struct Shared {
    writer: tokio::sync::Mutex<FrameWriter<BoxWrite>>,
    pending: Pending,
    next_id: AtomicU64,
}

/// Sends requests on a control stream. Cheap to clone; requests may run concurrently.
#[derive(Clone)]
pub struct ControlClient {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ControlClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlClient").finish_non_exhaustive()
    }
}

/// Events the agent pushes. Dropping it discards further events.
#[derive(Debug)]
pub struct Events {
    rx: mpsc::Receiver<Event>,
}

impl Events {
    /// The next event; `None` once the stream ended.
    pub async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await
    }
}

/// Reads the control stream and routes responses and events. Run it on your executor;
/// it ends when the stream does.
pub struct ControlDriver {
    reader: FrameReader<BoxRead>,
    shared: Arc<Shared>,
    events: mpsc::Sender<Event>,
}

impl std::fmt::Debug for ControlDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlDriver").finish_non_exhaustive()
    }
}

/// Starts a control stream on a fresh stream: sends [`StreamOpen::Control`] and returns
/// the client, its events and the driver.
pub async fn open_control(
    reader: BoxRead,
    writer: BoxWrite,
) -> Result<(ControlClient, Events, ControlDriver), ClientError> {
    let mut writer = FrameWriter::new(writer);
    writer.send(&StreamOpen::Control).await?;
    let shared = Arc::new(Shared {
        writer: tokio::sync::Mutex::new(writer),
        pending: Mutex::new(PendingState::default()),
        next_id: AtomicU64::new(1),
    });
    let (tx, rx) = mpsc::channel(EVENT_QUEUE);
    let driver = ControlDriver {
        reader: FrameReader::new(reader),
        shared: shared.clone(),
        events: tx,
    };
    Ok((ControlClient { shared }, Events { rx }, driver))
}

impl ControlDriver {
    /// Reads until the stream ends. Outstanding requests then fail with
    /// [`ClientError::Closed`] (or the agent's reason, when it gave one).
    pub async fn run(mut self) -> Result<(), ClientError> {
        let result = self.read_loop().await;
        let reason = match &result {
            Err(ClientError::Remote(e)) => Some(e.clone()),
            _ => None,
        };
        let reason = reason.unwrap_or_else(|| {
            WireError::new(crate::ErrorCode::Shutdown, "the control stream closed")
        });
        let waiting = {
            let mut state = lock(&self.shared.pending);
            state.ended = Some(reason.clone());
            std::mem::take(&mut state.waiting)
        };
        for (_, tx) in waiting {
            let _ = tx.send(Err(reason.clone()));
        }
        result
    }

    async fn read_loop(&mut self) -> Result<(), ClientError> {
        loop {
            match self.reader.recv::<ControlFrame>().await? {
                None => return Ok(()),
                Some(ControlFrame::Response(resp)) => {
                    let tx = lock(&self.shared.pending).waiting.remove(&resp.id);
                    if let Some(tx) = tx {
                        let _ = tx.send(resp.result);
                    }
                }
                Some(ControlFrame::Event(ev)) => {
                    // A dropped receiver means nobody wants events; keep serving responses.
                    let _ = self.events.send(ev).await;
                }
                Some(ControlFrame::Closing(err)) => return Err(ClientError::Remote(err)),
            }
        }
    }
}

impl ControlClient {
    /// Sends a request and waits for its answer.
    pub async fn request(&self, body: RequestBody) -> Result<ResponseBody, ClientError> {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut state = lock(&self.shared.pending);
            if let Some(why) = &state.ended {
                return Err(ClientError::Remote(why.clone()));
            }
            state.waiting.insert(id, tx);
        }
        let sent = self
            .shared
            .writer
            .lock()
            .await
            .send(&Request { id, body })
            .await;
        if let Err(e) = sent {
            let mut state = lock(&self.shared.pending);
            state.waiting.remove(&id);
            // The driver may already know why the stream is gone: that beats "broken pipe".
            if let Some(why) = &state.ended {
                return Err(ClientError::Remote(why.clone()));
            }
            return Err(e.into());
        }
        match rx.await {
            Ok(Ok(body)) => Ok(body),
            Ok(Err(e)) => Err(ClientError::Remote(e)),
            Err(_) => Err(ClientError::Closed),
        }
    }

    /// Who the agent is.
    pub async fn info(&self) -> Result<AgentInfo, ClientError> {
        match self.request(RequestBody::Info).await? {
            ResponseBody::Info(i) => Ok(i),
            _ => Err(ClientError::Unexpected("expected agent info")),
        }
    }

    /// Every session on the agent.
    pub async fn list_sessions(&self) -> Result<Vec<SessionInfo>, ClientError> {
        match self.request(RequestBody::ListSessions).await? {
            ResponseBody::Sessions(s) => Ok(s),
            _ => Err(ClientError::Unexpected("expected a session list")),
        }
    }

    /// Starts a session.
    pub async fn create_session(&self, req: CreateSession) -> Result<SessionInfo, ClientError> {
        match self.request(RequestBody::CreateSession(req)).await? {
            ResponseBody::Created(s) => Ok(s),
            _ => Err(ClientError::Unexpected("expected the created session")),
        }
    }

    /// Starts a structured AI session.
    pub async fn start_conversation(
        &self,
        req: crate::proto::ai::StartConversation,
    ) -> Result<SessionInfo, ClientError> {
        match self.request(RequestBody::StartConversation(req)).await? {
            ResponseBody::Created(s) => Ok(s),
            _ => Err(ClientError::Unexpected("expected the created session")),
        }
    }

    /// Stops a session (or forgets an exited one); says what the agent did.
    pub async fn kill_session(&self, id: SessionId) -> Result<String, ClientError> {
        match self.request(RequestBody::KillSession(id)).await? {
            ResponseBody::Killed(what) => Ok(what),
            _ => Err(ClientError::Unexpected("expected a kill confirmation")),
        }
    }

    /// Ends the stream cleanly.
    pub async fn finish(&self) -> Result<(), ClientError> {
        self.shared.writer.lock().await.finish().await?;
        Ok(())
    }

    /// Git for the repository around the request's path.
    pub async fn git(
        &self,
        req: crate::proto::git::GitRequest,
    ) -> Result<crate::proto::git::GitResponse, ClientError> {
        match self.request(RequestBody::Git(req)).await? {
            ResponseBody::Git(g) => Ok(g),
            _ => Err(ClientError::Unexpected("expected a git answer")),
        }
    }
}
