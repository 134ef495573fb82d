//! Pairing tickets: what a client needs to reach an agent and prove it may pair.
//!
//! A ticket carries the agent's id (so nobody in the middle can pose as the agent), a few
//! direct addresses, an optional relay URL (and the agent's other relays, when it has
//! several), and a one-time secret. As text it is `VM2`
//! followed by upper-case base32 (RFC 4648, no padding) of its postcard encoding and a
//! 3-byte checksum of that encoding: every character is in the QR alphanumeric set, which
//! keeps the QR code small enough for an 80x24 terminal. Parsing ignores case and
//! surrounding white space.
//!
//! The checksum is there for people who type a ticket: a mistake is reported as one
//! before anything is dialed, instead of surfacing as a TLS error (a wrong id) or as a
//! failed pairing attempt (a wrong secret). It is CRC-24 (OpenPGP's), which detects
//! every error burst of up to 24 bits. Base32 and the CRC both take bits most
//! significant first, so one wrong character (5 bits) or two swapped neighbours (10
//! bits) is such a burst: those mistakes are always caught, not merely almost always as
//! with a truncated hash. Anything else (a dropped character, say) is caught but for a
//! chance of 2^-24. Three bytes, not four, because four would push the usual LAN ticket
//! (two IPv4 addresses, no relay) past what QR version 4-L holds, and the code past 24
//! lines.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::EndpointId;

/// Bytes of the one-time secret.
pub const SECRET_LEN: usize = 16;
/// At most this many direct addresses go into a ticket; more would not fit a small QR code.
pub const MAX_ADDRS: usize = 3;
/// What ticket text starts with: the format's version, bumped with the checksum so an
/// old and a new build never misread each other's tickets.
const PREFIX: &str = "VM2";
/// The prefix of tickets without a checksum, made by builds before it.
const OLD_PREFIX: &str = "VM1";
/// Bytes of the checksum after the encoding.
const CRC_LEN: usize = 3;
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
    /// Its other relays, when it has several: where it moves if its home relay fails.
    pub other_relays: Vec<String>,
    /// The one-time secret.
    pub secret: [u8; SECRET_LEN],
}

