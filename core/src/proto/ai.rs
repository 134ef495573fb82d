//! Structured AI sessions: the conversation as typed events, defined once.
//!
//! The agent drives a provider's machine interface (Claude Code's stream-json, Codex's
//! app-server) and turns what it says into [`AiEvent`]s. Each event is numbered
//! ([`Entry::seq`]) and kept on disk by the agent, so a client that attaches gets the
//! whole conversation replayed and then the live events, and one that re-attaches with
//! the last number it saw gets only what is new: no duplicates.
//!
//! A conversation stream starts with [`super::StreamOpen::Conversation`]; the agent
//! answers [`ConvServerFrame`]s, the client sends [`ConvClientFrame`]s. JSON a provider
//! sends that this build does not understand is kept as [`AiEvent::Unknown`], never
//! dropped and never fatal. Tool inputs are JSON text: postcard cannot carry
//! schema-less values, and clients render them as they like.

use serde::{Deserialize, Serialize};

use super::{Provider, SessionId, SessionInfo};
use crate::WireError;

/// How to start a structured AI session ([`super::control::RequestBody::StartConversation`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartConversation {
    /// Claude or Codex.
    pub provider: Provider,
    /// The folder the agent works in; the agent's home when `None` (`~` allowed).
    pub cwd: Option<String>,
    /// A title; the provider and folder when `None`.
    pub title: Option<String>,
    /// A first message to send at once.
    pub prompt: Option<String>,
}

/// What a structured session is doing, shown in every session list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationInfo {
    /// Set when the session waits for the user: an approval, or its turn ended.
    pub waiting: Option<Waiting>,
    /// Whether the provider's process runs now (it is resumed on the next message
    /// when not).
    pub live: bool,
    /// The number of the newest event.
    pub last_seq: u64,
}

/// Why a structured session waits for you.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Waiting {
    /// A tool call needs your approval.
    Approval {
        /// The tool.
        tool: String,
    },
    /// The agent finished its turn and waits for your next message.
    Reply,
}

/// The body of [`super::StreamOpen::Conversation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationOpen {
    /// Which session.
    pub session: SessionId,
    /// Replay only entries after this number (the last one this client has); all of
    /// them when `None`.
    pub after: Option<u64>,
    /// Watch without steering, even when the client's role allows it.
    pub watch_only: bool,
}

/// What the agent sends on a conversation stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ConvServerFrame {
    /// The first frame: attached. Entries (replayed, then live) follow.
    Attached(SessionInfo),
    /// The first frame when attaching failed; the stream ends after it.
    Refused(WireError),
    /// One event of the conversation.
    Entry(Entry),
    /// Something this client should be told (its answer came too late, say).
    Notice(WireError),
    /// The stream ends for this reason.
    Closed(WireError),
}

/// What a client sends on a conversation stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ConvClientFrame {
    /// A user message (resumes the provider's session if its process ended). Sent
    /// while a turn runs, it is queued ([`AiEvent::Queued`]) and sent when the turn ends.
    Prompt(String),
    /// An answer to an approval request; the first answer wins.
    Answer {
        /// [`AiEvent::Approval::id`].
        approval: String,
        /// What was decided.
        decision: Decision,
    },
    /// Stop the current turn.
    Interrupt,
    /// End the provider's process; the conversation stays and can be resumed.
    End,
}

/// An answer to an approval request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
// The browser's page spells these (its answer buttons): its JS is checked against them.
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub enum Decision {
    /// Run it, this once.
    Allow,
    /// Run it, and every later call of the same tool in this session.
    AllowAlways,
    /// Do not run it.
    Deny,
}

/// One numbered event of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// 1, 2, 3, ... per session; never reused.
    pub seq: u64,
    /// When it happened, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// What happened.
    pub event: AiEvent,
}

/// Tokens a turn used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Input tokens read from the provider's cache.
    pub cache_read_tokens: u64,
    /// Input tokens written to the provider's cache.
    pub cache_write_tokens: u64,
}

/// Something that happened in a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AiEvent {
    /// The provider's process started (or was resumed).
    Started {
        /// The provider.
        provider: Provider,
        /// The provider's own session (Claude) or thread (Codex) id.
        provider_session: Option<String>,
        /// The model, when the provider says.
        model: Option<String>,
        /// Whether an earlier provider session was resumed.
        resumed: bool,
    },
    /// A user message.
    User {
        /// Its text.
        text: String,
    },
    /// A piece of the assistant's message being written.
    AssistantDelta {
        /// The new text.
        text: String,
    },
    /// The assistant's finished message (replaces the deltas before it).
    Assistant {
        /// Its text (markdown).
        text: String,
    },
    /// The assistant calls a tool.
    ToolCall {
        /// The call's id; [`AiEvent::ToolResult`] names it.
        id: String,
        /// The tool (`Bash`, `Edit`, `command`, ...).
        name: String,
        /// Its input, as JSON text.
        input: String,
    },
    /// A tool's result.
    ToolResult {
        /// The call's id.
        id: String,
        /// What it printed or returned.
        output: String,
        /// Whether it failed (or was denied).
        is_error: bool,
    },
    /// A tool call waits for approval.
    Approval {
        /// Answer with this id.
        id: String,
        /// The tool.
        tool: String,
        /// Its input, as JSON text.
        input: String,
        /// What the provider says it does.
        description: Option<String>,
    },
    /// An approval was answered (by a client, or by an earlier "always").
    Settled {
        /// The approval's id.
        id: String,
        /// The answer.
        decision: Decision,
    },
    /// The turn ended.
    TurnEnd {
        /// Tokens used.
        usage: Usage,
        /// What it cost, when the provider says.
        cost_usd: Option<f64>,
        /// Whether it ended in an error (or was interrupted).
        is_error: bool,
        /// The provider's final word when it is an error.
        message: Option<String>,
    },
    /// The turn was interrupted.
    Interrupted,
    /// Something went wrong (no key, API error); the session goes on where it can.
    Error {
        /// What, for a person.
        message: String,
    },
    /// Something a person should know that is not an error.
    Notice {
        /// What.
        text: String,
    },
    /// Output this build does not understand, kept as it came.
    Unknown {
        /// Which provider said it.
        provider: Provider,
        /// The raw line.
        raw: String,
    },
    /// The provider's process ended.
    ProcessEnded {
        /// Why, for a person.
        reason: String,
        /// Its last lines on stderr.
        stderr: Vec<String>,
        /// Whether it was expected (asked to end, idle) rather than a crash.
        clean: bool,
    },
    // Variants below were added after the first release: new ones only ever go at the
    // end, so the numbers postcard gives the ones above never change. A client built
    // before them cannot read them and closes the stream with a clear error.
    /// A user message sent while a turn runs: it waits, and is sent as the next turn
    /// when this one ends (then recorded again as [`AiEvent::User`], which a client
    /// shows in its place rather than as a second message).
    Queued {
        /// Its text.
        text: String,
    },
    /// Every waiting [`AiEvent::Queued`] message was dropped, unsent.
    QueueDropped {
        /// Why, for a person.
        reason: String,
    },
}

impl AiEvent {
    /// Whether a user must look at it (a crash, an error, unknown output).
    pub fn is_problem(&self) -> bool {
        matches!(
            self,
            AiEvent::Error { .. }
                | AiEvent::Unknown { .. }
                | AiEvent::ProcessEnded { clean: false, .. }
        )
    }
}
