//! Session create-to-first-output: `CreateSession` sent until the program's first words
//! reach the client, as `vibemesh open` does it (create, then route and attach a fresh
//! stream at once; the snapshot may already hold the output).

use std::time::Instant;

use anyhow::{Context, bail};
use vibemesh_core::{
    client::{ControlClient, Peer},
    proto::attach::ServerFrame,
};

use super::{Plan, Summary};
use crate::client::{Finder, attach, create_request, ms_since, next_frame};

/// Create-to-first-output times, with the create request's round trip on its own.
#[derive(Debug, Clone, Copy)]
pub struct CreateResult {
    /// From sending `CreateSession` to `ready` on the client.
    pub first_output: Summary,
    /// From sending `CreateSession` to its answer (the PTY and process are up).
    pub create_rpc: Summary,
}

impl CreateResult {
    /// As JSON.
    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "first_output": self.first_output.to_json(),
            "create_rpc": self.create_rpc.to_json(),
        })
    }
}

/// Creates `plan.creates` sessions one after another, killing each when measured.
pub async fn run(via: &Peer, control: &ControlClient, plan: &Plan) -> anyhow::Result<CreateResult> {
    let req = create_request(&["sh", "-c", "echo ready; exec cat"]);
    let mut first_output = Vec::with_capacity(plan.creates);
    let mut create_rpc = Vec::with_capacity(plan.creates);
    for _ in 0..plan.creates {
        let t0 = Instant::now();
        let info = control
            .create_session(req.clone())
            .await
            .context("cannot create a session")?;
        create_rpc.push(ms_since(t0));
        let (mut reader, mut writer, snapshot) = attach(via, info.id).await?;
        let mut finder = Finder::new(b"ready");
        let mut seen = finder.feed(&snapshot);
        while !seen {
            match next_frame(&mut reader).await? {
                ServerFrame::Output(b) => seen = finder.feed(&b),
                ServerFrame::Snapshot(b) => {
                    finder.reset();
                    seen = finder.feed(&b);
                }
                ServerFrame::Exited(e) => bail!("the session ended before it printed: {e}"),
                _ => {}
            }
        }
        first_output.push(ms_since(t0));
        let _ = writer.finish().await;
        drop(reader);
        control
            .kill_session(info.id)
            .await
            .with_context(|| format!("cannot kill session {}", info.id))?;
    }
    Ok(CreateResult {
        first_output: Summary::of(&first_output),
        create_rpc: Summary::of(&create_rpc),
    })
}
