//! `vibemesh git <peer> <path> status|diff|log|branches|worktrees`.
//!
//! SKELETON: being implemented.

use std::process::ExitCode;

use clap::Subcommand;
use vibemesh_core::proto::local::Target;

use crate::config::Home;

/// What `vibemesh git` shows.
#[derive(Debug, Clone, Subcommand)]
pub enum GitAction {
    /// Branch, upstream, ahead/behind and changed files.
    Status,
    /// The unified diff (unstaged, or --staged), of one file or of everything.
    Diff {
        /// The staged changes instead.
        #[arg(long)]
        staged: bool,
        /// One file, relative to the repository's top folder.
        file: Option<String>,
    },
    /// Commits, newest first.
    Log {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// How many to skip.
        #[arg(long, default_value_t = 0)]
        skip: u32,
    },
    /// Local branches.
    Branches,
    /// Work trees.
    Worktrees,
}

/// Runs `vibemesh git`.
pub async fn run(
    home: &Home,
    target: Target,
    path: &str,
    action: GitAction,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let _ = (home, target, path, action, json);
    anyhow::bail!("git is not available yet")
}
