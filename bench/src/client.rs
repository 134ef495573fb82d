//! Reaching a session the way the `vibemesh` CLI does: through the local agent's socket
//! with core's [`Peer`], plus what only the bench needs (a first snapshot with a
//! timeout, a byte-string finder, milliseconds).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use vibemesh_core::{
    client::{AttachReader, AttachWriter, ControlClient, Peer},
    proto::{
        Provider, SessionId, TermSize,
        attach::{AttachRequest, ServerFrame},
        control::CreateSession,
    },
};

/// How long the bench waits for any one frame before it calls the agent stuck.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(60);

/// Attaches to `session` on `via` without a size, scrollback or watch-only, and reads the
/// first [`ServerFrame::Snapshot`], whose bytes are returned.
pub async fn attach(
    via: &Peer,
    session: SessionId,
) -> anyhow::Result<(AttachReader, AttachWriter, Vec<u8>)> {
    let req = AttachRequest {
        session,
        size: None,
        scrollback: 0,
        watch_only: false,
    };
    let (_, mut reader, writer) = via
        .attach(req)
        .await
        .with_context(|| format!("cannot attach to session {session}"))?;
    match next_frame(&mut reader).await? {
        ServerFrame::Snapshot(s) => Ok((reader, writer, s.to_vec())),
        other => bail!("expected a snapshot after attaching, got {other:?}"),
    }
}

/// A control client on `via`, its driver on the current runtime. Pushed events are
/// dropped unread (dropping the receiver tells the driver not to queue them).
pub async fn control_client(via: &Peer) -> anyhow::Result<ControlClient> {
    let (control, _events, driver) = via
        .control()
        .await
        .context("cannot open a control stream")?;
    tokio::spawn(driver.run());
    Ok(control)
}

/// The next frame on an attach stream; an error when the stream ended, was closed by the
/// agent, or nothing came for [`FRAME_TIMEOUT`].
pub async fn next_frame(reader: &mut AttachReader) -> anyhow::Result<ServerFrame> {
    match tokio::time::timeout(FRAME_TIMEOUT, reader.next()).await {
        Err(_) => bail!("no frame from the agent for {}s", FRAME_TIMEOUT.as_secs()),
        Ok(Err(e)) => Err(e).context("the attach stream failed"),
        Ok(Ok(None)) => bail!("the attach stream ended"),
        Ok(Ok(Some(ServerFrame::Closed(e)))) => bail!("the agent closed the attach stream: {e}"),
        Ok(Ok(Some(frame))) => Ok(frame),
    }
}

/// A 24x80 shell-provider session running `command`, in the agent's home folder.
pub fn create_request(command: &[&str]) -> CreateSession {
    CreateSession {
        provider: Provider::Shell,
        cwd: None,
        command: command.iter().map(|s| s.to_string()).collect(),
        size: TermSize { rows: 24, cols: 80 },
        title: None,
        env: Vec::new(),
    }
}

/// Kills every session on the agent behind `control`, concurrently; best effort (used
/// after each measurement, also when it failed). Returns how many were killed.
pub async fn kill_all(control: &ControlClient) -> usize {
    let Ok(sessions) = control.list_sessions().await else {
        return 0;
    };
    let mut tasks = tokio::task::JoinSet::new();
    for s in sessions {
        let control = control.clone();
        tasks.spawn(async move { control.kill_session(s.id).await.is_ok() });
    }
    tasks.join_all().await.into_iter().filter(|ok| *ok).count()
}

/// Finds a byte string in a stream that arrives in chunks, also across chunk boundaries.
#[derive(Debug)]
pub struct Finder {
    needle: Vec<u8>,
    carry: Vec<u8>,
}

impl Finder {
    /// Looks for `needle` (not empty).
    pub fn new(needle: &[u8]) -> Self {
        Self {
            needle: needle.to_vec(),
            carry: Vec::new(),
        }
    }

    /// Forgets the tail of earlier chunks (the stream restarted, e.g. with a snapshot).
    pub fn reset(&mut self) {
        self.carry.clear();
    }

    /// Feeds the next chunk; true once the needle was seen.
    pub fn feed(&mut self, chunk: &[u8]) -> bool {
        let keep = self.needle.len().saturating_sub(1);
        // A needle that straddles the boundary lies in the carried tail plus this head.
        let carried = self.carry.len();
        self.carry
            .extend_from_slice(&chunk[..chunk.len().min(keep)]);
        let hit = contains(&self.carry, &self.needle) || contains(chunk, &self.needle);
        self.carry.truncate(carried);
        if hit {
            return true;
        }
        self.carry
            .extend_from_slice(&chunk[chunk.len().saturating_sub(keep)..]);
        let excess = self.carry.len().saturating_sub(keep);
        self.carry.drain(..excess);
        false
    }
}

/// Whether `needle` (not empty) occurs in `hay`. Bulk output rarely holds the needle's
/// first byte, so a memchr pass (what `<[u8]>::contains` uses) rules most chunks out
/// before the byte-by-byte comparison; the reader must not be what limits throughput.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    match needle.first() {
        Some(first) if hay.contains(first) => hay.windows(needle.len()).any(|w| w == needle),
        _ => false,
    }
}

/// Milliseconds in a duration, as a float.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Milliseconds since `t0`.
pub fn ms_since(t0: Instant) -> f64 {
    ms(t0.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finder_sees_needles_split_across_chunks() {
        let mut f = Finder::new(b"__DONE__");
        assert!(!f.feed(b"12\r\n__DO"));
        assert!(f.feed(b"NE__\r\n"));
        let mut f = Finder::new(b"__DONE__");
        let hits: Vec<bool> = b"xx__DONE__".iter().map(|c| f.feed(&[*c])).collect();
        assert_eq!(hits.iter().position(|h| *h), Some(9));
    }

    #[test]
    fn finder_has_no_false_hits_and_resets() {
        let mut f = Finder::new(b"ready");
        assert!(!f.feed(b"rea"));
        f.reset();
        assert!(!f.feed(b"dy"));
        assert!(f.feed(b"already"));
    }
}
