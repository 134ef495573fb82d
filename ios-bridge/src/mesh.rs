//! [`Mesh`]: the phone's identity and endpoint, its paired machines and everything done
//! with them.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex, Weak},
};

use tokio::{runtime::Handle, sync::watch};
use vibemesh_core::time::now_ms;
use vibemesh_core::{
    client::{ClientError, ControlClient},
    proto::{Provider, SessionId, TermSize, control::CreateSession},
    ticket::Ticket,
};

use crate::{
    ConversationHandle, Machine, MachineStatus, MeshError, ScreenListener, Session, SessionHandle,
    SessionWatch, SessionsListener,
    endpoint::bind_endpoint,
    links::{CONNECT_TIMEOUT, Links},
    runtime::{RuntimeOwner, run_on},
    session::lock,
    store::{Known, Store},
    stream::Target,
};

/// The phone on the mesh: its key (kept in the app's folder), its iroh endpoint, the
/// machines it paired with, and the runtime all network work runs on.
#[derive(uniffi::Object)]
pub struct Mesh {
    pub(crate) rt: Handle,
    pub(crate) core: Arc<Core>,
    // Last, so the runtime stops after everything above let go of it.
    _owner: RuntimeOwner,
}

/// What the mesh's calls share.
pub(crate) struct Core {
    name: String,
    pub(crate) links: Arc<Links>,
    store: Mutex<Store>,
    resumed: watch::Sender<u64>,
    handles: Mutex<Vec<Weak<SessionHandle>>>,
    /// The attached conversations, re-attached on resume.
    pub(crate) conversations: Mutex<Vec<Weak<ConversationHandle>>>,
}

impl Mesh {
    /// Session `session_id` on `machine`, as a handle attaches to it.
    pub(crate) fn target(&self, machine: &str, session_id: &str) -> Result<Target, MeshError> {
        Ok(Target {
            rt: self.rt.clone(),
            links: self.core.links.clone(),
            machine: self.core.find(machine)?,
            session: parse_id(session_id)?,
        })
    }
}

/// Keeps an attached handle in `list`, for [`Mesh::resume`] (weakly: the app owns it).
pub(crate) fn keep<H>(list: &Mutex<Vec<Weak<H>>>, handle: &Arc<H>) {
    let mut list = lock(list);
    list.retain(|h| h.strong_count() > 0);
    list.push(Arc::downgrade(handle));
}

#[uniffi::export(async_runtime = "tokio")]
impl Mesh {
    /// Opens the phone's mesh: loads the key in `folder/key` (creating it the first
    /// time), loads `folder/machines.json`, and binds an endpoint. `relay` is `"default"`
    /// (the public relays), `"none"` (direct connections only) or a relay URL; `bind` is
    /// an address like `"127.0.0.1:0"` to listen on (all interfaces when `None`).
    #[uniffi::constructor]
    pub async fn open(
        folder: String,
        device_name: String,
        relay: String,
        bind: Option<String>,
    ) -> Result<Arc<Self>, MeshError> {
        let owner = RuntimeOwner::new()?;
        let rt = owner
            .handle()
            .ok_or_else(|| MeshError::other("the runtime did not start"))?;
        let folder = PathBuf::from(folder);
        let core = run_on(&rt, async move {
            std::fs::create_dir_all(&folder)
                .map_err(|e| MeshError::io(format!("{}: {e}", folder.display())))?;
            let key = vibemesh_core::identity::load_or_create(&folder.join("key"))
                .map_err(|e| MeshError::io(e.to_string()))?;
            let store = Store::load(&folder)?;
            let ep = bind_endpoint(key, &relay, bind.as_deref()).await?;
            Ok(Arc::new(Core {
                name: device_name,
                links: Arc::new(Links::new(ep)),
                store: Mutex::new(store),
                resumed: watch::Sender::new(0),
                handles: Mutex::new(Vec::new()),
                conversations: Mutex::new(Vec::new()),
            }))
        })
        .await?;
        Ok(Arc::new(Self {
            rt,
            core,
            _owner: owner,
        }))
    }

    /// This phone's id (its public key, as text).
    pub fn id(&self) -> String {
        self.core.links.endpoint().id().to_string()
    }

