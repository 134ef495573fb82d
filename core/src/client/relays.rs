//! Which relays a native endpoint uses, and moving off one that stops answering.
//!
//! A user may run their own relays in two places (`relay = ["https://a/", "https://b/"]`).
//! iroh homes the endpoint on one of them and, on its own, notices a dead home relay
//! only after about a minute (measured with iroh 1.4.1: it keeps the dead one until a
//! later network report). [`keep_home_relay_answering`] takes a home relay that fails
//! out of the endpoint's relay map at once, so iroh re-homes on another in about a
//! second, and puts it back after [`RETRY`] so it can be chosen again once it is up.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use iroh::{Endpoint, RelayConfig, RelayUrl, Watcher};
use serde::{Deserialize, Serialize};

/// How long a relay that failed as home stays out of the map.
pub const RETRY: Duration = Duration::from_secs(60);

/// Which relays an endpoint uses: `"default"` (n0's public relays and address lookup),
/// `"none"` (direct addresses only), or the URL of a relay of one's own, or a list of
/// them (the endpoint homes on the nearest and moves to another when it fails).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RelaySetting {
    /// `"default"`, `"none"` or one URL.
    One(String),
    /// Several relays of one's own.
    List(Vec<String>),
}

impl Default for RelaySetting {
    fn default() -> Self {
        RelaySetting::One("default".into())
    }
}

impl From<&str> for RelaySetting {
    fn from(s: &str) -> Self {
        RelaySetting::One(s.to_string())
    }
}

impl RelaySetting {
    /// The setting as a person writes it in one line, the way [`fmt::Display`] shows it:
    /// a word, a URL, or URLs separated by commas or spaces.
    pub fn from_text(text: &str) -> Self {
        let parts: Vec<String> = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        match <[String; 1]>::try_from(parts) {
            Ok([one]) => RelaySetting::One(one),
            Err(parts) if parts.is_empty() => RelaySetting::One(String::new()),
            Err(parts) => RelaySetting::List(parts),
        }
    }

    /// Relays off: direct addresses only.
    pub fn is_none(&self) -> bool {
        matches!(self, RelaySetting::One(s) if s == "none")
    }

    /// n0's public relays.
    pub fn is_default(&self) -> bool {
        matches!(self, RelaySetting::One(s) if s == "default")
    }

    /// The URLs of the user's own relays, in the order given (none for `default` and
    /// `none`).
    pub fn own(&self) -> Vec<&str> {
        match self {
            RelaySetting::One(s) if s == "default" || s == "none" => Vec::new(),
            RelaySetting::One(url) => vec![url.as_str()],
            RelaySetting::List(urls) => urls.iter().map(String::as_str).collect(),
        }
    }

    /// The relays as iroh's URLs, or the first that does not parse and why.
    pub fn parsed(&self) -> Result<Vec<RelayUrl>, (String, String)> {
        self.own()
            .into_iter()
            .map(|u| {
                u.parse::<RelayUrl>()
                    .map_err(|e| (u.to_string(), e.to_string()))
            })
            .collect()
    }

    /// Why the setting is unusable, if it is: a word other than `default`/`none`, an
    /// empty list, or a URL that is not http(s).
    pub fn validate(&self) -> Result<(), String> {
        let bad = |s: &str| {
            format!(
                "relay = {s:?}: expected \"default\", \"none\", an http(s) URL or a list of them"
            )
        };
        match self {
            RelaySetting::One(s) if s == "default" || s == "none" => Ok(()),
            RelaySetting::List(urls) if urls.is_empty() => Err(bad("[]")),
            _ => {
                for url in self.own() {
                    if !(url.starts_with("http://") || url.starts_with("https://")) {
                        return Err(bad(url));
                    }
                    if let Err(e) = url.parse::<RelayUrl>() {
                        return Err(format!("relay {url:?} is not a valid URL: {e}"));
                    }
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for RelaySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelaySetting::One(s) => f.write_str(s),
            RelaySetting::List(urls) => f.write_str(&urls.join(", ")),
        }
    }
}

/// Watches `ep`'s home relay (`relays` in its map): when it fails (disconnected with an
/// error) and another relay is left in the map, takes it out so iroh homes on another
/// at once, and puts it back after [`RETRY`]. Runs until the endpoint is closed.
pub fn keep_home_relay_answering(ep: &Endpoint, relays: usize) {
    let ep = ep.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = ep.closed() => {}
            _ = move_off_failed(&ep, relays) => {}
        }
    });
}

async fn move_off_failed(ep: &Endpoint, relays: usize) {
    let in_map = Arc::new(AtomicUsize::new(relays));
    let mut status = ep.home_relay_status();
    loop {
        let failed: Vec<RelayUrl> = status
            .get()
            .iter()
            .filter(|s| !s.is_connected() && s.last_error().is_some())
            .map(|s| s.url().clone())
            .collect();
        for url in failed {
            if in_map.load(Ordering::Acquire) > 1
                && let Some(config) = ep.remove_relay(&url).await
            {
                in_map.fetch_sub(1, Ordering::AcqRel);
                tracing::warn!(%url, "home relay failed: moving to another relay");
                put_back_later(ep, url, config, in_map.clone());
            }
        }
        if status.updated().await.is_err() {
            return;
        }
    }
}

fn put_back_later(
    ep: &Endpoint,
    url: RelayUrl,
    config: Arc<RelayConfig>,
    in_map: Arc<AtomicUsize>,
) {
    let ep = ep.clone();
    tokio::spawn(async move {
        tokio::time::sleep(RETRY).await;
        if !ep.is_closed() && ep.insert_relay(url, config).await.is_none() {
            in_map.fetch_add(1, Ordering::AcqRel);
        }
    });
}
