//! Building the agent's one iroh endpoint from its config.

use iroh::{
    Endpoint, RelayMode, SecretKey, TransportAddr,
    endpoint::{PortmapperConfig, presets},
};
use vibemesh_core::ticket::MAX_ADDRS;

use crate::config::Config;

/// Why the endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// The relay URL does not parse.
    #[error("relay URL {0:?} is not valid: {1}")]
    RelayUrl(String, String),
    /// A listen address is not usable.
    #[error("cannot listen on {0}: {1}")]
    Listen(String, String),
    /// Binding failed.
    #[error("cannot start the network endpoint: {0}")]
    Bind(String),
}

/// Binds the endpoint the config asks for.
pub async fn bind(key: SecretKey, cfg: &Config) -> Result<Endpoint, EndpointError> {
    let mut builder = match cfg.relay.as_str() {
        "default" => Endpoint::builder(presets::N0),
        "none" => Endpoint::builder(presets::Minimal)
            .relay_mode(RelayMode::Disabled)
            .portmapper_config(PortmapperConfig::Disabled),
        url => {
            let parsed = url.parse().map_err(|e: iroh::RelayUrlParseError| {
                EndpointError::RelayUrl(url.into(), e.to_string())
            })?;
            Endpoint::builder(presets::Minimal).relay_mode(RelayMode::custom([parsed]))
        }
    };
    builder = builder.secret_key(key);
    if !cfg.listen.is_empty() {
        builder = builder.clear_ip_transports();
        for addr in &cfg.listen {
            builder = builder
                .bind_addr(*addr)
                .map_err(|e| EndpointError::Listen(addr.to_string(), e.to_string()))?;
        }
    }
    builder
        .bind()
        .await
        .map_err(|e| EndpointError::Bind(e.to_string()))
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

/// The endpoint's home relay URL, if it has one.
pub fn relay_url(ep: &Endpoint) -> Option<String> {
    ep.addr().addrs.iter().find_map(|a| match a {
        TransportAddr::Relay(url) => Some(url.to_string()),
        _ => None,
    })
}
