//! [`MeshError`]: every failure the phone app can see, typed by what the user can do
//! about it, with a readable message.

use vibemesh_core::{ErrorCode, WireError, client::ClientError};

/// Why a call failed. Each variant carries a sentence for the user; the variant tells the
/// app what kind of failure it is (show "scan a new code" for the ticket ones, "is the
/// machine on?" for [`MeshError::Unreachable`], ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum MeshError {
    /// The pairing ticket expired; ask the machine for a fresh one.
    #[error("{message}")]
    TicketExpired {
        /// What happened.
        message: String,
    },
    /// The pairing ticket was used already (tickets work once).
    #[error("{message}")]
    TicketUsed {
        /// What happened.
        message: String,
    },
    /// The text is not a ticket, is damaged, or names no pairing the agent knows.
    #[error("{message}")]
    TicketInvalid {
        /// What happened.
        message: String,
    },
    /// The machine does not (or no longer does) let this phone in; pair again.
    #[error("{message}")]
    NotPaired {
        /// What happened.
        message: String,
    },
    /// This phone's role does not allow it (a viewer typing), or the path is off limits.
    #[error("{message}")]
    Forbidden {
        /// What happened.
        message: String,
    },
    /// No such machine or session.
    #[error("{message}")]
    NotFound {
        /// What happened.
        message: String,
    },
    /// The machine could not be reached, or the connection was lost.
    #[error("{message}")]
    Unreachable {
        /// What happened.
        message: String,
    },
    /// What the call acted on changed meanwhile: the file changed since this phone read
    /// it (or exists when it should not), the approval was answered already, the queue
    /// of waiting messages is full.
    #[error("{message}")]
    Conflict {
        /// What happened.
        message: String,
    },
    /// The request made no sense (a bad size, an empty command, a malformed id).
    #[error("{message}")]
    BadRequest {
        /// What happened.
        message: String,
    },
    /// Too many failed attempts, or a limit of the machine was reached; try later.
    #[error("{message}")]
    RateLimited {
        /// What happened.
        message: String,
    },
    /// Reading or writing this phone's own files failed.
    #[error("{message}")]
    Io {
        /// What happened.
        message: String,
    },
    /// Anything else; the message says what.
    #[error("{message}")]
    Other {
        /// What happened.
        message: String,
    },
}

impl MeshError {
    /// The readable message, whatever the variant.
    pub fn message(&self) -> &str {
        match self {
            MeshError::TicketExpired { message }
            | MeshError::TicketUsed { message }
            | MeshError::TicketInvalid { message }
            | MeshError::NotPaired { message }
            | MeshError::Forbidden { message }
            | MeshError::NotFound { message }
            | MeshError::Unreachable { message }
            | MeshError::Conflict { message }
            | MeshError::BadRequest { message }
            | MeshError::RateLimited { message }
            | MeshError::Io { message }
            | MeshError::Other { message } => message,
        }
    }

    pub(crate) fn unreachable(message: impl Into<String>) -> Self {
        MeshError::Unreachable {
            message: message.into(),
        }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        MeshError::NotFound {
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        MeshError::BadRequest {
            message: message.into(),
        }
    }

    pub(crate) fn other(message: impl Into<String>) -> Self {
        MeshError::Other {
            message: message.into(),
        }
    }

    pub(crate) fn io(message: impl Into<String>) -> Self {
        MeshError::Io {
            message: message.into(),
        }
    }
}

impl From<WireError> for MeshError {
    /// Maps the agent's code to the category the app acts on. Codes without a category
    /// of their own keep their name in the message.
    fn from(e: WireError) -> Self {
        let message = e.message;
        match e.code {
            ErrorCode::TicketExpired => MeshError::TicketExpired { message },
            ErrorCode::TicketUsed => MeshError::TicketUsed { message },
            ErrorCode::TicketInvalid => MeshError::TicketInvalid { message },
            ErrorCode::NotPaired | ErrorCode::Revoked => MeshError::NotPaired { message },
            ErrorCode::Forbidden | ErrorCode::OutsideRoots => MeshError::Forbidden { message },
            ErrorCode::NotFound => MeshError::NotFound { message },
            ErrorCode::Unreachable | ErrorCode::Shutdown => MeshError::Unreachable { message },
            ErrorCode::BadRequest | ErrorCode::TooLarge => MeshError::BadRequest { message },
            ErrorCode::Conflict => MeshError::Conflict { message },
            ErrorCode::RateLimited | ErrorCode::Limit => MeshError::RateLimited { message },
            code @ (ErrorCode::Malformed
            | ErrorCode::FrameTooLarge
            | ErrorCode::Version
            | ErrorCode::SpawnFailed
            | ErrorCode::Internal
            | ErrorCode::Unknown(_)) => MeshError::Other {
                message: format!("{code}: {message}"),
            },
        }
    }
}

impl From<ClientError> for MeshError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Remote(w) => w.into(),
            ClientError::Connect(m) => MeshError::Unreachable { message: m },
            ClientError::NotRunning(_) => MeshError::unreachable(e.to_string()),
            ClientError::Closed => MeshError::unreachable("the connection closed"),
            ClientError::Frame(f) => MeshError::unreachable(format!("the stream failed: {f}")),
            ClientError::Unexpected(m) => MeshError::other(format!("unexpected answer: {m}")),
        }
    }
}

/// Whether a client error means the connection is gone (so a fresh dial may help), as
/// opposed to the agent refusing the request.
pub(crate) fn is_connection_lost(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::Closed | ClientError::Frame(_) | ClientError::Connect(_)
    ) || matches!(e, ClientError::Remote(w) if w.code == ErrorCode::Shutdown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_codes_map_to_their_category() {
        let m = |code| MeshError::from(WireError::new(code, "why"));
        assert_eq!(
            m(ErrorCode::TicketExpired),
            MeshError::TicketExpired {
                message: "why".into()
            }
        );
        assert!(matches!(
            m(ErrorCode::TicketUsed),
            MeshError::TicketUsed { .. }
        ));
        assert!(matches!(m(ErrorCode::Revoked), MeshError::NotPaired { .. }));
        assert!(matches!(m(ErrorCode::NotFound), MeshError::NotFound { .. }));
        assert!(matches!(
            m(ErrorCode::RateLimited),
            MeshError::RateLimited { .. }
        ));
        assert_eq!(
            m(ErrorCode::SpawnFailed),
            MeshError::Other {
                message: "spawn-failed: why".into()
            }
        );
        assert_eq!(m(ErrorCode::Unknown(999)).message(), "error-999: why");
    }
}
