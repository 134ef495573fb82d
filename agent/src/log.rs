//! The agent's log filter, for the `vibemesh` binary and the desktop app alike.
//!
//! Two of iroh's neighbours warn on every retry while the machine is offline: n0's pkarr
//! publisher (growing by a second each time) and swarm-discovery (LAN discovery, about
//! once a second where multicast has no route). An offline laptop would log thousands of
//! lines a day; the agent says it once itself instead ([`crate::net::relay_watch`]), and
//! `status` says how peers are reached. An explicit `RUST_LOG` naming them still wins.

use tracing_subscriber::EnvFilter;

/// Targets kept to errors unless `RUST_LOG` names them.
const QUIET: [&str; 2] = ["iroh::address_lookup::pkarr", "swarm_discovery"];

/// `RUST_LOG` if set (else `default`), with the retry warnings of [`QUIET`] off.
pub fn filter(default: &str) -> EnvFilter {
    let asked = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let base = asked.clone().unwrap_or_else(|| default.to_string());
    let mut directives = vec![base];
    for target in QUIET {
        if !asked.as_deref().is_some_and(|a| a.contains(target)) {
            directives.push(format!("{target}=error"));
        }
    }
    EnvFilter::try_new(directives.join(",")).unwrap_or_else(|_| EnvFilter::new(default))
}
