//! Carries a main-protocol stream from the local socket to a peer, frame by frame.
//!
//! Frames are passed on whole both ways, so that when the peer's connection dies
//! mid-stream the local client still gets a well-formed last frame of the kind its
//! reader expects, saying why (revoked, agent gone, network lost), instead of a torn
//! stream.
//!
//! A connection the peer dropped without our knowing (it crashed and restarted: the
//! first request after that goes out on a connection nobody answers) is closed once
//! nothing at all comes back over it for 2 s after a send ([`WatchedSend`]),
//! and dialed again, once, with the stream started over on the new one, when the peer
//! never answered anything on the old one and everything the client sent so far is safe
//! to send twice (listing, reading, attaching before any key). Anything else fails with
//! its reason.

use std::{pin::Pin, sync::Arc, time::Duration};

use iroh::endpoint::{Connection, RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncWrite};
use vibemesh_core::{
    WireError,
    client::{WatchedSend, close_reason},
    frame::{FrameReader, FrameWriter},
    proto::{
        StreamOpen,
        ai::ConvServerFrame,
        attach::{ClientFrame, ServerFrame},
        control::{ControlFrame, Request, RequestBody},
        files::{FileRequest, TransferFrame},
    },
};

use super::links::why_closed;
use vibemesh_core::sync::lock;

/// A stream to the peer: its connection (for the close reason) and both halves.
pub struct Upstream {
    /// The connection the stream is on.
    pub conn: Connection,
    /// Towards the peer.
    pub send: SendStream,
    /// From the peer.
    pub recv: RecvStream,
}

/// Opens a stream to the same peer on a fresh connection (the cached one is dead).
pub type Redial =
    Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = Result<Upstream, WireError>> + Send>> + Send>;

/// How long a client that was just told why its stream ended may take to hang up.
const LINGER: Duration = Duration::from_secs(2);

/// The way up to the peer, shared by the task that carries the client's frames and the
/// relay that may swap in a fresh stream. Held while a frame goes up, so a swap never
/// falls between noting a frame and sending it.
struct Up {
    writer: FrameWriter<WatchedSend>,
    /// The client finished sending.
    client_done: bool,
}

type SharedUp = Arc<tokio::sync::Mutex<Up>>;

/// What to send again on a fresh stream; `None` once that would not be safe (something
/// unsafe was sent, or the peer answered). Never held across an await.
type Replay = Arc<std::sync::Mutex<Option<Vec<Vec<u8>>>>>;

/// Relays one stream between the local client and the peer until either side ends.
pub async fn relay<R, W>(client_r: R, client_w: W, up: Upstream, name: String, redial: Redial)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let mut client = FrameReader::new(client_r);
    let mut out = FrameWriter::new(client_w);
    let Ok(Some(first)) = client.recv_raw().await else {
        return;
    };
    let Ok(open) = postcard::from_bytes::<StreamOpen>(&first) else {
        return;
    };
    let kind = Kind::of(&open);
    let Upstream {
        mut conn,
        send,
        recv,
    } = up;
    // A peer that crashed and restarted drops our packets without a word: a connection
    // over which nothing at all comes back after a send is closed, and the stream below
    // starts over or ends with its reason.
    let mut writer = FrameWriter::new(WatchedSend::new(send, conn.clone()));
    let _ = writer.send_raw(&first).await;
    let shared: SharedUp = Arc::new(tokio::sync::Mutex::new(Up {
        writer,
        client_done: false,
    }));
    let replay: Replay = Arc::new(std::sync::Mutex::new(Some(vec![first])));
    // The client's frames go up in a task of their own, so a peer slow to take keys
    // never stops its output from coming down.
    let upward = tokio::spawn(carry_up(client, kind, shared.clone(), replay.clone()));
    let mut down = FrameReader::new(recv);
    let mut redial = Some(redial);
    let mut started = false;
    loop {
        match down.recv_raw().await {
            Ok(Some(frame)) => {
                if out.send_raw(&frame).await.is_err() {
                    // The local client went away: not the peer's failure.
                    break;
                }
                if !started {
                    started = true;
                    *lock(&replay) = None;
                }
            }
            Ok(None) => {
                let _ = out.finish().await;
                break;
            }
            Err(_) => {
                // A peer that closed the connection on purpose (revoked us) said why:
                // dialing again would only hear "not paired".
                let said = conn
                    .close_reason()
                    .as_ref()
                    .and_then(close_reason)
                    .is_some();
                if !started
                    && !said
                    && let Some(again) = redial.take()
                {
                    let mut up = shared.lock().await;
                    let frames = lock(&replay).clone();
                    if let Some(frames) = frames {
                        tracing::info!(peer = %name, "the connection was dead; dialing again");
                        if let Ok(fresh) = again().await {
                            let mut writer =
                                FrameWriter::new(WatchedSend::new(fresh.send, fresh.conn.clone()));
                            for f in &frames {
                                let _ = writer.send_raw(f).await;
                            }
                            if up.client_done {
                                let _ = writer.finish().await;
                            }
                            up.writer = writer;
                            conn = fresh.conn;
                            down = FrameReader::new(fresh.recv);
                            continue;
                        }
                    }
                }
                let _ = send_final(&mut out, kind, started, &conn, &name).await;
                let _ = out.finish().await;
                // The task carrying the client's frames ends at the client's hang-up;
                // closing the socket before that would make its next write fail with a
                // bare "broken pipe" before it read the frame that says why.
                let abort = upward.abort_handle();
                if tokio::time::timeout(LINGER, upward).await.is_err() {
                    abort.abort();
                }
                return;
            }
        }
    }
    upward.abort();
}

