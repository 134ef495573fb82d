//! The provider process of a session: started (or resumed) with the first message,
//! interrupted, ended, and what its end means for the conversation.

use std::{path::PathBuf, sync::Arc};

use tokio::sync::{mpsc, watch};
use vibemesh_core::{
    ErrorCode, WireError,
    proto::{
        ExitInfo, Provider, SessionStatus,
        ai::{AiEvent, Waiting},
    },
};

use super::{Conv, DriverCmd, Inner, Spawn, lock};

impl Conv {
    pub(super) fn start_locked(self: &Arc<Self>, i: &mut Inner) -> Result<(), WireError> {
        let program = self.providers.program(self.provider).ok_or_else(|| {
            WireError::new(
                ErrorCode::SpawnFailed,
                format!("{} is not installed on this machine", self.provider),
            )
        })?;
        let resume = if i.entries.had_turns() && !i.no_resume {
            i.meta.provider_session.clone()
        } else {
            None
        };
        let new_id = match (self.provider, &resume) {
            (Provider::Claude, None) => {
                let id = super::super::uuid_v4().map_err(|e| {
                    WireError::new(
                        ErrorCode::SpawnFailed,
                        format!("no random session id for {}: {e}", self.provider),
                    )
                })?;
                i.meta.provider_session = Some(id.clone());
                if let Some(log) = &i.log
                    && let Err(e) = log.save_meta(&i.meta)
                {
                    tracing::warn!("session {}: cannot save: {e}", self.id);
                }
                Some(id)
            }
            _ => None,
        };
        let spawn = Spawn {
            program,
            cwd: PathBuf::from(&i.meta.cwd),
            resume,
            new_id,
        };
        i.generation += 1;
        let generation = i.generation;
        let (tx, rx) = mpsc::unbounded_channel();
        i.driver = Some((generation, tx));
        self.live.send_replace(true);
        i.status = SessionStatus::Running;
        i.end_requested = false;
        i.resuming = spawn.resume.is_some();
        let conv = self.clone();
        match self.provider {
            Provider::Claude => {
                tokio::spawn(super::super::claude::run(conv, generation, spawn, rx));
            }
            Provider::Codex => {
                tokio::spawn(super::super::codex::run(conv, generation, spawn, rx));
            }
            Provider::Shell => {
                return Err(WireError::new(
                    ErrorCode::BadRequest,
                    "a shell is not a structured provider",
                ));
            }
        }
        Ok(())
    }

    /// Stops the current turn.
    pub fn interrupt(&self) -> Result<(), WireError> {
        let i = lock(&self.inner);
        match (&i.driver, i.turn_active) {
            (Some((_, tx)), true) => {
                let _ = tx.send(DriverCmd::Interrupt);
                Ok(())
            }
            _ => Err(WireError::new(ErrorCode::BadRequest, "no turn is running")),
        }
    }

    /// Ends the provider process (gracefully with `kill == false`).
    pub fn end(&self, kill: bool) {
        let mut i = lock(&self.inner);
        i.end_requested = true;
        if let Some((_, tx)) = &i.driver {
            let _ = tx.send(if kill {
                DriverCmd::Kill
            } else {
                DriverCmd::End
            });
        }
    }

    /// Whether the provider process runs, now and as it changes.
    pub fn live_watch(&self) -> watch::Receiver<bool> {
        self.live.subscribe()
    }

    /// The driver of `generation` ended: how, and its last stderr lines.
    pub fn process_ended(&self, generation: u64, exit: ExitInfo, stderr: Vec<String>) {
        {
            let mut i = lock(&self.inner);
            if i.driver.as_ref().map(|d| d.0) != Some(generation) {
                return;
            }
            i.driver = None;
            self.live.send_replace(false);
            let clean = i.end_requested || (!i.turn_active && exit.code == Some(0));
            let reason = if i.end_requested {
                format!("{} ended", self.provider)
            } else if clean {
                format!(
                    "{} ended ({exit}); your next message resumes it",
                    self.provider
                )
            } else if i.turn_active {
                format!("{} crashed in the middle of a turn ({exit})", self.provider)
            } else {
                format!("{} exited ({exit})", self.provider)
            };
            let reason = if i.resuming {
                // Its own record of the session is gone (another HOME, deleted): start
                // afresh next time rather than fail the same way again.
                i.no_resume = true;
                i.resuming = false;
                format!(
                    "{reason}; it could not resume its earlier session, so your next message starts a new one"
                )
            } else {
                reason
            };
            if !clean {
                i.status = SessionStatus::Exited(exit);
            }
            i.pending.clear();
            i.turn_active = false;
            i.waiting = Some(Waiting::Reply);
            self.record_locked(
                &mut i,
                AiEvent::ProcessEnded {
                    reason,
                    stderr,
                    clean,
                },
            );
            self.drop_queue(&mut i, &format!("{} ended", self.provider));
        }
        self.changed();
    }

    /// Drops the queued messages (their process ended), saying so in the conversation.
    pub(super) fn drop_queue(&self, i: &mut Inner, why: &str) {
        let n = i.queue.clear();
        if n > 0 {
            let reason = format!("{n} queued message(s) not sent: {why}; send them again");
            self.record_locked(i, AiEvent::QueueDropped { reason });
        }
    }

    /// Removes the session's files (it was killed).
    pub fn forget(&self) {
        if let Some(log) = lock(&self.inner).log.take() {
            log.remove();
        }
    }
}
