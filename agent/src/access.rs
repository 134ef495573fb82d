//! Who may connect here, which agents we can reach, and the live connections of each.
//!
//! Both lists live in one JSON file (`peers.json`), written atomically on every change
//! so a crash never leaves it half-written. A damaged file stops the agent with a clear
//! error instead of being overwritten, so no pairing is ever silently lost.

use std::{collections::HashMap, net::SocketAddr, path::PathBuf, sync::Mutex};

use iroh::endpoint::Connection;
use serde::{Deserialize, Serialize};
use vibemesh_core::{
    EndpointId, ErrorCode, WireError,
    proto::{Role, local::PeerEntry},
};

use vibemesh_core::sync::lock;
use vibemesh_core::time::now_ms;

/// A client allowed to connect here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllowedClient {
    /// Its key.
    pub id: EndpointId,
    /// The name it gave when pairing.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// When it paired.
    pub added_ms: u64,
    /// When it last connected.
    pub last_seen_ms: Option<u64>,
}

/// An agent we paired with and can reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnownAgent {
    /// Its key.
    pub id: EndpointId,
    /// What we call it.
    pub name: String,
    /// Its direct addresses, from the ticket.
    pub addrs: Vec<SocketAddr>,
    /// Its relay, from the ticket.
    pub relay: Option<String>,
    /// Its other relays, from the ticket: where it goes when its relay fails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_relays: Vec<String>,
    /// What we may do there.
    pub role: Role,
    /// When we paired.
    pub added_ms: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Book {
    allowed: Vec<AllowedClient>,
    known: Vec<KnownAgent>,
}

/// Why the peer file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The file is damaged.
    #[error("{path} is damaged ({message}); fix or move it away to start with no peers")]
    Damaged {
        /// The file.
        path: String,
        /// The parse error.
        message: String,
    },
}

/// The allow-list, the known agents and the live connections.
pub struct Access {
    path: PathBuf,
    book: Mutex<Book>,
    live: Mutex<HashMap<EndpointId, Vec<Connection>>>,
}

impl Access {
    /// Loads `path` (empty lists when it does not exist).
    pub fn load(path: PathBuf) -> Result<Self, AccessError> {
        let shown = path.display().to_string();
        let book = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| AccessError::Damaged {
                path: shown,
                message: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Book::default(),
            Err(source) => {
                return Err(AccessError::Io {
                    path: shown,
                    source,
                });
            }
        };
        Ok(Self {
            path,
            book: Mutex::new(book),
            live: Mutex::new(HashMap::new()),
        })
    }

    fn save(&self, book: &Book) -> Result<(), WireError> {
        let bytes = serde_json::to_vec_pretty(book)
            .map_err(|e| WireError::new(ErrorCode::Internal, e.to_string()))?;
        vibemesh_core::identity::write_private(&self.path, &bytes).map_err(|e| {
            WireError::new(
                ErrorCode::Internal,
                format!("cannot save {}: {e}", self.path.display()),
            )
        })
    }

    /// The role of a client, if it is allowed in.
    pub fn role_of(&self, id: &EndpointId) -> Option<Role> {
        lock(&self.book)
            .allowed
            .iter()
            .find(|c| c.id == *id)
            .map(|c| c.role)
    }

    /// Notes that a client connected now.
    pub fn seen(&self, id: &EndpointId) {
        let mut book = lock(&self.book);
        if let Some(c) = book.allowed.iter_mut().find(|c| c.id == *id) {
            c.last_seen_ms = Some(now_ms());
            if let Err(e) = self.save(&book) {
                tracing::warn!("{e}");
            }
        }
    }

    /// Lets a client in (or changes its role and name). Returns the name it is listed
    /// under: `name`, or `name-2` (`-3`, ...) when another peer has that name.
    pub fn allow(&self, id: EndpointId, name: String, role: Role) -> Result<String, WireError> {
        let mut book = lock(&self.book);
        let name = book.unique_name(&name, id);
        book.allowed.retain(|c| c.id != id);
        book.allowed.push(AllowedClient {
            id,
            name: name.clone(),
            role,
            added_ms: now_ms(),
            last_seen_ms: None,
        });
        self.save(&book)?;
        Ok(name)
    }

    /// Remembers an agent we paired with, replacing an older entry for the same key.
    /// Its name is made unique like [`Access::allow`]'s; returns the name it got.
    pub fn add_known(&self, mut agent: KnownAgent) -> Result<String, WireError> {
        let mut book = lock(&self.book);
        agent.name = book.unique_name(&agent.name, agent.id);
        let name = agent.name.clone();
        book.known.retain(|k| k.id != agent.id);
        book.known.push(agent);
        self.save(&book)?;
        Ok(name)
    }

    /// Every agent we can reach.
    pub fn known(&self) -> Vec<KnownAgent> {
        lock(&self.book).known.clone()
    }

    /// Finds a known agent by name, full id or unique id prefix.
    pub fn find_known(&self, name: &str) -> Result<KnownAgent, WireError> {
        let book = lock(&self.book);
        let id = resolve(name, book.known.iter().map(|k| (k.name.as_str(), k.id)))?;
        book.known
            .iter()
            .find(|k| k.id == id)
            .cloned()
            .ok_or_else(|| unknown(name))
    }

