//! The records a conversation view draws, converted from core's reducer
//! ([`vibemesh_core::client::Conversation`]): the phone adds no reducer of its own.

use vibemesh_core::{
    client::{
        Conversation, Item,
        view::{DiffLine, ItemView, LineKind, Status},
    },
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

/// One thing a conversation view draws: core's item view
/// ([`vibemesh_core::client::view::ItemView`]) as a record the app can hold.
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
        /// What it does, on one line (the command, the file), inert: the row's title.
        summary: String,
        /// Its input as JSON text, pretty-printed.
        input: String,
        /// The edit it makes, when it is a file edit.
        diff: Option<Vec<EditLine>>,
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
        /// What it would do, on one line, inert.
        summary: String,
        /// Its input as JSON text, pretty-printed.
        input: String,
        /// The edit it would make, when it is a file edit.
        diff: Option<Vec<EditLine>>,
        /// What the provider says it does.
        description: Option<String>,
        /// The answer, once given (by anyone).
        decision: Option<ApprovalDecision>,
        /// That answer in words.
        answer: Option<String>,
    },
    /// A turn ended.
    TurnEnd {
        /// Input tokens it used.
        input_tokens: u64,
        /// Output tokens it used.
        output_tokens: u64,
        /// Its cost, when known.
        cost_usd: Option<f64>,
        /// Tokens and cost in words, for the footer.
        usage: String,
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

/// One line of a file edit's diff, to colour by its kind.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EditLine {
    /// What the line is.
    pub kind: EditLineKind,
    /// The line (with its `-`/`+` mark), inert.
    pub text: String,
}

/// What a line of a diff is (core's [`LineKind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EditLineKind {
    /// The file it changes.
    File,
    /// A hunk header (`@@`).
    Hunk,
    /// Taken out (red).
    Removed,
    /// Put in (green).
    Added,
    /// Around the change.
    Context,
}

impl From<LineKind> for EditLineKind {
    fn from(k: LineKind) -> Self {
        match k {
            LineKind::File => EditLineKind::File,
            LineKind::Hunk => EditLineKind::Hunk,
            LineKind::Removed => EditLineKind::Removed,
            LineKind::Added => EditLineKind::Added,
            LineKind::Context => EditLineKind::Context,
        }
    }
}

impl From<&Item> for ConvItem {
    fn from(i: &Item) -> Self {
        let diff = |d: Option<Vec<DiffLine>>| {
            d.map(|d| {
                d.into_iter()
                    .map(|l| EditLine {
                        kind: l.kind.into(),
                        text: l.text,
                    })
                    .collect()
            })
        };
        match ItemView::from(i) {
            ItemView::User { text } => ConvItem::User { text },
            ItemView::Queued { text } => ConvItem::Queued { text },
            ItemView::Assistant { text, streaming } => ConvItem::Assistant { text, streaming },
            ItemView::Tool {
                id,
                name,
                summary,
                input,
                diff: d,
                result,
            } => ConvItem::Tool {
                id,
                name,
                summary,
                input,
                diff: diff(d),
                failed: result.as_ref().is_some_and(|r| r.failed),
                output: result.map(|r| r.output),
            },
            ItemView::Approval {
                id,
                tool,
                summary,
                input,
                diff: d,
                description,
                decision,
                answer,
            } => ConvItem::Approval {
                id,
                tool,
                summary,
                input,
                diff: diff(d),
                description,
                decision: decision.map(Into::into),
                answer,
            },
            ItemView::TurnEnd {
                input_tokens,
                output_tokens,
                cost_usd,
                usage,
                error,
            } => ConvItem::TurnEnd {
                input_tokens,
                output_tokens,
                cost_usd,
                usage,
                error,
            },
            ItemView::Error { text } => ConvItem::Error { message: text },
            ItemView::Notice { text } => ConvItem::Notice { text },
            ItemView::Unknown { provider, raw } => ConvItem::Unknown { provider, raw },
        }
    }
}

/// What a structured session is doing, for the badge and the buttons (core's
/// [`Status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ConvState {
    /// A turn runs (show the interrupt button).
    Working,
    /// A tool call waits for an answer.
    NeedsApproval,
    /// Nothing runs: the next message is yours.
    YourTurn,
}

impl From<Status> for ConvState {
    fn from(s: Status) -> Self {
        match s {
            Status::Working => ConvState::Working,
            Status::NeedsApproval => ConvState::NeedsApproval,
            Status::YourTurn => ConvState::YourTurn,
        }
    }
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
        ConvStatus {
            state: c.status().into(),
            pending_approvals: count(c.pending_approvals().len()),
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
