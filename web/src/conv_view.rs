//! A conversation as the page draws it: core's `client::Item`s in a shape meant for
//! drawing (one `kind` to switch on, a tool's input already parsed), and the update
//! [`crate::Conv::next`] hands over. TypeScript declarations come from these types.

use serde::Serialize;
use tsify::Tsify;
use vibemesh_core::{client::Item, proto::ai::Decision};

/// One thing a conversation view draws (core's `client::Item`), told apart by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Tsify)]
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
        /// The tool.
        name: String,
        /// Its input as the provider sent it (JSON text).
        input: String,
        /// That input parsed, when it is JSON: the provider's own shape.
        #[tsify(type = "any")]
        args: Option<serde_json::Value>,
        /// Its result, once known.
        result: Option<ToolResult>,
    },
    /// An approval request; answered once `decision` is set.
    Approval {
        /// Answer with this id (`Conv.answer`).
        id: String,
        /// The tool.
        tool: String,
        /// Its input as the provider sent it (JSON text).
        input: String,
        /// That input parsed, when it is JSON: the provider's own shape.
        #[tsify(type = "any")]
        args: Option<serde_json::Value>,
        /// What the provider says it does.
        description: Option<String>,
        /// The answer, once given (by anyone).
        decision: Option<Decision>,
    },
    /// A turn ended.
    TurnEnd {
        /// Input tokens.
        #[serde(rename = "inputTokens")]
        input_tokens: f64,
        /// Output tokens.
        #[serde(rename = "outputTokens")]
        output_tokens: f64,
        /// Input tokens read from the provider's cache.
        #[serde(rename = "cachedTokens")]
        cached_tokens: f64,
        /// Its cost in US dollars, when known.
        #[serde(rename = "costUsd")]
        cost_usd: Option<f64>,
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
#[derive(Debug, Clone, PartialEq, Serialize, Tsify)]
pub struct ToolResult {
    /// Its output.
    pub output: String,
    /// It failed.
    pub failed: bool,
}

/// A tool's input parsed, when it is JSON.
fn args(input: &str) -> Option<serde_json::Value> {
    serde_json::from_str(input).ok()
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
                id: _,
                name,
                input,
                result,
            } => ItemView::Tool {
                name: name.clone(),
                args: args(input),
                input: input.clone(),
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
                args: args(input),
                input: input.clone(),
                description: description.clone(),
                decision: *decision,
            },
            // Token counts stay far below 2^53.
            Item::TurnEnd {
                usage,
                cost_usd,
                error,
            } => ItemView::TurnEnd {
                input_tokens: usage.input_tokens as f64,
                output_tokens: usage.output_tokens as f64,
                cached_tokens: usage.cache_read_tokens as f64,
                cost_usd: *cost_usd,
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

/// An item that is new or changed, and where it goes.
#[derive(Debug, Serialize, Tsify)]
pub struct Changed {
    /// Its index in the conversation.
    pub index: usize,
    /// The item.
    pub item: ItemView,
}

/// Why a conversation ended for good.
#[derive(Debug, Clone, Serialize, Tsify)]
pub struct Closed {
    /// What the agent said.
    pub message: String,
    /// Re-attaching is pointless (the session is gone, access was refused).
    #[serde(rename = "final")]
    pub fin: bool,
}

/// What changed in a conversation since the page last asked ([`crate::Conv::next`]).
#[derive(Debug, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
// A tool's parsed input holds JSON objects: plain JS objects, not `Map`s.
#[tsify(hashmap_as_object)]
pub struct ConvUpdate {
    /// The number of items; the page drops any beyond it.
    pub len: usize,
    /// Items that are new or changed, oldest first.
    pub changed: Vec<Changed>,
    /// A turn runs (show the interrupt button).
    pub busy: bool,
    /// How many messages wait for the running turn to end.
    pub queued: usize,
    /// Input and output tokens of all turns.
    pub tokens: f64,
    /// Cost of all turns in US dollars, when known (else 0).
    pub cost_usd: f64,
    /// Attaches so far: more than one means the connection was lost and made again.
    pub attaches: u32,
    /// While the connection is down: why, and when the next try comes.
    pub reconnecting: Option<String>,
    /// Notices the agent sent this client (a refused prompt, a late answer).
    pub notices: Vec<String>,
    /// Why the agent closed the stream, if it did.
    pub closed: Option<Closed>,
}
