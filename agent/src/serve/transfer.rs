//! Transfer streams: one file down ([`StreamOpen::Download`]) or up ([`StreamOpen::Upload`]).
//!
//! A download sends [`TransferFrame::Start`], the file in [`TRANSFER_CHUNK`] pieces and
//! [`TransferFrame::End`] with the BLAKE3 hash of the whole file. One that resumes a cut
//! download ([`StreamOpen::DownloadFrom`]) leaves out the bytes the client has when the
//! file is still the one it started on ([`DownloadFromRequest::resumes`]), but reads
//! and hashes them all the same, so the hash still covers every byte the client keeps. An upload goes to a
//! temporary file next to the target while it is hashed; only when the end arrives with
//! the right size and hash is it synced and renamed into place. Anything else (a wrong
//! hash, too many bytes, a cut stream) removes the temporary file: nothing half-written
//! is ever left behind.
//!
//! [`StreamOpen::Download`]: vibemesh_core::proto::StreamOpen::Download
//! [`StreamOpen::Upload`]: vibemesh_core::proto::StreamOpen::Upload
//! [`StreamOpen::DownloadFrom`]: vibemesh_core::proto::StreamOpen::DownloadFrom

use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use vibemesh_core::{
    ErrorCode, WireError,
    frame::{FrameReader, FrameWriter},
    proto::files::{DownloadFromRequest, FileMeta, TRANSFER_CHUNK, TransferFrame, UploadRequest},
};

use super::{Caller, Services};

pub(super) async fn download<W: AsyncWrite + Unpin>(
    svc: Arc<Services>,
    caller: Caller,
    req: DownloadFromRequest,
    mut writer: FrameWriter<W>,
) {
    let _ = caller;
    if let Err(e) = send_file(&svc, &req, &mut writer).await {
        tracing::debug!("download of {} failed: {e}", req.path);
        let _ = writer.send(&TransferFrame::Failed(e)).await;
    }
    let _ = writer.finish().await;
}

/// Sends the file (from `req.offset` when [`DownloadFromRequest::resumes`]); an error
/// before or during it is answered with `Failed`.
async fn send_file<W: AsyncWrite + Unpin>(
    svc: &Services,
    req: &DownloadFromRequest,
    writer: &mut FrameWriter<W>,
) -> Result<(), WireError> {
    let (file, meta) = svc.files.open_read(&req.path).await?;
    let skip = if req.resumes(&meta) { req.offset } else { 0 };
    let shown = meta.path.clone();
    let io_err =
        |e: std::io::Error| WireError::new(ErrorCode::Internal, format!("reading {shown}: {e}"));
    let mut file = tokio::fs::File::from_std(file);
    let closed = |e: vibemesh_core::frame::FrameError| {
        WireError::new(ErrorCode::Internal, format!("stream: {e}"))
    };
    writer
        .send(&TransferFrame::Start(meta))
        .await
        .map_err(closed)?;
    let mut hasher = blake3::Hasher::new();
    // The part the client has: hashed, not sent.
    let mut left = skip;
    while left > 0 {
        let mut buf = BytesMut::with_capacity(TRANSFER_CHUNK);
        let want = usize::try_from(left)
            .unwrap_or(usize::MAX)
            .min(TRANSFER_CHUNK);
        let n = (&mut file)
            .take(want as u64)
            .read_buf(&mut buf)
            .await
            .map_err(io_err)?;
        if n == 0 {
            return Err(io_err(std::io::ErrorKind::UnexpectedEof.into()));
        }
        hasher.update(&buf);
        left -= n as u64;
    }
    loop {
        let mut buf = BytesMut::with_capacity(TRANSFER_CHUNK);
        // Fill the chunk (reads may return less), so frames stay few and full.
        while buf.len() < TRANSFER_CHUNK {
            if file.read_buf(&mut buf).await.map_err(io_err)? == 0 {
                break;
            }
        }
        if buf.is_empty() {
            break;
        }
        let last = buf.len() < TRANSFER_CHUNK;
        hasher.update(&buf);
        writer
            .send(&TransferFrame::Data(buf.freeze()))
            .await
            .map_err(closed)?;
        if last {
            break;
        }
    }
    let hash = *hasher.finalize().as_bytes();
    writer
        .send(&TransferFrame::End { hash })
        .await
        .map_err(closed)
}

pub(super) async fn upload<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    svc: Arc<Services>,
    caller: Caller,
    req: UploadRequest,
    reader: FrameReader<R>,
    mut writer: FrameWriter<W>,
) {
    // `receive` owns the temporary file: when it returns with an error the file is gone
    // before the answer is sent.
    let answer = match receive(&svc, caller, &req, reader).await {
        Ok(meta) => TransferFrame::Done(meta),
        Err(e) => {
            tracing::debug!("upload to {} failed: {e}", req.path);
            TransferFrame::Failed(e)
        }
    };
    let _ = writer.send(&answer).await;
    let _ = writer.finish().await;
}

async fn receive<R: AsyncRead + Unpin>(
    svc: &Services,
    caller: Caller,
    req: &UploadRequest,
    mut reader: FrameReader<R>,
) -> Result<FileMeta, WireError> {
    let mut staged = svc
        .files
        .begin_write(&req.path, req.expected, caller.role)
        .await?;
    loop {
        let frame = reader.recv::<TransferFrame>().await.map_err(|e| {
            WireError::new(
                ErrorCode::BadRequest,
                format!("the upload stream broke: {e}; nothing was written"),
            )
        })?;
        match frame {
            Some(TransferFrame::Data(b)) => {
                if staged.written() + b.len() as u64 > req.size {
                    return Err(WireError::new(
                        ErrorCode::BadRequest,
                        format!(
                            "more than the announced {} bytes; nothing was written",
                            req.size
                        ),
                    ));
                }
                staged.write(&b).await?;
            }
            Some(TransferFrame::End { hash }) => {
                if staged.written() != req.size {
                    return Err(WireError::new(
                        ErrorCode::BadRequest,
                        format!(
                            "{} bytes arrived of the announced {}; nothing was written",
                            staged.written(),
                            req.size
                        ),
                    ));
                }
                if staged.hash() != hash {
                    return Err(WireError::new(
                        ErrorCode::BadRequest,
                        "the file arrived damaged (hash mismatch); nothing was written",
                    ));
                }
                return staged.commit().await;
            }
            Some(_) => {
                return Err(WireError::new(
                    ErrorCode::BadRequest,
                    "unexpected frame in an upload; nothing was written",
                ));
            }
            None => {
                return Err(WireError::new(
                    ErrorCode::BadRequest,
                    "the upload ended before its last frame; nothing was written",
                ));
            }
        }
    }
}
