//! One structured AI session: its numbered conversation (in memory and on disk), who
//! watches it, its pending approvals, and the provider process that drives it (started,
//! and resumed, on demand). Its process's life is in `lifecycle`, approvals in
//! `approvals`, replaying older entries in `replay`.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    sync::{Arc, Mutex},
};

use tokio::sync::{broadcast, mpsc, watch};
use vibemesh_core::{
    ErrorCode, WireError,
    proto::{
        Provider, SessionId, SessionInfo, SessionStatus, TermSize,
        ai::{AiEvent, ConversationInfo, Entry, Waiting},
    },
};

use super::{
    discover::ProviderConfig,
    entries::clamp_event,
    history::History,
    log::{Log, Meta},
    queue::Queue,
};
use vibemesh_core::sync::lock;
use vibemesh_core::time::now_ms;

mod approvals;
mod lifecycle;
mod replay;
#[cfg(test)]
mod tests;

/// Entries a live viewer may be behind before it is caught up from memory.
const LIVE_QUEUE: usize = 1024;

/// What a session asks of its provider process.
#[derive(Debug)]
pub enum DriverCmd {
    /// A user message.
    Prompt(String),
    /// The answer to an approval request.
    Answer {
        /// The request's id.
        id: String,
        /// Allow or deny (allow-always is remembered by the session).
        allow: bool,
    },
    /// Stop the current turn.
    Interrupt,
    /// End the process (close its input).
    End,
    /// Kill the process now.
    Kill,
}

/// How a driver is started.
#[derive(Debug, Clone)]
pub struct Spawn {
    /// The program.
    pub program: PathBuf,
    /// The folder.
    pub cwd: PathBuf,
    /// The provider session to resume, if any.
    pub resume: Option<String>,
    /// The id a new provider session should take, where the provider lets us choose.
    pub new_id: Option<String>,
}

struct Inner {
    meta: Meta,
    /// The newest entries (all of them are in the log).
    entries: History,
    log: Option<Log>,
    status: SessionStatus,
    waiting: Option<Waiting>,
    viewers: u32,
    driver: Option<(u64, mpsc::UnboundedSender<DriverCmd>)>,
    generation: u64,
    pending: BTreeMap<String, String>,
    always: BTreeSet<String>,
    turn_active: bool,
    end_requested: bool,
    /// The running process was asked to resume, and has not said it started yet.
    resuming: bool,
    /// Resuming failed once: the next process starts a fresh provider session.
    no_resume: bool,
    /// Messages sent while a turn ran, sent one per turn as each ends.
    queue: Queue,
}

/// One structured session.
pub struct Conv {
    /// Its id.
    pub id: SessionId,
    /// Claude or Codex.
    pub provider: Provider,
    providers: Arc<ProviderConfig>,
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Entry>,
    live: watch::Sender<bool>,
    on_change: Box<dyn Fn(SessionInfo) + Send + Sync>,
}

impl Conv {
    /// A session from its meta and the entries it already has (new, or loaded at start).
    pub fn new(
        meta: Meta,
        mut entries: History,
        log: Option<Log>,
        providers: Arc<ProviderConfig>,
        on_change: Box<dyn Fn(SessionInfo) + Send + Sync>,
    ) -> Arc<Self> {
        if log.is_none() {
            // Nowhere to read older entries from.
            entries.keep_all();
        }
        // A loaded session whose last turn had ended waits for a reply.
        let waiting = entries.last_turn_ended().then_some(Waiting::Reply);
        Arc::new(Self {
            id: meta.id,
            provider: meta.provider,
            providers,
            inner: Mutex::new(Inner {
                meta,
                entries,
                log,
                status: SessionStatus::Running,
                waiting,
                viewers: 0,
                driver: None,
                generation: 0,
                pending: BTreeMap::new(),
                always: BTreeSet::new(),
                turn_active: false,
                end_requested: false,
                resuming: false,
                no_resume: false,
                queue: Queue::default(),
            }),
            tx: broadcast::channel(LIVE_QUEUE).0,
            live: watch::channel(false).0,
            on_change,
        })
    }

    /// What a listing shows.
    pub fn info(&self) -> SessionInfo {
        Self::info_of(&lock(&self.inner), self.provider)
    }

    fn info_of(i: &Inner, provider: Provider) -> SessionInfo {
        SessionInfo {
            id: i.meta.id,
            title: i.meta.title.clone(),
            provider,
            command: vec![provider.to_string()],
            cwd: i.meta.cwd.clone(),
            size: TermSize::DEFAULT,
            created_ms: i.meta.created_ms,
            status: i.status.clone(),
            viewers: i.viewers,
            recording: None,
            recording_error: None,
            recording_state: None,
            conversation: Some(ConversationInfo {
                waiting: i.waiting.clone(),
                live: i.driver.is_some(),
                last_seq: i.entries.last_seq(),
            }),
        }
    }

