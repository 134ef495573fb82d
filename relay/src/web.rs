//! The web side of the relay: the browser client's files, a health check, metrics, and
//! the probe paths iroh clients use to measure latency and detect captive portals.
//!
//! The files come from memory ([`crate::assets`]): compressed as the browser allows,
//! cached for good under `/a/`, revalidated by ETag elsewhere.

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::get,
};
use iroh_relay::server::Metrics;

pub use crate::assets::Files;
use crate::assets::IMMUTABLE_PREFIX;

#[derive(Clone)]
struct AppState {
    files: Files,
    metrics: Arc<Metrics>,
}

/// The router for every path but `/relay`.
pub fn router(files: Files, metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics_text))
        .route(iroh_relay::http::RELAY_PROBE_PATH, get(|| async { "" }))
        .route("/generate_204", get(no_content))
        .route(
            "/robots.txt",
            get(|| async { "User-agent: *\nDisallow: /\n" }),
        )
        .fallback(get(file))
        .with_state(AppState { files, metrics })
}

async fn health(State(st): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        format!(
            "{{\"status\":\"ok\",\"version\":\"{}\",\"web_files\":{}}}",
            env!("CARGO_PKG_VERSION"),
            st.files.len()
        ),
    )
}

async fn metrics_text(State(st): State<AppState>) -> Response {
    let mut registry = iroh_metrics::Registry::default();
    registry.register(st.metrics.clone());
    let mut out = String::new();
    match registry.encode_openmetrics_to_writer(&mut out) {
        Ok(()) => (
            // OpenMetrics ends with an EOF marker; the registry leaves it to the caller.
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            out + "# EOF\n",
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// iroh's captive-portal check: answer its challenge header.
async fn no_content(headers: HeaderMap) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Some(challenge) = headers
        .get("X-Iroh-Challenge")
        .and_then(|v| v.to_str().ok())
        && challenge.len() < 64
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && let Ok(v) = HeaderValue::from_str(&format!("response {challenge}"))
    {
        resp.headers_mut().insert("X-Iroh-Response", v);
    }
    resp
}

/// What the client's pages may do: run only our own scripts and the wasm module
/// (`'wasm-unsafe-eval'` compiles it, nothing evals text), talk only to this server (the
/// iroh relay's websocket at `/relay` included: CSP 3's `'self'` covers `ws:`/`wss:` to
/// the same host), and never be framed. Styles may be inline: xterm.js draws its theme
/// with a `<style>` element.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

async fn file(State(st): State<AppState>, uri: Uri, req: HeaderMap) -> Response {
    let path = match uri.path() {
        "/" => "/index.html",
        p => p,
    };
    match st.files.get(path) {
        Some(asset) => {
            let immutable = path.starts_with(IMMUTABLE_PREFIX);
            let mut resp = if !immutable && asset.not_modified(&req) {
                StatusCode::NOT_MODIFIED.into_response()
            } else {
                let (body, encoding) = asset.negotiate(&req);
                let mut resp = Response::new(Body::from(body));
                if let Some(e) = encoding {
                    resp.headers_mut()
                        .insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
                }
                resp
            };
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            );
            h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
            h.insert(header::ETAG, asset.etag.clone());
            // Content-hashed names never change: kept for a year, never asked again. The
            // page (and its manifest and service worker) is asked for every time, by
            // ETag: a few hundred bytes when nothing changed.
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(if immutable {
                    "public, max-age=31536000, immutable"
                } else {
                    "no-cache"
                }),
            );
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            );
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            // The pairing ticket lives in the URL's fragment, which is never sent; this
            // keeps the rest of the address to ourselves too.
            h.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            resp
        }
        None if st.files.is_empty() && path == "/index.html" => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "VibeMesh relay. No web client is installed here (start it with --web-dir).\n",
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
