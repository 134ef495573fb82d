//! Files on the agent's machine: listing, reading, writing, and streamed transfers.
//!
//! Every path is resolved on the agent against its allowed roots; `..`, absolute paths
//! outside them and symlinks that lead outside are refused with
//! [`crate::ErrorCode::OutsideRoots`]. Writes name the [`Version`] they replace and are
//! refused with [`crate::ErrorCode::Conflict`] when the file changed since, so two devices
//! editing one file never silently overwrite each other.
//!
//! Unix names are bytes, not always UTF-8, while paths travel as strings: a byte that is
//! not part of valid UTF-8 travels as NUL and two hex digits ([`path_to_wire`]). No path
//! holds NUL, so this is unambiguous: a client that joins a folder's path and an entry's
//! name addresses that entry whatever its bytes, and the agent reads it back
//! ([`path_from_wire`]). [`crate::text::inert`] shows such a byte as `\xff`.

use std::{borrow::Cow, fmt::Write};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::git::GitMark;

/// The most bytes one [`FileRequest::Read`] returns, and the most one
/// [`FileRequest::Write`] carries; larger files go through a transfer stream.
pub const MAX_INLINE: u64 = 512 * 1024;
/// Bytes per data frame on a transfer stream.
pub const TRANSFER_CHUNK: usize = 256 * 1024;

/// What a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// A regular file.
    File,
    /// A folder.
    Dir,
    /// A symbolic link (listed as such; followed only inside the roots).
    Symlink,
    /// A socket, device or pipe.
    Other,
}

/// Which version of a file a client saw: a write naming it is refused if the file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Version {
    /// Modification time, in milliseconds since the Unix epoch.
    pub modified_ms: u64,
    /// Size in bytes.
    pub size: u64,
    /// BLAKE3 hash of the whole content.
    pub hash: [u8; 32],
}

/// One entry of a folder listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirEntry {
    /// Its name in the folder.
    pub name: String,
    /// What it is.
    pub kind: FileKind,
    /// Size in bytes (0 for folders).
    pub size: u64,
    /// Modification time, in milliseconds since the Unix epoch.
    pub modified_ms: u64,
    /// Its git state, when the folder is in a repository.
    pub git: Option<GitMark>,
}

/// A path's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileMeta {
    /// The path as the agent resolved it (absolute).
    pub path: String,
    /// What it is.
    pub kind: FileKind,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, in milliseconds since the Unix epoch.
    pub modified_ms: u64,
    /// The version, for regular files.
    pub version: Option<Version>,
}

/// File requests on the control stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FileRequest {
    /// The folders a client may use (the allowed roots).
    Roots,
    /// A folder's entries, sorted folders first, then by name; refused with
    /// [`crate::ErrorCode::TooLarge`] when they do not fit in one answer (use
    /// [`FileRequest::ListPage`]).
    List {
        /// The folder.
        path: String,
    },
    /// A path's metadata.
    Stat {
        /// The path.
        path: String,
    },
    /// Part of a file: at most [`MAX_INLINE`] bytes from `offset`.
    Read {
        /// The file.
        path: String,
        /// Where to start.
        offset: u64,
        /// How much; up to the end (or the limit) when `None`.
        len: Option<u64>,
    },
    /// Replaces (or creates) a whole file of at most [`MAX_INLINE`] bytes (owners only).
    Write {
        /// The file.
        path: String,
        /// The new content.
        data: Bytes,
        /// The version being replaced; `None` means the file must not exist yet.
        expected: Option<Version>,
    },
    /// Creates a folder and its missing parents (owners only).
    Mkdir {
        /// The folder.
        path: String,
    },
    /// Renames or moves (owners only); refuses to replace an existing target.
    Rename {
        /// From.
        from: String,
        /// To.
        to: String,
    },
    /// Moves to the platform's trash where there is one (owners only).
    Delete {
        /// The path.
        path: String,
    },
    // Variants below were added after the first release: new ones only ever go at the
    // end, so the numbers postcard gives the ones above never change.
    /// One page of a folder's entries, in the order of [`FileRequest::List`]: as many as
    /// fit in one frame, after `after`. Answered with [`FileResponse::Page`]; a folder of
    /// any size is listed by asking again with its `next` until that is `None`
    /// ([`crate::client::ControlClient::list_dir`] does).
    ListPage {
        /// The folder.
        path: String,
        /// Where the previous page ended (its [`FileResponse::Page`] `next`); `None`
        /// for the first page.
        after: Option<String>,
    },
}

/// Answers to [`FileRequest`]s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FileResponse {
    /// Answer to [`FileRequest::Roots`].
    Roots(Vec<String>),
    /// Answer to [`FileRequest::List`].
    Listing {
        /// The folder as resolved.
        path: String,
        /// Its entries.
        entries: Vec<DirEntry>,
    },
    /// Answer to [`FileRequest::Stat`].
    Meta(FileMeta),
    /// Answer to [`FileRequest::Read`].
    Data {
        /// The file's metadata (and version) when read.
        meta: FileMeta,
        /// Where the data starts.
        offset: u64,
        /// The bytes.
        data: Bytes,
        /// Whether this reaches the end of the file.
        eof: bool,
    },
    /// Answer to writes, mkdir and rename: the path's new metadata.
    Done(FileMeta),
    /// Answer to [`FileRequest::Delete`].
    Deleted {
        /// Whether it went to the trash (else it was removed).
        trashed: bool,
    },
    // Variants below were added after the first release (see [`FileRequest`]).
    /// Answer to [`FileRequest::ListPage`].
    Page {
        /// The folder as resolved.
        path: String,
        /// The entries of this page.
        entries: Vec<DirEntry>,
        /// Where the next page starts (pass it as `after`); `None` on the last page. It
        /// names the last entry of this page, so entries added or removed meanwhile
        /// neither repeat nor shift the pages that follow.
        next: Option<String>,
    },
}

