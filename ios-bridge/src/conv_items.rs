//! The records a conversation view draws, converted from core's reducer
//! ([`vibemesh_core::client::Conversation`]): the phone adds no reducer of its own.

use vibemesh_core::{
    client::{Conversation, Item},
    proto::{Provider, ai::Decision},
};

use crate::MeshError;

/// Which AI a structured session runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AiProvider {
    /// Claude Code.
    Claude,
    /// Codex.
    Codex,
}

impl From<AiProvider> for Provider {
    fn from(p: AiProvider) -> Self {
        match p {
            AiProvider::Claude => Provider::Claude,
            AiProvider::Codex => Provider::Codex,
        }
    }
}

/// An answer to an approval request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ApprovalDecision {
    /// Run it, this once.
    Allow,
    /// Run it, and every later call of the same tool in this session.
    Always,
    /// Do not run it.
    Deny,
}

impl From<ApprovalDecision> for Decision {
    fn from(d: ApprovalDecision) -> Self {
        match d {
            ApprovalDecision::Allow => Decision::Allow,
            ApprovalDecision::Always => Decision::AllowAlways,
            ApprovalDecision::Deny => Decision::Deny,
        }
    }
}

impl From<Decision> for ApprovalDecision {
    fn from(d: Decision) -> Self {
        match d {
            Decision::Allow => ApprovalDecision::Allow,
            Decision::AllowAlways => ApprovalDecision::Always,
            Decision::Deny => ApprovalDecision::Deny,
        }
    }
}

/// One thing a conversation view draws (core's [`Item`], field for field).
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum ConvItem {
    /// What the user said.
    User {
        /// The message.
        text: String,
    },
    /// A message sent while a turn ran; it is sent when the turn ends (and becomes a
    /// `User` item in its place). Queued items are always last, oldest first.
    Queued {
        /// The message.
        text: String,
    },
    /// What the assistant said (markdown).
    Assistant {
        /// The text so far.
        text: String,
        /// Still being written.
        streaming: bool,
    },
    /// A tool call, with its result once it came.
    Tool {
        /// The call's id.
        id: String,
        /// The tool.
        name: String,
        /// Its input as JSON text.
        input: String,
        /// Its output, once it came.
        output: Option<String>,
        /// Whether it failed.
        failed: bool,
    },
    /// An approval request: show Allow / Always / Deny while `decision` is `None`.
    Approval {
        /// Answer with this id ([`crate::ConversationHandle::answer`]).
        id: String,
        /// The tool.
        tool: String,
        /// Its input as JSON text.
        input: String,
        /// What the provider says it does.
        description: Option<String>,
        /// The answer, once given (by anyone).
        decision: Option<ApprovalDecision>,
    },
    /// A turn ended.
    TurnEnd {
        /// Input tokens it used.
        input_tokens: u64,
        /// Output tokens it used.
        output_tokens: u64,
        /// Its cost, when known.
        cost_usd: Option<f64>,
        /// The error it ended with, if any.
        error: Option<String>,
    },
    /// An error to show.
    Error {
        /// What went wrong.
        message: String,
    },
    /// A notice to show (started, resumed, interrupted, ended).
    Notice {
        /// The notice.
        text: String,
    },
    /// Provider output this build did not understand, shown raw.
    Unknown {
        /// Whose (`claude`, `codex`).
        provider: String,
        /// The raw line.
        raw: String,
    },
}

impl From<&Item> for ConvItem {
    fn from(i: &Item) -> Self {
        match i {
            Item::User(text) => ConvItem::User { text: text.clone() },
            Item::Queued(text) => ConvItem::Queued { text: text.clone() },
            Item::Assistant { text, streaming } => ConvItem::Assistant {
                text: text.clone(),
                streaming: *streaming,
            },
            Item::Tool {
                id,
                name,
                input,
                result,
            } => ConvItem::Tool {
                id: id.clone(),
                name: name.clone(),
                input: input.clone(),
                output: result.as_ref().map(|(o, _)| o.clone()),
                failed: result.as_ref().is_some_and(|(_, e)| *e),
            },
            Item::Approval {
                id,
                tool,
                input,
                description,
                decision,
            } => ConvItem::Approval {
                id: id.clone(),
                tool: tool.clone(),
                input: input.clone(),
                description: description.clone(),
                decision: decision.map(Into::into),
            },
            Item::TurnEnd {
                usage,
                cost_usd,
                error,
            } => ConvItem::TurnEnd {
                input_tokens: usage.input_tokens,
                output_tokens: usage.output_tokens,
                cost_usd: *cost_usd,
                error: error.clone(),
            },
            Item::Error(message) => ConvItem::Error {
                message: message.clone(),
            },
            Item::Notice(text) => ConvItem::Notice { text: text.clone() },
            Item::Unknown { provider, raw } => ConvItem::Unknown {
                provider: provider.to_string(),
                raw: raw.clone(),
            },
        }
    }
}

/// What a structured session is doing, for the badge and the buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ConvState {
    /// A turn runs (show the interrupt button).
    Working,
    /// A tool call waits for an answer.
    NeedsApproval,
    /// Nothing runs: the next message is yours.
    YourTurn,
}

/// A conversation's state at a glance.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ConvStatus {
    /// Working, waiting for an approval, or your turn.
    pub state: ConvState,
    /// Approval requests nobody answered yet.
    pub pending_approvals: u32,
    /// Messages waiting for the running turn to end.
    pub queued: u32,
    /// Input tokens used by all turns.
    pub input_tokens: u64,
    /// Output tokens used by all turns.
    pub output_tokens: u64,
    /// Cost of all turns, when known (0 otherwise).
    pub cost_usd: f64,
}

impl From<&Conversation> for ConvStatus {
    fn from(c: &Conversation) -> Self {
        let pending = c.pending_approvals().len();
        let state = if pending > 0 {
            ConvState::NeedsApproval
        } else if c.busy {
            ConvState::Working
        } else {
            ConvState::YourTurn
        };
        ConvStatus {
            state,
            pending_approvals: count(pending),
            queued: count(c.queued()),
            input_tokens: c.total_usage.input_tokens,
            output_tokens: c.total_usage.output_tokens,
            cost_usd: c.total_cost_usd,
        }
    }
}

/// A count for the app (no conversation holds four billion of anything).
pub(crate) fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Rejects an empty message, which the provider would only answer with an error.
pub(crate) fn nonempty(text: &str) -> Result<(), MeshError> {
    if text.trim().is_empty() {
        return Err(MeshError::bad_request("the message is empty"));
    }
    Ok(())
}