    /// Pairs with the machine a ticket (scanned or pasted) names and remembers it.
    pub async fn pair(&self, ticket: String) -> Result<Machine, MeshError> {
        let core = self.core.clone();
        run_on(&self.rt, async move {
            let ticket = Ticket::parse(&ticket).map_err(|e| MeshError::TicketInvalid {
                message: e.to_string(),
            })?;
            let ep = core.links.endpoint();
            if ticket.id == ep.id() {
                return Err(MeshError::TicketInvalid {
                    message: "that ticket is this phone's own".into(),
                });
            }
            let accepted = tokio::time::timeout(
                CONNECT_TIMEOUT,
                vibemesh_core::client::pair(ep, &ticket, &core.name),
            )
            .await
            .map_err(|_| MeshError::unreachable("the machine did not answer the pairing"))??;
            let known = lock(&core.store).add(Known {
                name: accepted.name,
                id: ticket.id,
                addrs: ticket.addrs,
                relay: ticket.relay,
                other_relays: ticket.other_relays,
                role: accepted.role,
                added_ms: now_ms(),
            })?;
            // A connection from before pairing (refused) must not be reused.
            core.links.drop_link(&known.id, b"paired");
            Ok(machine_of(&known))
        })
        .await
    }

    /// The paired machines.
    pub fn machines(&self) -> Vec<Machine> {
        lock(&self.core.store)
            .all()
            .iter()
            .map(machine_of)
            .collect()
    }

    /// Whether `machine` (a name or an id) answers, and over which path.
    pub async fn status(&self, machine: String) -> Result<MachineStatus, MeshError> {
        let core = self.core.clone();
        run_on(&self.rt, async move {
            let m = core.find(&machine)?;
            Ok(match core.links.connection(&m).await {
                Ok(conn) => {
                    let paths = conn.connection().paths();
                    let sel = paths.iter().find(|p| p.is_selected());
                    let relayed = sel.as_ref().is_some_and(|p| p.is_relay());
                    MachineStatus {
                        online: true,
                        direct: sel.is_some() && !relayed,
                        relayed,
                        rtt_ms: sel.as_ref().map(|p| p.rtt().as_secs_f64() * 1000.0),
                        error: None,
                    }
                }
                Err(e) => MachineStatus {
                    online: false,
                    direct: false,
                    relayed: false,
                    rtt_ms: None,
                    error: Some(e.to_string()),
                },
            })
        })
        .await
    }

    /// The sessions on `machine`.
    pub async fn sessions(&self, machine: String) -> Result<Vec<Session>, MeshError> {
        let core = self.core.clone();
        run_on(&self.rt, async move {
            let m = core.find(&machine)?;
            let list = core
                .links
                .call(&m, |c| async move { c.list_sessions().await })
                .await?;
            Ok(list.into_iter().map(Session::from).collect())
        })
        .await
    }

    /// Watches `machine`'s sessions: the list first, then every change, pushed to
    /// `listener` until the returned watch is cancelled.
    pub fn watch_sessions(
        &self,
        machine: String,
        listener: Arc<dyn SessionsListener>,
    ) -> Result<Arc<SessionWatch>, MeshError> {
        let m = self.core.find(&machine)?;
        Ok(SessionWatch::start(
            &self.rt,
            self.core.links.clone(),
            m,
            listener,
            self.core.resumed.subscribe(),
        ))
    }

    /// Starts a shell session on `machine` in the folder `path` (the home folder when
    /// empty), running `command` (the login shell when empty), and returns its id.
    pub async fn open_session(
        &self,
        machine: String,
        path: String,
        command: Vec<String>,
        rows: u16,
        cols: u16,
    ) -> Result<String, MeshError> {
        let size = valid_size(rows, cols)?;
        let core = self.core.clone();
        run_on(&self.rt, async move {
            let m = core.find(&machine)?;
            let req = CreateSession {
                provider: Provider::Shell,
                cwd: (!path.is_empty()).then_some(path),
                command,
                size,
                title: None,
                env: Vec::new(),
            };
            // Not retried on a lost connection: the first request may have started the
            // session already, and a retry would start a second one.
            let link = core.links.get(&m).await?;
            let info = link
                .control
                .create_session(req)
                .await
                .map_err(|e| link.conn.closed_or(e))?;
            Ok(info.id.to_string())
        })
        .await
    }

    /// Attaches to a session: `listener` gets the snapshot, then the output, and the
    /// handle mirrors the screen and takes input.
    pub async fn attach(
        &self,
        machine: String,
        session_id: String,
        rows: u16,
        cols: u16,
        listener: Arc<dyn ScreenListener>,
    ) -> Result<Arc<SessionHandle>, MeshError> {
        let size = valid_size(rows, cols)?;
        let handle = SessionHandle::new(self.target(&machine, &session_id)?, size, listener);
        run_on(&self.rt, handle.clone().attach_now()).await?;
        keep(&self.core.handles, &handle);
        Ok(handle)
    }