    /// Calls `on_change` with the session as it is now.
    fn changed(&self) {
        (self.on_change)(self.info());
    }

    /// Counts a viewer in or out.
    pub fn add_viewers(&self, delta: i32) {
        {
            let mut i = lock(&self.inner);
            i.viewers = i.viewers.saturating_add_signed(delta);
        }
        self.changed();
    }

    /// Numbers an event, writes it down and sends it to every viewer.
    pub fn record(&self, ev: AiEvent) {
        let changed = {
            let mut i = lock(&self.inner);
            self.record_locked(&mut i, ev)
        };
        if changed {
            self.changed();
        }
    }

    /// [`Conv::record`] under the lock; returns whether the listing changed.
    fn record_locked(&self, i: &mut Inner, mut ev: AiEvent) -> bool {
        clamp_event(&mut ev);
        let before = i.waiting.clone();
        let turn_ended = matches!(ev, AiEvent::TurnEnd { .. });
        match &ev {
            AiEvent::User { .. } => {
                i.turn_active = true;
                i.waiting = None;
            }
            AiEvent::Approval { tool, .. } => {
                i.waiting = Some(Waiting::Approval { tool: tool.clone() })
            }
            AiEvent::Settled { .. } if i.pending.is_empty() => {
                i.waiting = None;
            }
            AiEvent::TurnEnd { .. } => {
                i.turn_active = false;
                i.waiting = Some(Waiting::Reply);
            }
            AiEvent::Started { .. } => i.resuming = false,
            _ => {}
        }
        let seq = i.entries.last_seq() + 1;
        let entry = Entry {
            seq,
            at_ms: now_ms(),
            event: ev,
        };
        if let Some(log) = &mut i.log
            && let Err(e) = log.append(&entry)
        {
            tracing::warn!("session {}: cannot write its conversation: {e}", self.id);
        }
        i.entries.push(entry.clone());
        let _ = self.tx.send(entry);
        let mut changed = before != i.waiting;
        if turn_ended {
            changed |= self.send_queued(i);
        }
        changed
    }

    /// The turn ended: the oldest queued message, if any, becomes the next turn.
    fn send_queued(&self, i: &mut Inner) -> bool {
        let Some(tx) = i.driver.as_ref().map(|d| d.1.clone()) else {
            return false;
        };
        if i.end_requested {
            // Its input is closed: a message sent now would be lost without a word.
            self.drop_queue(i, &format!("{} was asked to end", self.provider));
            return false;
        }
        let Some(text) = i.queue.pop() else {
            return false;
        };
        let changed = self.record_locked(i, AiEvent::User { text: text.clone() });
        let _ = tx.send(DriverCmd::Prompt(text));
        changed
    }

    /// A client's message: starts (or resumes) the provider if it is not running.
    pub fn prompt(self: &Arc<Self>, text: String) -> Result<(), WireError> {
        if text.trim().is_empty() {
            return Err(WireError::new(ErrorCode::BadRequest, "an empty message"));
        }
        {
            let mut i = lock(&self.inner);
            if i.turn_active || !i.queue.is_empty() {
                // Typed ahead: it waits for the turn to end (see `send_queued`).
                i.queue.push(text.clone())?;
                self.record_locked(&mut i, AiEvent::Queued { text });
                return Ok(());
            }
            if i.driver.is_none() {
                self.start_locked(&mut i)?;
            }
            self.record_locked(&mut i, AiEvent::User { text: text.clone() });
            if let Some((_, tx)) = &i.driver {
                let _ = tx.send(DriverCmd::Prompt(text));
            }
        }
        self.changed();
        Ok(())
    }

    /// After an agent restart: a turn the old agent left running (it was killed) is
    /// closed, so no client waits for it.
    pub fn close_interrupted_turn(&self) {
        {
            // Queued messages the old agent never sent: say so, so no client shows
            // them as waiting forever.
            let mut i = lock(&self.inner);
            let unsent = i.entries.unsent();
            if unsent > 0 {
                let reason = format!(
                    "{unsent} queued message(s) not sent: the agent stopped; send them again"
                );
                self.record_locked(&mut i, AiEvent::QueueDropped { reason });
            }
        }
        let open = lock(&self.inner).entries.open_turn();
        if open {
            self.record(AiEvent::ProcessEnded {
                reason: format!(
                    "the agent stopped during this turn; your next message resumes {}",
                    self.provider
                ),
                stderr: Vec::new(),
                clean: true,
            });
        }
    }

    /// The provider says which session (thread) it runs; kept to resume it later.
    pub fn set_provider_session(&self, id: &str) {
        let mut i = lock(&self.inner);
        if i.meta.provider_session.as_deref() == Some(id) {
            return;
        }
        i.meta.provider_session = Some(id.to_string());
        if let Some(log) = &i.log
            && let Err(e) = log.save_meta(&i.meta)
        {
            tracing::warn!("session {}: cannot save: {e}", self.id);
        }
    }
}
