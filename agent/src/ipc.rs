//! The local socket: how the `vibemesh` CLI on this machine reaches its agent.
//! See [`vibemesh_core::proto::local`] for the protocol.

use std::sync::{Arc, Weak};

use tokio::net::{UnixListener, UnixStream};
use vibemesh_core::{
    frame::{FrameReader, FrameWriter},
    proto::local::{LocalOpen, RouteReply},
};

use crate::daemon::Agent;

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
        tokio::spawn(agent.until_shutdown(handle(agent.clone(), stream)));
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
        LocalOpen::Route(target) => match agent.route(&target).await {
            Ok((info, route)) => {
                let reply: RouteReply = Ok(info);
                if writer.send(&reply).await.is_ok() {
                    route.carry(reader.into_inner(), writer.into_inner()).await;
                }
            }
            Err(e) => {
                let reply: RouteReply = Err(e);
                let _ = writer.send(&reply).await;
            }
        },
    }
}
