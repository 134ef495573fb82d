//! What every VibeMesh binary says about itself: its version and the commit it was built
//! from (`vibemesh --version` prints `vibemesh 0.1.0 (commit 1a2b3c4d5e6f)`).

/// The commit the binaries were built from (12 hex digits), or `unknown` when built
/// outside a repository without `VIBEMESH_COMMIT` set.
pub const COMMIT: &str = env!("VIBEMESH_COMMIT");

/// The version and commit, as `--version` prints them after the program's name.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("VIBEMESH_COMMIT"),
    ")"
);
