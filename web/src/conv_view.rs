//! A conversation as the page draws it: core's item views
//! ([`vibemesh_core::client::view`]: one `kind` to switch on, a tool call's summary and
//! diff worked out), and the update [`crate::Conv::next`] hands over. TypeScript
//! declarations come from these types.

use serde::Serialize;
use tsify::{Ts, Tsify};
pub use vibemesh_core::client::view::{ItemView, ToolResult};
use vibemesh_core::{client::view::CHOICES, proto::ai::Decision};
use wasm_bindgen::{JsValue, prelude::wasm_bindgen};

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

/// One answer to an approval request, as the page's button shows it (core's
/// `client::view::CHOICES`, in the order they are offered).
#[derive(Debug, Serialize, Tsify)]
pub struct AnswerChoice {
    /// The answer the button sends.
    pub decision: Decision,
    /// Its label.
    pub label: String,
    /// What it does, for the button's tooltip.
    pub hint: String,
}

/// The answers to an approval request ([`answer_choices`]).
#[derive(Debug, Serialize, Tsify)]
pub struct AnswerChoices {
    /// In the order they are offered.
    pub choices: Vec<AnswerChoice>,
}

/// The answers to an approval request, in the order they are offered.
#[wasm_bindgen(js_name = answerChoices)]
pub fn answer_choices() -> Result<Ts<AnswerChoices>, JsValue> {
    let choices = CHOICES
        .iter()
        .map(|c| AnswerChoice {
            decision: c.decision,
            label: c.label.into(),
            hint: c.hint.into(),
        })
        .collect();
    crate::view::to_js(&AnswerChoices { choices })
}
