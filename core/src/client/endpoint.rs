//! Binding a native endpoint: the same relay rules for the agent, the desktop and the
//! phone.

use std::net::SocketAddr;

use iroh::{
    Endpoint, RelayMode, SecretKey,
    endpoint::{PortmapperConfig, presets},
};

/// Why an endpoint could not be bound.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// The relay setting is not `default`, `none` or a valid URL.
    #[error("relay URL {0:?} is not valid: {1}")]
    RelayUrl(String, String),
    /// A listen address is not usable.
    #[error("cannot listen on {0}: {1}")]
    Listen(String, String),
    /// Binding failed.
    #[error("cannot start the network endpoint: {0}")]
    Bind(String),
}

/// Binds an endpoint with `key`. `relay` is `"default"` (n0's public relays and address
/// lookup), `"none"` (direct addresses only, no port mapping: LANs and tests) or the URL
/// of a relay of your own. A non-empty `listen` replaces the default sockets.
pub async fn bind_endpoint(
    key: SecretKey,
    relay: &str,
    listen: &[SocketAddr],
) -> Result<Endpoint, EndpointError> {
    let mut builder = match relay {
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
    if !listen.is_empty() {
        builder = builder.clear_ip_transports();
        for addr in listen {
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
