//! The playback loop: writes each event when the clock reaches it, everything already
//! due in one write, and obeys the keys and signals that arrive meanwhile.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncWrite, AsyncWriteExt},
    signal::unix::{SignalKind, signal},
    sync::mpsc::{self, error::TryRecvError},
};

use super::{
    clock::Clock,
    feed::{Ev, Kind},
    keys::{self, FORWARD_SECS, Key},
};

/// Output gathered before it is written, at most (then written, and gathering goes on).
const BATCH: usize = 256 << 10;
/// The longest single sleep: a far deadline is approached in steps this long.
const MAX_SLEEP: Duration = Duration::from_secs(3600);

/// How playback ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The recording played to its end.
    Finished,
    /// `q`, Ctrl-C or a signal.
    Quit,
}

/// Plays events from a feed to `out`.
pub struct Player<W> {
    feed: mpsc::Receiver<Ev>,
    /// The next event, read but not yet due.
    next: Option<Ev>,
    /// The feed has closed.
    ended: bool,
    clock: Clock,
    batch: Vec<u8>,
    out: W,
}

impl<W: AsyncWrite + Unpin> Player<W> {
    /// A player at position 0 now.
    pub fn new(feed: mpsc::Receiver<Ev>, speed: f64, out: W) -> Self {
        Self {
            feed,
            next: None,
            ended: false,
            clock: Clock::new(speed, Instant::now()),
            batch: Vec::new(),
            out,
        }
    }

    /// Plays until the end, or until a key or a signal says to quit. `keys` carries
    /// what is typed, when stdin is a terminal.
    pub async fn run(mut self, mut keys: Option<mpsc::Receiver<Vec<u8>>>) -> std::io::Result<End> {
        let mut term = signal(SignalKind::terminate())?;
        let mut hup = signal(SignalKind::hangup())?;
        let mut int = signal(SignalKind::interrupt())?;
        loop {
            self.write_due(Instant::now()).await?;
            if self.ended && self.next.is_none() {
                return Ok(End::Finished);
            }
            let wait_feed = self.next.is_none() && !self.ended;
            let wake = match (&self.next, self.clock.is_paused()) {
                (Some(ev), false) => self.clock.deadline(ev.pos),
                _ => None,
            }
            .map(|d| d.min(Instant::now() + MAX_SLEEP));
            tokio::select! {
                ev = self.feed.recv(), if wait_feed => match ev {
                    Some(ev) => self.next = Some(ev),
                    None => self.ended = true,
                },
                () = sleep_until(wake), if wake.is_some() => {}
                typed = recv(&mut keys) => match typed {
                    Some(bytes) => {
                        for key in keys::decode(&bytes) {
                            if self.obey(key).await? == Some(End::Quit) {
                                return Ok(End::Quit);
                            }
                        }
                    }
                    None => keys = None,
                },
                _ = term.recv() => return Ok(End::Quit),
                _ = hup.recv() => return Ok(End::Quit),
                _ = int.recv() => return Ok(End::Quit),
            }
        }
    }

    /// Writes every event due at `now` (in writes of at most [`BATCH`]).
    async fn write_due(&mut self, now: Instant) -> std::io::Result<()> {
        loop {
            self.pull();
            let clock = &self.clock;
            let Some(ev) = self.next.take_if(|ev| clock.is_due(ev.pos, now)) else {
                break;
            };
            self.take(ev);
            if self.batch.len() >= BATCH {
                self.flush().await?;
            }
        }
        self.flush().await
    }

    /// What a key does; `Some(End::Quit)` to stop.
    async fn obey(&mut self, key: Key) -> std::io::Result<Option<End>> {
        let now = Instant::now();
        match key {
            Key::Quit => return Ok(Some(End::Quit)),
            Key::Pause => self.clock.toggle_pause(now),
            Key::Step if self.clock.is_paused() => {
                while let Some(ev) = self.next_event().await {
                    self.clock.seek(ev.pos, now);
                    let shown = ev.kind == Kind::Output;
                    self.take(ev);
                    if shown {
                        break;
                    }
                }
            }
            Key::Step => {}
            Key::NextMarker => {
                while let Some(ev) = self.next_event().await {
                    let (pos, marker) = (ev.pos, ev.kind == Kind::Marker);
                    self.take(ev);
                    if marker {
                        if !self.clock.is_paused() {
                            self.clock.toggle_pause(now);
                        }
                        self.clock.seek(pos, now);
                        break;
                    }
                    if self.batch.len() >= BATCH {
                        self.flush().await?;
                    }
                }
            }
            Key::Forward => {
                let target = self.clock.position(now) + FORWARD_SECS;
                self.clock.seek(target, now);
                // Everything up to there is written by the loop, now due.
            }
        }
        self.flush().await?;
        Ok(None)
    }

    /// Takes the next event when the feed has one ready.
    fn pull(&mut self) {
        if self.next.is_some() || self.ended {
            return;
        }
        match self.feed.try_recv() {
            Ok(ev) => self.next = Some(ev),
            Err(TryRecvError::Empty) => {}
            Err(TryRecvError::Disconnected) => self.ended = true,
        }
    }

    /// The next event, waiting for the feed; `None` at the end.
    async fn next_event(&mut self) -> Option<Ev> {
        if let Some(ev) = self.next.take() {
            return Some(ev);
        }
        if self.ended {
            return None;
        }
        let ev = self.feed.recv().await;
        self.ended = ev.is_none();
        ev
    }

    fn take(&mut self, ev: Ev) {
        if ev.kind == Kind::Output {
            self.batch.extend_from_slice(ev.data.as_bytes());
        }
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        self.out.write_all(&self.batch).await?;
        self.out.flush().await?;
        self.batch.clear();
        Ok(())
    }
}

async fn sleep_until(wake: Option<Instant>) {
    match wake {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// The next typed chunk; never resolves without a keyboard.
async fn recv(keys: &mut Option<mpsc::Receiver<Vec<u8>>>) -> Option<Vec<u8>> {
    match keys {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
