//! Adopting the sessions whose holders outlived an earlier agent (a restart, an upgrade,
//! a crash).

use std::{io::ErrorKind, path::PathBuf, sync::Arc};

use tokio::net::UnixStream;
use vibemesh_core::proto::SessionId;

use super::{SessionManager, held::lock, link::HELLO_WAIT};

impl SessionManager {
    /// Adopts the sessions whose holders left their sockets in the holders folder, all
    /// at once: together they get [`HELLO_WAIT`] to greet, so a start never waits
    /// longer whatever the number. A holder that does not greet in time is listed as
    /// unreachable (adopted when it greets after all; `kill` stops it). Sockets nobody
    /// listens on any more are removed. Returns how many greeted in time.
    pub async fn adopt(self: &Arc<Self>) -> usize {
        let Some(dir) = self.config.holders.clone() else {
            return 0;
        };
        let mut adopting = Vec::new();
        // Reading a folder may wait on the disk: not on an async thread.
        let sockets = tokio::task::spawn_blocking(move || holder_sockets(&dir))
            .await
            .unwrap_or_default();
        for (id, path, created) in sockets {
            if self.read().contains_key(&id) {
                continue;
            }
            let conn = match UnixStream::connect(&path).await {
                Ok(c) => c,
                Err(e)
                    if matches!(e.kind(), ErrorKind::ConnectionRefused | ErrorKind::NotFound) =>
                {
                    // Left over from a holder that died (a reboot, a kill -9).
                    let _ = tokio::fs::remove_file(&path).await;
                    continue;
                }
                Err(e) => {
                    tracing::warn!("cannot reach the session holder at {}: {e}", path.display());
                    continue;
                }
            };
            adopting.push(self.install(conn, id, None, Some(path), created));
        }
        let _ = tokio::time::timeout(
            HELLO_WAIT,
            n0_future::join_all(adopting.iter().map(|s| s.link.greeted())),
        )
        .await;
        let mut adopted = 0;
        for s in &adopting {
            if lock(&s.meta).greeted {
                tracing::info!(session = %s.id, "adopted a running session");
                adopted += 1;
            } else {
                let why = s.link.trouble().unwrap_or_else(|| "no answer yet".into());
                tracing::warn!(
                    session = %s.id,
                    "cannot adopt the session yet ({why}): listed as unreachable"
                );
            }
        }
        adopted
    }
}

/// The sockets in the holders folder, with the sessions their names say they hold and
/// when they were made.
fn holder_sockets(dir: &std::path::Path) -> Vec<(SessionId, PathBuf, u64)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sock"))
        .filter_map(|p| {
            let id = p.file_stem()?.to_str()?.parse::<SessionId>().ok()?;
            let created = super::created_ms(&p);
            Some((id, p, created))
        })
        .collect()
}
