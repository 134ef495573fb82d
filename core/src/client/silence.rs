//! Telling a connection whose agent is gone from one whose agent is merely slow.
//!
//! An agent that crashed (or restarted at the same address) drops the packets of its old
//! connections without a word, and the connection looks alive until QUIC's idle timeout.
//! But a live agent acknowledges whatever it receives within a round trip, and sends
//! keep-alives every second, so a connection over which something was just sent and
//! nothing at all comes back for a while leads nowhere: it is closed, so whoever uses it
//! dials again at once instead of waiting.

use std::{
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use iroh::endpoint::{Connection, SendStream};
use tokio::io::AsyncWrite;

/// The shortest wait for a sign of life: keep-alives come every second.
const MIN_PATIENCE: Duration = Duration::from_secs(2);

/// What had come back over a connection at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Heard {
    datagrams: u64,
    /// How long to wait for anything at all: [`MIN_PATIENCE`], or four round trips on a
    /// slower path.
    pub patience: Duration,
}

impl Heard {
    /// What has come back over `conn` so far.
    pub fn now(conn: &Connection) -> Self {
        let rtt = conn
            .paths()
            .iter()
            .find(|p| p.is_selected())
            .map(|p| p.rtt())
            .unwrap_or_default();
        Self {
            datagrams: conn.stats().udp_rx.datagrams,
            patience: (rtt * 4).max(MIN_PATIENCE),
        }
    }

    /// Whether anything came back over `conn` since.
    pub fn anything_since(&self, conn: &Connection) -> bool {
        conn.stats().udp_rx.datagrams != self.datagrams
    }
}

/// The send half of a stream that checks, after it sends, that something comes back
/// over the connection: one that stays silent is closed (see the module docs), so a
/// request, an attach or a key sent into a dead connection is found out within seconds.
/// At most one check per stream is waiting at a time.
pub struct WatchedSend {
    inner: SendStream,
    conn: Connection,
    checking: Arc<AtomicBool>,
}

impl WatchedSend {
    /// Watches `inner`, a stream on `conn`.
    pub fn new(inner: SendStream, conn: Connection) -> Self {
        Self {
            inner,
            conn,
            checking: Arc::default(),
        }
    }

    fn sent(&self) {
        if self.checking.swap(true, Ordering::AcqRel) {
            return;
        }
        let heard = Heard::now(&self.conn);
        let (conn, checking) = (self.conn.clone(), self.checking.clone());
        n0_future::task::spawn(async move {
            n0_future::time::sleep(heard.patience).await;
            if !heard.anything_since(&conn) && conn.close_reason().is_none() {
                tracing::debug!("nothing came back for {:?}: closing", heard.patience);
                conn.close(0u32.into(), b"the agent stopped answering");
            }
            checking.store(false, Ordering::Release);
        });
    }
}

impl AsyncWrite for WatchedSend {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = AsyncWrite::poll_write(Pin::new(&mut self.inner), cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.sent();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        AsyncWrite::poll_flush(Pin::new(&mut self.inner), cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        AsyncWrite::poll_shutdown(Pin::new(&mut self.inner), cx)
    }
}
