//! A session's output hub: fans PTY output out to viewers and keeps the screen.
//!
//! The PTY reader hands every chunk to [`Hub::push`], which never blocks on anyone: it
//! broadcasts the raw bytes to attached viewers (each with a bounded queue) and appends
//! them to a bounded backlog that a parse job on the blocking pool feeds to vt100. So a
//! viewer gets output as fast as the PTY gives it, whatever the parser costs, and memory
//! stays bounded: a viewer that falls behind loses its place in the broadcast ring and is
//! moved forward with a fresh [`Hub::snapshot`]; a parser that falls more than
//! [`BACKLOG_LIMIT`] behind skips to the newest output (starting at a line boundary),
//! which for a flood of text yields the same screen.
//!
//! Consistency: the backlog lock is held while broadcasting, and a snapshot takes the
//! backlog lock, then the screen lock, then subscribes. The parse job takes the screen
//! lock before it releases the backlog lock. So snapshot = screen + the not yet parsed
//! backlog, and the subscription starts exactly after it: nothing is lost or doubled.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, MutexGuard},
};

use bytes::Bytes;
use tokio::sync::broadcast;
use vibemesh_core::proto::{ExitInfo, TermSize};

/// Bytes of unparsed output kept before the parser skips ahead.
pub const BACKLOG_LIMIT: usize = 4 << 20;
/// Bytes the parse job takes per lock, so a snapshot waits at most one batch.
const PARSE_BATCH: usize = 128 << 10;
/// Broadcast slots per session: what a viewer may lag before it is re-snapshotted.
const RING: usize = 256;

/// What viewers receive.
#[derive(Debug, Clone)]
pub enum Output {
    /// Raw terminal output.
    Data(Bytes),
    /// The session's size changed.
    Resized(TermSize),
    /// The program ended.
    Exited(ExitInfo),
}

enum Item {
    Data(Bytes),
    Resize(TermSize),
}

#[derive(Default)]
struct Backlog {
    items: VecDeque<Item>,
    bytes: usize,
    skipped: bool,
    parsing: bool,
    exited: Option<ExitInfo>,
}

/// Called from the parse job when the program sets a new window title.
pub type TitleHook = Box<dyn Fn(String) + Send + Sync>;

#[derive(Default)]
struct Callbacks {
    title: Option<String>,
}

impl vt100::Callbacks for Callbacks {
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.title = Some(String::from_utf8_lossy(title).into_owned());
    }
}

/// The output hub of one session.
pub struct Hub {
    backlog: Mutex<Backlog>,
    screen: Mutex<vt100::Parser<Callbacks>>,
    tx: broadcast::Sender<Output>,
    on_title: TitleHook,
    rt: tokio::runtime::Handle,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks leaves plain data behind; keep serving.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).unwrap_or(std::num::NonZeroU16::MIN)
}

impl Hub {
    /// A hub for a screen of `size` keeping `scrollback` lines.
    pub fn new(
        size: TermSize,
        scrollback: usize,
        on_title: TitleHook,
        rt: tokio::runtime::Handle,
    ) -> Arc<Self> {
        let parser = vt100::Parser::new_with_callbacks(
            nz(size.rows),
            nz(size.cols),
            scrollback,
            Callbacks::default(),
        );
        Arc::new(Self {
            backlog: Mutex::new(Backlog::default()),
            screen: Mutex::new(parser),
            tx: broadcast::channel(RING).0,
            on_title,
            rt,
        })
    }

    /// Takes a chunk of PTY output. Never waits for a viewer or the parser.
    pub fn push(self: &Arc<Self>, chunk: Bytes) {
        let mut b = lock(&self.backlog);
        let _ = self.tx.send(Output::Data(chunk.clone()));
        b.bytes += chunk.len();
        b.items.push_back(Item::Data(chunk));
        while b.bytes > BACKLOG_LIMIT {
            match b.items.pop_front() {
                Some(Item::Data(c)) => {
                    b.bytes -= c.len();
                    b.skipped = true;
                }
                Some(Item::Resize(_)) => {}
                None => break,
            }
        }
        self.schedule(&mut b);
    }

    /// Records a size change in order with the output around it.
    pub fn resize(self: &Arc<Self>, size: TermSize) {
        let mut b = lock(&self.backlog);
        let _ = self.tx.send(Output::Resized(size));
        b.items.push_back(Item::Resize(size));
        self.schedule(&mut b);
    }

    /// Marks the program as ended; viewers are told after the last output.
    pub fn exit(&self, info: ExitInfo) {
        let mut b = lock(&self.backlog);
        let _ = self.tx.send(Output::Exited(info.clone()));
        b.exited = Some(info);
    }

    fn schedule(self: &Arc<Self>, b: &mut Backlog) {
        if !b.parsing {
            b.parsing = true;
            let hub = self.clone();
            self.rt.spawn_blocking(move || hub.parse_job());
        }
    }

