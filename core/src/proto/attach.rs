//! An attached terminal session: snapshot first, then live output.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{ExitInfo, SessionId, SessionInfo, TermSize};
use crate::WireError;

/// The body of [`super::StreamOpen::Attach`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachRequest {
    /// Which session.
    pub session: SessionId,
    /// The client's terminal size; owners' sizes drive the session's.
    pub size: Option<TermSize>,
    /// How many lines of scrollback to send before the screen.
    pub scrollback: u32,
    /// Watch without typing, even when the client's role allows it.
    pub watch_only: bool,
}

/// What the agent sends on an attach stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ServerFrame {
    /// The first frame: attached, with the session as it is now.
    Attached(SessionInfo),
    /// The first frame when attaching failed; the stream ends after it.
    Refused(WireError),
    /// Bytes that redraw the whole screen (and the asked scrollback) from scratch. Sent
    /// first, and again whenever this viewer fell behind and output was skipped.
    Snapshot(Bytes),
    /// Terminal output as the program wrote it.
    Output(Bytes),
    /// The session's size changed.
    Resized(TermSize),
    /// The program ended; the stream ends after this.
    Exited(ExitInfo),
    /// Something the user should be told, without ending the stream (a viewer typing).
    Notice(WireError),
    /// The stream ends for this reason (session killed, access revoked, agent stopping).
    Closed(WireError),
    /// The keys of [`ClientFrame::Keys`] with this number reached the session (they are
    /// typed even if the agent stops now). Numbers count up; one acknowledges all before.
    Typed(u64),
}

/// What the client sends on an attach stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClientFrame {
    /// Keys, pasted text: bytes for the program's terminal.
    Input(Bytes),
    /// The client's terminal changed size.
    Resize(TermSize),
    /// Keys, numbered so the agent acknowledges them with [`ServerFrame::Typed`]: a client
    /// that loses its connection knows what arrived, and never types anything twice.
    Keys {
        /// Counts up from 1 on each stream.
        seq: u64,
        /// The bytes.
        bytes: Bytes,
    },
}

/// The most output bytes the agent puts in one frame (well under [`crate::frame::MAX_FRAME`]).
pub const MAX_OUTPUT_CHUNK: usize = 256 * 1024;
