//! The local protocol: how the `vibemesh` CLI talks to the agent on its own machine over
//! a Unix socket only the owner can open.
//!
//! Each socket connection starts with one [`LocalOpen`] frame.
//! - [`LocalOpen::Admin`]: one [`AdminRequest`], one [`AdminResponse`], then the end.
//! - [`LocalOpen::Route`]: the agent answers with a [`RouteReply`]; after an `Ok` the
//!   connection *is* a stream of the main protocol on the target agent (it starts with a
//!   [`super::StreamOpen`] frame), carried by this agent over its iroh connection, or
//!   served by this agent itself for [`Target::Local`].

use serde::{Deserialize, Serialize};

use super::Role;
use crate::{EndpointId, WireError};

/// The first frame on a local socket connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LocalOpen {
    /// A main-protocol stream to this agent or a peer.
    Route(Target),
    /// An administrative request to this agent.
    Admin(AdminRequest),
}

/// Where a routed stream goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// This machine's own agent.
    Local,
    /// A known peer, by name or by id (a unique prefix of its id works too).
    Peer(String),
}

/// The agent's answer to [`LocalOpen::Route`].
pub type RouteReply = Result<RouteInfo, WireError>;

/// Which peer a routed stream reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteInfo {
    /// The peer's name as this agent knows it (`local` for itself).
    pub name: String,
    /// The peer's id.
    pub id: EndpointId,
}

/// Administrative requests only the machine's owner can make.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AdminRequest {
    /// This agent and how each known peer is reached.
    Status,
    /// Mint a one-time pairing ticket.
    Pair {
        /// What the client that uses it may do.
        role: Role,
        /// Seconds until it expires; the configured default when `None`.
        ttl_secs: Option<u64>,
    },
    /// Pair with the agent a ticket names and remember it.
    Join {
        /// The ticket text.
        ticket: String,
        /// The name to remember it by; its own name when `None`.
        name: Option<String>,
    },
    /// Every peer: the agents this one can reach and the clients allowed on it.
    Peers,
    /// Forget a peer by name or id: it loses access and its connections close.
    RemovePeer(String),
    /// Waits until the connection to a known peer is carried by `path`: an event to
    /// wait on instead of polling `Status` (and how long a path change takes).
    WaitPath {
        /// The peer, by name or id.
        peer: String,
        /// The path to wait for.
        path: PathKind,
        /// How long to wait before answering with an error.
        timeout_ms: u64,
    },
    /// Re-reads `config.toml`: the allowed roots apply at once.
    Reload,
}

/// How a connection reaches its peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum PathKind {
    /// Straight to the peer's address (hole punched, or on the same network).
    Direct,
    /// Through a relay server.
    Relay,
}

impl PathKind {
    /// The word `vibemesh status` uses for it.
    pub fn as_str(self) -> &'static str {
        match self {
            PathKind::Direct => "direct",
            PathKind::Relay => "relay",
        }
    }
}

/// The answer to an [`AdminRequest`].
pub type AdminResponse = Result<AdminReply, WireError>;

/// A successful admin answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AdminReply {
    /// Answer to [`AdminRequest::Status`].
    Status(StatusReport),
    /// Answer to [`AdminRequest::Pair`].
    Ticket(TicketInfo),
    /// Answer to [`AdminRequest::Join`].
    Joined(PeerEntry),
    /// Answer to [`AdminRequest::Peers`].
    Peers(Vec<PeerEntry>),
    /// Answer to [`AdminRequest::RemovePeer`].
    Removed(PeerEntry),
    /// Answer to [`AdminRequest::WaitPath`]: the path was reached after `waited_ms`.
    PathReached {
        /// The path now selected.
        path: PathKind,
        /// How long the wait took.
        waited_ms: u64,
    },
    /// Answer to [`AdminRequest::Reload`].
    Reloaded {
        /// The allowed roots now in force.
        roots: Vec<String>,
        /// Other settings changed, which take effect when the agent next starts (the
        /// relay, limits: they shape the endpoint and services as they start).
        restart_needed: bool,
    },
}

/// A freshly minted ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketInfo {
    /// The ticket as text.
    pub ticket: String,
    /// The role it grants.
    pub role: Role,
    /// When it expires, in milliseconds since the Unix epoch.
    pub expires_ms: u64,
}

/// This agent and its peers, as `vibemesh status` shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// This agent's id.
    pub id: EndpointId,
    /// This agent's name.
    pub name: String,
    /// The relay setting in force (`none`, `default`, or a URL).
    pub relay: String,
    /// The addresses this agent listens on.
    pub addrs: Vec<String>,
    /// How many sessions run here.
    pub sessions: u32,
    /// Each agent this one can reach.
    pub peers: Vec<PeerStatus>,
}

/// How a known peer is reached right now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerStatus {
    /// Its name.
    pub name: String,
    /// Its id.
    pub id: EndpointId,
    /// Whether a connection is up.
    pub online: bool,
    /// `direct` or `relay`, when online.
    pub path: Option<String>,
    /// Round-trip time of the selected path, in microseconds.
    pub rtt_us: Option<u64>,
    /// Why it is offline.
    pub error: Option<String>,
    /// Where it announced itself on this LAN (multicast DNS), if it did.
    pub lan: Option<String>,
}

/// One peer, in either or both directions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerEntry {
    /// Its name.
    pub name: String,
    /// Its id.
    pub id: EndpointId,
    /// This agent can reach it (it was joined).
    pub reachable: bool,
    /// It may connect here, with this role.
    pub allowed: Option<Role>,
    /// What role this agent has there, when joined.
    pub our_role: Option<Role>,
    /// When it was added, in milliseconds since the Unix epoch.
    pub added_ms: u64,
    /// When it last connected here, in milliseconds since the Unix epoch.
    pub last_seen_ms: Option<u64>,
}
