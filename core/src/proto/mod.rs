//! The VibeMesh wire protocol: every message any peer sends, defined once.
//!
//! # Connections and streams
//! A client connects to an agent with [`ALPN_MAIN`]. The agent checks the client's key
//! against its allow-list before reading anything and closes the connection with
//! [`crate::ErrorCode::NotPaired`] when it is not there. Every bidirectional stream the
//! client then opens starts with one [`StreamOpen`] frame that says what the stream is:
//! - [`StreamOpen::Control`]: requests ([`control::Request`]), their responses and pushed
//!   [`control::Event`]s, so no client ever polls.
//! - [`StreamOpen::Attach`]: one terminal session, its snapshot and then its live output
//!   ([`attach::ServerFrame`]), and the client's keys and size ([`attach::ClientFrame`]).
//! - [`StreamOpen::Conversation`]: one structured AI session, its conversation replayed
//!   and then live ([`ai::ConvServerFrame`]), and the client's prompts and approvals
//!   ([`ai::ConvClientFrame`]).
//! - [`StreamOpen::Download`] and [`StreamOpen::Upload`]: one file each way
//!   ([`files::TransferFrame`]); [`StreamOpen::DownloadFrom`] resumes a cut download.
//!
//! Pairing uses its own ALPN, [`ALPN_PAIR`], and one stream ([`pair`]).
//! The local CLI reaches its own agent over a Unix socket with [`local`].

pub mod ai;
pub mod attach;
pub mod bounds;
pub mod control;
pub mod files;
pub mod git;
pub mod holder;
pub mod local;
pub mod pair;

use serde::{Deserialize, Serialize};

/// ALPN of the main protocol (control and terminal streams), version 1.
pub const ALPN_MAIN: &[u8] = b"vibemesh/main/1";
/// ALPN of the pairing protocol, version 1.
pub const ALPN_PAIR: &[u8] = b"vibemesh/pair/1";

/// The first frame of every stream on [`ALPN_MAIN`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StreamOpen {
    /// This stream carries requests, responses and events.
    Control,
    /// This stream carries one attached terminal session.
    Attach(attach::AttachRequest),
    /// This stream carries one file from the agent ([`files::TransferFrame`]s).
    Download(files::DownloadRequest),
    /// This stream carries one file to the agent ([`files::TransferFrame`]s).
    Upload(files::UploadRequest),
    /// This stream carries one structured AI session's conversation.
    Conversation(ai::ConversationOpen),
    // Variants below were added after the first release: new ones only ever go at the
    // end, so the numbers postcard gives the ones above never change, and an agent that
    // predates one answers it with a control-style `Closing` (see
    // [`crate::client::redownload`], which then downloads from the start).
    /// This stream carries the rest of a file a cut download already has part of
    /// ([`files::TransferFrame`]s, as [`StreamOpen::Download`]).
    DownloadFrom(files::DownloadFromRequest),
}

/// A session's id: unique on its agent, shown as 8 hex digits. Binary encodings carry
/// the number; human-readable ones (JSON for scripts) carry the hex text users type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u32);

impl Serialize for SessionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_u32(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            s.parse().map_err(serde::de::Error::custom)
        } else {
            u32::deserialize(d).map(SessionId)
        }
    }
}

/// Which registry holds a session: its id says so (the lowest bit), so a client that has
/// only the id attaches in one round trip, without listing first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionKind {
    /// A terminal: attached with [`StreamOpen::Attach`].
    Terminal,
    /// A structured AI session: attached with [`StreamOpen::Conversation`].
    Conversation,
}

impl SessionKind {
    /// The other kind.
    pub fn other(self) -> Self {
        match self {
            SessionKind::Terminal => SessionKind::Conversation,
            SessionKind::Conversation => SessionKind::Terminal,
        }
    }
}

impl SessionId {
    /// A fresh random id of `kind`.
    pub fn random(kind: SessionKind) -> Self {
        let mut b = [0u8; 4];
        // getrandom only fails where the OS has no randomness at all; fall back to time.
        if getrandom::fill(&mut b).is_err() {
            b = (std::process::id() ^ 0x9e37_79b9).to_le_bytes();
        }
        let n = u32::from_le_bytes(b) & !1;
        SessionId(match kind {
            SessionKind::Terminal => n,
            SessionKind::Conversation => n | 1,
        })
    }

    /// The kind this id was made for. Sessions an agent made before ids carried their
    /// kind (still running in a holder, or in an AI session's history) may say the wrong
    /// one: a client that is refused with `NotFound` tries [`SessionKind::other`].
    pub fn kind(self) -> SessionKind {
        if self.0 & 1 == 1 {
            SessionKind::Conversation
        } else {
            SessionKind::Terminal
        }
    }
}

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

impl std::str::FromStr for SessionId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        u32::from_str_radix(s, 16).map(SessionId)
    }
}

/// A terminal size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TermSize {
    /// Lines.
    pub rows: u16,
    /// Columns.
    pub cols: u16,
}

impl TermSize {
    /// The classic 24x80.
    pub const DEFAULT: TermSize = TermSize { rows: 24, cols: 80 };
    /// The largest size an agent accepts on either axis.
    pub const MAX: u16 = 1000;

    /// Whether both sides are between 1 and [`TermSize::MAX`].
    pub fn is_valid(self) -> bool {
        (1..=Self::MAX).contains(&self.rows) && (1..=Self::MAX).contains(&self.cols)
    }
}

impl std::fmt::Display for TermSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}", self.cols, self.rows)
    }
}

