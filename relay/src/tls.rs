//! Certificate files (PEM) to a rustls server config.

use std::{path::PathBuf, sync::Arc};

use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

/// A certificate chain and its private key, as PEM files.
#[derive(Debug, Clone)]
pub struct CertFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// Why the certificate could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file is missing or not PEM.
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, String),
    /// The certificate file holds no certificate.
    #[error("{0} holds no certificate")]
    NoCert(PathBuf),
    /// The key does not fit the certificate, or is of an unsupported kind.
    #[error("the certificate and key cannot be used together: {0}")]
    Config(String),
    /// The ACME settings cannot work.
    #[error("ACME: {0}")]
    Acme(String),
}

/// Loads the files into a server config (TLS 1.2 and 1.3, HTTP/1.1 only: the relay
/// upgrades to a WebSocket).
pub fn server_config(files: &CertFiles) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| TlsError::Read(files.cert.clone(), e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Read(files.cert.clone(), e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::NoCert(files.cert.clone()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| TlsError::Read(files.key.clone(), e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
