//! Pairing: one-time tickets, and the handler that redeems them.

mod failures;

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use iroh::{
    endpoint::Connection,
    protocol::{AcceptError, ProtocolHandler},
};
use vibemesh_core::{
    ErrorCode, WireError,
    frame::{FrameReader, FrameWriter},
    proto::{
        Role,
        pair::{PairAccepted, PairRequest, PairResponse},
    },
    ticket::SECRET_LEN,
};

use subtle::ConstantTimeEq;

use crate::access::Access;
use failures::Failures;
pub use failures::Origin;
use vibemesh_core::sync::lock;

/// The shortest ticket lifetime (tests make expired tickets with it).
pub const MIN_TTL: Duration = Duration::from_secs(1);
/// The longest ticket lifetime: a week. A ticket lets a device in until it is used, so
/// one that lives longer is more likely to leak than to be needed.
pub const MAX_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a peer gets to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Used and expired tickets are remembered this long, to tell them apart from wrong ones.
const FORGET_AFTER: Duration = Duration::from_secs(3600);

struct Pending {
    secret: [u8; SECRET_LEN],
    role: Role,
    expires: Instant,
    used: bool,
}

/// The tickets this agent has minted and the recent failures.
#[derive(Default)]
pub struct Tickets {
    pending: Mutex<Vec<Pending>>,
    failures: Mutex<Failures>,
}

/// Compares secrets in constant time, so timing does not tell how much of a guess was right.
fn same(a: &[u8; SECRET_LEN], b: &[u8; SECRET_LEN]) -> bool {
    a.ct_eq(b).into()
}

/// Refuses a ticket lifetime outside [`MIN_TTL`]..=[`MAX_TTL`], saying why.
pub fn check_ttl(ttl: Duration) -> Result<Duration, String> {
    if (MIN_TTL..=MAX_TTL).contains(&ttl) {
        Ok(ttl)
    } else {
        Err("a ticket must stay valid for at least 1 second and at most 7 days (168h)".into())
    }
}

impl Tickets {
    /// Registers a new secret for `role`, valid for `ttl`.
    pub fn mint(&self, role: Role, ttl: Duration) -> Result<[u8; SECRET_LEN], WireError> {
        let secret = vibemesh_core::ticket::Ticket::new_secret().map_err(|e| {
            WireError::new(
                ErrorCode::Internal,
                format!("no randomness for a secret: {e}"),
            )
        })?;
        let now = Instant::now();
        let expires = now.checked_add(ttl).ok_or_else(|| {
            WireError::new(ErrorCode::BadRequest, "that ticket lifetime is too long")
        })?;
        let mut pending = lock(&self.pending);
        pending.retain(|p| {
            p.expires
                .checked_add(FORGET_AFTER)
                .is_none_or(|forget| forget > now)
        });
        pending.push(Pending {
            secret,
            role,
            expires,
            used: false,
        });
        Ok(secret)
    }

    /// Uses up a secret presented from `origin`, returning the role it grants. A key or
    /// network with too many recent failures is refused without looking.
    pub fn redeem(&self, secret: &[u8; SECRET_LEN], origin: &Origin) -> Result<Role, WireError> {
        let now = Instant::now();
        if lock(&self.failures).limited(origin, now) {
            return Err(WireError::new(
                ErrorCode::RateLimited,
                "too many failed pairing attempts from this device or network; wait a minute and try again",
            ));
        }
        let result = {
            let mut pending = lock(&self.pending);
            match pending.iter_mut().find(|p| same(&p.secret, secret)) {
                None => Err(WireError::new(
                    ErrorCode::TicketInvalid,
                    "this ticket is not valid here (wrong secret); ask for a new one with `vibemesh pair`",
                )),
                Some(p) if p.used => Err(WireError::new(
                    ErrorCode::TicketUsed,
                    "this ticket was used already; each ticket pairs one device, make a new one with `vibemesh pair`",
                )),
                Some(p) if now >= p.expires => Err(WireError::new(
                    ErrorCode::TicketExpired,
                    "this ticket expired; make a new one with `vibemesh pair`",
                )),
                Some(p) => {
                    p.used = true;
                    Ok(p.role)
                }
            }
        };
        if result.is_err() {
            lock(&self.failures).record(origin, now);
        }
        result
    }
}

/// Accepts [`vibemesh_core::proto::ALPN_PAIR`] connections from anyone.
#[derive(Clone)]
pub struct PairProtocol {
    /// Minted tickets.
    pub tickets: Arc<Tickets>,
    /// Where paired keys go.
    pub access: Arc<Access>,
    /// This agent's name, told to the new peer.
    pub name: String,
}

