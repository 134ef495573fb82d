//! Keeping the sidebar true: one task per machine watches it on core's reconnecting
//! control stream ([`vibemesh_core::client::watch`]), which lists, follows the session
//! events the agent pushes, and reconnects with backoff when the stream drops. The window's requests (pair, revoke, new session...) are in `machines/requests.rs`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{runtime::Handle, task::JoinHandle};
use vibemesh_core::{
    ErrorCode, WireError,
    client::{Backoff, ClientError, WatchEvent, watch},
    proto::{
        control::Event,
        local::{AdminReply, AdminRequest},
    },
};

mod requests;

use crate::{
    backend::Backend,
    model::{Machine, MachineKey, Notifier, Reach, Shared, lock},
};

/// How a machine's control stream is retried: up to half a minute apart.
fn backoff() -> Backoff {
    Backoff {
        first: Duration::from_millis(500),
        max: Duration::from_secs(30),
        max_tries: None,
    }
}

/// How often path and round-trip time are refreshed while a peer is online.
const STATUS_EVERY: Duration = Duration::from_secs(10);

/// A wire error from a client error, in plain words.
pub fn wire(e: ClientError) -> WireError {
    match e {
        ClientError::Remote(w) => w,
        other => WireError::new(ErrorCode::Unreachable, other.to_string()),
    }
}

/// The machines and the tasks that watch them.
pub struct Machines {
    backend: Arc<Backend>,
    model: Shared,
    notify: Notifier,
    rt: Handle,
    watchers: Mutex<HashMap<MachineKey, JoinHandle<()>>>,
}

impl Machines {
    /// Starts watching this machine and every peer it knows.
    pub fn start(backend: Arc<Backend>, model: Shared, notify: Notifier, rt: Handle) -> Arc<Self> {
        let this = Arc::new(Self {
            backend,
            model,
            notify,
            rt,
            watchers: Mutex::new(HashMap::new()),
        });
        this.ensure(MachineKey::Local, "This machine".into());
        this.refresh_peers();
        let me = this.clone();
        this.rt.spawn(async move { me.status_loop().await });
        this
    }

    /// The agent behind the app.
    pub fn backend(&self) -> &Arc<Backend> {
        &self.backend
    }

    /// The runtime tasks run on.
    pub fn runtime(&self) -> &Handle {
        &self.rt
    }

    fn changed(&self) {
        self.notify.notify();
    }

    /// Adds the machine (if new) and its watcher.
    fn ensure(self: &Arc<Self>, key: MachineKey, name: String) {
        {
            let mut m = lock(&self.model);
            match m.machine_mut(key) {
                Some(existing) => existing.name = name,
                None => {
                    m.machines.push(Machine::new(key, name));
                    m.machines[1..].sort_by(|a, b| a.name.cmp(&b.name));
                }
            }
        }
        let mut w = lock(&self.watchers);
        if !w.contains_key(&key) {
            let me = self.clone();
            w.insert(key, self.rt.spawn(async move { me.watch(key).await }));
        }
    }

    /// Drops a machine and stops watching it.
    fn forget(&self, key: MachineKey) {
        if let Some(h) = lock(&self.watchers).remove(&key) {
            h.abort();
        }
        lock(&self.model).machines.retain(|m| m.key != key);
    }

    /// Keeps `key`'s sidebar entry true, on core's reconnecting control stream
    /// ([`watch`]): it lists on every connection and follows the events pushed.
    async fn watch(self: Arc<Self>, key: MachineKey) {
        let me = self.clone();
        let dial = move || {
            let me = me.clone();
            async move {
                // The machine as it is now: a peer's name or address may have changed.
                let target = lock(&me.model).machine(key).map(|m| m.target());
                let target = target.ok_or_else(|| {
                    ClientError::Remote(WireError::new(ErrorCode::NotFound, "forgotten"))
                })?;
                me.backend.open(&target).await.map_err(ClientError::Remote)
            }
        };
        // Held for as long as the task runs: dropping it would stop the watch.
        let (_handle, mut events, driver) = watch(dial, backoff());
        let follow = async {
            while let Some(ev) = events.recv().await {
                self.apply(key, ev).await;
            }
        };
        // The events end when the driver does.
        tokio::join!(driver, follow);
    }

