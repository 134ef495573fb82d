//! Live session lists: a control stream per watch, its pushed events forwarded to the
//! app, dialed again after a loss or a [`crate::Mesh::resume`].

use std::{sync::Arc, time::Duration};

use tokio::{sync::watch, task::JoinHandle};
use vibemesh_core::{
    client::{Backoff, WatchEvent},
    proto::control::Event,
};

use crate::{Session, links::Links, session::lock, store::Known};

/// How a watch retries a machine that is away: soon at first, then less often.
fn backoff() -> Backoff {
    Backoff {
        first: Duration::from_secs(1),
        max: Duration::from_secs(30),
        max_tries: None,
    }
}

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

/// Core's watch (`client::watch`: a control stream, a list, the pushed events, and all
/// again after a loss), told to the listener; started afresh when the app resumes, so a
/// watch waiting out a long backoff dials at once.
async fn watch_loop(
    links: Arc<Links>,
    machine: Known,
    listener: Arc<dyn SessionsListener>,
    mut resumed: watch::Receiver<u64>,
) {
    loop {
        let peer = links.peer(&machine);
        let dial = move || {
            let peer = peer.clone();
            async move { peer.open_stream().await }
        };
        let (handle, mut events, driver) = vibemesh_core::client::watch(dial, backoff());
        let (listener, resumed) = (listener.as_ref(), &mut resumed);
        // Owns the events, so they go when it ends and a detaching driver never waits
        // on a full queue nobody reads.
        let follow = async move {
            loop {
                tokio::select! {
                    ev = events.recv() => match ev {
                        Some(ev) => tell(listener, ev),
                        None => return false,
                    },
                    changed = resumed.changed() => {
                        handle.detach();
                        // An error: the mesh is gone.
                        return changed.is_ok();
                    }
                }
            }
        };
        let ((), again) = tokio::join!(driver, follow);
        if !again {
            return;
        }
    }
}

/// Tells the listener one event of the watch.
fn tell(listener: &dyn SessionsListener, ev: WatchEvent) {
    let list = |l: Vec<vibemesh_core::proto::SessionInfo>| {
        listener.on_sessions(l.into_iter().map(Session::from).collect())
    };
    match ev {
        WatchEvent::Attached { info, .. } => list(info.sessions),
        WatchEvent::Relisted(sessions) => list(sessions),
        WatchEvent::Event(Event::SessionCreated(s)) => listener.on_created(s.into()),
        WatchEvent::Event(Event::SessionUpdated(s)) => listener.on_updated(s.into()),
        WatchEvent::Event(Event::SessionRemoved(id)) => listener.on_removed(id.to_string()),
        WatchEvent::Event(_) => {}
        WatchEvent::Reconnecting { error, .. } => listener.on_offline(error),
        WatchEvent::Closed(e) => listener.on_offline(e.to_string()),
        WatchEvent::Detached => {}
    }
}
