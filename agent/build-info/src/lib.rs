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

/// The version of the shapes the CLI's `--json` prints (docs/JSON.md). A new field keeps
/// it; a renamed, removed or retyped one, or a new spelling of a value, raises it.
pub const JSON_SCHEMA: u32 = 1;

/// What `vibemesh --version` prints after the program's name: [`VERSION`], then the JSON
/// schema on a line of its own, for scripts to check.
pub const CLI_LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("VIBEMESH_COMMIT"),
    ")\njson schema 1"
);

#[cfg(test)]
mod tests {
    #[test]
    fn the_long_version_names_the_json_schema() {
        assert!(super::CLI_LONG_VERSION.starts_with(super::VERSION));
        assert!(
            super::CLI_LONG_VERSION.ends_with(&format!("\njson schema {}", super::JSON_SCHEMA))
        );
    }
}
