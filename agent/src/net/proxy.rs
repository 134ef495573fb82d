//! Carries a main-protocol stream from the local socket to a peer, frame by frame.
//!
//! Requests go up as raw bytes. Answers come down whole frames at a time, so that when
//! the peer's connection dies mid-stream the local client still gets a well-formed final
//! frame saying why (revoked, agent gone, network lost) instead of a torn stream.

use std::time::Duration;

use iroh::endpoint::{Connection, RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use vibemesh_core::{
    frame::{FrameReader, FrameWriter, MAX_FRAME},
    proto::{StreamOpen, attach::ServerFrame, control::ControlFrame},
};

use super::links::why_closed;

/// Relays one stream between the local client and the peer until either side ends.
pub async fn relay<R, W>(
    client_r: R,
    client_w: W,
    up: (SendStream, RecvStream),
    conn: Connection,
    name: String,
) where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (send, recv) = up;
    let mut client = FrameReader::new(client_r);
    let open = match client.recv::<StreamOpen>().await {
        Ok(Some(open)) => open,
        _ => return,
    };
    let is_attach = matches!(open, StreamOpen::Attach(_));
    let mut upw = FrameWriter::new(send);
    let mut client_r = client.into_inner();
    if upw.send(&open).await.is_err() {
        let mut w = FrameWriter::new(client_w);
        let _ = send_final(&mut w, is_attach, &conn, &name).await;
        let _ = w.finish().await;
        linger(&mut client_r).await;
        return;
    }
    let mut send = upw.into_inner();
    let upstream = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_r, &mut send).await;
        let _ = send.shutdown().await;
        client_r
    });
    let mut client_w = client_w;
    if let Err(()) = pump_frames(recv, &mut client_w).await {
        let mut w = FrameWriter::new(client_w);
        let _ = send_final(&mut w, is_attach, &conn, &name).await;
        let _ = w.finish().await;
        // The copy upward ends at the client's next write, which the dead peer stream
        // refuses; then wait for the client to hang up.
        let abort = upstream.abort_handle();
        match tokio::time::timeout(LINGER, upstream).await {
            Ok(Ok(mut client_r)) => linger(&mut client_r).await,
            Ok(Err(_)) => {}
            Err(_) => abort.abort(),
        }
    } else {
        let _ = client_w.shutdown().await;
        upstream.abort();
    }
}

/// How long a client that was just told why its stream ended may take to hang up.
const LINGER: Duration = Duration::from_secs(2);

/// Keeps reading (and dropping) what the client still sends until it hangs up, bounded
/// by [`LINGER`]. Closing the socket at once would make the client's next write fail
/// with a bare "broken pipe" before it has read the final frame that says why.
async fn linger<R: AsyncRead + Unpin>(client_r: &mut R) {
    let _ = tokio::time::timeout(LINGER, tokio::io::copy(client_r, &mut tokio::io::sink())).await;
}

/// Copies whole frames; `Err` when the peer's side failed (not a clean end).
async fn pump_frames<W: AsyncWrite + Unpin>(mut recv: RecvStream, out: &mut W) -> Result<(), ()> {
    let mut buf = Vec::new();
    loop {
        let mut len = [0u8; 4];
        match AsyncReadExt::read(&mut recv, &mut len[..1]).await {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(_) => return Err(()),
        }
        AsyncReadExt::read_exact(&mut recv, &mut len[1..])
            .await
            .map_err(|_| ())?;
        let n = u32::from_be_bytes(len) as usize;
        if n > MAX_FRAME {
            return Err(());
        }
        buf.resize(n, 0);
        AsyncReadExt::read_exact(&mut recv, &mut buf)
            .await
            .map_err(|_| ())?;
        // A local client that went away ends the relay; that is not the peer's failure.
        if out.write_all(&len).await.is_err() || out.write_all(&buf).await.is_err() {
            return Ok(());
        }
        if out.flush().await.is_err() {
            return Ok(());
        }
    }
}

async fn send_final<W: AsyncWrite + Unpin>(
    w: &mut FrameWriter<W>,
    is_attach: bool,
    conn: &Connection,
    name: &str,
) -> Result<(), vibemesh_core::frame::FrameError> {
    let why = why_closed(conn, name);
    if is_attach {
        w.send(&ServerFrame::Closed(why)).await
    } else {
        w.send(&ControlFrame::Closing(why)).await
    }
}
