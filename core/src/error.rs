//! Errors that cross the wire: a typed code plus a message for humans.

use serde::{Deserialize, Serialize};

/// Why a request, a stream or a connection was refused.
///
/// Encoded as a `u32` so that a newer peer's codes decode as [`ErrorCode::Unknown`] on an
/// older one instead of failing the whole frame. The same numbers are used as QUIC
/// application close codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "u32", into = "u32")]
pub enum ErrorCode {
    /// A frame could not be decoded.
    Malformed,
    /// A frame was larger than [`crate::frame::MAX_FRAME`].
    FrameTooLarge,
    /// The peer speaks a protocol version we do not.
    Version,
    /// The caller's key is not on the agent's allow-list.
    NotPaired,
    /// The caller's role does not allow this (a viewer typing, say).
    Forbidden,
    /// The caller's access was revoked while it was connected.
    Revoked,
    /// No pairing ticket has this secret.
    TicketInvalid,
    /// The pairing ticket was used already.
    TicketUsed,
    /// The pairing ticket expired.
    TicketExpired,
    /// Too many failed attempts; try again later.
    RateLimited,
    /// No such session (or peer).
    NotFound,
    /// The request made no sense (bad size, empty command, ...).
    BadRequest,
    /// The program for a session could not be started.
    SpawnFailed,
    /// A configured limit was reached (sessions, viewers).
    Limit,
    /// The path is outside the folders the agent allows.
    OutsideRoots,
    /// The file changed since the client read it (or the target exists).
    Conflict,
    /// Too large for this request; use a transfer stream.
    TooLarge,
    /// The named peer could not be reached.
    Unreachable,
    /// Something failed inside the agent; the message says what.
    Internal,
    /// The agent is shutting down.
    Shutdown,
    /// A code this build does not know.
    Unknown(u32),
}

impl ErrorCode {
    /// The numeric value used on the wire and as a QUIC close code.
    pub fn to_u32(self) -> u32 {
        match self {
            ErrorCode::Malformed => 1,
            ErrorCode::FrameTooLarge => 2,
            ErrorCode::Version => 3,
            ErrorCode::NotPaired => 10,
            ErrorCode::Forbidden => 11,
            ErrorCode::Revoked => 12,
            ErrorCode::TicketInvalid => 20,
            ErrorCode::TicketUsed => 21,
            ErrorCode::TicketExpired => 22,
            ErrorCode::RateLimited => 23,
            ErrorCode::NotFound => 30,
            ErrorCode::BadRequest => 31,
            ErrorCode::SpawnFailed => 32,
            ErrorCode::Limit => 33,
            ErrorCode::OutsideRoots => 34,
            ErrorCode::Conflict => 35,
            ErrorCode::TooLarge => 36,
            ErrorCode::Unreachable => 40,
            ErrorCode::Internal => 50,
            ErrorCode::Shutdown => 51,
            ErrorCode::Unknown(n) => n,
        }
    }
}

impl From<u32> for ErrorCode {
    fn from(n: u32) -> Self {
        match n {
            1 => ErrorCode::Malformed,
            2 => ErrorCode::FrameTooLarge,
            3 => ErrorCode::Version,
            10 => ErrorCode::NotPaired,
            11 => ErrorCode::Forbidden,
            12 => ErrorCode::Revoked,
            20 => ErrorCode::TicketInvalid,
            21 => ErrorCode::TicketUsed,
            22 => ErrorCode::TicketExpired,
            23 => ErrorCode::RateLimited,
            30 => ErrorCode::NotFound,
            31 => ErrorCode::BadRequest,
            32 => ErrorCode::SpawnFailed,
            33 => ErrorCode::Limit,
            34 => ErrorCode::OutsideRoots,
            35 => ErrorCode::Conflict,
            36 => ErrorCode::TooLarge,
            40 => ErrorCode::Unreachable,
            50 => ErrorCode::Internal,
            51 => ErrorCode::Shutdown,
            n => ErrorCode::Unknown(n),
        }
    }
}

impl From<ErrorCode> for u32 {
    fn from(c: ErrorCode) -> u32 {
        c.to_u32()
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            ErrorCode::Malformed => "malformed",
            ErrorCode::FrameTooLarge => "frame-too-large",
            ErrorCode::Version => "version",
            ErrorCode::NotPaired => "not-paired",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Revoked => "revoked",
            ErrorCode::TicketInvalid => "ticket-invalid",
            ErrorCode::TicketUsed => "ticket-used",
            ErrorCode::TicketExpired => "ticket-expired",
            ErrorCode::RateLimited => "rate-limited",
            ErrorCode::NotFound => "not-found",
            ErrorCode::BadRequest => "bad-request",
            ErrorCode::SpawnFailed => "spawn-failed",
            ErrorCode::Limit => "limit",
            ErrorCode::OutsideRoots => "outside-roots",
            ErrorCode::Conflict => "conflict",
            ErrorCode::TooLarge => "too-large",
            ErrorCode::Unreachable => "unreachable",
            ErrorCode::Internal => "internal",
            ErrorCode::Shutdown => "shutdown",
            ErrorCode::Unknown(n) => return write!(f, "error-{n}"),
        };
        f.write_str(s)
    }
}

/// An error as it travels between peers: a code a program can match on and a message a
/// person can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct WireError {
    /// What kind of failure this is.
    pub code: ErrorCode,
    /// A sentence for the user.
    pub message: String,
}

impl WireError {
    /// Builds an error from a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_survive() {
        for n in 0..100u32 {
            let code = ErrorCode::from(n);
            assert_eq!(code.to_u32(), n);
        }
        let bytes = postcard::to_stdvec(&ErrorCode::Unknown(4242)).unwrap();
        let back: ErrorCode = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, ErrorCode::Unknown(4242));
    }
}
