//! What the window asks of the machines: pairing, tickets, new sessions, stopping
//! them, folder completion. Each runs as a task that writes its outcome into the model.

use std::{future::Future, sync::Arc};

use vibemesh_core::{
    WireError,
    client::{ClientError, ControlClient},
    proto::{
        Role, SessionId, SessionInfo,
        ai::StartConversation,
        control::CreateSession,
        local::{AdminReply, AdminRequest},
    },
};

use super::Machines;
use crate::model::{MachineKey, lock};

impl Machines {
    /// Pairs with the agent a pasted ticket names.
    pub fn join(self: &Arc<Self>, ticket: String) {
        let me = self.clone();
        lock(&self.model).join_result = None;
        self.rt.spawn(async move {
            let ticket = ticket.split_whitespace().collect::<String>();
            let result = me
                .backend
                .admin(AdminRequest::Join { ticket, name: None })
                .await;
            let outcome = match result {
                Ok(AdminReply::Joined(p)) => Ok(p.name),
                Ok(_) => Err("the agent gave an unexpected answer".to_string()),
                Err(e) => Err(e.message),
            };
            if outcome.is_ok() {
                me.refresh_peers();
            }
            lock(&me.model).join_result = Some(outcome);
            me.changed();
        });
    }

    /// Has the agent re-read its saved settings: the allowed roots apply at once; says
    /// what waits for a restart.
    pub fn reload_agent(self: &Arc<Self>) {
        let me = self.clone();
        self.rt.spawn(async move {
            let reply = me.backend.admin(AdminRequest::Reload).await;
            let mut m = lock(&me.model);
            match reply {
                Ok(AdminReply::Reloaded { restart_needed, .. }) => {
                    m.restart_needed = restart_needed;
                    m.notice(match (restart_needed, me.backend.is_embedded()) {
                        (false, _) => "Agent settings applied.",
                        (true, true) => {
                            "Allowed roots applied. The rest (the relay) applies when the agent \
                             restarts (Settings: Restart the agent)."
                        }
                        (true, false) => {
                            "Allowed roots applied. The rest (the relay) applies when the agent \
                             service restarts (systemctl --user restart vibemesh-agent)."
                        }
                    });
                }
                Ok(_) => m.error("Saved, but not applied: the agent gave an unexpected answer"),
                Err(e) => m.error(format!("Saved, but not applied: {}", e.message)),
            }
            drop(m);
            me.changed();
        });
    }

    /// Restarts the agent inside the app so every saved setting is in force; sessions go
    /// on, and every connection comes back by itself.
    pub fn restart_agent(self: &Arc<Self>) {
        let me = self.clone();
        lock(&self.model).notice("Restarting the agent…");
        self.rt.spawn(async move {
            let outcome = me.backend.restart().await;
            let mut m = lock(&me.model);
            match outcome {
                Ok(relay) => {
                    m.restart_needed = false;
                    m.notice(format!("Agent restarted; relay: {relay}."));
                }
                Err(e) => m.error(format!("Could not restart the agent: {e}")),
            }
            drop(m);
            me.changed();
        });
    }

    /// Revokes a peer: it loses access here and leaves the sidebar.
    pub fn revoke(self: &Arc<Self>, name: String) {
        let me = self.clone();
        self.rt.spawn(async move {
            match me
                .backend
                .admin(AdminRequest::RemovePeer(name.clone()))
                .await
            {
                Ok(_) => lock(&me.model).notice(format!("Removed {name}.")),
                Err(e) => lock(&me.model).error(format!("Could not remove {name}: {}", e.message)),
            }
            me.refresh_peers();
        });
    }

    /// Mints a pairing ticket for a phone, a browser or another machine.
    pub fn mint_ticket(self: &Arc<Self>, role: Role) {
        let me = self.clone();
        self.rt.spawn(async move {
            match me
                .backend
                .admin(AdminRequest::Pair {
                    role,
                    ttl_secs: None,
                })
                .await
            {
                Ok(AdminReply::Ticket(t)) => lock(&me.model).ticket = Some(t),
                Ok(_) => {}
                Err(e) => lock(&me.model).error(format!("Could not make a ticket: {}", e.message)),
            }
            me.changed();
        });
    }

    /// Starts a terminal session; `then` gets the new session (to open a tab on it).
    pub fn create_session(
        self: &Arc<Self>,
        key: MachineKey,
        req: CreateSession,
        then: impl FnOnce(MachineKey, Result<SessionInfo, String>) + Send + 'static,
    ) {
        self.new_session(
            key,
            move |c| async move { c.create_session(req).await },
            then,
        );
    }

    /// Starts a structured AI session; `then` gets the new session.
    pub fn start_conversation(
        self: &Arc<Self>,
        key: MachineKey,
        req: StartConversation,
        then: impl FnOnce(MachineKey, Result<SessionInfo, String>) + Send + 'static,
    ) {
        self.new_session(
            key,
            move |c| async move { c.start_conversation(req).await },
            then,
        );
    }

    /// Asks machine `key` for a new session with `call`; the session goes into the
    /// model, and the session or why it could not start to `then`.
    fn new_session<F, Fut>(
        self: &Arc<Self>,
        key: MachineKey,
        call: F,
        then: impl FnOnce(MachineKey, Result<SessionInfo, String>) + Send + 'static,
    ) where
        F: FnOnce(ControlClient) -> Fut + Send + 'static,
        Fut: Future<Output = Result<SessionInfo, ClientError>> + Send + 'static,
    {
        let me = self.clone();
        self.rt.spawn(async move {
            let (control, name) = match lock(&me.model).machine(key) {
                Some(m) => (m.control.clone(), m.name.clone()),
                None => (None, "?".into()),
            };
            let Some(control) = control else {
                then(key, Err(format!("{name} is not reachable right now.")));
                me.changed();
                return;
            };
            match call(control).await {
                Ok(info) => {
                    if let Some(m) = lock(&me.model).machine_mut(key) {
                        m.sessions.insert(info.id, info.clone());
                    }
                    then(key, Ok(info));
                }
                Err(e) => then(
                    key,
                    Err(format!(
                        "Could not start the session on {name}: {}",
                        WireError::from(e).message
                    )),
                ),
            }
            me.changed();
        });
    }

    /// Stops a session (or forgets an exited one).
    pub fn kill_session(self: &Arc<Self>, key: MachineKey, id: SessionId) {
        let me = self.clone();
        self.rt.spawn(async move {
            let control = lock(&me.model).machine(key).and_then(|m| m.control.clone());
            if let Some(control) = control
                && let Err(e) = control.kill_session(id).await
            {
                lock(&me.model).error(format!(
                    "Could not stop {id}: {}",
                    WireError::from(e).message
                ));
                me.changed();
            }
        });
    }

    /// Folder completions for `text` on machine `key`: the folders in its parent that
    /// start with its last part.
    pub fn complete(self: &Arc<Self>, key: MachineKey, text: String) {
        let me = self.clone();
        self.rt.spawn(async move {
            let control = lock(&me.model).machine(key).and_then(|m| m.control.clone());
            let Some(control) = control else { return };
            let Ok(found) = control.complete_folder(&text, 12).await else {
                return;
            };
            lock(&me.model).completions = Some((text, found));
            me.changed();
        });
    }
}
