//! The client side of an attach stream.

use bytes::Bytes;

use super::{BoxRead, BoxWrite, ClientError};
use crate::{
    frame::{FrameReader, FrameWriter},
    proto::{
        SessionInfo, StreamOpen, TermSize,
        attach::{AttachRequest, ClientFrame, ServerFrame},
    },
};

/// Receives a session's snapshot and output.
#[derive(Debug)]
pub struct AttachReader {
    reader: FrameReader<BoxRead>,
}

/// Sends keys and size changes to a session.
#[derive(Debug)]
pub struct AttachWriter {
    writer: FrameWriter<BoxWrite>,
}

/// Attaches to a session on a fresh stream: sends the request and waits for the agent's
/// answer. On success the next frame is the screen snapshot.
pub async fn open_attach(
    reader: BoxRead,
    writer: BoxWrite,
    req: AttachRequest,
) -> Result<(SessionInfo, AttachReader, AttachWriter), ClientError> {
    let mut writer = FrameWriter::new(writer);
    writer.send(&StreamOpen::Attach(req)).await?;
    let mut reader = FrameReader::new(reader);
    match reader.recv::<ServerFrame>().await? {
        Some(ServerFrame::Attached(info)) => {
            Ok((info, AttachReader { reader }, AttachWriter { writer }))
        }
        Some(ServerFrame::Refused(e)) | Some(ServerFrame::Closed(e)) => Err(ClientError::Remote(e)),
        Some(_) => Err(ClientError::Unexpected("expected an attach answer")),
        None => Err(ClientError::Closed),
    }
}

impl AttachReader {
    /// The next frame; `None` when the stream ended.
    pub async fn next(&mut self) -> Result<Option<ServerFrame>, ClientError> {
        Ok(self.reader.recv().await?)
    }
}

impl AttachWriter {
    /// Sends keys.
    pub async fn input(&mut self, bytes: impl Into<Bytes>) -> Result<(), ClientError> {
        Ok(self.writer.send(&ClientFrame::Input(bytes.into())).await?)
    }

    /// Sends keys numbered `seq`, which the agent acknowledges with
    /// [`ServerFrame::Typed`] once the session has them.
    pub async fn keys(&mut self, seq: u64, bytes: impl Into<Bytes>) -> Result<(), ClientError> {
        Ok(self
            .writer
            .send(&ClientFrame::Keys {
                seq,
                bytes: bytes.into(),
            })
            .await?)
    }

    /// Tells the agent the client's terminal size.
    pub async fn resize(&mut self, size: TermSize) -> Result<(), ClientError> {
        Ok(self.writer.send(&ClientFrame::Resize(size)).await?)
    }

    /// Detaches cleanly; the session keeps running.
    pub async fn finish(&mut self) -> Result<(), ClientError> {
        Ok(self.writer.finish().await?)
    }
}
