//! Length-prefixed postcard frames.
//!
//! Every stream of every VibeMesh protocol is a sequence of frames: a 4-byte big-endian
//! body length, then the postcard encoding of one message. A length over [`MAX_FRAME`] or a
//! body that does not decode ends the stream with an error; the reader never allocates more
//! than the limit, so a hostile peer cannot grow our memory.

use serde::{Serialize, de::DeserializeOwned};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::{ErrorCode, WireError};

/// The largest frame body either side accepts, in bytes (1 MiB).
pub const MAX_FRAME: usize = 1 << 20;

/// Why reading or writing a frame failed.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The stream failed or ended in the middle of a frame.
    #[error("stream error: {0}")]
    Io(#[from] std::io::Error),
    /// The announced length is over the limit.
    #[error("frame of {0} bytes is over the {MAX_FRAME}-byte limit")]
    TooLarge(usize),
    /// The body is not a valid message of the expected type.
    #[error("malformed frame: {0}")]
    Malformed(#[from] postcard::Error),
}

impl FrameError {
    /// The wire error a peer should be told about this failure.
    pub fn to_wire(&self) -> WireError {
        let code = match self {
            FrameError::Io(_) => ErrorCode::Malformed,
            FrameError::TooLarge(_) => ErrorCode::FrameTooLarge,
            FrameError::Malformed(_) => ErrorCode::Malformed,
        };
        WireError::new(code, self.to_string())
    }
}

/// Reads frames from a byte stream.
///
/// [`recv`](Self::recv) is cancel-safe: a frame half read when its future is dropped
/// (a `select!` that picked another branch) is finished by the next call, so no bytes
/// are lost and the stream stays in step.
pub struct FrameReader<R> {
    inner: R,
    /// The length prefix, and how much of prefix + body is read so far.
    len: [u8; 4],
    have: usize,
    buf: Vec<u8>,
}

impl<R> std::fmt::Debug for FrameReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameReader").finish_non_exhaustive()
    }
}

impl<W> std::fmt::Debug for FrameWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameWriter").finish_non_exhaustive()
    }
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// Wraps a byte stream.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            len: [0; 4],
            have: 0,
            buf: Vec::new(),
        }
    }

    /// Reads the next message; `Ok(None)` when the stream ended cleanly between frames.
    pub async fn recv<T: DeserializeOwned>(&mut self) -> Result<Option<T>, FrameError> {
        if !self.fill().await? {
            return Ok(None);
        }
        let msg = postcard::from_bytes(&self.buf);
        self.shrink();
        Ok(Some(msg?))
    }

    /// Reads the next frame's body without decoding it; `Ok(None)` when the stream ended
    /// cleanly between frames. Cancel-safe like [`Self::recv`]. For a proxy that passes
    /// frames on, and a reader that answers a body it cannot decode (a request from a
    /// newer or broken client) and goes on: the length prefix keeps the stream in step
    /// whatever the body holds.
    pub async fn recv_raw(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        if !self.fill().await? {
            return Ok(None);
        }
        Ok(Some(std::mem::take(&mut self.buf)))
    }

    /// Keeps a small buffer between frames; a one-off large frame should not pin 1 MiB.
    fn shrink(&mut self) {
        if self.buf.capacity() > 64 * 1024 {
            self.buf = Vec::new();
        }
    }

    /// Reads one whole frame into `buf`; false when the stream ended cleanly before it.
    async fn fill(&mut self) -> Result<bool, FrameError> {
        // Every await is one `read`, which loses nothing when cancelled; progress lives
        // in `self`.
        let cut = || std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        while self.have < 4 {
            let n = self.inner.read(&mut self.len[self.have..]).await?;
            if n == 0 {
                // A clean end of stream only between frames.
                return if self.have == 0 {
                    Ok(false)
                } else {
                    Err(cut().into())
                };
            }
            self.have += n;
            if self.have == 4 {
                let len = u32::from_be_bytes(self.len) as usize;
                if len > MAX_FRAME {
                    self.have = 0;
                    return Err(FrameError::TooLarge(len));
                }
                self.buf.clear();
                self.buf.resize(len, 0);
            }
        }
        while self.have < 4 + self.buf.len() {
            let n = self.inner.read(&mut self.buf[self.have - 4..]).await?;
            if n == 0 {
                return Err(cut().into());
            }
            self.have += n;
        }
        self.have = 0;
        Ok(true)
    }

    /// Gives the byte stream back.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

/// Bodies up to this size are written together with their length prefix
/// ([`FrameWriter::send_raw`]).
const COALESCE_MAX: usize = 16 * 1024;

/// Writes frames to a byte stream.
pub struct FrameWriter<W> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: AsyncWrite + Unpin> FrameWriter<W> {
    /// Wraps a byte stream.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            buf: Vec::new(),
        }
    }

    /// Encodes and writes one message, then flushes.
    pub async fn send<T: Serialize + ?Sized>(&mut self, msg: &T) -> Result<(), FrameError> {
        self.buf.clear();
        self.buf.extend_from_slice(&[0; 4]);
        let mut buf = postcard::to_extend(msg, std::mem::take(&mut self.buf))?;
        let len = buf.len() - 4;
        if len > MAX_FRAME {
            self.buf = buf;
            return Err(FrameError::TooLarge(len));
        }
        buf[..4].copy_from_slice(&(len as u32).to_be_bytes());
        let res = self.inner.write_all(&buf).await;
        self.buf = buf;
        res?;
        self.inner.flush().await?;
        Ok(())
    }

    /// Writes one frame whose body is already encoded (from [`FrameReader::recv_raw`]),
    /// then flushes.
    pub async fn send_raw(&mut self, body: &[u8]) -> Result<(), FrameError> {
        if body.len() > MAX_FRAME {
            return Err(FrameError::TooLarge(body.len()));
        }
        let prefix = (body.len() as u32).to_be_bytes();
        if body.len() <= COALESCE_MAX {
            // A small frame (a key, its echo, an acknowledgement) goes in one write: a
            // prefix written alone wakes the reader for four bytes, and on a Unix socket
            // each packet the reader takes wakes this writer's poll again. Through the
            // agent's proxy that was two extra wake-ups on both sides per keystroke.
            self.buf.clear();
            self.buf.extend_from_slice(&prefix);
            self.buf.extend_from_slice(body);
            self.inner.write_all(&self.buf).await?;
        } else {
            // A large one as it is: copying it would cost more than the extra write.
            self.inner.write_all(&prefix).await?;
            self.inner.write_all(body).await?;
        }
        self.inner.flush().await?;
        Ok(())
    }

    /// Shuts the write side down so the peer sees a clean end of stream.
    pub async fn finish(&mut self) -> Result<(), FrameError> {
        self.inner.shutdown().await?;
        Ok(())
    }

    /// Gives the byte stream back.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

