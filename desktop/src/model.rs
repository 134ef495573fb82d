//! What the window shows, kept up to date by tasks on the runtime: machines, their
//! sessions, pairing and errors. Tasks change it under its lock and call
//! [`Notifier::notify`], which wakes egui; nothing repaints when nothing changed.

use std::{
    collections::BTreeMap,
    sync::{Arc, Condvar, Mutex},
    time::{Duration, Instant},
};

use vibemesh_core::{
    EndpointId,
    client::ControlClient,
    proto::{
        SessionId, SessionInfo,
        control::AgentInfo,
        local::{PeerEntry, Target, TicketInfo},
    },
};

/// Which machine: this one, or a paired peer by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MachineKey {
    /// This machine's own agent.
    Local,
    /// A peer.
    Peer(EndpointId),
}

impl MachineKey {
    /// How preferences name the machine: `None` for this one, a peer by its id.
    pub fn saved_name(&self) -> Option<String> {
        match self {
            MachineKey::Local => None,
            MachineKey::Peer(id) => Some(id.to_string()),
        }
    }
}

/// Whether a machine can be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Trying for the first time.
    Connecting,
    /// A control stream is open.
    Online,
    /// Not reachable, with why; retried with backoff.
    Offline(String),
}

/// A machine in the sidebar.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Which one.
    pub key: MachineKey,
    /// Its name (for a peer, the name this agent knows it by).
    pub name: String,
    /// Reachable or not.
    pub reach: Reach,
    /// `direct` or `relay`, when known.
    pub path: Option<String>,
    /// Round-trip time in microseconds, when known.
    pub rtt_us: Option<u64>,
    /// What it told us about itself.
    pub info: Option<AgentInfo>,
    /// Its sessions.
    pub sessions: BTreeMap<SessionId, SessionInfo>,
    /// Requests to it, while online.
    pub control: Option<ControlClient>,
}

impl Machine {
    /// A machine we have not heard from yet.
    pub fn new(key: MachineKey, name: String) -> Self {
        Self {
            key,
            name,
            reach: Reach::Connecting,
            path: None,
            rtt_us: None,
            info: None,
            sessions: BTreeMap::new(),
            control: None,
        }
    }

    /// Where streams to it go.
    pub fn target(&self) -> Target {
        match self.key {
            MachineKey::Local => Target::Local,
            MachineKey::Peer(id) => Target::Peer(id.to_string()),
        }
    }
}

/// Everything the window shows that tasks change.
#[derive(Debug, Default)]
pub struct Model {
    /// This machine first, then peers by name.
    pub machines: Vec<Machine>,
    /// Every peer of this agent, both directions (settings, revoke).
    pub peers: Vec<PeerEntry>,
    /// The pairing ticket on show.
    pub ticket: Option<TicketInfo>,
    /// Errors and notices for the user, newest last.
    pub messages: Vec<Message>,
    /// The add-machine dialog's result: `Ok(name)` or why it failed.
    pub join_result: Option<Result<String, String>>,
    /// Folder completions for the new-session dialog: (for this text, candidates).
    pub completions: Option<(String, Vec<String>)>,
    /// This agent's id and name.
    pub own: Option<(EndpointId, String)>,
    /// Saved agent settings wait for a restart of the agent (the relay).
    pub restart_needed: bool,
}

/// Something to tell the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Plain words.
    pub text: String,
    /// An error (red) or a notice.
    pub error: bool,
}

impl Model {
    /// The machine `key`, if present.
    pub fn machine(&self, key: MachineKey) -> Option<&Machine> {
        self.machines.iter().find(|m| m.key == key)
    }

    /// The machine `key`, mutably.
    pub fn machine_mut(&mut self, key: MachineKey) -> Option<&mut Machine> {
        self.machines.iter_mut().find(|m| m.key == key)
    }

    /// Adds an error for the user.
    pub fn error(&mut self, text: impl Into<String>) {
        self.push(text.into(), true);
    }

    /// Adds a notice for the user.
    pub fn notice(&mut self, text: impl Into<String>) {
        self.push(text.into(), false);
    }

    fn push(&mut self, text: String, error: bool) {
        // The same message twice in a row (a retry failing again) is shown once.
        if self.messages.last().is_some_and(|m| m.text == text) {
            return;
        }
        self.messages.push(Message { text, error });
        if self.messages.len() > 5 {
            self.messages.remove(0);
        }
    }
}

/// Wakes the window when something changed, and lets tests wait for changes.
#[derive(Clone, Default)]
pub struct Notifier {
    inner: Arc<NotifierInner>,
}

#[derive(Default)]
struct NotifierInner {
    ctx: Mutex<Option<egui::Context>>,
    generation: Mutex<u64>,
    changed: Condvar,
    /// When the window last began a frame.
    last_frame: Mutex<Option<Instant>>,
}

/// One display refresh (60 Hz: egui does not know the monitor's rate). Output repaints
/// are paced to it.
pub const REFRESH: Duration = Duration::from_micros(16_667);

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Notifier({})", self.generation())
    }
}

pub use vibemesh_core::sync::lock;

impl Notifier {
    /// Repaints `ctx` on every change from now on.
    pub fn attach(&self, ctx: &egui::Context) {
        *lock(&self.inner.ctx) = Some(ctx.clone());
    }

    /// Something changed: repaint (egui coalesces bursts to the display rate).
    pub fn notify(&self) {
        *lock(&self.inner.generation) += 1;
        self.inner.changed.notify_all();
        if let Some(ctx) = lock(&self.inner.ctx).as_ref() {
            ctx.request_repaint();
        }
    }

    /// Output arrived: repaint now if no frame began within the last display refresh,
    /// else at the next refresh. A lone echoed key is drawn at once; a flood is drawn
    /// once per refresh, not once per chunk (without vsync, as under Xvfb, nothing else
    /// would limit the frames, and drawing would take the CPU from the program).
    pub fn notify_paced(&self) {
        *lock(&self.inner.generation) += 1;
        self.inner.changed.notify_all();
        let Some(ctx) = lock(&self.inner.ctx).clone() else {
            return;
        };
        let since = lock(&self.inner.last_frame).map_or(REFRESH, |t| t.elapsed());
        // Never a zero delay: egui answers that with two frames (one more "to settle"),
        // which would double the frames of a flood; a nanosecond is "now" with one.
        let wait = REFRESH.saturating_sub(since).max(Duration::from_nanos(1));
        ctx.request_repaint_after(wait);
    }

    /// The window begins a frame (for [`Notifier::notify_paced`]).
    pub fn frame_begun(&self) {
        *lock(&self.inner.last_frame) = Some(Instant::now());
    }

    /// How many changes there were so far.
    pub fn generation(&self) -> u64 {
        *lock(&self.inner.generation)
    }

    /// Waits until the generation passes `seen`, or `timeout`; returns the new one.
    pub fn wait_past(&self, seen: u64, timeout: Duration) -> u64 {
        let g = lock(&self.inner.generation);
        let (g, _) = self
            .inner
            .changed
            .wait_timeout_while(g, timeout, |g| *g <= seen)
            .unwrap_or_else(|p| p.into_inner());
        *g
    }
}

/// The model shared between the window and the tasks.
pub type Shared = Arc<Mutex<Model>>;
