//! The local socket: how the `vibemesh` CLI on this machine reaches its agent.
//! See [`vibemesh_core::proto::local`] for the protocol.

use std::sync::{Arc, Weak};

use tokio::net::{UnixListener, UnixStream};
use vibemesh_core::{
    ErrorCode, WireError,
    frame::{FrameReader, FrameWriter},
    proto::local::{LocalOpen, RouteInfo, RouteReply, Target},
};

use crate::{
    daemon::Agent,
    net::{links::why_closed, proxy},
    serve::{Caller, serve_stream},
};

/// Accepts local connections until the agent goes away.
pub async fn serve(listener: UnixListener, agent: Weak<Agent>) {
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                tracing::warn!("local socket accept failed: {e}");
                continue;
            }
        };
        let Some(agent) = agent.upgrade() else { return };
        tokio::spawn(handle(agent, stream));
    }
}

async fn handle(agent: Arc<Agent>, stream: UnixStream) {
    let (r, w) = stream.into_split();
    let mut reader = FrameReader::new(r);
    let mut writer = FrameWriter::new(w);
    let open = match reader.recv::<LocalOpen>().await {
        Ok(Some(o)) => o,
        Ok(None) => return,
        Err(e) => {
            let reply: RouteReply = Err(e.to_wire());
            let _ = writer.send(&reply).await;
            return;
        }
    };
    match open {
        LocalOpen::Admin(req) => {
            let resp = agent.admin(req).await;
            let _ = writer.send(&resp).await;
            let _ = writer.finish().await;
        }
        LocalOpen::Route(Target::Local) => {
            let reply: RouteReply = Ok(RouteInfo {
                name: "local".into(),
                id: agent.endpoint.id(),
            });
            if writer.send(&reply).await.is_ok() {
                serve_stream(
                    agent.services.clone(),
                    Caller::LOCAL,
                    reader.into_inner(),
                    writer.into_inner(),
                )
                .await;
            }
        }
        LocalOpen::Route(Target::Peer(name)) => {
            let opened = async {
                let peer = agent.access.find_known(&name)?;
                let conn = agent.links.get(&peer).await?;
                let streams = conn
                    .open_bi()
                    .await
                    .map_err(|_| why_closed(&conn, &peer.name))?;
                Ok::<_, WireError>((peer, conn, streams))
            }
            .await;
            match opened {
                Ok((peer, conn, streams)) => {
                    let reply: RouteReply = Ok(RouteInfo {
                        name: peer.name.clone(),
                        id: peer.id,
                    });
                    if writer.send(&reply).await.is_ok() {
                        proxy::relay(
                            reader.into_inner(),
                            writer.into_inner(),
                            streams,
                            conn,
                            peer.name,
                        )
                        .await;
                    }
                }
                Err(e) => {
                    let reply: RouteReply = Err(e);
                    let _ = writer.send(&reply).await;
                }
            }
        }
    }
}

/// The error a CLI shows when no agent listens on the socket.
pub fn not_running(path: &std::path::Path) -> WireError {
    WireError::new(
        ErrorCode::Unreachable,
        format!(
            "no agent is running here (nothing answers on {}); start one with `vibemesh agent`",
            path.display()
        ),
    )
}