/// The body of [`super::StreamOpen::Download`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownloadRequest {
    /// The file.
    pub path: String,
}

/// The body of [`super::StreamOpen::DownloadFrom`]: the rest of a file, from `offset`,
/// if it is still the file the client has the start of.
///
/// The agent sends [`TransferFrame::Start`] with the file as it is now. When its
/// modification time and size are still `modified_ms` and `size` (those of the first
/// `Start`), the `Data` frames that follow start at `offset`; otherwise the file changed
/// and they start at 0 (the client tells which from the `Start`). Either way the
/// [`TransferFrame::End`] hash covers the whole file from byte 0 (the agent reads and
/// hashes the part it does not send), so a file that changed without its time or size
/// changing is caught by the hash and never kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownloadFromRequest {
    /// The file.
    pub path: String,
    /// How many bytes from its start the client already has.
    pub offset: u64,
    /// Its modification time in the first [`TransferFrame::Start`].
    pub modified_ms: u64,
    /// Its size in the first [`TransferFrame::Start`].
    pub size: u64,
}

impl DownloadFromRequest {
    /// Whether the agent sends from `offset` for a file it opened as `meta`.
    pub fn resumes(&self, meta: &FileMeta) -> bool {
        meta.modified_ms == self.modified_ms && meta.size == self.size && self.offset <= meta.size
    }
}

/// The body of [`super::StreamOpen::Upload`]: the client then sends
/// [`TransferFrame::Data`] frames and one [`TransferFrame::End`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadRequest {
    /// The file.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// The version being replaced; `None` means the file must not exist yet.
    pub expected: Option<Version>,
}

/// Frames of a transfer stream, in either direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TransferFrame {
    /// Download: the first frame, what is coming.
    Start(FileMeta),
    /// A piece of the file, at most [`TRANSFER_CHUNK`] bytes.
    Data(Bytes),
    /// The last frame: the BLAKE3 hash of everything sent (of the whole file, also when
    /// a [`DownloadFromRequest`] left out its start).
    End {
        /// The hash.
        hash: [u8; 32],
    },
    /// Upload: the agent's answer once the file is in place.
    Done(FileMeta),
    /// The transfer failed; nothing was written.
    Failed(crate::WireError),
}

/// A path or name's bytes as they travel: UTF-8 as it is, every other byte as NUL and
/// two lowercase hex digits (see the module docs). Paths hold no NUL; bytes that do are
/// no path, and do not come back exactly.
pub fn path_to_wire(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "\0{b:02x}");
        }
    }
    Cow::Owned(out)
}

/// The bytes of a path or name from the wire ([`path_to_wire`]). A NUL that does not
/// start the escape of a byte that is not UTF-8 stays a NUL, which no path may hold.
pub fn path_from_wire(s: &str) -> Cow<'_, [u8]> {
    if !s.contains('\0') {
        return Cow::Borrowed(s.as_bytes());
    }
    let mut rest = s.as_bytes();
    let mut out = Vec::with_capacity(rest.len());
    while let Some((&first, after)) = rest.split_first() {
        match escaped_byte(rest) {
            Some(b) => {
                out.push(b);
                rest = &rest[3..];
            }
            None => {
                out.push(first);
                rest = after;
            }
        }
    }
    Cow::Owned(out)
}

/// The byte that `bytes` starts with the escape of (NUL and two hex digits of 0x80 to
/// 0xff: only such bytes are escaped), if it does.
pub(crate) fn escaped_byte(bytes: &[u8]) -> Option<u8> {
    let [0, hi, lo, ..] = *bytes else {
        return None;
    };
    let digit = |d: u8| char::from(d).to_digit(16);
    let b = digit(hi)? * 16 + digit(lo)?;
    u8::try_from(b).ok().filter(|b| *b >= 0x80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_not_utf8_travel_and_come_back_exactly() {
        assert!(matches!(
            path_to_wire(b"/a/b.txt"),
            Cow::Borrowed("/a/b.txt")
        ));
        let odd = b"/r/odd-\xff\xfe-\xc3\xa9-\xe2\x82";
        let wire = path_to_wire(odd);
        assert_eq!(wire, "/r/odd-\0ff\0fe-\u{e9}-\0e2\082");
        assert_eq!(path_from_wire(&wire), &odd[..]);
        // A NUL that escapes nothing stays (and is refused as a path).
        assert_eq!(path_from_wire("a\0zz\x0041"), &b"a\0zz\x0041"[..]);
        assert_eq!(path_from_wire("\0F"), &b"\0F"[..]);
        for b in 0x80..=0xffu8 {
            assert_eq!(path_from_wire(&path_to_wire(&[b'x', b])), &[b'x', b][..]);
        }
        // Whatever a client sends is read without a panic: NULs among characters of
        // any width, cut escapes.
        for s in [
            "\0\u{e9}",
            "\0f\u{e9}",
            "\u{e9}\0",
            "\0ff\0",
            "\0\0ff",
            "日\0本\0e9",
        ] {
            let back = path_from_wire(s);
            assert!(back.len() <= s.len(), "{s:?}");
        }
        assert_eq!(path_from_wire("\0\0ff"), &b"\0\xff"[..]);
    }
}
