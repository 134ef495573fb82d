//! Test harness for cross-crate tests: real `vibemesh agent` processes with their own
//! `VIBEMESH_HOME`, the real CLI, and a PTY-driven terminal that reads the screen the way
//! a person would (through vt100). Everything listens on 127.0.0.1 with relays off.
//!
//! Waiting is event-driven: [`Term::wait_for`] wakes on every chunk of output and checks
//! the screen; a timeout only turns a hang into a failure that shows the screen.

mod agent;
pub mod ai;
pub mod ai_queue;
pub mod ai_scenarios;
pub mod browser;
pub mod delay;
pub mod fake_model;
pub mod files;
pub mod netns;
mod peer;
pub mod relay;
pub mod stderr;
mod term;

pub use agent::{TestAgent, pair};
pub use fake_model::FakeModel;
pub use peer::{InProcPeer, Paired, addr_of as peer_addr, paired};
pub use term::Term;

use std::{path::PathBuf, time::Duration};

/// A shell with no rc files, so prompts and output do not depend on the machine.
pub const SHELL: &[&str] = &["bash", "--norc", "--noprofile"];

/// [`SHELL`], interactive, with the prompt `$ ` whoever runs it (root's would be `# `).
pub const PROMPT_SHELL: &[&str] = &["env", "PS1=$ ", "bash", "--norc", "--noprofile", "-i"];

/// How long any single expectation may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The `vibemesh` binary under test: `VIBEMESH_BIN`, or the one cargo built next to
/// this test executable.
pub fn vibemesh_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("VIBEMESH_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test> -> target/<profile>/vibemesh
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = dir.join("vibemesh");
    assert!(
        bin.exists(),
        "{} is missing: run the tests with `cargo test --workspace` (it builds the binary)",
        bin.display()
    );
    bin
}

/// A free UDP port (bound and released: an agent given it binds it next), so an agent
/// restarted on the same home comes back at the same address.
pub fn free_port() -> u16 {
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