    /// Stops a session (or forgets an exited one).
    pub async fn kill(&self, machine: String, session_id: String) -> Result<(), MeshError> {
        let id = parse_id(&session_id)?;
        self.request(machine, move |c| async move {
            c.kill_session(id).await.map(drop)
        })
        .await
    }

    /// Call when the app comes back from the background: connections may have died
    /// while it was suspended, so every machine is dialed afresh, watches list again,
    /// and every attached session is re-attached with a fresh snapshot (a session that
    /// cannot come back gets [`ScreenListener::on_closed`]).
    pub async fn resume(&self) -> Result<(), MeshError> {
        let core = self.core.clone();
        run_on(&self.rt, async move {
            let handles: Vec<Arc<SessionHandle>> = lock(&core.handles)
                .iter()
                .filter_map(Weak::upgrade)
                .filter(|h| h.attachment.wants_attached())
                .collect();
            let convs: Vec<Arc<ConversationHandle>> = lock(&core.conversations)
                .iter()
                .filter_map(Weak::upgrade)
                .filter(|h| h.attachment.wants_attached())
                .collect();
            for h in &handles {
                h.attachment.quiesce();
            }
            for c in &convs {
                c.attachment.quiesce();
            }
            core.links.drop_all(b"resumed");
            core.resumed.send_modify(|g| *g += 1);
            let machines: Vec<Known> = lock(&core.store).all().to_vec();
            let mut dials = tokio::task::JoinSet::new();
            for m in machines {
                let links = core.links.clone();
                dials.spawn(async move { links.get(&m).await.map(|_| ()) });
            }
            while dials.join_next().await.is_some() {}
            let mut attaches = tokio::task::JoinSet::new();
            for h in handles {
                attaches.spawn(async move {
                    if let Err(e) = h.clone().attach_now().await {
                        h.report_closed(e.to_string());
                    }
                });
            }
            for c in convs {
                attaches.spawn(async move {
                    if let Err(e) = c.clone().attach_now().await {
                        c.report_closed(e.to_string());
                    }
                });
            }
            while attaches.join_next().await.is_some() {}
            Ok(())
        })
        .await
    }

    /// Forgets a machine: its connection closes and it leaves the list. (The machine
    /// keeps this phone on its own list until it is removed there.)
    pub async fn forget(&self, machine: String) -> Result<(), MeshError> {
        let core = self.core.clone();
        run_on(&self.rt, async move {
            let m = core.find(&machine)?;
            lock(&core.handles)
                .retain(|h| h.upgrade().is_some_and(|h| h.target.machine.id != m.id));
            lock(&core.conversations)
                .retain(|h| h.upgrade().is_some_and(|h| h.target.machine.id != m.id));
            core.links.drop_link(&m.id, b"forgotten");
            lock(&core.store).remove(&m.id)
        })
        .await
    }

    /// Closes every connection and the endpoint. Call before letting the mesh go.
    pub async fn close(&self) -> Result<(), MeshError> {
        let core = self.core.clone();
        run_on(&self.rt, async move {
            core.links.drop_all(b"closing");
            core.links.endpoint().close().await;
            Ok(())
        })
        .await
    }
}

impl Core {
    /// The paired machine called `machine` (a name or an id prefix).
    pub(crate) fn find(&self, machine: &str) -> Result<Known, MeshError> {
        lock(&self.store).find(machine)
    }
}

fn machine_of(k: &Known) -> Machine {
    Machine {
        name: k.name.clone(),
        id: k.id.to_string(),
        role: k.role.into(),
    }
}

fn valid_size(rows: u16, cols: u16) -> Result<TermSize, MeshError> {
    let size = TermSize { rows, cols };
    if size.is_valid() {
        Ok(size)
    } else {
        Err(MeshError::bad_request(format!(
            "{cols}x{rows} is not a valid terminal size"
        )))
    }
}

/// A session id from the app.
pub(crate) fn parse_id(id: &str) -> Result<SessionId, MeshError> {
    id.trim()
        .parse()
        .map_err(|_| MeshError::bad_request(format!("{id:?} is not a session id")))
}

impl Mesh {
    /// One request on `machine`'s control stream, on the runtime ([`Links::call`]:
    /// asked again once on a fresh connection when the first one turns out dead).
    pub(crate) async fn request<T, F, Fut>(&self, machine: String, f: F) -> Result<T, MeshError>
    where
        T: Send + 'static,
        F: Fn(ControlClient) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ClientError>> + Send,
    {
        let core = self.core.clone();
        run_on(&self.rt, async move {
            let m = core.find(&machine)?;
            core.links.call(&m, f).await
        })
        .await
    }
}
