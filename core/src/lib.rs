//! `vibemesh-core`: everything two VibeMesh peers must agree on, and the client API
//! every front end (the CLI, the desktop app, the browser, the phone) uses to talk to an
//! agent.
//!
//! - [`proto`]: ALPNs, message types, session ids and wire error codes.
//! - [`frame`]: length-prefixed postcard framing with a size limit.
//! - [`ticket`]: the pairing ticket (agent id, addresses, one-time secret) as text.
//! - [`identity`]: the secret key that is a peer's identity, kept on disk.
//! - [`client`]: control requests, pushed events and attached terminal streams over any
//!   byte stream, plus iroh connection helpers.
//! - [`text`]: text from elsewhere (names, titles, conversations) made inert for a
//!   terminal.
//! - [`predict`]: predictive local echo, the one engine every terminal front end draws.
//! - [`sync`] and [`time`]: the poison-ignoring lock and the wall clock every crate uses.
//!
//! The crate holds no UI and no PTY code, and builds for `wasm32-unknown-unknown`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod error;
pub mod frame;
#[cfg(not(target_arch = "wasm32"))]
pub mod identity;
pub mod predict;
pub mod proto;
pub mod sync;
pub mod text;
pub mod ticket;
#[cfg(not(target_arch = "wasm32"))]
pub mod time;

pub use error::{ErrorCode, WireError};
// The same types iroh re-exports, from the crate that defines them, so the wire types
// need no network stack.
pub use iroh_base::{EndpointAddr, EndpointId, SecretKey};
