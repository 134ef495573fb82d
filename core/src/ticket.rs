//! Pairing tickets: what a client needs to reach an agent and prove it may pair.
//!
//! A ticket carries the agent's id (so nobody in the middle can pose as the agent), a few
//! direct addresses, an optional relay URL, and a one-time secret. As text it is `VM1`
//! followed by upper-case base32 (RFC 4648, no padding) of its postcard encoding: every
//! character is in the QR alphanumeric set, which keeps the QR code small enough for an
//! 80x24 terminal. Parsing ignores case and surrounding white space.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::EndpointId;

/// Bytes of the one-time secret.
pub const SECRET_LEN: usize = 16;
/// At most this many direct addresses go into a ticket; more would not fit a small QR code.
pub const MAX_ADDRS: usize = 3;
const PREFIX: &str = "VM1";
/// Longest ticket text accepted, so a pasted novel is refused before decoding.
const MAX_TEXT: usize = 1024;

/// A pairing ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// The agent to pair with.
    pub id: EndpointId,
    /// Direct addresses the agent listens on.
    pub addrs: Vec<SocketAddr>,
    /// The agent's home relay, if it uses one.
    pub relay: Option<String>,
    /// The one-time secret.
    pub secret: [u8; SECRET_LEN],
}

#[derive(Serialize, Deserialize)]
struct Wire {
    id: [u8; 32],
    secret: [u8; SECRET_LEN],
    addrs: Vec<SocketAddr>,
    relay: Option<String>,
}

/// Why ticket text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    /// Not a VibeMesh ticket at all.
    #[error("not a VibeMesh ticket (it should start with {PREFIX})")]
    Prefix,
    /// Too long to be a ticket.
    #[error("ticket text is too long")]
    TooLong,
    /// Damaged: a character is wrong or missing.
    #[error("the ticket is damaged (was it copied completely?)")]
    Damaged,
    /// The id in it is not a valid public key.
    #[error("the ticket names an invalid agent id")]
    BadId,
}

impl Ticket {
    /// Encodes the ticket as text.
    pub fn to_text(&self) -> String {
        let wire = Wire {
            id: *self.id.as_bytes(),
            secret: self.secret,
            addrs: self.addrs.iter().take(MAX_ADDRS).copied().collect(),
            relay: self.relay.clone(),
        };
        // Encoding a plain struct into a Vec cannot fail.
        let bytes = postcard::to_stdvec(&wire).unwrap_or_default();
        format!("{PREFIX}{}", data_encoding::BASE32_NOPAD.encode(&bytes))
    }

    /// Parses ticket text.
    pub fn parse(text: &str) -> Result<Self, TicketError> {
        let text = text.trim();
        if text.len() > MAX_TEXT {
            return Err(TicketError::TooLong);
        }
        let upper = text.to_ascii_uppercase();
        let body = upper.strip_prefix(PREFIX).ok_or(TicketError::Prefix)?;
        let bytes = data_encoding::BASE32_NOPAD
            .decode(body.as_bytes())
            .map_err(|_| TicketError::Damaged)?;
        let (wire, rest): (Wire, _) =
            postcard::take_from_bytes(&bytes).map_err(|_| TicketError::Damaged)?;
        if !rest.is_empty() || wire.addrs.len() > MAX_ADDRS {
            return Err(TicketError::Damaged);
        }
        let id = EndpointId::from_bytes(&wire.id).map_err(|_| TicketError::BadId)?;
        Ok(Ticket {
            id,
            addrs: wire.addrs,
            relay: wire.relay,
            secret: wire.secret,
        })
    }

    /// A fresh random secret from the operating system.
    pub fn new_secret() -> Result<[u8; SECRET_LEN], getrandom::Error> {
        let mut s = [0u8; SECRET_LEN];
        getrandom::fill(&mut s)?;
        Ok(s)
    }
}

impl std::fmt::Display for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl std::str::FromStr for Ticket {
    type Err = TicketError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ticket::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Ticket {
        Ticket {
            id: crate::SecretKey::from_bytes(&[7; 32]).public(),
            addrs: vec![
                "192.168.1.20:41641".parse().unwrap(),
                "[2001:db8::1]:41641".parse().unwrap(),
            ],
            relay: Some("https://relay.example.org./".into()),
            secret: [9; SECRET_LEN],
        }
    }

    #[test]
    fn round_trips_through_text_in_any_case() {
        let t = sample();
        let text = t.to_text();
        assert!(text.starts_with("VM1"));
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
        assert_eq!(Ticket::parse(&text).unwrap(), t);
        assert_eq!(
            Ticket::parse(&format!("  {}\n", text.to_lowercase())).unwrap(),
            t
        );
    }

    #[test]
    fn is_short_enough_for_a_small_qr_code() {
        let mut t = sample();
        t.relay = None;
        t.addrs = vec![
            "192.168.1.20:41641".parse().unwrap(),
            "10.0.0.7:41641".parse().unwrap(),
        ];
        // Two IPv4 addresses and no relay, what a LAN agent prints, fit QR version 5-M
        // in alphanumeric mode (122 characters).
        assert!(t.to_text().len() <= 122, "{}", t.to_text().len());
    }

    #[test]
    fn refuses_damage_with_a_clear_error() {
        let text = sample().to_text();
        assert_eq!(Ticket::parse("hello"), Err(TicketError::Prefix));
        assert_eq!(
            Ticket::parse(&text[..text.len() - 5]),
            Err(TicketError::Damaged)
        );
        assert_eq!(
            Ticket::parse(&format!("{text}AAAA")),
            Err(TicketError::Damaged)
        );
        assert_eq!(
            Ticket::parse(&"VM1A".repeat(400)),
            Err(TicketError::TooLong)
        );
        let mut bad = text.clone();
        bad.insert(10, '!');
        assert_eq!(Ticket::parse(&bad), Err(TicketError::Damaged));
    }
}
