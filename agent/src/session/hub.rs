//! What viewers of a session receive: live output after a snapshot.

use bytes::Bytes;
use tokio::sync::broadcast;
use vibemesh_core::proto::{ExitInfo, TermSize};

/// What viewers receive.
#[derive(Debug, Clone)]
pub enum Output {
    /// Raw terminal output.
    Data(Bytes),
    /// The session's size changed.
    Resized(TermSize),
    /// The program ended.
    Exited(ExitInfo),
    /// Output may have been missed (the link to the holder was made anew): viewers
    /// start again from a fresh snapshot.
    Reset,
}

/// Where a viewer continues after a snapshot.
pub enum Subscription {
    /// Live output follows.
    Live(broadcast::Receiver<Output>),
    /// The program had ended; nothing follows.
    Exited(ExitInfo),
}
