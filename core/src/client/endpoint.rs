//! Binding a native endpoint: the same relay rules for the agent, the desktop and the
//! phone.

use std::net::SocketAddr;

use iroh::{
    Endpoint, RelayMode, SecretKey,
    endpoint::{PortmapperConfig, presets},
};

use super::{relays::RelaySetting, transport::transport_config};

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
    /// A relay URL in the setting is not valid.
    #[error("relay URL {0:?} is not valid: {1}")]
    RelayUrl(String, String),
    /// A listen address is not usable.
    #[error("cannot listen on {0}: {1}")]
    Listen(String, String),
    /// Binding failed.
    #[error("cannot start the network endpoint: {0}")]
    Bind(String),
}

/// Binds an endpoint with `key` and the relays `relay` names (see [`RelaySetting`]); with
/// more than one relay of one's own, a home relay that fails is left for another at once
/// ([`super::relays::keep_home_relay_answering`]). `none` also turns port mapping off
/// (LANs and tests). A non-empty `listen` replaces the default sockets.
pub async fn bind_endpoint(
    key: SecretKey,
    relay: &RelaySetting,
    listen: &[SocketAddr],
) -> Result<Endpoint, EndpointError> {
    let own = relay
        .parsed()
        .map_err(|(url, e)| EndpointError::RelayUrl(url, e))?;
    let mut builder = if relay.is_default() {
        Endpoint::builder(presets::N0)
    } else if relay.is_none() {
        Endpoint::builder(presets::Minimal)
            .relay_mode(RelayMode::Disabled)
            .portmapper_config(PortmapperConfig::Disabled)
    } else {
        let b = Endpoint::builder(presets::Minimal).relay_mode(RelayMode::custom(own.clone()));
        match relay_ca()? {
            Some(roots) => {
                b.ca_tls_config(iroh::tls::CaTlsConfig::default().with_extra_roots(roots))
            }
            None => b,
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
    let ep = builder
        .bind()
        .await
        .map_err(|e| EndpointError::Bind(chain(&e)))?;
    if own.len() > 1 {
        super::relays::keep_home_relay_answering(&ep, own.len());
    }
    Ok(ep)
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
