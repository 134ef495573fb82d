//! The client side of files: control requests, and the download and upload streams.
//!
//! Both transfer streams check the BLAKE3 hash of every byte that crossed, so a client
//! never keeps a file that arrived damaged, and an agent never puts one in place.

use bytes::Bytes;

use super::{BoxRead, BoxWrite, ClientError, ControlClient};
use crate::{
    ErrorCode,
    frame::{FrameReader, FrameWriter},
    proto::{
        StreamOpen,
        control::{RequestBody, ResponseBody},
        files::{
            DirEntry, DownloadRequest, FileKind, FileMeta, FileRequest, FileResponse,
            TRANSFER_CHUNK, TransferFrame, UploadRequest,
        },
    },
};

impl ControlClient {
    /// Sends one file request and waits for its answer.
    pub async fn files(&self, req: FileRequest) -> Result<FileResponse, ClientError> {
        match self.request(RequestBody::Files(req)).await? {
            ResponseBody::Files(r) => Ok(r),
            _ => Err(ClientError::Unexpected("expected a file answer")),
        }
    }

    /// One page of a folder's entries, after `after` (`None` for the first page);
    /// returns the folder as resolved, the entries and where the next page starts.
    pub async fn list_page(
        &self,
        path: &str,
        after: Option<String>,
    ) -> Result<(String, Vec<DirEntry>, Option<String>), ClientError> {
        let req = FileRequest::ListPage {
            path: path.into(),
            after,
        };
        match self.files(req).await? {
            FileResponse::Page {
                path,
                entries,
                next,
            } => Ok((path, entries, next)),
            _ => Err(ClientError::Unexpected(
                "expected a page of a folder listing",
            )),
        }
    }

    /// The first page of a folder's listing. Asked as one [`FileRequest::List`], which
    /// every agent answers (one that predates paging closes the stream on a
    /// [`FileRequest::ListPage`]); only a folder too large for one answer is paged.
    async fn first_page(
        &self,
        path: &str,
    ) -> Result<(String, Vec<DirEntry>, Option<String>), ClientError> {
        match self.files(FileRequest::List { path: path.into() }).await {
            Ok(FileResponse::Listing { path, entries }) => Ok((path, entries, None)),
            Ok(_) => Err(ClientError::Unexpected("expected a folder listing")),
            Err(ClientError::Remote(e)) if e.code == ErrorCode::TooLarge => {
                self.list_page(path, None).await
            }
            Err(e) => Err(e),
        }
    }

    /// Every entry of a folder, however many (a page at a time), folders first, then by
    /// name; returns the folder as resolved and the entries.
    pub async fn list_dir(&self, path: &str) -> Result<(String, Vec<DirEntry>), ClientError> {
        let (resolved, mut all, mut next) = self.first_page(path).await?;
        while let Some(after) = next {
            let (_, entries, more) = self.list_page(path, Some(after)).await?;
            all.extend(entries);
            next = more;
        }
        Ok((resolved, all))
    }

    /// Folder completions for what a user typed in a folder field: the folders in its
    /// parent (`~/` when it has no `/`) whose names start with its last part, as full
    /// paths ending in `/`, hidden ones only when the last part starts with a dot; at
    /// most `max`, in the agent's order. Folders come first in a listing, so it stops
    /// at the first page that holds anything else.
    pub async fn complete_folder(
        &self,
        text: &str,
        max: usize,
    ) -> Result<Vec<String>, ClientError> {
        let (dir, prefix) = match text.rfind('/') {
            Some(i) => (&text[..=i], &text[i + 1..]),
            None => ("~/", text),
        };
        let (_, mut entries, mut next) = self.first_page(dir).await?;
        let mut found = Vec::new();
        loop {
            let folders_only = entries.iter().all(|e| e.kind == FileKind::Dir);
            found.extend(
                entries
                    .into_iter()
                    .filter(|e| e.kind == FileKind::Dir && e.name.starts_with(prefix))
                    .filter(|e| !e.name.starts_with('.') || prefix.starts_with('.'))
                    .map(|e| format!("{dir}{}/", e.name)),
            );
            match next {
                Some(after) if found.len() < max && folders_only => {
                    (_, entries, next) = self.list_page(dir, Some(after)).await?;
                }
                _ => {
                    found.truncate(max);
                    return Ok(found);
                }
            }
        }
    }

    /// A path's metadata (with its version, for regular files).
    pub async fn stat(&self, path: &str) -> Result<FileMeta, ClientError> {
        match self.files(FileRequest::Stat { path: path.into() }).await? {
            FileResponse::Meta(m) => Ok(m),
            _ => Err(ClientError::Unexpected("expected file metadata")),
        }
    }
}

