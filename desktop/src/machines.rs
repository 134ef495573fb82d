//! Keeping the sidebar true: one task per machine holds a control stream open, applies
//! the session events the agent pushes, and reconnects with backoff when the stream
//! drops. The window's requests (pair, revoke, new session...) are in `machines/requests.rs`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{runtime::Handle, task::JoinHandle};
use vibemesh_core::{
    WireError,
    client::{Backoff, open_control},
    proto::{
        control::Event,
        local::{AdminReply, AdminRequest, Target},
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

    async fn watch(self: Arc<Self>, key: MachineKey) {
        let mut attempt = 0u32;
        loop {
            let target = match lock(&self.model).machine(key) {
                Some(m) => m.target(),
                None => return,
            };
            let why = match self.follow(key, &target, &mut attempt).await {
                Ok(()) => "the connection closed".to_string(),
                Err(e) => e.message,
            };
            if let Some(m) = lock(&self.model).machine_mut(key) {
                m.reach = Reach::Offline(why);
                m.control = None;
                m.path = None;
                m.rtt_us = None;
            }
            self.changed();
            attempt += 1;
            tokio::time::sleep(backoff().delay(attempt)).await;
        }
    }

    /// One connection: list, then apply pushed events until the stream ends.
    async fn follow(
        &self,
        key: MachineKey,
        target: &Target,
        attempt: &mut u32,
    ) -> Result<(), WireError> {
        let (r, w) = self.backend.open(target).await?;
        let (control, mut events, driver) = open_control(r, w).await.map_err(WireError::from)?;
        let driver = tokio::spawn(driver.run());
        let info = control.info().await.map_err(WireError::from)?;
        let sessions = control.list_sessions().await.map_err(WireError::from)?;
        *attempt = 0;
        {
            let mut m = lock(&self.model);
            if key == MachineKey::Local {
                m.own = Some((info.id, info.name.clone()));
            }
            if let Some(mach) = m.machine_mut(key) {
                mach.reach = Reach::Online;
                mach.info = Some(info);
                mach.sessions = sessions.into_iter().map(|s| (s.id, s)).collect();
                mach.control = Some(control.clone());
            }
        }
        self.changed();
        if key != MachineKey::Local {
            self.refresh_status().await;
        }
        while let Some(ev) = events.recv().await {
            let relist = {
                let mut m = lock(&self.model);
                let Some(mach) = m.machine_mut(key) else {
                    return Ok(());
                };
                match ev {
                    Event::SessionCreated(s) | Event::SessionUpdated(s) => {
                        mach.sessions.insert(s.id, s);
                        false
                    }
                    Event::SessionRemoved(id) => {
                        mach.sessions.remove(&id);
                        false
                    }
                    Event::Lagged => true,
                    _ => false,
                }
            };
            if relist {
                let sessions = control.list_sessions().await.map_err(WireError::from)?;
                if let Some(mach) = lock(&self.model).machine_mut(key) {
                    mach.sessions = sessions.into_iter().map(|s| (s.id, s)).collect();
                }
            }
            self.changed();
        }
        match driver.await {
            Ok(Err(e)) => Err(WireError::from(e)),
            _ => Ok(()),
        }
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