/// At most this many other relays go into a ticket.
pub const MAX_OTHER_RELAYS: usize = 3;

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
    /// A ticket of the format before checksums.
    #[error(
        "this ticket was made by an older VibeMesh (it starts with {OLD_PREFIX}); make a new one with `vibemesh pair`"
    )]
    Old,
    /// Too long to be a ticket.
    #[error("ticket text is too long")]
    TooLong,
    /// A character is wrong, missing or extra: the checksum does not match.
    #[error("this ticket is mistyped or incomplete (its checksum does not match); copy it again")]
    Mistyped,
    /// The checksum matches but the contents do not decode: made by something else.
    #[error("the ticket's contents are invalid; make a new one with `vibemesh pair`")]
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
        let mut bytes = postcard::to_stdvec(&wire).unwrap_or_default();
        // Other relays follow, only when there are any: a ticket of an agent with one
        // relay is the same bytes as before, which older builds read.
        if !self.other_relays.is_empty() {
            let others: Vec<&String> = self.other_relays.iter().take(MAX_OTHER_RELAYS).collect();
            bytes.extend(postcard::to_stdvec(&others).unwrap_or_default());
        }
        let crc = crc24(&bytes);
        bytes.extend_from_slice(&crc);
        format!("{PREFIX}{}", data_encoding::BASE32_NOPAD.encode(&bytes))
    }

    /// Parses ticket text.
    pub fn parse(text: &str) -> Result<Self, TicketError> {
        let text = text.trim();
        if text.len() > MAX_TEXT {
            return Err(TicketError::TooLong);
        }
        let upper = text.to_ascii_uppercase();
        let bytes = match upper.strip_prefix(PREFIX) {
            Some(body) => checked_payload(body)?,
            None => return Err(not_current(&upper)),
        };
        let (wire, rest): (Wire, _) =
            postcard::take_from_bytes(&bytes).map_err(|_| TicketError::Damaged)?;
        let other_relays: Vec<String> = if rest.is_empty() {
            Vec::new()
        } else {
            let (others, rest) =
                postcard::take_from_bytes(rest).map_err(|_| TicketError::Damaged)?;
            if !rest.is_empty() {
                return Err(TicketError::Damaged);
            }
            others
        };
        if wire.addrs.len() > MAX_ADDRS || other_relays.len() > MAX_OTHER_RELAYS {
            return Err(TicketError::Damaged);
        }
        let id = EndpointId::from_bytes(&wire.id).map_err(|_| TicketError::BadId)?;
        Ok(Ticket {
            id,
            addrs: wire.addrs,
            relay: wire.relay,
            other_relays,
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

/// CRC-24/OpenPGP (RFC 4880, 6.1) of `data`, big-endian: most significant bit first
/// throughout, like base32, so a mistake in neighbouring characters stays a short burst.
fn crc24(data: &[u8]) -> [u8; CRC_LEN] {
    const POLY: u32 = 0x186_4CFB;
    let mut crc: u32 = 0xB7_04CE;
    for &b in data {
        crc ^= u32::from(b) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x100_0000 != 0 {
                crc ^= POLY;
            }
        }
    }
    let [_, hi, mid, lo] = crc.to_be_bytes();
    [hi, mid, lo]
}

/// The payload of base32 `body` if its checksum matches.
fn checked_payload(body: &str) -> Result<Vec<u8>, TicketError> {
    let mut bytes = data_encoding::BASE32_NOPAD
        .decode(body.as_bytes())
        .map_err(|_| TicketError::Mistyped)?;
    let split = bytes
        .len()
        .checked_sub(CRC_LEN)
        .ok_or(TicketError::Mistyped)?;
    let crc = bytes.split_off(split);
    if crc != crc24(&bytes) {
        return Err(TicketError::Mistyped);
    }
    Ok(bytes)
}

/// Why upper-case `text`, which lacks the current prefix, is refused: a mistyped prefix
/// (a current ticket's checksum follows it, or it starts like one), an old ticket, or
/// not a ticket at all.
fn not_current(text: &str) -> TicketError {
    // The body starts after a prefix with one character wrong, missing or extra.
    let prefix_mistyped = (PREFIX.len() - 1..=PREFIX.len() + 1)
        .filter_map(|at| text.get(at..))
        .any(|body| !body.is_empty() && checked_payload(body).is_ok());
    if prefix_mistyped {
        TicketError::Mistyped
    } else if text.starts_with(OLD_PREFIX) {
        TicketError::Old
    } else if text.starts_with(&PREFIX[..2]) && text.len() > PREFIX.len() {
        TicketError::Mistyped
    } else {
        TicketError::Prefix
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
            other_relays: Vec::new(),
            secret: [9; SECRET_LEN],
        }
    }

    #[test]
    fn other_relays_ride_along_and_a_one_relay_ticket_is_the_format_before_them() {
        let one = sample();
        let wire = Wire {
            id: *one.id.as_bytes(),
            secret: one.secret,
            addrs: one.addrs.clone(),
            relay: one.relay.clone(),
        };
        // What builds before the relay list made, and read.
        assert_eq!(
            one.to_text(),
            checksummed(&postcard::to_stdvec(&wire).unwrap())
        );
        let mut two = sample();
        two.other_relays = vec!["https://relay-eu.example.org./".into()];
        assert_eq!(Ticket::parse(&two.to_text()).unwrap(), two);
        // A ticket naming more relays than any agent writes (a hostile one sending a
        // client to many hosts) is refused, and one is never written with more.
        let many: Vec<String> = (0..=MAX_OTHER_RELAYS)
            .map(|i| format!("https://r{i}.example/"))
            .collect();
        let mut bytes = postcard::to_stdvec(&wire).unwrap();
        bytes.extend(postcard::to_stdvec(&many).unwrap());
        assert_eq!(
            Ticket::parse(&checksummed(&bytes)),
            Err(TicketError::Damaged)
        );
        two.other_relays = many;
        let written = Ticket::parse(&two.to_text()).unwrap();
        assert_eq!(written.other_relays.len(), MAX_OTHER_RELAYS);
        // Garbage after the list is refused.
        let mut bytes = postcard::to_stdvec(&wire).unwrap();
        bytes.extend(postcard::to_stdvec(&vec!["https://x./"]).unwrap());
        bytes.push(0);
        assert_eq!(
            Ticket::parse(&checksummed(&bytes)),
            Err(TicketError::Damaged)
        );
    }

    #[test]
    fn round_trips_through_text_in_any_case() {
        let t = sample();
        let text = t.to_text();
        assert!(text.starts_with("VM2"));
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
        // Ports of three varint bytes, the most they take.
        t.addrs = vec![
            "192.168.1.20:41641".parse().unwrap(),
            "10.0.0.7:65535".parse().unwrap(),
        ];
        // Two IPv4 addresses and no relay, what a LAN agent prints, fit QR version 4-L
        // in alphanumeric mode (114 characters): the code then fits 24 terminal lines.
        assert!(t.to_text().len() <= 114, "{}", t.to_text().len());
    }

    #[test]
    fn the_checksum_is_crc24_openpgp() {
        // The catalogue's check value for this CRC.
        assert_eq!(crc24(b"123456789"), [0x21, 0xcf, 0x02]);
    }

    #[test]
    fn refuses_damage_with_a_clear_error() {
        let text = sample().to_text();
        assert_eq!(Ticket::parse("hello"), Err(TicketError::Prefix));
        assert_eq!(
            Ticket::parse(&text[..text.len() - 5]),
            Err(TicketError::Mistyped)
        );
        assert_eq!(
            Ticket::parse(&format!("{text}AAAA")),
            Err(TicketError::Mistyped)
        );
        assert_eq!(
            Ticket::parse(&"VM2A".repeat(400)),
            Err(TicketError::TooLong)
        );
        let mut bad = text.clone();
        bad.insert(10, '!');
        assert_eq!(Ticket::parse(&bad), Err(TicketError::Mistyped));
        // Not ASCII where the prefix ends: refused, not a panic on a char boundary.
        assert_eq!(Ticket::parse("VMé"), Err(TicketError::Mistyped));
        assert_eq!(Ticket::parse("Vé2AAAA"), Err(TicketError::Prefix));
    }

    /// `payload` with a matching checksum, as ticket text.
    fn checksummed(payload: &[u8]) -> String {
        let mut bytes = payload.to_vec();
        bytes.extend_from_slice(&crc24(payload));
        format!("{PREFIX}{}", data_encoding::BASE32_NOPAD.encode(&bytes))
    }

    #[test]
    fn a_matching_checksum_over_bad_contents_is_damaged_not_mistyped() {
        assert_eq!(
            Ticket::parse(&checksummed(b"not postcard")),
            Err(TicketError::Damaged)
        );
        let not_a_key = (0..=u8::MAX)
            .map(|b| [b; 32])
            .find(|id| EndpointId::from_bytes(id).is_err())
            .expect("about half of all 32-byte strings are no curve point");
        let wire = Wire {
            id: not_a_key,
            secret: [1; SECRET_LEN],
            addrs: vec![],
            relay: None,
        };
        let bytes = postcard::to_stdvec(&wire).unwrap();
        assert_eq!(Ticket::parse(&checksummed(&bytes)), Err(TicketError::BadId));
    }

    /// Tickets of several keys, secrets and address sets.
    fn samples() -> Vec<Ticket> {
        (1..=8u8)
            .map(|k| {
                let mut t = sample();
                t.id = crate::SecretKey::from_bytes(&[k; 32]).public();
                t.secret = [k.wrapping_mul(37); SECRET_LEN];
                t.addrs.truncate(usize::from(k % 3));
                if k % 2 == 0 {
                    t.relay = None;
                }
                t
            })
            .collect()
    }

    #[test]
    fn every_wrong_character_is_reported_as_mistyped() {
        const TYPED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        for t in samples() {
            let text = t.to_text().into_bytes();
            for i in 0..text.len() {
                for &c in TYPED.iter().filter(|&&c| c != text[i]) {
                    let mut typo = text.clone();
                    typo[i] = c;
                    let typo = String::from_utf8(typo).unwrap();
                    assert_eq!(Ticket::parse(&typo), Err(TicketError::Mistyped), "{typo}");
                }
            }
        }
    }

    #[test]
    fn every_swap_of_neighbours_and_every_dropped_character_is_reported_as_mistyped() {
        for t in samples() {
            let text = t.to_text().into_bytes();
            for i in 0..text.len() - 1 {
                if text[i] == text[i + 1] {
                    continue;
                }
                let mut typo = text.clone();
                typo.swap(i, i + 1);
                let typo = String::from_utf8(typo).unwrap();
                assert_eq!(Ticket::parse(&typo), Err(TicketError::Mistyped), "{typo}");
            }
            for i in 0..text.len() {
                let mut typo = text.clone();
                typo.remove(i);
                let typo = String::from_utf8(typo).unwrap();
                assert_eq!(Ticket::parse(&typo), Err(TicketError::Mistyped), "{typo}");
            }
        }
    }

    #[test]
    fn a_ticket_of_the_format_before_checksums_says_to_make_a_new_one() {
        let t = sample();
        let wire = Wire {
            id: *t.id.as_bytes(),
            secret: t.secret,
            addrs: t.addrs.clone(),
            relay: t.relay.clone(),
        };
        let old = format!(
            "{OLD_PREFIX}{}",
            data_encoding::BASE32_NOPAD.encode(&postcard::to_stdvec(&wire).unwrap())
        );
        let err = Ticket::parse(&old).unwrap_err();
        assert_eq!(err, TicketError::Old);
        assert!(err.to_string().contains("older VibeMesh"), "{err}");
        assert!(err.to_string().contains("vibemesh pair"), "{err}");
    }
}
