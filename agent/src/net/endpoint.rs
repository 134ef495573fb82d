//! Building the agent's one iroh endpoint from its config.

use iroh::{Endpoint, SecretKey, TransportAddr};
use vibemesh_core::ticket::MAX_ADDRS;

use crate::config::Config;

pub use vibemesh_core::client::EndpointError;

/// Binds the endpoint the config asks for.
pub async fn bind(key: SecretKey, cfg: &Config) -> Result<Endpoint, EndpointError> {
    vibemesh_core::client::bind_endpoint(key, &cfg.relay, &cfg.listen).await
}

/// The direct addresses worth putting in a ticket: routable ones first, at most
/// [`MAX_ADDRS`], so the QR code stays small.
pub fn ticket_addrs(ep: &Endpoint) -> Vec<std::net::SocketAddr> {
    let mut addrs: Vec<std::net::SocketAddr> = ep
        .addr()
        .addrs
        .iter()
        .filter_map(|a| match a {
            TransportAddr::Ip(sa) => Some(*sa),
            _ => None,
        })
        .collect();
    if addrs.is_empty() {
        addrs = ep.bound_sockets();
    }
    addrs.sort_by_key(|a| (a.ip().is_loopback(), a.is_ipv6()));
    let has_routable = addrs.iter().any(|a| !a.ip().is_loopback());
    if has_routable {
        addrs.retain(|a| !a.ip().is_loopback());
    }
    addrs.truncate(MAX_ADDRS);
    addrs
}

/// The endpoint's home relay URL, if it has one; before the relay has answered, the one
/// the config names (so a ticket made right after start still carries it).
pub fn relay_url(ep: &Endpoint, cfg: &Config) -> Option<String> {
    ep.addr()
        .addrs
        .iter()
        .find_map(|a| match a {
            TransportAddr::Relay(url) => Some(url.to_string()),
            _ => None,
        })
        .or_else(|| own_relay(cfg))
}

/// The URL of the user's own relay, when the config names one (not `default`/`none`):
/// the first, when it names several.
pub fn own_relay(cfg: &Config) -> Option<String> {
    cfg.relay.own().first().map(|u| u.to_string())
}

/// The user's own relays other than `home`: where a peer finds this agent when its home
/// relay fails (tickets carry them).
pub fn other_relays(cfg: &Config, home: Option<&str>) -> Vec<String> {
    let same = |u: &str| home.is_some_and(|h| same_relay(h, u));
    cfg.relay
        .own()
        .into_iter()
        .filter(|u| !same(u))
        .map(str::to_string)
        .collect()
}

/// Whether two spellings of a relay URL name the same relay (iroh writes them with a
/// trailing `/` and a trailing `.` on the host).
fn same_relay(a: &str, b: &str) -> bool {
    match (a.parse::<iroh::RelayUrl>(), b.parse::<iroh::RelayUrl>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