    /// Applies what the watch of `key` reports.
    async fn apply(&self, key: MachineKey, ev: WatchEvent) {
        match ev {
            WatchEvent::Attached { info: w, .. } => {
                {
                    let mut m = lock(&self.model);
                    if key == MachineKey::Local {
                        m.own = Some((w.agent.id, w.agent.name.clone()));
                    }
                    if let Some(mach) = m.machine_mut(key) {
                        mach.reach = Reach::Online;
                        mach.info = Some(w.agent);
                        mach.sessions = w.sessions.into_iter().map(|s| (s.id, s)).collect();
                        mach.control = Some(w.control);
                    }
                }
                self.changed();
                if key != MachineKey::Local {
                    self.refresh_status().await;
                }
            }
            WatchEvent::Event(ev) => {
                if let Some(mach) = lock(&self.model).machine_mut(key) {
                    match ev {
                        Event::SessionCreated(s) | Event::SessionUpdated(s) => {
                            mach.sessions.insert(s.id, s);
                        }
                        Event::SessionRemoved(id) => {
                            mach.sessions.remove(&id);
                        }
                        _ => {}
                    }
                }
                self.changed();
            }
            WatchEvent::Relisted(sessions) => {
                if let Some(mach) = lock(&self.model).machine_mut(key) {
                    mach.sessions = sessions.into_iter().map(|s| (s.id, s)).collect();
                }
                self.changed();
            }
            WatchEvent::Reconnecting { error: why, .. } => self.offline(key, why),
            WatchEvent::Closed(e) => self.offline(key, e.message),
            WatchEvent::Detached => {}
        }
    }

    /// Marks `key` offline, for `why`.
    fn offline(&self, key: MachineKey, why: String) {
        if let Some(m) = lock(&self.model).machine_mut(key) {
            m.reach = Reach::Offline(why);
            m.control = None;
            m.path = None;
            m.rtt_us = None;
        }
        self.changed();
    }

    async fn status_loop(self: Arc<Self>) {
        loop {
            tokio::time::sleep(STATUS_EVERY).await;
            let any_online = lock(&self.model)
                .machines
                .iter()
                .any(|m| m.key != MachineKey::Local && m.reach == Reach::Online);
            if any_online {
                self.refresh_status().await;
            }
        }
    }

    /// Path (direct or relay) and round-trip time of each peer, from the agent.
    async fn refresh_status(&self) {
        let Ok(AdminReply::Status(st)) = self.backend.admin(AdminRequest::Status).await else {
            return;
        };
        let mut changed = false;
        {
            let mut m = lock(&self.model);
            for p in st.peers {
                if let Some(mach) = m.machine_mut(MachineKey::Peer(p.id))
                    && (mach.path != p.path || mach.rtt_us != p.rtt_us)
                {
                    mach.path = p.path;
                    mach.rtt_us = p.rtt_us;
                    changed = true;
                }
            }
        }
        if changed {
            self.changed();
        }
    }

    /// Reloads the peer list: new peers get a watcher, forgotten ones go.
    pub fn refresh_peers(self: &Arc<Self>) {
        let me = self.clone();
        self.rt.spawn(async move {
            match me.backend.admin(AdminRequest::Peers).await {
                Ok(AdminReply::Peers(peers)) => {
                    let keep: Vec<_> = peers.iter().filter(|p| p.reachable).collect();
                    let gone: Vec<MachineKey> = lock(&me.model)
                        .machines
                        .iter()
                        .map(|m| m.key)
                        .filter(|k| match k {
                            MachineKey::Local => false,
                            MachineKey::Peer(id) => !keep.iter().any(|p| p.id == *id),
                        })
                        .collect();
                    for k in gone {
                        me.forget(k);
                    }
                    for p in &keep {
                        me.ensure(MachineKey::Peer(p.id), p.name.clone());
                    }
                    lock(&me.model).peers = peers;
                }
                Ok(_) => {}
                Err(e) => lock(&me.model).error(format!("Could not list peers: {}", e.message)),
            }
            me.changed();
        });
    }
}