/// A file coming down a download stream; read it with [`Download::next`].
pub struct Download {
    reader: FrameReader<BoxRead>,
    hasher: blake3::Hasher,
    received: u64,
    done: bool,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

/// Starts a download on a fresh stream: sends [`StreamOpen::Download`] and returns the
/// file's metadata (as the agent resolved it) and the stream of its bytes.
pub async fn open_download(
    reader: BoxRead,
    writer: BoxWrite,
    path: &str,
) -> Result<(FileMeta, Download), ClientError> {
    let mut writer = FrameWriter::new(writer);
    writer
        .send(&StreamOpen::Download(DownloadRequest { path: path.into() }))
        .await?;
    // Nothing more goes up; the agent only needs the request.
    let _ = writer.finish().await;
    let mut reader = FrameReader::new(reader);
    match reader.recv::<TransferFrame>().await? {
        Some(TransferFrame::Start(meta)) => Ok((
            meta,
            Download {
                reader,
                hasher: blake3::Hasher::new(),
                received: 0,
                done: false,
            },
        )),
        Some(TransferFrame::Failed(e)) => Err(ClientError::Remote(e)),
        Some(_) => Err(ClientError::Unexpected("expected the start of a download")),
        None => Err(ClientError::Closed),
    }
}

impl Download {
    /// The next piece of the file; `None` once it all arrived and its hash matched.
    /// A stream that ends early or a hash that differs is an error: discard what came.
    pub async fn next(&mut self) -> Result<Option<Bytes>, ClientError> {
        if self.done {
            return Ok(None);
        }
        match self.reader.recv::<TransferFrame>().await? {
            Some(TransferFrame::Data(b)) => {
                self.hasher.update(&b);
                self.received += b.len() as u64;
                Ok(Some(b))
            }
            Some(TransferFrame::End { hash }) => {
                self.done = true;
                if *self.hasher.finalize().as_bytes() != hash {
                    return Err(ClientError::Unexpected(
                        "the file arrived damaged: its hash does not match the agent's",
                    ));
                }
                Ok(None)
            }
            Some(TransferFrame::Failed(e)) => Err(ClientError::Remote(e)),
            Some(_) => Err(ClientError::Unexpected("unexpected frame in a download")),
            None => Err(ClientError::Closed),
        }
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.received
    }
}

/// A file going up an upload stream: [`Upload::send`] its bytes, then [`Upload::finish`].
pub struct Upload {
    reader: FrameReader<BoxRead>,
    writer: FrameWriter<BoxWrite>,
    hasher: blake3::Hasher,
    sent: u64,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

/// Starts an upload on a fresh stream: sends [`StreamOpen::Upload`]. Send exactly
/// `req.size` bytes, then finish.
pub async fn open_upload(
    reader: BoxRead,
    writer: BoxWrite,
    req: UploadRequest,
) -> Result<Upload, ClientError> {
    let mut writer = FrameWriter::new(writer);
    writer.send(&StreamOpen::Upload(req)).await?;
    Ok(Upload {
        reader: FrameReader::new(reader),
        writer,
        hasher: blake3::Hasher::new(),
        sent: 0,
    })
}

impl Upload {
    /// Sends bytes of the file (split into frames of at most [`TRANSFER_CHUNK`] bytes).
    /// When the agent refused the upload, this returns its reason.
    pub async fn send(&mut self, data: &[u8]) -> Result<(), ClientError> {
        for chunk in data.chunks(TRANSFER_CHUNK) {
            self.hasher.update(chunk);
            let frame = TransferFrame::Data(Bytes::copy_from_slice(chunk));
            if let Err(e) = self.writer.send(&frame).await {
                return Err(self.reason_or(e.into()).await);
            }
            self.sent += chunk.len() as u64;
        }
        Ok(())
    }

    /// Bytes sent so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Sends the end (with the hash of everything sent) and waits until the agent has the
    /// file in place; returns its new metadata.
    pub async fn finish(mut self) -> Result<FileMeta, ClientError> {
        let end = TransferFrame::End {
            hash: *self.hasher.finalize().as_bytes(),
        };
        if let Err(e) = self.writer.send(&end).await {
            return Err(self.reason_or(e.into()).await);
        }
        let _ = self.writer.finish().await;
        self.answer().await
    }

    /// The agent's answer: its reason when it refused.
    async fn answer(&mut self) -> Result<FileMeta, ClientError> {
        match self.reader.recv::<TransferFrame>().await? {
            Some(TransferFrame::Done(meta)) => Ok(meta),
            Some(TransferFrame::Failed(e)) => Err(ClientError::Remote(e)),
            Some(_) => Err(ClientError::Unexpected("unexpected frame in an upload")),
            None => Err(ClientError::Closed),
        }
    }

    /// After a failed write: the agent's reason if it sent one (it stops reading when it
    /// refuses), else `e`.
    async fn reason_or(&mut self, e: ClientError) -> ClientError {
        match self.answer().await {
            Err(remote @ ClientError::Remote(_)) => remote,
            _ => e,
        }
    }
}
