//! The main protocol's handler: checks the allow-list, then serves every stream.

use std::sync::Arc;

use iroh::{
    endpoint::Connection,
    protocol::{AcceptError, ProtocolHandler},
};
use vibemesh_core::ErrorCode;

use crate::{
    access::{Access, Refused},
    serve::{Caller, Services, serve_stream},
};

/// Accepts [`vibemesh_core::proto::ALPN_MAIN`] connections from paired keys only.
#[derive(Clone)]
pub struct MainProtocol {
    /// What streams are served with.
    pub services: Arc<Services>,
    /// Who may connect.
    pub access: Arc<Access>,
}

impl std::fmt::Debug for MainProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MainProtocol").finish_non_exhaustive()
    }
}

/// What an unpaired key is told before the connection closes.
pub const NOT_PAIRED: &[u8] =
    b"this device is not paired with the agent: run `vibemesh pair` there and `vibemesh join <ticket>` here";

/// What a device over [`crate::access::MAX_CONNECTIONS_PER_PEER`] is told.
const TOO_MANY: &[u8] = b"this device holds too many connections to the agent already; close some";

impl ProtocolHandler for MainProtocol {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        let peer = conn.remote_id();
        // Registration re-checks the allow-list under the lock `remove` takes, so a
        // revocation racing this accept still closes the connection.
        let registered = match self.access.role_of(&peer) {
            None => Err(Refused::NotPaired),
            Some(_) => self.access.register(&conn),
        };
        match registered {
            Ok(()) => {}
            Err(Refused::NotPaired) => {
                tracing::info!(peer = %peer.fmt_short(), "refused unpaired key");
                conn.close(ErrorCode::NotPaired.to_u32().into(), NOT_PAIRED);
                return Ok(());
            }
            Err(Refused::TooMany) => {
                tracing::info!(peer = %peer.fmt_short(), "refused a connection over the limit");
                conn.close(ErrorCode::Limit.to_u32().into(), TOO_MANY);
                return Ok(());
            }
        }
        self.access.seen(&peer);
        tracing::info!(peer = %peer.fmt_short(), "peer connected");
        while let Ok((send, recv)) = conn.accept_bi().await {
            // Checked per stream: a role change applies to new streams at once.
            let Some(role) = self.access.role_of(&peer) else {
                conn.close(ErrorCode::Revoked.to_u32().into(), b"access revoked");
                break;
            };
            let caller = Caller {
                id: Some(peer),
                role,
            };
            tokio::spawn(serve_stream(self.services.clone(), caller, recv, send));
        }
        self.access.unregister(&conn);
        tracing::info!(peer = %peer.fmt_short(), "peer disconnected");
        Ok(())
    }
}
