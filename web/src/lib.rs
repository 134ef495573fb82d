//! The VibeMesh browser client's Rust half: `vibemesh-core`'s client API behind
//! wasm-bindgen, so the page is a real iroh peer with its own key. It reaches agents
//! through the relay that served the page (browsers have no UDP), and what the relay
//! carries is QUIC, encrypted end to end between the browser and the agent.
//!
//! The JavaScript half (`web/static/app.js`) keeps the key and the paired agents in the
//! browser's storage, draws terminals with xterm.js and calls this API:
//! [`Node`] (the endpoint: pair, connect), [`Peer`] (one agent: sessions, events,
//! attach), [`Term`] (one attached terminal, re-attached by core's `client::reattach`
//! when the connection drops: keys, size), [`SessionPreview`] (a session's last lines,
//! live, for its card) and [`Conv`] (one structured AI session: the
//! conversation, prompts, approvals). Values cross as JS values (serde-wasm-bindgen) of
//! small view types ([`view`], [`conv_view`], [`term::TermEvent`]) built from
//! `vibemesh-core`'s types, with TypeScript declarations generated from them (tsify) in
//! the wasm-bindgen output; `web/build.sh` checks the page's JS against them with `tsc`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod conv;
pub mod conv_view;
mod node;
mod peer;
mod preview;
pub mod term;
pub mod view;

pub use conv::Conv;
pub use node::{Node, new_secret_key, parse_ticket};
pub use peer::Peer;
pub use preview::SessionPreview;
pub use term::Term;

use vibemesh_core::client::{ClientError, is_final};
use wasm_bindgen::{JsValue, prelude::wasm_bindgen};

/// `text` on one line with its control characters and bidi overrides shown as escapes
/// (`\e`, `\x07`, `\u{202e}`): core's `text::inert`, for names and titles the page shows
/// on one line (a machine's name, a session's title), so that they cannot reorder or
/// break the line they are on.
#[wasm_bindgen]
pub fn inert(text: &str) -> String {
    vibemesh_core::text::inert(text).into_owned()
}

/// A JavaScript `Error` whose `name` is the agent's error code (`TicketExpired`,
/// `NotFound`, ...) when the agent gave one, else `ConnectionError`; its `final` is
/// `true` when trying again is pointless (core's `client::is_final`).
pub(crate) fn client_err(e: ClientError) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    let fin = match e.wire() {
        Some(w) => {
            err.set_name(&format!("{:?}", w.code));
            is_final(w)
        }
        None => {
            err.set_name("ConnectionError");
            false
        }
    };
    // Setting a plain property on a fresh Error cannot fail.
    let _ = js_sys::Reflect::set(&err, &"final".into(), &fin.into());
    err.into()
}

/// Any displayable error as a JavaScript `Error` named `name`.
pub(crate) fn js_err(name: &str, e: impl std::fmt::Display) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name(name);
    err.into()
}
