//! Pairing: a client proves it holds a ticket's one-time secret and is added to the
//! agent's allow-list. One stream on [`super::ALPN_PAIR`]: the client sends a
//! [`PairRequest`], the agent answers with a [`PairResponse`] and closes.

use serde::{Deserialize, Serialize};

use super::Role;
use crate::WireError;

/// The client's half of pairing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairRequest {
    /// The one-time secret from the ticket.
    pub secret: [u8; crate::ticket::SECRET_LEN],
    /// How the client calls itself (its host name), shown in the agent's peer list.
    pub name: String,
}

/// The agent's answer.
pub type PairResponse = Result<PairAccepted, WireError>;

/// Pairing worked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairAccepted {
    /// How the agent calls itself.
    pub name: String,
    /// What the client may do there.
    pub role: Role,
}
