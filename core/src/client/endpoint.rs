//! Binding a native endpoint: the same relay rules for the agent, the desktop and the
//! phone.

use std::net::SocketAddr;

use iroh::{
    Endpoint, RelayMode, SecretKey,
    endpoint::{PortmapperConfig, presets},
};

use super::transport::transport_config;

/// A file of extra root certificates (PEM) to trust for a relay of one's own whose
/// certificate comes from a private CA (a LAN, a lab, the NAT test).
pub const RELAY_CA_ENV: &str = "VIBEMESH_RELAY_CA";

fn relay_ca() -> Result<Option<Vec<rustls_pki_types::CertificateDer<'static>>>, EndpointError> {
    use rustls_pki_types::{CertificateDer, pem::PemObject};
    let Some(path) = std::env::var_os(RELAY_CA_ENV) else {
        return Ok(None);
    };
    let bad = |e: &dyn std::fmt::Display| {
        EndpointError::RelayCa(
            std::path::PathBuf::from(&path).display().to_string(),
            e.to_string(),
        )
    };
    let roots = CertificateDer::pem_file_iter(&path)
        .map_err(|e| bad(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&e))?;
    Ok(Some(roots))
}

/// Why an endpoint could not be bound.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// The extra relay CA file is unreadable.
    #[error("{RELAY_CA_ENV}={0}: {1}")]
    RelayCa(String, String),
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
            let b = Endpoint::builder(presets::Minimal).relay_mode(RelayMode::custom([parsed]));
            match relay_ca()? {
                Some(roots) => {
                    b.ca_tls_config(iroh::tls::CaTlsConfig::default().with_extra_roots(roots))
                }
                None => b,
            }
        }
    };
    builder = builder.secret_key(key).transport_config(transport_config());
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
        .map_err(|e| EndpointError::Bind(chain(&e)))
}

/// An error and its causes, as one line ("Failed to bind sockets: Address in use").
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}
