//! One TCP port for both jobs: `/relay` goes to iroh's relay service, everything else to
//! the web router.
//!
//! iroh's relay service downcasts the upgraded connection to its own `MaybeTlsStream`,
//! so it cannot sit behind `axum::serve`; this loop owns the accept and the TLS handshake
//! and hands each connection to hyper with that stream type.

use std::{sync::Arc, time::Duration};

use axum::body::Body;
use hyper::{body::Incoming, service::Service as _};
use iroh_relay::server::{
    RelayService, http_server::RelayServiceWithNotify, streams::MaybeTlsStream,
};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt as _;

/// A TLS handshake that takes longer than this is dropped, so idle sockets cannot pile up.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Accepts connections until the task is aborted.
pub async fn accept_loop(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    relay: RelayService,
    app: axum::Router,
) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: the next accept may work.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let (tls, relay, app) = (tls.clone(), relay.clone(), app.clone());
        tokio::spawn(async move {
            if let Err(e) = serve_connection(tcp, tls, relay, app).await {
                tracing::debug!(%peer, "connection ended: {e}");
            }
        });
    }
}

async fn serve_connection(
    tcp: TcpStream,
    tls: Option<tokio_rustls::TlsAcceptor>,
    relay: RelayService,
    app: axum::Router,
) -> Result<(), BoxError> {
    let stream = match tls {
        Some(acceptor) => {
            let tls = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await??;
            MaybeTlsStream::Tls(tls)
        }
        None => MaybeTlsStream::Plain(tcp),
    };
    let relay = RelayServiceWithNotify::new(relay, Arc::new(tokio::sync::Notify::new()));
    let svc = hyper::service::service_fn(move |req| route(req, relay.clone(), app.clone()));
    hyper::server::conn::http1::Builder::new()
        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
        .with_upgrades()
        .await?;
    Ok(())
}

// A named async fn: as a closure the error type does not infer ("implementation of
// `From` is not general enough").
async fn route(
    req: http::Request<Incoming>,
    relay: RelayServiceWithNotify,
    app: axum::Router,
) -> Result<http::Response<Body>, BoxError> {
    if req.uri().path() == iroh_relay::http::RELAY_PATH {
        Ok(relay.call(req).await?.map(Body::new))
    } else {
        match app.oneshot(req.map(Body::new)).await {
            Ok(resp) => Ok(resp),
            Err(never) => match never {},
        }
    }
}
