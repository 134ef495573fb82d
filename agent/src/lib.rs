//! `vibemesh-agent`: the VibeMesh agent daemon and the `vibemesh` command line.
//!
//! - [`daemon`]: starts an agent (endpoint, sessions, allow-list, local socket).
//! - [`session`]: the session engine (PTYs, screens, viewers, recordings).
//! - [`serve`]: serves main-protocol streams to peers and the local owner.
//! - [`net`]: the iroh side: endpoint, protocol handlers, pairing, outgoing links.
//! - [`access`]: the allow-list and known peers on disk.
//! - [`ipc`] and [`admin`]: the local socket and the requests only the owner may make.
//! - [`route`]: how the owner's streams reach this agent or a peer (also in-process).
//! - [`files`], [`git`] and [`watch`]: the workspace around sessions: files under the
//!   allowed roots, git for the repository around a path, and live change events.
//! - [`ai`]: AI providers: discovery, terminal and structured sessions.
//! - [`cli`]: the `vibemesh` commands.
#![warn(missing_docs)]

pub mod access;
pub mod admin;
pub mod ai;
pub mod cast;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod files;
pub mod git;
pub mod ipc;
pub mod net;
pub mod route;
pub mod serve;
pub mod session;
pub mod watch;

pub use daemon::Agent;
