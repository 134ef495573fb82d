//! `vibemesh-relay`: the one server a VibeMesh user may run. It is an iroh relay (so
//! peers behind NAT always reach each other and can hole-punch, without depending on
//! anyone else's relays) and it serves the browser client's static files, both on one
//! TCP port; QUIC address discovery (QAD) answers on a UDP port next to it.
//!
//! It keeps no sessions, accounts or keys (only its TLS certificate): what it forwards is
//! QUIC between peers, encrypted end to end.
//!
//! - [`serve`]: the accept loop that sends `/relay` to iroh's relay service and every
//!   other request to the [`web`] router.
//! - [`web`]: the browser client's files, `/health`, `/metrics` and iroh's probe paths.
//! - [`tls`]: certificate files to a rustls server config.
//! - [`acme`]: or a certificate fetched and renewed from an ACME CA (Let's Encrypt).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod acme;
pub mod assets;
pub mod serve;
pub mod tls;
pub mod web;

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use iroh_relay::server::{
    self as relay_server, AllowAll, Metrics, QuicConfig, RelayService, ServerConfig,
};
use tokio::net::TcpListener;

/// What to run.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// The TCP address for the web client and `/relay` (HTTP, or HTTPS with `tls`).
    pub listen: SocketAddr,
    /// The UDP address for QUIC address discovery; needs `tls`.
    pub quic: Option<SocketAddr>,
    /// Where the certificate comes from; plain HTTP without one.
    pub tls: Option<TlsSource>,
    /// The built browser client (`index.html` and its files); no web client without it.
    pub web_dir: Option<PathBuf>,
}

/// Where the relay's TLS certificate comes from.
#[derive(Debug, Clone)]
pub enum TlsSource {
    /// Certificate and key files (PEM).
    Files(tls::CertFiles),
    /// An ACME CA, which the relay asks for a certificate and renews it with.
    Acme(acme::AcmeSettings),
}

/// Why the relay could not start.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The TCP port could not be opened.
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
    /// QAD was asked for without a certificate.
    #[error("QUIC address discovery needs TLS: give a certificate and key, or --acme-domain")]
    QuicNeedsTls,
    /// The QAD server failed to start.
    #[error("cannot start QUIC address discovery on {0}: {1}")]
    Quic(SocketAddr, String),
    /// The certificate files are unusable.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The web client's folder is unreadable.
    #[error("cannot read the web client in {0}: {1}")]
    Web(PathBuf, std::io::Error),
}

/// A running relay. Dropping it stops it.
pub struct Relay {
    addr: SocketAddr,
    https: bool,
    qad: Option<relay_server::Server>,
    service: RelayService,
    accept: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("addr", &self.addr)
            .field("https", &self.https)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// Opens the ports and starts serving.
    pub async fn spawn(opts: RelayOptions) -> Result<Self, RelayError> {
        let tls = match &opts.tls {
            None => None,
            Some(TlsSource::Files(files)) => Some(tls::server_config(files)?),
            Some(TlsSource::Acme(settings)) => Some(acme::server_config(settings)?),
        };
        let files = match &opts.web_dir {
            Some(dir) => web::Files::load(dir).map_err(|e| RelayError::Web(dir.clone(), e))?,
            None => web::Files::default(),
        };
        let metrics = Arc::new(Metrics::default());
        let service = RelayService::new(
            Default::default(),
            Default::default(),
            None,
            iroh_relay::KeyCache::new(1024),
            Arc::new(AllowAll),
            metrics.clone(),
        );
        let listener = TcpListener::bind(opts.listen)
            .await
            .map_err(|e| RelayError::Listen(opts.listen, e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| RelayError::Listen(opts.listen, e))?;
        let qad = match opts.quic {
            None => None,
            Some(quic_addr) => {
                let cfg = tls.clone().ok_or(RelayError::QuicNeedsTls)?;
                let mut q = QuicConfig::new(quic_addr);
                q.server_config = Some((*cfg).clone());
                let mut config = ServerConfig::default();
                config.quic = Some(q);
                Some(
                    relay_server::Server::spawn(config)
                        .await
                        .map_err(|e| RelayError::Quic(quic_addr, e.to_string()))?,
                )
            }
        };
        let app = web::router(files, metrics);
        let accept = tokio::spawn(serve::accept_loop(
            listener,
            tls.map(tokio_rustls::TlsAcceptor::from),
            service.clone(),
            app,
        ));
        tracing::info!(%addr, https = opts.tls.is_some(), "relay listening");
        Ok(Self {
            addr,
            https: opts.tls.is_some(),
            qad,
            service,
            accept,
        })
    }

    /// The TCP address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The UDP address of QUIC address discovery, when it runs.
    pub fn quic_addr(&self) -> Option<SocketAddr> {
        self.qad.as_ref().and_then(|q| q.quic_addr())
    }

    /// The URL peers use (`http://ip:port/` or `https://ip:port/`).
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}/", self.addr)
    }

    /// Stops accepting, disconnects every peer and stops QAD.
    pub async fn shutdown(mut self) {
        self.accept.abort();
        self.service.shutdown().await;
        if let Some(q) = self.qad.take() {
            let _ = q.shutdown().await;
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
