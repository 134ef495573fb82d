//! Certificates from an ACME certificate authority (Let's Encrypt unless told
//! otherwise), fetched at start and renewed while the relay runs. The CA validates with
//! TLS-ALPN-01 on the relay's own TLS port, so a public relay on 443 needs nothing on
//! port 80. The account key and certificates are cached in a folder, so a restart does
//! not ask the CA again (and does not run into its rate limits).

use std::{path::PathBuf, sync::Arc};

use n0_future::StreamExt;
use tokio_rustls_acme::{AcmeConfig, acme::ACME_TLS_ALPN_NAME, caches::DirCache};

use crate::tls::TlsError;

/// How the relay gets its certificate from a CA.
#[derive(Debug, Clone)]
pub struct AcmeSettings {
    /// The relay's public host names (at least one); each must resolve to this machine.
    pub domains: Vec<String>,
    /// Contact e-mail addresses for the CA account (optional).
    pub contact: Vec<String>,
    /// Where the account key and certificates are kept between runs.
    pub cache_dir: PathBuf,
    /// An ACME directory URL instead of Let's Encrypt's production one (its staging
    /// directory for trials, or a private CA).
    pub directory: Option<String>,
}

/// A server config whose certificate the ACME client provides, and a task that gets and
/// renews it (it logs each step; a failure is retried by the client with backoff, and
/// until a certificate exists handshakes fail rather than the relay stopping).
pub fn server_config(s: &AcmeSettings) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    if s.domains.is_empty() {
        return Err(TlsError::Acme(
            "give the relay's public host name (--acme-domain)".into(),
        ));
    }
    let contact = s.contact.iter().map(|c| {
        if c.starts_with("mailto:") {
            c.clone()
        } else {
            format!("mailto:{c}")
        }
    });
    let config = AcmeConfig::new(&s.domains)
        .contact(contact)
        .cache(DirCache::new(s.cache_dir.clone()));
    let config = match &s.directory {
        Some(url) => config.directory(url),
        None => config.directory_lets_encrypt(true),
    };
    let mut state = config.state();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Acme(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(state.resolver());
    // The CA's validation handshake asks for acme-tls/1; the resolver answers it with
    // the challenge certificate.
    server.alpn_protocols = vec![b"http/1.1".to_vec(), ACME_TLS_ALPN_NAME.to_vec()];
    tokio::spawn(async move {
        while let Some(event) = state.next().await {
            match event {
                Ok(ok) => tracing::info!("ACME: {ok:?}"),
                Err(e) => tracing::warn!("ACME: {e}"),
            }
        }
    });
    Ok(Arc::new(server))
}
