//! The Codex driver (placeholder until the app-server driver lands).

use std::sync::Arc;

use tokio::sync::mpsc;
use vibemesh_core::proto::ExitInfo;

use super::session::{Conv, DriverCmd, Spawn};

/// Runs one Codex process for `conv` until it ends.
pub async fn run(
    conv: Arc<Conv>,
    generation: u64,
    _spawn: Spawn,
    _cmds: mpsc::UnboundedReceiver<DriverCmd>,
) {
    let exit = ExitInfo {
        code: None,
        signal: None,
    };
    conv.process_ended(generation, exit, vec!["codex: not yet supported".into()]);
}
