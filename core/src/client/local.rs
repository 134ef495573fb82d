//! The agent on this machine, over its Unix socket (see [`crate::proto::local`]).
//!
//! One connection per request or stream: a [`LocalOpen`] frame, the agent's answer, and
//! for a route the same two halves then carry the main protocol, so everything else in
//! [`crate::client`] works on them unchanged.

use std::path::{Path, PathBuf};

use tokio::net::UnixStream;

use super::{BoxRead, BoxWrite, ClientError, ControlClient, open_control};
use crate::{
    frame::{FrameReader, FrameWriter},
    proto::local::{
        AdminReply, AdminRequest, AdminResponse, LocalOpen, RouteInfo, RouteReply, Target,
    },
};

/// Where main-protocol streams go: the local agent's socket and the target it routes
/// them to (the agent itself or one of its peers).
#[derive(Debug, Clone)]
pub struct LocalRoute {
    /// The local agent's Unix socket.
    pub socket: PathBuf,
    /// [`Target::Local`] for the socket's own agent, [`Target::Peer`] for a peer of it.
    pub target: Target,
}

impl LocalRoute {
    /// Streams to `target` through the agent on `socket`.
    pub fn new(socket: impl Into<PathBuf>, target: Target) -> Self {
        Self {
            socket: socket.into(),
            target,
        }
    }

    /// Opens one main-protocol stream; the agent's [`RouteInfo`] says where it went.
    pub async fn open(&self) -> Result<(RouteInfo, BoxRead, BoxWrite), ClientError> {
        route(&self.socket, self.target.clone()).await
    }

    /// Opens one main-protocol stream, without the route information.
    pub async fn open_stream(&self) -> Result<(BoxRead, BoxWrite), ClientError> {
        let (_, r, w) = self.open().await?;
        Ok((r, w))
    }
}

async fn connect(socket: &Path) -> Result<UnixStream, ClientError> {
    UnixStream::connect(socket)
        .await
        .map_err(|_| ClientError::NotRunning(socket.to_path_buf()))
}

/// Sends one administrative request to the agent on `socket`.
pub async fn admin(socket: &Path, req: AdminRequest) -> Result<AdminReply, ClientError> {
    let (r, w) = connect(socket).await?.into_split();
    let mut w = FrameWriter::new(w);
    let mut r = FrameReader::new(r);
    w.send(&LocalOpen::Admin(req)).await?;
    match r.recv::<AdminResponse>().await? {
        Some(Ok(reply)) => Ok(reply),
        Some(Err(e)) => Err(e.into()),
        None => Err(ClientError::Closed),
    }
}

/// Opens a main-protocol stream to `target` through the agent on `socket`.
pub async fn route(
    socket: &Path,
    target: Target,
) -> Result<(RouteInfo, BoxRead, BoxWrite), ClientError> {
    let (r, w) = connect(socket).await?.into_split();
    let mut w = FrameWriter::new(w);
    let mut r = FrameReader::new(r);
    w.send(&LocalOpen::Route(target)).await?;
    match r.recv::<RouteReply>().await? {
        Some(Ok(info)) => Ok((info, Box::new(r.into_inner()), Box::new(w.into_inner()))),
        Some(Err(e)) => Err(e.into()),
        None => Err(ClientError::Closed),
    }
}

/// A control client for `target` through the agent on `socket`. Its driver runs on the
/// current tokio runtime; pushed events are dropped unread (dropping the receiver tells
/// the driver not to queue them).
pub async fn control(socket: &Path, target: Target) -> Result<ControlClient, ClientError> {
    let (_, r, w) = route(socket, target).await?;
    let (control, _events, driver) = open_control(r, w).await?;
    tokio::spawn(driver.run());
    Ok(control)
}

#[cfg(test)]
mod tests {
    use tokio::net::UnixListener;

    use super::*;
    use crate::{ErrorCode, WireError};

    fn socket_path(name: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("vm-local-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        path
    }

    #[tokio::test]
    async fn no_agent_is_a_typed_error_that_says_how_to_start_one() {
        let path = socket_path("none");
        let err = admin(&path, AdminRequest::Status).await.unwrap_err();
        assert!(
            matches!(&err, ClientError::NotRunning(p) if *p == path),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("no agent is running") && text.contains("vibemesh agent"));
        // A front end that shows every failure as a wire error sees it as unreachable.
        assert_eq!(WireError::from(err).code, ErrorCode::Unreachable);
    }

    #[tokio::test]
    async fn a_refusal_arrives_typed_and_a_route_carries_the_stream() {
        let path = socket_path("agent");
        let listener = UnixListener::bind(&path).unwrap();
        let agent = tokio::spawn(async move {
            // First connection: an admin request, refused.
            let (s, _) = listener.accept().await.unwrap();
            let (r, w) = s.into_split();
            let (mut r, mut w) = (FrameReader::new(r), FrameWriter::new(w));
            let open = r.recv::<LocalOpen>().await.unwrap().unwrap();
            assert!(matches!(open, LocalOpen::Admin(AdminRequest::Status)));
            let no: AdminResponse = Err(WireError::new(ErrorCode::Forbidden, "not you"));
            w.send(&no).await.unwrap();
            // Second: a route, accepted; then the bytes are the caller's.
            let (s, _) = listener.accept().await.unwrap();
            let (r, w) = s.into_split();
            let (mut r, mut w) = (FrameReader::new(r), FrameWriter::new(w));
            let open = r.recv::<LocalOpen>().await.unwrap().unwrap();
            assert!(matches!(open, LocalOpen::Route(Target::Local)));
            let info = RouteInfo {
                name: "here".into(),
                id: crate::SecretKey::from_bytes(&[7; 32]).public(),
            };
            w.send(&RouteReply::Ok(info)).await.unwrap();
            let mut raw = r.into_inner();
            let mut got = [0u8; 5];
            tokio::io::AsyncReadExt::read_exact(&mut raw, &mut got)
                .await
                .unwrap();
            got
        });
        let err = admin(&path, AdminRequest::Status).await.unwrap_err();
        let ClientError::Remote(w) = &err else {
            panic!("not the agent's refusal: {err:?}")
        };
        assert_eq!(
            (w.code, w.message.as_str()),
            (ErrorCode::Forbidden, "not you")
        );

        let route = LocalRoute::new(&path, Target::Local);
        let (info, _r, mut w) = route.open().await.unwrap();
        assert_eq!(info.name, "here");
        tokio::io::AsyncWriteExt::write_all(&mut w, b"hello")
            .await
            .unwrap();
        assert_eq!(&agent.await.unwrap(), b"hello");
        let _ = std::fs::remove_file(&path);
    }
}
