//! Says once in the log when the relay cannot be reached, and once when it is back.
//! iroh keeps retrying meanwhile with its own backoff, and peers on the LAN are still
//! found; its per-attempt warnings are kept out of the log ([`crate::log`]).

use std::time::Duration;

use iroh::{Endpoint, Watcher};

/// How long without a relay before the log says so: a start on a slow network connects
/// within this, a machine with no network never does.
pub const OFFLINE_AFTER: Duration = Duration::from_secs(10);

/// Watches `ep`'s home relay until the endpoint is closed. Costs nothing while nothing
/// changes: it waits on iroh's status watcher, with one timer while not connected.
pub async fn watch(ep: &Endpoint) {
    tokio::select! {
        _ = ep.closed() => {}
        _ = say_changes(ep.home_relay_status()) => {}
    }
}

async fn say_changes(mut status: impl Watcher<Value = Vec<iroh::endpoint::RelayStatus>>) {
    let mut connected = false;
    let mut said_offline = false;
    loop {
        let now = status.get();
        let up = now.iter().any(|s| s.is_connected());
        if up && !connected && said_offline {
            tracing::info!("the relay is reachable again");
        }
        if up {
            said_offline = false;
        }
        connected = up;
        let waited = match connected || said_offline {
            true => Ok(status.updated().await),
            false => tokio::time::timeout(OFFLINE_AFTER, status.updated()).await,
        };
        match waited {
            Ok(Ok(_)) => {}
            // The endpoint is gone.
            Ok(Err(_)) => return,
            Err(_) => {
                let why = status
                    .get()
                    .iter()
                    .find_map(|s| s.last_error().map(|e| format!(": {e}")))
                    .unwrap_or_default();
                tracing::warn!(
                    "the relay cannot be reached{why}; peers on this LAN are still found, \
                     others once the network is back (said once; iroh keeps trying)"
                );
                said_offline = true;
            }
        }
    }
}