impl std::fmt::Debug for PairProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PairProtocol").finish_non_exhaustive()
    }
}

impl ProtocolHandler for PairProtocol {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        let peer = conn.remote_id();
        let served = tokio::time::timeout(REQUEST_TIMEOUT, self.serve(&conn)).await;
        match served {
            Ok(Ok(())) => {
                // Let the peer read the answer and close first.
                let _ = tokio::time::timeout(REQUEST_TIMEOUT, conn.closed()).await;
            }
            Ok(Err(e)) => tracing::debug!(peer = %peer.fmt_short(), "pairing stream failed: {e}"),
            Err(_) => conn.close(ErrorCode::Malformed.to_u32().into(), b"pairing timed out"),
        }
        Ok(())
    }
}

impl PairProtocol {
    async fn serve(&self, conn: &Connection) -> Result<(), vibemesh_core::frame::FrameError> {
        let peer = conn.remote_id();
        let from = origin(conn);
        let (send, recv) = conn.accept_bi().await.map_err(std::io::Error::other)?;
        let mut reader = FrameReader::new(recv);
        let mut writer = FrameWriter::new(send);
        let answer: PairResponse = match reader.recv::<PairRequest>().await {
            Ok(Some(req)) => self.tickets.redeem(&req.secret, &from).and_then(|role| {
                let name: String = req
                    .name
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(64)
                    .collect();
                let name = if name.trim().is_empty() {
                    peer.fmt_short().to_string()
                } else {
                    name
                };
                let name = self.access.allow(peer, name, role)?;
                tracing::info!(peer = %peer.fmt_short(), %name, %role, "paired");
                Ok(PairAccepted {
                    name: self.name.clone(),
                    role,
                })
            }),
            Ok(None) => return Ok(()),
            Err(e) => Err(e.to_wire()),
        };
        if let Err(e) = &answer {
            tracing::info!(peer = %peer.fmt_short(), "pairing refused: {e}");
        }
        writer.send(&answer).await?;
        writer.finish().await?;
        Ok(())
    }
}

/// Who is pairing over `conn`: its key, and the addresses of its direct paths (none
/// when it came through a relay).
fn origin(conn: &Connection) -> Origin {
    let ips: Vec<_> = conn
        .paths()
        .iter()
        .filter_map(|p| match p.remote_addr() {
            iroh::TransportAddr::Ip(sa) => Some(sa.ip()),
            _ => None,
        })
        .collect();
    Origin::new(conn.remote_id(), ips)
}

#[cfg(test)]
mod tests {
    use super::{failures::MAX_FAILURES, *};

    #[test]
    fn a_ticket_works_once_and_failures_are_rate_limited_per_origin() {
        let t = Tickets::default();
        let me = Origin::new(vibemesh_core::SecretKey::from_bytes(&[1; 32]).public(), []);
        let s = t.mint(Role::Viewer, Duration::from_secs(60)).unwrap();
        assert_eq!(t.redeem(&s, &me).unwrap(), Role::Viewer);
        assert_eq!(t.redeem(&s, &me).unwrap_err().code, ErrorCode::TicketUsed);
        let expired = t.mint(Role::Owner, Duration::ZERO).unwrap();
        assert_eq!(
            t.redeem(&expired, &me).unwrap_err().code,
            ErrorCode::TicketExpired
        );
        for _ in 0..MAX_FAILURES {
            let _ = t.redeem(&[0; SECRET_LEN], &me);
        }
        let good = t.mint(Role::Owner, Duration::from_secs(60)).unwrap();
        assert_eq!(
            t.redeem(&good, &me).unwrap_err().code,
            ErrorCode::RateLimited
        );
        let other = Origin::new(vibemesh_core::SecretKey::from_bytes(&[2; 32]).public(), []);
        assert_eq!(t.redeem(&good, &other).unwrap(), Role::Owner);
    }

    #[test]
    fn a_lifetime_past_the_end_of_time_is_refused_not_a_panic() {
        let t = Tickets::default();
        let err = t.mint(Role::Owner, Duration::MAX).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
        assert!(check_ttl(Duration::ZERO).is_err());
        assert!(check_ttl(MAX_TTL + Duration::from_secs(1)).is_err());
        assert_eq!(check_ttl(MIN_TTL), Ok(MIN_TTL));
        assert_eq!(check_ttl(MAX_TTL), Ok(MAX_TTL));
    }
}