/// What runs in a session.
///
/// In JSON (the CLI's `--json`, the AI session logs) the lower-case names the CLI takes
/// (`"shell"`); the capitalised names of earlier versions are still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// The user's login shell, or any command.
    #[serde(alias = "Shell")]
    Shell,
    /// Claude Code.
    #[serde(alias = "Claude")]
    Claude,
    /// Codex.
    #[serde(alias = "Codex")]
    Codex,
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Provider::Shell => "shell",
            Provider::Claude => "claude",
            Provider::Codex => "codex",
        })
    }
}

/// What a paired client may do on an agent.
///
/// In JSON (`--json`, `peers.json`) `"owner"` and `"viewer"`, as `pair --role` takes
/// them; the capitalised names of earlier versions are still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// May do everything: open, type, resize, kill.
    #[serde(alias = "Owner")]
    Owner,
    /// May only list and watch.
    #[serde(alias = "Viewer")]
    Viewer,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Owner => "owner",
            Role::Viewer => "viewer",
        })
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(Role::Owner),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!("unknown role {other:?}: expected owner or viewer")),
        }
    }
}

/// How a session's program ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitInfo {
    /// The exit code, when it exited normally.
    pub code: Option<i32>,
    /// The signal's name, when a signal ended it.
    pub signal: Option<String>,
}

impl std::fmt::Display for ExitInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.code, &self.signal) {
            (_, Some(sig)) => write!(f, "killed by {sig}"),
            (Some(code), None) => write!(f, "exit {code}"),
            (None, None) => f.write_str("exited"),
        }
    }
}

/// Whether a session's program still runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Running.
    Running,
    /// Ended; the screen is kept until the session is killed.
    Exited(ExitInfo),
    /// The agent cannot reach the process that holds the session (it does not answer,
    /// or its link broke and could not be made again), so the program may run on
    /// unseen; the text says what happened. `kill` still stops it.
    Unreachable(String),
}

impl std::fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionStatus::Running => f.write_str("running"),
            SessionStatus::Exited(e) => e.fmt(f),
            SessionStatus::Unreachable(why) => write!(f, "unreachable: {why}"),
        }
    }
}

/// What a listing shows of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Its id.
    pub id: SessionId,
    /// Its title: set by the program (OSC 0/2) or the command's name.
    pub title: String,
    /// What runs in it.
    pub provider: Provider,
    /// The command line it started with.
    pub command: Vec<String>,
    /// The folder it started in.
    pub cwd: String,
    /// The terminal size.
    pub size: TermSize,
    /// When it started, in milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// Running or exited.
    pub status: SessionStatus,
    /// How many clients are attached now.
    pub viewers: u32,
    /// The asciinema recording on the agent, if one is written.
    pub recording: Option<String>,
    /// For a structured AI session (attach with [`StreamOpen::Conversation`]): whether
    /// it waits for you. `None` for terminal sessions.
    pub conversation: Option<ai::ConversationInfo>,
    /// Why the recording stopped early (disk full, folder read-only, its size limit
    /// with `recording_parts = 1`): it is incomplete, while the session keeps running.
    pub recording_error: Option<String>,
    /// The recording's files and size, and what its size limit cut (from agents and
    /// holders that report it; `None` otherwise, and for unrecorded sessions).
    pub recording_state: Option<Box<RecordingState>>,
}

/// A session's recording on disk: the parts it is kept in and how its size limit cut it.
///
/// A recording is written in parts, each a complete asciinema v2 file with its own
/// header. When the newest part is full, a new one starts; beyond `max_parts`, the
/// oldest part after the first is deleted, so the beginning of the session and its
/// latest output are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingState {
    /// The files it is kept in now, in order: the first part, then the newest ones.
    pub parts: Vec<String>,
    /// Bytes in those files together: measured on disk when sessions are listed (in a
    /// pushed update, as of the last change of parts).
    pub bytes: u64,
    /// Parts deleted to stay within the limit.
    pub dropped_parts: u32,
    /// Bytes deleted with them.
    pub dropped_bytes: u64,
    /// The limit: most bytes of all parts together (each part gets an equal share; a
    /// part may pass its share by the one event that filled it).
    pub max_bytes: u64,
    /// The limit: most parts kept; with 1 the recording stops when it is full.
    pub max_parts: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_print_and_parse_as_hex() {
        let id = SessionId(0x00ab_cdef);
        assert_eq!(id.to_string(), "00abcdef");
        assert_eq!("00abcdef".parse::<SessionId>().unwrap(), id);
        assert!("zz".parse::<SessionId>().is_err());
        let bin = postcard::to_stdvec(&id).unwrap();
        assert_eq!(postcard::from_bytes::<SessionId>(&bin).unwrap(), id);
    }

    #[test]
    fn a_session_id_says_its_kind() {
        for _ in 0..64 {
            for kind in [SessionKind::Terminal, SessionKind::Conversation] {
                let id = SessionId::random(kind);
                assert_eq!(id.kind(), kind, "{id}");
                // The kind survives the way users pass ids around: as hex text.
                assert_eq!(id.to_string().parse::<SessionId>().unwrap().kind(), kind);
                assert_eq!(kind.other().other(), kind);
            }
        }
    }

    #[test]
    fn term_size_bounds() {
        assert!(TermSize::DEFAULT.is_valid());
        assert!(!TermSize { rows: 0, cols: 80 }.is_valid());
        assert!(
            !TermSize {
                rows: 24,
                cols: 5000
            }
            .is_valid()
        );
    }
}
