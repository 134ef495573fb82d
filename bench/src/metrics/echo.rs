//! Keystroke echo latency: one key up, its echo back down.
//!
//! The session runs `cat` in a PTY in canonical mode, so a letter without a newline is
//! echoed by the terminal's line discipline alone (cat only sees whole lines). Each key
//! waits for its echo before the next is sent, and letters cycle, so every echo is told
//! apart from the one before. 1 050 keys stay under the 4 095-byte canonical line limit.

use std::time::Instant;

use anyhow::{Context, bail};
use vibemesh_core::{client::ControlClient, proto::attach::ServerFrame};

use super::{Plan, Summary};
use crate::client::{Via, create_request, ms_since, next_frame};

/// Sends the keys and returns the echo times.
pub async fn run(via: &Via, control: &ControlClient, plan: &Plan) -> anyhow::Result<Summary> {
    let info = control
        .create_session(create_request(&["cat"]))
        .await
        .context("cannot create the `cat` session")?;
    let (mut reader, mut writer, _snapshot) = via.attach(info.id).await?;
    let mut samples = Vec::with_capacity(plan.keys);
    for i in 0..plan.warmup_keys + plan.keys {
        let key = b'a' + (i % 26) as u8;
        let t0 = Instant::now();
        writer.input(vec![key]).await.context("cannot send a key")?;
        loop {
            match next_frame(&mut reader).await? {
                ServerFrame::Output(b) | ServerFrame::Snapshot(b) if b.contains(&key) => break,
                ServerFrame::Exited(e) => bail!("`cat` ended during the echo test: {e}"),
                ServerFrame::Notice(e) => bail!("the agent refused a key: {e}"),
                _ => {}
            }
        }
        if i >= plan.warmup_keys {
            samples.push(ms_since(t0));
        }
    }
    // Detach; the caller kills the session.
    let _ = writer.finish().await;
    Ok(Summary::of(&samples))
}
