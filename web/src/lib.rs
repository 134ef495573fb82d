//! The VibeMesh browser client's Rust half: `vibemesh-core`'s client API behind
//! wasm-bindgen, so the page is a real iroh peer with its own key. It reaches agents
//! through the relay that served the page (browsers have no UDP), and what the relay
//! carries is QUIC, encrypted end to end between the browser and the agent.
//!
//! The JavaScript half (`web/static/app.js`) keeps the key and the paired agents in the
//! browser's storage, draws terminals with xterm.js and calls this API:
//! [`Node`] (the endpoint: pair, connect), [`Peer`] (one agent: sessions, events,
//! attach) and [`Term`] (one attached terminal: keys, size). Values cross as JSON text,
//! in the shape of `vibemesh-core`'s serde types.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod node;
mod peer;
mod term;

pub use node::{Node, new_secret_key, parse_ticket};
pub use peer::Peer;
pub use term::Term;

use vibemesh_core::client::ClientError;
use wasm_bindgen::JsValue;

/// A JavaScript `Error` whose `name` is the agent's error code (`TicketExpired`,
/// `NotFound`, ...) when the agent gave one, else `ConnectionError`.
pub(crate) fn client_err(e: ClientError) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    match e.wire() {
        Some(w) => err.set_name(&format!("{:?}", w.code)),
        None => err.set_name("ConnectionError"),
    }
    err.into()
}

/// Any displayable error as a JavaScript `Error` named `name`.
pub(crate) fn js_err(name: &str, e: impl std::fmt::Display) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name(name);
    err.into()
}

/// A serde value as JSON text for the page.
pub(crate) fn json(v: &impl serde::Serialize) -> Result<String, JsValue> {
    serde_json::to_string(v).map_err(|e| js_err("Internal", e))
}
