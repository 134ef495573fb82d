//! Live session lists: a control stream per watch, its pushed events forwarded to the
//! app, dialed again after a loss or a [`crate::Mesh::resume`].

use std::{sync::Arc, time::Duration};

use tokio::{sync::watch, task::JoinHandle};
use vibemesh_core::proto::control::Event;

use crate::{MeshError, Session, links::Links, session::lock, store::Known};

/// Waits between attempts to reach a machine that is away, doubling up to this.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What a session watch tells the app. Called on the mesh's own threads.
#[uniffi::export(with_foreign)]
pub trait SessionsListener: Send + Sync {
    /// The whole list: first, and again after every reconnect or missed event.
    fn on_sessions(&self, sessions: Vec<Session>);
    /// A session started.
    fn on_created(&self, session: Session);
    /// A session's title, size, viewers or status changed.
    fn on_updated(&self, session: Session);
    /// A session went away (its id).
    fn on_removed(&self, session_id: String);
    /// The machine is out of reach; the watch keeps trying and calls
    /// [`SessionsListener::on_sessions`] when it is back.
    fn on_offline(&self, reason: String);
}

/// A running watch; [`SessionWatch::cancel`] (or dropping it) stops it.
#[derive(uniffi::Object)]
pub struct SessionWatch {
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl SessionWatch {
    /// Starts watching `machine` on the runtime behind `rt`; `resumed` ticks when the app
    /// comes back, so a waiting watch dials at once.
    pub(crate) fn start(
        rt: &tokio::runtime::Handle,
        links: Arc<Links>,
        machine: Known,
        listener: Arc<dyn SessionsListener>,
        resumed: watch::Receiver<u64>,
    ) -> Arc<Self> {
        let task = rt.spawn(watch_loop(links, machine, listener, resumed));
        Arc::new(Self {
            task: std::sync::Mutex::new(Some(task)),
        })
    }
}

#[uniffi::export]
impl SessionWatch {
    /// Stops the watch; no further callbacks come.
    pub fn cancel(&self) {
        if let Some(t) = lock(&self.task).take() {
            t.abort();
        }
    }
}

impl Drop for SessionWatch {
    fn drop(&mut self) {
        self.cancel();
    }
}

async fn watch_loop(
    links: Arc<Links>,
    machine: Known,
    listener: Arc<dyn SessionsListener>,
    mut resumed: watch::Receiver<u64>,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let reason = match watch_once(&links, &machine, listener.as_ref(), &mut backoff).await {
            Ok(()) => format!("{} closed the session list", machine.name),
            Err(e) => e.to_string(),
        };
        listener.on_offline(reason);
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            changed = resumed.changed() => {
                if changed.is_err() {
                    return; // the mesh is gone
                }
                backoff = Duration::from_secs(1);
            }
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection's worth of watching: a control stream of its own on the machine's
/// shared connection, a list, then events until the stream ends (a resume closes the
/// connection, which ends it too).
async fn watch_once(
    links: &Links,
    machine: &Known,
    listener: &dyn SessionsListener,
    backoff: &mut Duration,
) -> Result<(), MeshError> {
    let conn = links.connection(machine).await?;
    let (control, mut events, driver) = conn.control().await.map_err(|e| conn.closed_or(e))?;
    let driver = tokio::spawn(driver.run());
    let result = async {
        let list = control
            .list_sessions()
            .await
            .map_err(|e| conn.closed_or(e))?;
        *backoff = Duration::from_secs(1);
        listener.on_sessions(list.into_iter().map(Session::from).collect());
        while let Some(ev) = events.recv().await {
            match ev {
                Event::SessionCreated(s) => listener.on_created(s.into()),
                Event::SessionUpdated(s) => listener.on_updated(s.into()),
                Event::SessionRemoved(id) => listener.on_removed(id.to_string()),
                Event::Lagged => {
                    let list = control
                        .list_sessions()
                        .await
                        .map_err(|e| conn.closed_or(e))?;
                    listener.on_sessions(list.into_iter().map(Session::from).collect());
                }
                _ => {}
            }
        }
        match driver.await {
            Ok(Err(e)) => Err(conn.closed_or(e).into()),
            _ => Ok(()),
        }
    }
    .await;
    let _ = control.finish().await;
    result
}
