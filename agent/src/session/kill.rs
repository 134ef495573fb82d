//! Stopping sessions: always within a bounded time, saying what was done.
//!
//! A running program gets SIGHUP and SIGTERM (to its whole process group), SIGKILL after
//! [`KILL_GRACE`]; its end is noticed from its holder's word or, where the holder says
//! nothing (it is stopped, wedged, or not adopted), from the process itself. Then the
//! holder is told to go; a holder process that has not gone [`KILL_WAIT`] later is
//! killed, and its socket removed. So a kill answers within about 4 s, whatever state
//! the session and its holder are in.

use std::time::Duration;

use nix::sys::signal::Signal;
use vibemesh_core::{WireError, proto::control::Event};

use super::{
    SessionManager,
    held::{Session, lock},
    link::Ended,
    process, pty,
};

/// How long a program gets between SIGHUP/SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(2);
/// How long a program gets to end after SIGKILL, and a holder to exit once told.
const KILL_WAIT: Duration = Duration::from_secs(1);

impl SessionManager {
    /// Stops a running session and removes it (an exited one is just removed); says
    /// what was done, in words.
    pub async fn kill(&self, id: vibemesh_core::proto::SessionId) -> Result<String, WireError> {
        let s = self.get(id)?;
        let what = s.stop().await;
        self.write().remove(&id);
        self.emit(Event::SessionRemoved(id));
        tracing::info!(session = %id, "killed: {what}");
        Ok(what)
    }

    /// Agent shutdown: sessions held in this process end; those with holder processes
    /// keep running for the next agent to adopt.
    pub async fn shutdown(&self) {
        let ids: Vec<_> = self
            .read()
            .values()
            .filter(|s| !s.detached)
            .map(|s| s.id)
            .collect();
        n0_future::join_all(ids.into_iter().map(|id| self.kill(id))).await;
    }
}

impl Session {
    /// Ends the program and the holder; what was done.
    async fn stop(&self) -> String {
        let program = self.program_pid().await;
        let what = match self.link.exit_info() {
            Some(info) => format!("removed; it had already ended ({info})"),
            None => match program {
                Some(pid) => self.end_program(pid).await,
                None => "its program could not be found".to_string(),
            },
        };
        self.link.remove();
        if !self.detached {
            return what;
        }
        let ended = tokio::time::timeout(KILL_WAIT, self.link.closed())
            .await
            .unwrap_or(Ended::No);
        let holder = self.link.holder_pid();
        match (ended, holder) {
            (Ended::HolderGone, _) | (_, None) => what,
            // It did not go when told (stopped, wedged, or never adopted): end it, and
            // whatever is left of its program.
            (Ended::No | Ended::GaveUp, Some(h)) => {
                if let Some(pid) = program {
                    pty::signal_group(pid, Signal::SIGKILL);
                }
                process::signal(h, Signal::SIGKILL);
                if let Some(sock) = &self.socket {
                    let _ = tokio::fs::remove_file(sock).await;
                }
                format!("{what}; its holder (pid {h}) did not answer, so it was killed too")
            }
        }
    }

    /// SIGHUP and SIGTERM, then SIGKILL, to the program's process group `pid`.
    async fn end_program(&self, pid: u32) -> String {
        pty::signal_group(pid, Signal::SIGHUP);
        pty::signal_group(pid, Signal::SIGTERM);
        if self.ends_within(pid, KILL_GRACE).await {
            return "stopped".into();
        }
        pty::signal_group(pid, Signal::SIGKILL);
        if self.ends_within(pid, KILL_WAIT).await {
            return format!(
                "killed with SIGKILL after {} s (it ignored SIGTERM)",
                KILL_GRACE.as_secs()
            );
        }
        format!(
            "sent SIGTERM, then SIGKILL, to process group {pid}; it had not ended a second later"
        )
    }

    /// Whether the program `pid` ends within `limit`, by its holder's word or its own.
    async fn ends_within(&self, pid: u32, limit: Duration) -> bool {
        let ended = async {
            tokio::select! {
                _ = self.wait_exit() => {}
                () = process::exited(pid) => {}
            }
        };
        tokio::time::timeout(limit, ended).await.is_ok()
    }

    /// The program's process id: as its holder said, or found from the holder process
    /// when it never said (it was not adopted).
    async fn program_pid(&self) -> Option<u32> {
        let said = lock(&self.meta).pid;
        if said.is_some() {
            return said;
        }
        let holder = self.link.holder_pid()?;
        // Reads /proc: not on an async thread.
        tokio::task::spawn_blocking(move || process::program_of(holder))
            .await
            .ok()
            .flatten()
    }
}
