//! Transfer streams: one file down ([`StreamOpen::Download`]) or up ([`StreamOpen::Upload`]).
//!
//! SKELETON: being implemented.
//!
//! [`StreamOpen::Download`]: vibemesh_core::proto::StreamOpen::Download
//! [`StreamOpen::Upload`]: vibemesh_core::proto::StreamOpen::Upload

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use vibemesh_core::{
    ErrorCode, WireError,
    frame::{FrameReader, FrameWriter},
    proto::files::{DownloadRequest, TransferFrame, UploadRequest},
};

use super::{Caller, Services};

pub(super) async fn download<W: AsyncWrite + Unpin>(
    svc: Arc<Services>,
    caller: Caller,
    req: DownloadRequest,
    mut writer: FrameWriter<W>,
) {
    let _ = (svc, caller, req);
    let e = WireError::new(ErrorCode::Internal, "downloads are not available yet");
    let _ = writer.send(&TransferFrame::Failed(e)).await;
}

pub(super) async fn upload<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    svc: Arc<Services>,
    caller: Caller,
    req: UploadRequest,
    reader: FrameReader<R>,
    mut writer: FrameWriter<W>,
) {
    let _ = (svc, caller, req, reader);
    let e = WireError::new(ErrorCode::Internal, "uploads are not available yet");
    let _ = writer.send(&TransferFrame::Failed(e)).await;
}
