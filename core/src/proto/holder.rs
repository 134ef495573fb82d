//! The local protocol between the agent and a session holder.
//!
//! A holder is a small process (`vibemesh-holder`) that owns one session's PTY, its
//! screen and its recording, so the session outlives the agent: a restarted or upgraded
//! agent connects to the holder's Unix socket and adopts the session as it is. Frames
//! are the usual length-prefixed postcard ([`crate::frame`]).
//!
//! # Versions
//! Both sides say their version first ([`ToHolder::Hello`], [`HolderHello::version`]). An
//! agent adopts holders whose version is between [`HOLDER_MIN_VERSION`] and
//! [`HOLDER_VERSION`], so a new agent binary adopts the holders an older one started.
//! To keep that true, messages only ever grow by new enum variants appended at the end
//! (postcard encodes variants by position); existing variants and structs never change
//! shape. A holder that receives a variant it does not know closes that connection, and
//! the agent only sends newer variants to holders whose version has them.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{ExitInfo, Provider, RecordingState, SessionId, TermSize};

/// The protocol version this build speaks. Version 2 added [`ToHolder::Recording`] and
/// [`FromHolder::Recording`] (recording size limits and state); 3 added
/// [`ToHolder::Replay`].
pub const HOLDER_VERSION: u32 = 3;
/// The oldest holder version this build's agent adopts.
pub const HOLDER_MIN_VERSION: u32 = 1;

/// What a fresh holder is told to run: the first frame on the socket it is started with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HolderSpawn {
    /// The agent's version of this protocol.
    pub version: u32,
    /// The session's id.
    pub id: SessionId,
    /// What runs in it.
    pub provider: Provider,
    /// The command line (the login shell when empty).
    pub command: Vec<String>,
    /// The folder it starts in (already resolved).
    pub cwd: String,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// The terminal size.
    pub size: TermSize,
    /// The title until the program sets one.
    pub title: String,
    /// Lines of scrollback to keep.
    pub scrollback: u32,
    /// Where to write the asciinema recording, if at all.
    pub recording: Option<String>,
    /// Also record typed input.
    pub record_input: bool,
    /// When the session was created, in milliseconds since the Unix epoch.
    pub created_ms: u64,
}

/// A session as its holder knows it: what the agent needs to adopt it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HolderState {
    /// The session's id.
    pub id: SessionId,
    /// What runs in it.
    pub provider: Provider,
    /// The command line.
    pub command: Vec<String>,
    /// The folder it started in.
    pub cwd: String,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// The program's process id (also its process group).
    pub pid: Option<u32>,
    /// The current title.
    pub title: String,
    /// The current size.
    pub size: TermSize,
    /// How the program ended, if it has.
    pub exited: Option<ExitInfo>,
    /// The recording's path, if one is written.
    pub recording: Option<String>,
    /// Why the recording stopped early, if it did.
    pub recording_error: Option<String>,
}

/// The holder's answer to a spawn or a hello.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HolderHello {
    /// The holder's version of this protocol.
    pub version: u32,
    /// The holder's own process id.
    pub holder_pid: u32,
    /// The session.
    pub state: HolderState,
}

/// What the agent sends a holder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToHolder {
    /// The first frame on a connection to a running holder (adoption).
    Hello {
        /// The agent's version of this protocol.
        version: u32,
    },
    /// Bytes for the program's terminal.
    Input(Bytes),
    /// A new terminal size.
    Resize(TermSize),
    /// Asks for the screen (after `scrollback` lines of history) as bytes that redraw
    /// it; answered with [`FromHolder::Snapshot`] in order with the output around it.
    Snapshot {
        /// Lines of history before the screen.
        scrollback: u32,
    },
    /// Unused: once asked for the screen's text. Kept so the variants after it keep
    /// their numbers on the wire (holders outlive the agent that started them); holders
    /// ignore it.
    Text,
    /// The session is removed: the holder ends its program (if still running) and exits.
    Remove,
    /// The recording's size limits (version 2). The holder applies them from now on and
    /// answers with [`FromHolder::Recording`], which it then sends on this connection
    /// whenever the recording's state changes.
    Recording(RecordingLimits),
    // Version 3.
    /// Like [`ToHolder::Snapshot`], but the first time it is asked: everything the
    /// program printed from its first byte, so the first attach shows its output from the
    /// start (past a limit: the start, a notice, and the screen as it is now). Answered
    /// with [`FromHolder::Snapshot`] pieces; later asks get the usual snapshot.
    Replay {
        /// Lines of history before the screen, for the usual snapshot.
        scrollback: u32,
    },
}

/// How big a session's recording may grow ([`ToHolder::Recording`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingLimits {
    /// Most bytes of all parts together.
    pub max_bytes: u64,
    /// Most parts kept (at least 1); with 1 the recording stops when it is full.
    pub parts: u32,
}

/// What a holder sends the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FromHolder {
    /// The answer to a spawn or a hello; output follows it.
    Hello(HolderHello),
    /// The program could not be started; the holder exits.
    Refused(String),
    /// Terminal output.
    Output(Bytes),
    /// The program set a new title.
    Title(String),
    /// The terminal size changed.
    Resized(TermSize),
    /// A piece of a requested snapshot; the last piece has `more == false`.
    Snapshot {
        /// Bytes of the redraw.
        bytes: Bytes,
        /// Whether more pieces follow.
        more: bool,
    },
    /// Unused: once the answer to [`ToHolder::Text`]. Kept so the variants after it keep
    /// their numbers on the wire; agents ignore it.
    Text(String),
    /// The program ended (the holder keeps the screen until [`ToHolder::Remove`]).
    Exited(ExitInfo),
    /// The recording stopped (disk full, folder read-only); the session keeps running.
    RecordingFailed(String),
    /// The recording's files and size (version 2): sent to an agent that sent
    /// [`ToHolder::Recording`], at once and then whenever its parts change (a new part,
    /// one deleted) or it stops.
    Recording(RecordingState),
}

/// The most bytes of snapshot in one [`FromHolder::Snapshot`] frame.
pub const SNAPSHOT_CHUNK: usize = 256 * 1024;
