//! Keystroke echo latency: one key up, its echo back down.
//!
//! The session runs `cat` in a PTY in canonical mode, so a letter without a newline is
//! echoed by the terminal's line discipline alone (cat only sees whole lines). Each key
//! waits for its echo before the next is sent, and letters cycle, so every echo is told
//! apart from the one before. 1 050 keys stay under the 4 095-byte canonical line limit.

use std::time::Instant;

use anyhow::{Context, bail};
use vibemesh_core::{
    client::{AttachReader, AttachWriter, ControlClient, Peer},
    proto::attach::ServerFrame,
};

use super::{Plan, Summary};
use crate::client::{attach, create_request, ms_since, next_frame};

/// Sends the keys and returns the echo times.
pub async fn run(via: &Peer, control: &ControlClient, plan: &Plan) -> anyhow::Result<Summary> {
    let info = control
        .create_session(create_request(&["cat"]))
        .await
        .context("cannot create the `cat` session")?;
    let (mut reader, mut writer, _snapshot) = attach(via, info.id).await?;
    let mut samples = Vec::with_capacity(plan.keys);
    for i in 0..plan.warmup_keys + plan.keys {
        let took = echo_key(&mut reader, &mut writer, b'a' + (i % 26) as u8).await?;
        if i >= plan.warmup_keys {
            samples.push(took);
        }
    }
    // Detach; the caller kills the session.
    let _ = writer.finish().await;
    Ok(Summary::of(&samples))
}

/// Types `key` into an attached `cat` and waits for its echo; the round trip in ms.
pub async fn echo_key(
    reader: &mut AttachReader,
    writer: &mut AttachWriter,
    key: u8,
) -> anyhow::Result<f64> {
    let t0 = Instant::now();
    writer.input(vec![key]).await.context("cannot send a key")?;
    loop {
        match next_frame(reader).await? {
            ServerFrame::Output(b) | ServerFrame::Snapshot(b) if b.contains(&key) => {
                return Ok(ms_since(t0));
            }
            ServerFrame::Exited(e) => bail!("`cat` ended during the echo test: {e}"),
            ServerFrame::Notice(e) => bail!("the agent refused a key: {e}"),
            _ => {}
        }
    }
}
