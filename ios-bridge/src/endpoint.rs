//! Binding the phone's iroh endpoint.

use std::net::SocketAddr;

use iroh::{
    Endpoint, RelayMode,
    endpoint::{PortmapperConfig, presets},
};

use crate::MeshError;

/// Binds an endpoint with `key`. `relay` is `"default"` (the n0 preset: public relays and
/// address lookup), `"none"` (direct only: no relay, no port mapping) or a relay URL;
/// `bind` replaces the default sockets with one address (tests use `127.0.0.1:0`).
pub(crate) async fn bind_endpoint(
    key: vibemesh_core::SecretKey,
    relay: &str,
    bind: Option<&str>,
) -> Result<Endpoint, MeshError> {
    let mut builder = match relay {
        "default" => Endpoint::builder(presets::N0),
        "none" => Endpoint::builder(presets::Minimal)
            .relay_mode(RelayMode::Disabled)
            .portmapper_config(PortmapperConfig::Disabled),
        url => {
            let parsed = url.parse().map_err(|e: iroh::RelayUrlParseError| {
                MeshError::bad_request(format!("relay URL {url:?} is not valid: {e}"))
            })?;
            Endpoint::builder(presets::Minimal).relay_mode(RelayMode::custom([parsed]))
        }
    };
    builder = builder.secret_key(key);
    if let Some(bind) = bind {
        let addr: SocketAddr = bind
            .parse()
            .map_err(|e| MeshError::bad_request(format!("{bind:?} is not an address: {e}")))?;
        builder = builder
            .clear_ip_transports()
            .bind_addr(addr)
            .map_err(|e| MeshError::bad_request(format!("cannot listen on {addr}: {e}")))?;
    }
    builder
        .bind()
        .await
        .map_err(|e| MeshError::io(format!("cannot start the network endpoint: {e}")))
}
