//! The CLI's way to the agent on this machine: core's local-socket client
//! ([`vibemesh_core::client::local`]) on this home's socket, with its errors as `anyhow`.
//!
//! An agent's refusal, and no agent at all, stay a [`WireError`] inside the `anyhow`
//! error, so callers that reconnect can downcast it and tell a final refusal from an
//! agent that may come back.

use vibemesh_agent::config::Home;
use vibemesh_core::{
    WireError,
    client::{BoxRead, BoxWrite, ClientError, ControlClient, local},
    proto::local::{AdminReply, AdminRequest, RouteInfo, Target},
};

fn cli_error(e: ClientError) -> anyhow::Error {
    match e {
        ClientError::Remote(_) | ClientError::NotRunning(_) => WireError::from(e).into(),
        other => other.into(),
    }
}

/// Sends one administrative request.
pub async fn admin(home: &Home, req: AdminRequest) -> anyhow::Result<AdminReply> {
    local::admin(&home.socket, req).await.map_err(cli_error)
}

/// Opens a main-protocol stream to `target` through the local agent.
pub async fn route(home: &Home, target: Target) -> anyhow::Result<(RouteInfo, BoxRead, BoxWrite)> {
    local::route(&home.socket, target).await.map_err(cli_error)
}

/// A control client for `target`; its driver runs on the current runtime.
pub async fn control(home: &Home, target: Target) -> anyhow::Result<ControlClient> {
    local::control(&home.socket, target)
        .await
        .map_err(cli_error)
}
