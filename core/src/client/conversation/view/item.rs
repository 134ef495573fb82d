//! A conversation [`Item`] with what it says worked out ([`super`]): one `kind` to
//! switch on, a tool call's summary and diff ready to draw. The browser gets these as
//! typed values (TypeScript declarations come from them); the phone copies them into
//! its own records.

use serde::Serialize;

use super::{DiffLine, decided, edit_diff, pretty, summary, usage_words};
use crate::{client::Item, proto::ai::Decision};

/// One thing a conversation view draws, told apart by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(tag = "kind")]
pub enum ItemView {
    /// What the user said.
    User {
        /// The message.
        text: String,
    },
    /// A message sent while a turn ran: it is sent when the turn ends.
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
        /// Its input on one line, inert ([`super::summary`]).
        summary: String,
        /// Its input to read in full (JSON pretty-printed).
        input: String,
        /// The edit it makes, when it is a file edit.
        diff: Option<Vec<DiffLine>>,
        /// Its result, once known.
        result: Option<ToolResult>,
    },
    /// An approval request; answered once `decision` is set.
    Approval {
        /// Answer with this id.
        id: String,
        /// The tool.
        tool: String,
        /// Its input on one line, inert ([`super::summary`]).
        summary: String,
        /// Its input to read in full (JSON pretty-printed).
        input: String,
        /// The edit it would make, when it is a file edit.
        diff: Option<Vec<DiffLine>>,
        /// What the provider says it does.
        description: Option<String>,
        /// The answer, once given (by anyone).
        decision: Option<Decision>,
        /// That answer in words ([`super::decided`]).
        answer: Option<String>,
    },
    /// A turn ended.
    TurnEnd {
        /// Input tokens.
        #[serde(rename = "inputTokens")]
        input_tokens: u64,
        /// Output tokens.
        #[serde(rename = "outputTokens")]
        output_tokens: u64,
        /// Its cost in US dollars, when known.
        #[serde(rename = "costUsd")]
        cost_usd: Option<f64>,
        /// Tokens and cost in words ([`super::usage_words`]).
        usage: String,
        /// The error it ended with, if any.
        error: Option<String>,
    },
    /// An error to show.
    Error {
        /// What went wrong.
        text: String,
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

/// What a tool call gave back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct ToolResult {
    /// Its output.
    pub output: String,
    /// It failed.
    pub failed: bool,
}

impl From<&Item> for ItemView {
    fn from(item: &Item) -> Self {
        match item {
            Item::User(text) => ItemView::User { text: text.clone() },
            Item::Queued(text) => ItemView::Queued { text: text.clone() },
            Item::Assistant { text, streaming } => ItemView::Assistant {
                text: text.clone(),
                streaming: *streaming,
            },
            Item::Tool {
                id,
                name,
                input,
                result,
            } => ItemView::Tool {
                id: id.clone(),
                name: name.clone(),
                summary: summary(name, input),
                input: pretty(input),
                diff: edit_diff(name, input),
                result: result.as_ref().map(|(output, failed)| ToolResult {
                    output: output.clone(),
                    failed: *failed,
                }),
            },
            Item::Approval {
                id,
                tool,
                input,
                description,
                decision,
            } => ItemView::Approval {
                id: id.clone(),
                tool: tool.clone(),
                summary: summary(tool, input),
                input: pretty(input),
                diff: edit_diff(tool, input),
                description: description.clone(),
                decision: *decision,
                answer: decision.map(|d| decided(d).to_string()),
            },
            Item::TurnEnd {
                usage,
                cost_usd,
                error,
            } => ItemView::TurnEnd {
                input_tokens: usage.input_tokens,
                output_tokens: usage.output_tokens,
                cost_usd: *cost_usd,
                usage: usage_words(usage, *cost_usd),
                error: error.clone(),
            },
            Item::Error(text) => ItemView::Error { text: text.clone() },
            Item::Notice(text) => ItemView::Notice { text: text.clone() },
            Item::Unknown { provider, raw } => ItemView::Unknown {
                provider: provider.to_string(),
                raw: raw.clone(),
            },
        }
    }
}