    fn parse_job(&self) {
        loop {
            let mut b = lock(&self.backlog);
            if b.items.is_empty() {
                b.parsing = false;
                return;
            }
            let skipped = std::mem::take(&mut b.skipped);
            let mut batch = Vec::new();
            let mut taken = 0;
            while taken < PARSE_BATCH {
                let Some(item) = b.items.pop_front() else {
                    break;
                };
                if let Item::Data(c) = &item {
                    taken += c.len();
                    b.bytes -= c.len();
                }
                batch.push(item);
            }
            // Take the screen before letting go of the backlog: see the module docs.
            let mut screen = lock(&self.screen);
            drop(b);
            let mut first = true;
            for item in batch {
                match item {
                    Item::Data(c) if first && skipped => {
                        // Resume after a line break so we do not start inside a sequence.
                        let from = c
                            .iter()
                            .position(|&x| x == b'\n')
                            .map_or(c.len(), |i| i + 1);
                        screen.process(&c[from..]);
                    }
                    Item::Data(c) => screen.process(&c),
                    Item::Resize(s) => screen.set_size(nz(s.rows), nz(s.cols)),
                }
                first = false;
            }
            let title = screen.callbacks_mut().title.take();
            drop(screen);
            if let Some(t) = title {
                (self.on_title)(t);
            }
        }
    }

    /// Bytes that redraw the screen (after `scrollback` lines of history) on a blank
    /// terminal, and a subscription that continues exactly where they end. When the
    /// program has ended, the exit comes instead of the subscription.
    pub fn snapshot(&self, scrollback: u32) -> (Bytes, Subscription) {
        let b = lock(&self.backlog);
        let mut screen = lock(&self.screen);
        let mut out = render(screen.screen_mut(), scrollback as usize).into_bytes();
        for item in &b.items {
            if let Item::Data(c) = item {
                out.extend_from_slice(c);
            }
        }
        let sub = match &b.exited {
            Some(info) => Subscription::Exited(info.clone()),
            None => Subscription::Live(self.tx.subscribe()),
        };
        (Bytes::from(out), sub)
    }

    /// The screen's text as a person would read it (tests, previews).
    pub fn contents(&self) -> String {
        let _b = lock(&self.backlog);
        lock(&self.screen).screen().contents()
    }

    /// How many viewers are subscribed to live output.
    pub fn receivers(&self) -> usize {
        self.tx.receiver_count()
    }
}

/// Where a viewer continues after a snapshot.
pub enum Subscription {
    /// Live output follows.
    Live(broadcast::Receiver<Output>),
    /// The program had ended; nothing follows.
    Exited(ExitInfo),
}

/// Renders `lines` of scrollback followed by the visible screen and its modes.
fn render(screen: &mut vt100::Screen, lines: usize) -> String {
    let mut out = String::from("\x1b[0m\x1b[H\x1b[2J");
    let (rows, cols) = screen.size();
    let (rows, cols) = (rows.get() as usize, cols.get());
    let want = lines.min(screen.scrollback_len());
    if want > 0 && !screen.alternate_screen() {
        // Print history oldest first, then scroll it off the screen into the client's own
        // scrollback before the screen is drawn over it.
        let mut k = want;
        while k > 0 {
            screen.set_scrollback(k);
            let n = k.min(rows);
            for row in screen.rows_formatted(0, cols).take(n) {
                out.push_str(&row);
                out.push_str("\x1b[0m\r\n");
            }
            k -= n;
        }
        screen.set_scrollback(0);
        out.push_str(&"\n".repeat(rows));
    }
    if screen.alternate_screen() {
        out.push_str("\x1b[?1049h");
    }
    out.push_str(&screen.state_formatted());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub() -> Arc<Hub> {
        Hub::new(
            TermSize { rows: 5, cols: 20 },
            100,
            Box::new(|_| {}),
            tokio::runtime::Handle::current(),
        )
    }

    fn replay(bytes: &[u8], rows: u16, cols: u16) -> vt100::Parser {
        let mut p = vt100::Parser::new(nz(rows), nz(cols), 1000);
        p.process(bytes);
        p
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn snapshot_plus_live_output_reproduces_the_screen() {
        let hub = hub();
        for i in 0..30 {
            hub.push(Bytes::from(format!("line {i}\r\n")));
        }
        let (snap, sub) = hub.snapshot(10);
        let Subscription::Live(mut rx) = sub else {
            panic!("not live")
        };
        hub.push(Bytes::from_static(b"after\r\n"));
        let mut client = replay(&snap, 5, 20);
        match rx.recv().await.unwrap() {
            Output::Data(d) => client.process(&d),
            other => panic!("{other:?}"),
        }
        let screen = client.screen().contents();
        assert!(
            screen.contains("line 29") && screen.contains("after"),
            "{screen}"
        );
        // History came along: the client can scroll back to lines before the screen.
        assert!(client.screen().scrollback_len() >= 10);
        let n = client.screen().scrollback_len();
        client.screen_mut().set_scrollback(n);
        let top = client.screen().contents();
        assert!(top.contains("line 1"), "{top}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flood_beyond_the_backlog_keeps_memory_bounded_and_the_tail_right() {
        let hub = hub();
        let line = Bytes::from(
            vec![b'x'; 1023]
                .into_iter()
                .chain([b'\n'])
                .collect::<Vec<_>>(),
        );
        for _ in 0..(2 * BACKLOG_LIMIT / 1024) {
            hub.push(line.clone());
            assert!(lock(&hub.backlog).bytes <= BACKLOG_LIMIT);
        }
        hub.push(Bytes::from_static(b"\r\nthe end"));
        let (snap, _) = hub.snapshot(0);
        let client = replay(&snap, 5, 20);
        assert!(client.screen().contents().ends_with("the end"));
    }
}
