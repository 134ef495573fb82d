//! Talking to the agent on this machine over its socket.

use tokio::net::UnixStream;
use vibemesh_core::{
    client::{self, BoxRead, BoxWrite, ControlClient},
    frame::{FrameReader, FrameWriter},
    proto::local::{
        AdminReply, AdminRequest, AdminResponse, LocalOpen, RouteInfo, RouteReply, Target,
    },
};

use crate::{config::Home, ipc::not_running};

async fn connect(home: &Home) -> anyhow::Result<UnixStream> {
    UnixStream::connect(&home.socket)
        .await
        .map_err(|_| not_running(&home.socket).into())
}

/// Sends one administrative request.
pub async fn admin(home: &Home, req: AdminRequest) -> anyhow::Result<AdminReply> {
    let (r, w) = connect(home).await?.into_split();
    let mut w = FrameWriter::new(w);
    let mut r = FrameReader::new(r);
    w.send(&LocalOpen::Admin(req)).await?;
    match r.recv::<AdminResponse>().await? {
        Some(Ok(reply)) => Ok(reply),
        Some(Err(e)) => Err(e.into()),
        None => anyhow::bail!("the agent closed the connection without answering"),
    }
}

/// Opens a main-protocol stream to `target` through the local agent.
pub async fn route(home: &Home, target: Target) -> anyhow::Result<(RouteInfo, BoxRead, BoxWrite)> {
    let (r, w) = connect(home).await?.into_split();
    let mut w = FrameWriter::new(w);
    let mut r = FrameReader::new(r);
    w.send(&LocalOpen::Route(target)).await?;
    match r.recv::<RouteReply>().await? {
        Some(Ok(info)) => Ok((info, Box::new(r.into_inner()), Box::new(w.into_inner()))),
        Some(Err(e)) => Err(e.into()),
        None => anyhow::bail!("the agent closed the connection without answering"),
    }
}

/// A control client for `target`; its driver runs on the current runtime.
pub async fn control(home: &Home, target: Target) -> anyhow::Result<ControlClient> {
    let (_, r, w) = route(home, target).await?;
    let (control, _events, driver) = client::open_control(r, w).await?;
    tokio::spawn(driver.run());
    Ok(control)
}
