//! The connected agent's end of a holder: frames queued under the state lock and written
//! by a thread of their own, so a slow agent (a full socket, a stopped process) never
//! holds up the PTY reader, the parser or another agent's requests.
//!
//! Output waiting in the queue is bounded by [`OUT_LIMIT`]. Output that finds it full is
//! dropped, with everything else that a fresh hello says again (titles, sizes), and the
//! connection is marked `lost`; once the writer has drained the queue it sends a fresh
//! hello, on which the agent starts its viewers on a fresh screen, as after a
//! reconnect. Answers to the agent's requests are never dropped (their order is what
//! the agent counts on) and do not count as output: a snapshot of a flooding session
//! (its screen and the output not parsed yet) may be megabytes, and counting it would
//! make every snapshot cost the agent a redraw, which asks for snapshots again. They
//! are bounded on their own: the thread serving requests waits for room before it
//! renders one ([`Shared::wait_room`]). So a holder's memory for one agent stays
//! bounded, and nothing shown is ever wrong: at worst it is redrawn.
//!
//! Output queued behind other output joins it (up to [`MERGE_MAX`]) and is encoded by
//! the writer: a flood read in 4 KiB PTY reads then reaches a busy agent in a few large
//! frames, one write and one wake-up of the agent each, not one per read.

use std::{
    collections::VecDeque,
    io::Write,
    os::unix::net::UnixStream,
    sync::{Arc, Condvar, MutexGuard},
    time::Instant,
};

use bytes::{Bytes, BytesMut};
use vibemesh_core::{frame, proto::holder::FromHolder};

use super::{super::flood::AGENT_BEHIND, Shared, State, lock};

/// Bytes of output queued for one agent past which output is dropped (and the agent is
/// later greeted anew); also the bytes of answers past which no request is served until
/// the agent reads. A stopped agent costs the holder no more than twice this and one
/// answer.
pub const OUT_LIMIT: usize = 2 << 20;

/// The most output one frame to the agent carries when queued output is joined: far
/// below a frame's limit, and what a slot of the agent's broadcast ring may then hold
/// (see [`crate::output_memory_bound`]).
pub const MERGE_MAX: usize = 64 << 10;

/// One frame waiting to be written.
struct Frame {
    body: Body,
    /// Whether a fresh hello makes up for losing it.
    droppable: bool,
}

enum Body {
    /// A message encoded when it was queued.
    Encoded(Bytes),
    /// Output, encoded only when written so that output queued after it can join it.
    Output(BytesMut),
}

impl Frame {
    /// Bytes it counts for in the queue's limits.
    fn len(&self) -> usize {
        match &self.body {
            Body::Encoded(b) => b.len(),
            Body::Output(b) => b.len(),
        }
    }
}

/// The connected agent: its socket, its number, and what waits to be written to it.
pub struct Conn {
    /// Tells connections apart.
    pub n: u64,
    stream: UnixStream,
    frames: VecDeque<Frame>,
    /// Bytes queued: output (droppable), and answers and the rest.
    output: usize,
    answers: usize,
    /// Output was dropped: the agent gets a fresh hello once the queue has drained.
    lost: bool,
    /// When the write under way started, and whether the last one was slow.
    writing_since: Option<Instant>,
    slow_write: bool,
    /// Wakes its writer (a frame was queued, or the connection ended) and whoever waits
    /// for room (a frame was written).
    wake: Arc<Condvar>,
}

impl Conn {
    /// Ends the connection for both sides: its writer stops and the agent sees the link
    /// end at once.
    pub fn close(&self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        self.wake.notify_all();
    }

    /// Gives back the room the queue grew to, but for [`super::memory::QUEUE_KEEP`]
    /// frames (or those waiting).
    pub fn shrink(&mut self) {
        self.frames.shrink_to(super::memory::QUEUE_KEEP);
    }

    /// Whether the agent is behind ([`super::super::flood`]): writing to it took, or
    /// is taking, [`AGENT_BEHIND`] or more. (Not how much waits for it: output is read
    /// faster than any agent takes it, and a flood the agent keeps up with is not
    /// behind.)
    pub fn behind(&self) -> bool {
        self.slow_write
            || self
                .writing_since
                .is_some_and(|t| t.elapsed() >= AGENT_BEHIND)
    }

    fn count(&mut self, f: &Frame) -> &mut usize {
        if f.droppable {
            &mut self.output
        } else {
            &mut self.answers
        }
    }
}