/// Encodes one message as a whole frame (length and body), for blocking writers.
pub fn encode<T: Serialize + ?Sized>(msg: &T) -> Result<Vec<u8>, FrameError> {
    let mut buf = postcard::to_extend(msg, vec![0u8; 4])?;
    let len = buf.len() - 4;
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    buf[..4].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(buf)
}

/// Reads one frame from a blocking reader; `Ok(None)` on a clean end between frames.
/// The same rules as [`FrameReader::recv`]: never more than [`MAX_FRAME`] allocated.
pub fn read_blocking<T: DeserializeOwned>(
    r: &mut impl std::io::Read,
) -> Result<Option<T>, FrameError> {
    let mut len = [0u8; 4];
    loop {
        match r.read(&mut len[..1]) {
            Ok(0) => return Ok(None),
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    }
    r.read_exact(&mut len[1..])?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    Ok(Some(postcard::from_bytes(&body)?))
}

/// Decodes every whole frame at the start of `bytes` as `T`, stopping at the first error:
/// what a reader does with whatever a peer sends (the fuzz targets drive this).
pub fn decode_all<T: DeserializeOwned>(bytes: &[u8]) -> Result<Vec<T>, FrameError> {
    let mut cursor = bytes;
    let mut out = Vec::new();
    while let Some(msg) = read_blocking(&mut cursor)? {
        out.push(msg);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_round_trip_and_end_cleanly() {
        let (a, b) = tokio::io::duplex(1024);
        let mut w = FrameWriter::new(a);
        let mut r = FrameReader::new(b);
        w.send(&(1u32, "hello".to_string())).await.unwrap();
        w.send(&(2u32, "world".to_string())).await.unwrap();
        drop(w);
        let m: (u32, String) = r.recv().await.unwrap().unwrap();
        assert_eq!(m, (1, "hello".into()));
        let m: (u32, String) = r.recv().await.unwrap().unwrap();
        assert_eq!(m, (2, "world".into()));
        assert!(r.recv::<(u32, String)>().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn oversize_length_is_refused_without_allocating() {
        let (mut a, b) = tokio::io::duplex(64);
        a.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
        let mut r = FrameReader::new(b);
        let err = r.recv::<u32>().await.unwrap_err();
        assert!(matches!(err, FrameError::TooLarge(n) if n == u32::MAX as usize));
        assert_eq!(err.to_wire().code, ErrorCode::FrameTooLarge);
    }

    #[tokio::test]
    async fn garbage_body_is_malformed_and_cut_frame_is_io_error() {
        let (mut a, b) = tokio::io::duplex(64);
        a.write_all(&[0, 0, 0, 2, 0xff, 0xff]).await.unwrap();
        a.write_all(&[0, 0, 0, 9, 1]).await.unwrap();
        drop(a);
        let mut r = FrameReader::new(b);
        assert!(matches!(
            r.recv::<String>().await,
            Err(FrameError::Malformed(_))
        ));
        assert!(matches!(r.recv::<String>().await, Err(FrameError::Io(_))));
    }

    #[tokio::test]
    async fn a_recv_dropped_mid_frame_loses_nothing() {
        let (mut a, b) = tokio::io::duplex(64);
        let bytes = encode(&"hello there".to_string()).unwrap();
        let mut r = FrameReader::new(b);
        // Cut inside the length prefix, then inside the body: each time a select! picks
        // something else and drops the read.
        for part in [&bytes[..2], &bytes[2..9]] {
            a.write_all(part).await.unwrap();
            tokio::select! {
                biased;
                _ = r.recv::<String>() => panic!("a frame from part of one"),
                () = tokio::task::yield_now() => {}
            }
        }
        a.write_all(&bytes[9..]).await.unwrap();
        assert_eq!(r.recv::<String>().await.unwrap().unwrap(), "hello there");
        a.write_all(&encode(&"next".to_string()).unwrap())
            .await
            .unwrap();
        assert_eq!(r.recv::<String>().await.unwrap().unwrap(), "next");
    }

    #[test]
    fn blocking_frames_match_the_async_ones() {
        let mut bytes = encode(&(7u32, "x".to_string())).unwrap();
        bytes.extend(encode(&(8u32, "y".to_string())).unwrap());
        let all: Vec<(u32, String)> = decode_all(&bytes).unwrap();
        assert_eq!(all, vec![(7, "x".into()), (8, "y".into())]);
        assert!(matches!(
            decode_all::<u32>(&u32::MAX.to_be_bytes()),
            Err(FrameError::TooLarge(_))
        ));
        assert!(matches!(
            decode_all::<u32>(&[0, 0, 0, 5, 1]),
            Err(FrameError::Io(_))
        ));
    }
}
