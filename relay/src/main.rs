//! `vibemesh-relay`: an iroh relay and the VibeMesh web client on one port.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context as _;
use clap::Parser;
use vibemesh_relay::{Relay, RelayOptions, TlsSource, acme::AcmeSettings, tls::CertFiles};

/// An iroh relay for VibeMesh peers, serving the browser client on the same port.
/// Stateless: it keeps no sessions, accounts or keys.
#[derive(Debug, Parser)]
#[command(version = vibemesh_build_info::VERSION)]
struct Args {
    /// TCP address for the web client and the relay.
    #[arg(long, default_value = "127.0.0.1:3340")]
    listen: SocketAddr,
    /// UDP address for QUIC address discovery (needs --cert/--key); peers behind NAT
    /// learn their public address from it, which hole punching needs.
    #[arg(long)]
    quic: Option<SocketAddr>,
    /// Certificate chain (PEM) for HTTPS.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// Private key (PEM) for HTTPS.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// HTTPS with a certificate from Let's Encrypt for this public host name (repeat for
    /// more names). The CA checks it on this port (TLS-ALPN-01): listen on :443.
    #[arg(long, conflicts_with = "cert")]
    acme_domain: Vec<String>,
    /// Contact e-mail for the ACME account.
    #[arg(long, requires = "acme_domain")]
    acme_contact: Vec<String>,
    /// Where the ACME account key and certificates are kept between runs.
    #[arg(long, default_value = "acme-cache")]
    acme_cache: PathBuf,
    /// Another ACME directory, e.g. Let's Encrypt's staging one
    /// (https://acme-staging-v02.api.letsencrypt.org/directory) or a private CA.
    #[arg(long, requires = "acme_domain")]
    acme_directory: Option<String>,
    /// The built web client (web/dist); without it only the relay runs.
    #[arg(long)]
    web_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "vibemesh_relay=info,iroh_relay=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Plain text in journald, files and `docker logs`; colour only on a terminal.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    let tls = match (args.cert, args.key) {
        (Some(cert), Some(key)) => Some(TlsSource::Files(CertFiles { cert, key })),
        _ if !args.acme_domain.is_empty() => Some(TlsSource::Acme(AcmeSettings {
            domains: args.acme_domain,
            contact: args.acme_contact,
            cache_dir: args.acme_cache,
            directory: args.acme_directory,
        })),
        _ => None,
    };
    let relay = Relay::spawn(RelayOptions {
        listen: args.listen,
        quic: args.quic,
        tls,
        web_dir: args.web_dir,
    })
    .await
    .context("starting the relay")?;
    eprintln!("vibemesh-relay is running at {}", relay.url());
    if let Some(q) = relay.quic_addr() {
        eprintln!("QUIC address discovery on udp {q}");
    }
    wait_for_stop().await;
    relay.shutdown().await;
    Ok(())
}

async fn wait_for_stop() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