impl State {
    /// Queues `msg` for the connected agent, if any; never blocks (see the module
    /// docs). A message that cannot be encoded (every one is bounded to fit a frame, so
    /// never) must not leave the agent waiting on a connection nobody writes to: the
    /// connection is closed, and the agent connects again and gets a fresh hello.
    pub(super) fn send(&mut self, msg: &FromHolder) {
        let Some(c) = self.conn.as_mut() else {
            return;
        };
        let droppable = matches!(
            msg,
            FromHolder::Output(_) | FromHolder::Title(_) | FromHolder::Resized(_)
        );
        // Output was dropped: the agent must redraw before it hears that the program
        // ended, or its viewers see the end without the last screen. The hello that
        // follows carries the exit, after the agent has asked for that screen.
        if c.lost && matches!(msg, FromHolder::Exited(_)) {
            return;
        }
        if droppable && (c.lost || c.output >= OUT_LIMIT) {
            if !c.lost {
                c.lost = true;
                // What waits is stale now too: the hello makes up for all of it.
                c.frames.retain(|f| !f.droppable);
                c.output = 0;
            }
            return;
        }
        if let FromHolder::Output(b) = msg {
            // Behind output not written yet: join it (the writer is busy; no wake-up).
            if let Some(Frame {
                body: Body::Output(last),
                ..
            }) = c.frames.back_mut()
                && last.len() + b.len() <= MERGE_MAX
            {
                last.extend_from_slice(b);
                c.output += b.len();
                return;
            }
            let f = Frame {
                body: Body::Output(BytesMut::from(&b[..])),
                droppable,
            };
            *c.count(&f) += f.len();
            c.frames.push_back(f);
            c.wake.notify_all();
            return;
        }
        match frame::encode(msg) {
            Ok(b) => {
                let f = Frame {
                    body: Body::Encoded(b.into()),
                    droppable,
                };
                *c.count(&f) += f.len();
                c.frames.push_back(f);
                c.wake.notify_all();
            }
            Err(_) => {
                c.close();
                self.conn = None;
            }
        }
    }
}

impl Shared {
    /// Makes `stream` the connected agent (closing any other), queues `hello` first and
    /// starts its writer. Call with the state lock held; returns the connection's number.
    pub(super) fn attach(
        self: &Arc<Self>,
        st: &mut State,
        stream: UnixStream,
    ) -> std::io::Result<u64> {
        let writer = stream.try_clone()?;
        if let Some(old) = st.conn.take() {
            old.close();
        }
        st.next_conn += 1;
        let n = st.next_conn;
        let wake = Arc::new(Condvar::new());
        st.conn = Some(Conn {
            n,
            stream,
            frames: VecDeque::new(),
            output: 0,
            answers: 0,
            lost: false,
            writing_since: None,
            slow_write: false,
            wake: wake.clone(),
        });
        let hello = self.hello(st);
        st.send(&hello);
        let me = self.clone();
        let started = std::thread::Builder::new()
            .name("holder-write".into())
            .stack_size(128 * 1024)
            .spawn(move || me.write_out(n, writer, &wake));
        if let Err(e) = started {
            if let Some(c) = st.conn.take() {
                c.close();
            }
            return Err(e);
        }
        Ok(n)
    }

    /// Writes connection `n`'s frames in order until it is replaced or breaks; a
    /// failed write means the agent is gone, and the connection is closed.
    fn write_out(self: Arc<Self>, n: u64, mut stream: UnixStream, wake: &Condvar) {
        let mut st = lock(&self.state);
        loop {
            let Some(c) = st.conn.as_mut().filter(|c| c.n == n) else {
                return;
            };
            if let Some(f) = c.frames.pop_front() {
                *c.count(&f) -= f.len();
                let started = Instant::now();
                c.writing_since = Some(started);
                wake.notify_all();
                drop(st);
                // Output is bounded by MERGE_MAX, so it always fits a frame; should it
                // not encode anyway, the connection is closed like a failed write (the
                // agent connects again and gets a fresh hello), never left silent.
                let ok = match f.body {
                    Body::Encoded(b) => stream.write_all(&b).is_ok(),
                    Body::Output(b) => frame::encode(&FromHolder::Output(b.freeze()))
                        .is_ok_and(|b| stream.write_all(&b).is_ok()),
                };
                let slow = started.elapsed() >= AGENT_BEHIND;
                st = lock(&self.state);
                if let Some(c) = st.conn.as_mut().filter(|c| c.n == n) {
                    c.writing_since = None;
                    c.slow_write = slow;
                }
                if !ok {
                    if let Some(c) = st.conn.take_if(|c| c.n == n) {
                        c.close();
                    }
                    return;
                }
            } else if c.lost {
                // Everything before is written: greet anew, so the agent redraws.
                c.lost = false;
                let hello = self.hello(&st);
                st.send(&hello);
            } else {
                st = wake.wait(st).unwrap_or_else(|p| p.into_inner());
            }
        }
    }

    /// Waits, with the state lock, until connection `n` has room for an answer (or is
    /// gone): a request's answer may be a whole screen, and an agent that asks without
    /// reading must not grow the queue without bound.
    pub(super) fn wait_room<'a>(
        &'a self,
        n: u64,
        mut st: MutexGuard<'a, State>,
    ) -> MutexGuard<'a, State> {
        loop {
            let wake = match st.conn.as_ref() {
                Some(c) if c.n == n && c.answers >= OUT_LIMIT => c.wake.clone(),
                _ => return st,
            };
            st = wake.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }
}
