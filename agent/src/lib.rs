//! `vibemesh-agent`: the VibeMesh agent daemon, as a library the `vibemesh` binary, the
//! session holder binary and the desktop app start.
//!
//! What other crates use is public here: [`Agent`], [`config`], the recording reader in
//! [`cast`], [`check_ttl`] for pairing tickets, [`holder_main`] for the holder binary,
//! the [`log`] filter, and [`Files`] with [`git`] for the git tests. Everything else is private, so the compiler
//! reports what nothing uses.
//!
//! Inside: `daemon` starts an agent (endpoint, sessions, allow-list, local socket);
//! `session` is the session engine (holders, PTYs, screens, viewers, recordings);
//! `serve` serves main-protocol streams to peers and the local owner; `net` is the iroh
//! side (endpoint, protocol handlers, pairing, outgoing links); `access` the allow-list
//! and known peers on disk; `ipc` and `admin` the local socket and the requests only the
//! owner may make; `route` how the owner's streams reach this agent or a peer; `files`,
//! `git` and `watch` the workspace around sessions; `ai` the AI providers.
#![warn(missing_docs)]

mod access;
mod admin;
mod ai;
pub mod cast;
pub mod config;
mod daemon;
mod files;
pub mod git;
mod ipc;
pub mod log;
mod net;
mod route;
mod serve;
mod session;
mod watch;

pub use daemon::{Agent, StartError};
pub use files::Files;
pub use net::pairing::check_ttl;
pub use session::{holder::main as holder_main, output_memory_bound};
