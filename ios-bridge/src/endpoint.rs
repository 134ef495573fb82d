//! Binding the phone's iroh endpoint.

use std::net::SocketAddr;

use iroh::Endpoint;

use crate::MeshError;

/// Binds an endpoint with `key`. `relay` is `"default"` (the n0 preset: public relays and
/// address lookup), `"none"` (direct only: no relay, no port mapping) or a relay URL;
/// `bind` replaces the default sockets with one address (tests use `127.0.0.1:0`).
pub(crate) async fn bind_endpoint(
    key: vibemesh_core::SecretKey,
    relay: &str,
    bind: Option<&str>,
) -> Result<Endpoint, MeshError> {
    let listen: Vec<SocketAddr> = match bind {
        Some(bind) => vec![
            bind.parse()
                .map_err(|e| MeshError::bad_request(format!("{bind:?} is not an address: {e}")))?,
        ],
        None => Vec::new(),
    };
    let relay = vibemesh_core::client::RelaySetting::from_text(relay);
    vibemesh_core::client::bind_endpoint(key, &relay, &listen)
        .await
        .map_err(|e| match e {
            vibemesh_core::client::EndpointError::Bind(_) => MeshError::io(e.to_string()),
            other => MeshError::bad_request(other.to_string()),
        })
}