    /// Both lists, merged by key.
    pub fn entries(&self) -> Vec<PeerEntry> {
        let book = lock(&self.book);
        let mut out: Vec<PeerEntry> = Vec::new();
        for k in &book.known {
            out.push(PeerEntry {
                name: k.name.clone(),
                id: k.id,
                reachable: true,
                allowed: None,
                our_role: Some(k.role),
                added_ms: k.added_ms,
                last_seen_ms: None,
            });
        }
        for c in &book.allowed {
            match out.iter_mut().find(|e| e.id == c.id) {
                Some(e) => {
                    e.allowed = Some(c.role);
                    e.last_seen_ms = c.last_seen_ms;
                }
                None => out.push(PeerEntry {
                    name: c.name.clone(),
                    id: c.id,
                    reachable: false,
                    allowed: Some(c.role),
                    our_role: None,
                    added_ms: c.added_ms,
                    last_seen_ms: c.last_seen_ms,
                }),
            }
        }
        out
    }

    /// Forgets a peer in both directions and closes its live connections at once.
    pub fn remove(&self, name: &str) -> Result<PeerEntry, WireError> {
        let entries = self.entries();
        let id = resolve(name, entries.iter().map(|e| (e.name.as_str(), e.id)))?;
        let entry = entries
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| unknown(name))?;
        {
            let mut book = lock(&self.book);
            book.allowed.retain(|c| c.id != id);
            book.known.retain(|k| k.id != id);
            self.save(&book)?;
        }
        for conn in lock(&self.live).remove(&id).unwrap_or_default() {
            conn.close(ErrorCode::Revoked.to_u32().into(), b"access revoked");
        }
        Ok(entry)
    }

    /// Tracks an accepted connection so revoking its peer can close it. Returns false
    /// (and tracks nothing) when the peer is no longer allowed.
    pub fn register(&self, conn: &Connection) -> Result<(), Refused> {
        let id = conn.remote_id();
        let mut live = lock(&self.live);
        // Checked under the live lock so a concurrent remove cannot miss this connection.
        if self.role_of(&id).is_none() {
            return Err(Refused::NotPaired);
        }
        let list = live.entry(id).or_default();
        list.retain(|c| c.close_reason().is_none());
        if list.len() >= MAX_CONNECTIONS_PER_PEER {
            return Err(Refused::TooMany);
        }
        list.push(conn.clone());
        Ok(())
    }

    /// Stops tracking a connection that ended.
    pub fn unregister(&self, conn: &Connection) {
        let id = conn.remote_id();
        let mut live = lock(&self.live);
        if let Some(list) = live.get_mut(&id) {
            list.retain(|c| c.stable_id() != conn.stable_id());
            if list.is_empty() {
                live.remove(&id);
            }
        }
    }
}

/// Most live connections one paired key may hold here: each may carry 100 streams, and
/// a client needs one (a reconnecting one, two for a few seconds).
pub const MAX_CONNECTIONS_PER_PEER: usize = 16;

/// Why [`Access::register`] refused a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The key is not (or no longer) on the allow-list.
    NotPaired,
    /// The key holds [`MAX_CONNECTIONS_PER_PEER`] connections already.
    TooMany,
}

fn unknown(name: &str) -> WireError {
    WireError::new(
        ErrorCode::NotFound,
        format!("no peer called {name:?}; `vibemesh peers` lists them"),
    )
}

/// Resolves a name, a full id or a unique prefix of an id (at least 4 characters). A
/// name two peers share (left by an older agent, or a hand-edited file) is refused with
/// both ids: removing or reaching "the first" of them would be a guess.
fn resolve<'a>(
    name: &str,
    named: impl Iterator<Item = (&'a str, EndpointId)> + Clone,
) -> Result<EndpointId, WireError> {
    let same: Vec<EndpointId> = named
        .clone()
        .filter(|(n, _)| *n == name)
        .map(|(_, id)| id)
        .collect();
    match same.as_slice() {
        [one] => return Ok(*one),
        [] => {}
        several => {
            let ids: Vec<String> = several
                .iter()
                .map(|id| id.fmt_short().to_string())
                .collect();
            return Err(WireError::new(
                ErrorCode::BadRequest,
                format!(
                    "{} peers are called {name:?} (ids {}); name one by its id (a prefix will do)",
                    several.len(),
                    ids.join(", ")
                ),
            ));
        }
    }
    let lower = name.to_ascii_lowercase();
    if lower.len() >= 4 {
        let mut ids: Vec<EndpointId> = named
            .map(|(_, id)| id)
            .filter(|id| id.to_string().starts_with(&lower))
            .collect();
        ids.dedup();
        match ids.as_slice() {
            [one] => return Ok(*one),
            [] => {}
            _ => {
                return Err(WireError::new(
                    ErrorCode::BadRequest,
                    format!("{name:?} matches several peers; give more of the id"),
                ));
            }
        }
    }
    Err(unknown(name))
}

/// The longest peer name.
const MAX_NAME: usize = 64;

impl Book {
    /// `wanted`, or `wanted-2`, `wanted-3`, ... when a peer other than `id` (in either
    /// list) is called that already, so every name picks one peer.
    fn unique_name(&self, wanted: &str, id: EndpointId) -> String {
        let taken = |n: &str| {
            self.known.iter().any(|k| k.name == n && k.id != id)
                || self.allowed.iter().any(|c| c.name == n && c.id != id)
        };
        if !taken(wanted) {
            return wanted.to_string();
        }
        (2u32..)
            .map(|i| {
                let suffix = format!("-{i}");
                let room = MAX_NAME.saturating_sub(suffix.len());
                let base: String = wanted.chars().take(room).collect();
                format!("{base}{suffix}")
            })
            .find(|n| !taken(n))
            .unwrap_or_else(|| id.to_string())
    }
}