/// Carries the client's frames up until it finishes, noting what may be sent again.
async fn carry_up<R: AsyncRead + Unpin>(
    mut client: FrameReader<R>,
    kind: Kind,
    shared: SharedUp,
    replay: Replay,
) {
    loop {
        let frame = client.recv_raw().await;
        let mut up = shared.lock().await;
        let Ok(Some(frame)) = frame else {
            up.client_done = true;
            let _ = up.writer.finish().await;
            return;
        };
        {
            let mut r = lock(&replay);
            let keep = r.is_some() && kind.safe_to_repeat(&frame);
            match r.as_mut() {
                Some(frames) if keep => frames.push(frame.clone()),
                _ => *r = None,
            }
        }
        // A failed write means the peer's side broke: the relay hears it from below.
        let _ = up.writer.send_raw(&frame).await;
    }
}

/// What a stream carries, which says how its reader expects to be told that it ended
/// and what the client may send on it that is safe to send twice.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Control,
    Attach,
    Conversation,
    Transfer,
}

impl Kind {
    fn of(open: &StreamOpen) -> Self {
        match open {
            StreamOpen::Control => Kind::Control,
            StreamOpen::Attach(_) => Kind::Attach,
            StreamOpen::Conversation(_) => Kind::Conversation,
            StreamOpen::Download(_) | StreamOpen::DownloadFrom(_) | StreamOpen::Upload(_) => {
                Kind::Transfer
            }
        }
    }

    /// Whether a frame the client sent changes nothing on the peer (looking, asking,
    /// resizing), so sending it again on a fresh stream is harmless.
    fn safe_to_repeat(self, frame: &[u8]) -> bool {
        match self {
            Kind::Control => match postcard::from_bytes::<Request>(frame) {
                Ok(r) => matches!(
                    r.body,
                    RequestBody::Info
                        | RequestBody::ListSessions
                        | RequestBody::Git(_)
                        | RequestBody::Watch { .. }
                        | RequestBody::Files(
                            FileRequest::Roots
                                | FileRequest::List { .. }
                                | FileRequest::Stat { .. }
                                | FileRequest::Read { .. }
                        )
                ),
                Err(_) => false,
            },
            Kind::Attach => matches!(
                postcard::from_bytes::<ClientFrame>(frame),
                Ok(ClientFrame::Resize(_))
            ),
            Kind::Conversation | Kind::Transfer => false,
        }
    }
}

/// Tells the local client why its stream ended, in the frame its reader understands:
/// each kind of stream has its own ("refused" before the first frame, "closed" after).
async fn send_final<W: AsyncWrite + Unpin>(
    w: &mut FrameWriter<W>,
    kind: Kind,
    started: bool,
    conn: &Connection,
    name: &str,
) -> Result<(), vibemesh_core::frame::FrameError> {
    let why: WireError = why_closed(conn, name);
    match (kind, started) {
        (Kind::Control, _) => w.send(&ControlFrame::Closing(why)).await,
        (Kind::Attach, false) => w.send(&ServerFrame::Refused(why)).await,
        (Kind::Attach, true) => w.send(&ServerFrame::Closed(why)).await,
        (Kind::Conversation, false) => w.send(&ConvServerFrame::Refused(why)).await,
        (Kind::Conversation, true) => w.send(&ConvServerFrame::Closed(why)).await,
        (Kind::Transfer, _) => w.send(&TransferFrame::Failed(why)).await,
    }
}
