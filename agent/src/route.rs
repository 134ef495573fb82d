//! Routes: how a main-protocol stream from this machine's owner reaches its target,
//! this agent itself or a paired peer. The CLI's socket uses them, and so can anything
//! that embeds the agent (the desktop app) through [`Agent::open_stream`].

use tokio::io::{AsyncRead, AsyncWrite};
use vibemesh_core::{
    WireError,
    client::{BoxRead, BoxWrite},
    proto::local::{RouteInfo, Target},
};

use crate::{
    access::KnownAgent,
    daemon::Agent,
    net::{
        links::{Links, why_closed},
        proxy::{self, Redial, Upstream},
    },
    serve::{Caller, serve_stream},
};

/// Bytes buffered each way on an in-process stream.
pub(crate) const DUPLEX_BUFFER: usize = 256 * 1024;

/// A route that is open but carries nothing yet.
pub enum Route {
    /// Served by this agent, with owner rights.
    Local(std::sync::Arc<crate::serve::Services>),
    /// A fresh stream on the connection to a peer.
    Peer {
        /// The stream.
        up: Upstream,
        /// The peer's name, for messages.
        name: String,
        /// A fresh stream on a fresh connection, if this one turns out dead.
        redial: Redial,
    },
}

impl Agent {
    /// Opens a route to `target`: for a peer, dials it if needed and opens a stream.
    pub(crate) async fn route(&self, target: &Target) -> Result<(RouteInfo, Route), WireError> {
        match target {
            Target::Local => Ok((
                RouteInfo {
                    name: "local".into(),
                    id: self.endpoint.id(),
                },
                Route::Local(self.services.clone()),
            )),
            Target::Peer(name) => {
                let peer = self.access.find_known(name)?;
                let up = upstream(&self.links, &peer).await?;
                let (links, again) = (self.links.clone(), peer.clone());
                let redial: Redial = Box::new(move || {
                    Box::pin(async move {
                        links.forget(&again.id);
                        upstream(&links, &again).await
                    })
                });
                Ok((
                    RouteInfo {
                        name: peer.name.clone(),
                        id: peer.id,
                    },
                    Route::Peer {
                        up,
                        name: peer.name,
                        redial,
                    },
                ))
            }
        }
    }

    /// An in-process main-protocol stream to `target`; start it with
    /// [`vibemesh_core::client::open_control`] or [`vibemesh_core::client::open_attach`].
    pub async fn open_stream(
        &self,
        target: &Target,
    ) -> Result<(RouteInfo, BoxRead, BoxWrite), WireError> {
        let (info, route) = self.route(target).await?;
        let (ours, theirs) = tokio::io::duplex(DUPLEX_BUFFER);
        let (r, w) = tokio::io::split(theirs);
        tokio::spawn(self.until_shutdown(route.carry(r, w)));
        let (r, w) = tokio::io::split(ours);
        Ok((info, Box::new(r), Box::new(w)))
    }
}

impl Route {
    /// Carries one stream from the owner over this route until either side ends.
    pub async fn carry<R, W>(self, reader: R, writer: W)
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        match self {
            Route::Local(services) => serve_stream(services, Caller::LOCAL, reader, writer).await,
            Route::Peer { up, name, redial } => {
                proxy::relay(reader, writer, up, name, redial).await
            }
        }
    }
}

/// A fresh stream to `peer`, on the live connection or a new one.
async fn upstream(links: &Links, peer: &KnownAgent) -> Result<Upstream, WireError> {
    let conn = links.get(peer).await?;
    let (send, recv) = conn
        .open_bi()
        .await
        .map_err(|_| why_closed(&conn, &peer.name))?;
    Ok(Upstream { conn, send, recv })
}
