//! A relay for tests, and a tap that records every byte peers exchange with it.

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
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
                    tokio::join!(copy(dr, uw, seen.clone()), copy(ur, dw, seen));
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
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        seen.lock().unwrap().extend_from_slice(&buf[..n]);
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
