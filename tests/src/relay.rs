//! A relay for tests, and a tap that records every byte peers exchange with it.

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    time::Instant,
};
use vibemesh_relay::{Relay, RelayOptions};

/// Starts `vibemesh-relay` in this process on 127.0.0.1 (plain HTTP), serving the web
/// client in `web_dir` when given.
pub async fn start_relay(web_dir: Option<PathBuf>) -> Relay {
    Relay::spawn(RelayOptions {
        listen: "127.0.0.1:0".parse().expect("addr"),
        quic: None,
        tls: None,
        web_dir,
    })
    .await
    .expect("start the relay")
}

/// Starts `vibemesh-relay` in this process on `ip` (plain HTTP, no web client): for
/// peers in a network namespace, which cannot reach our 127.0.0.1.
pub async fn start_relay_on(ip: std::net::IpAddr) -> Relay {
    Relay::spawn(RelayOptions {
        listen: SocketAddr::new(ip, 0),
        quic: None,
        tls: None,
        web_dir: None,
    })
    .await
    .expect("start the relay")
}

/// A TCP proxy in front of a relay that keeps a copy of everything it forwards, both
/// ways: exactly what the relay receives from peers and sends to them.
pub struct Tap {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<u8>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Tap {
    /// Listens on 127.0.0.1 and forwards each connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        Self::start_delayed(upstream, Duration::ZERO).await
    }

    /// Like [`Tap::start`], holding every chunk `each_way` in each direction before
    /// passing it on, in order: a slow link (twice that round trip) for whoever reaches
    /// the relay through it, with no root needed.
    pub async fn start_delayed(upstream: SocketAddr, each_way: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind tap");
        let addr = listener.local_addr().expect("tap addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((down, _)) = listener.accept().await {
                let seen = seen2.clone();
                tokio::spawn(async move {
                    let Ok(up) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let (dr, dw) = down.into_split();
                    let (ur, uw) = up.into_split();
                    tokio::join!(
                        copy(dr, uw, seen.clone(), each_way),
                        copy(ur, dw, seen, each_way)
                    );
                });
            }
        });
        Self { addr, seen, task }
    }

    /// The URL peers use instead of the relay's.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Everything forwarded so far.
    pub fn captured(&self) -> Vec<u8> {
        self.seen.lock().unwrap().clone()
    }

    /// Whether `needle` occurs anywhere in what was forwarded.
    pub fn saw(&self, needle: &[u8]) -> bool {
        self.seen
            .lock()
            .unwrap()
            .windows(needle.len())
            .any(|w| w == needle)
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn copy(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    seen: Arc<Mutex<Vec<u8>>>,
    delay: Duration,
) {
    // Read as it comes; each chunk is written `delay` after it was read.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            seen.lock().unwrap().extend_from_slice(&buf[..n]);
            if tx
                .send((Instant::now() + delay, buf[..n].to_vec()))
                .is_err()
            {
                break;
            }
        }
    };
    let writer = async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}
