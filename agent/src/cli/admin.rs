//! The commands only this machine's owner runs against its own agent: pairing, peers,
//! status, paths and reloads.

use std::process::ExitCode;

use vibemesh_core::{
    proto::{
        Role,
        local::{AdminReply, AdminRequest, PathKind},
    },
    text::inert,
};

use super::{local, output, qr, show, stdout::outln};
use vibemesh_agent::config::{Config, Home};

/// The agent answered an admin request with the wrong kind of reply.
fn unexpected() -> anyhow::Error {
    anyhow::anyhow!("the agent gave an unexpected answer (is it an older version?)")
}

/// `vibemesh pair`.
pub async fn pair(
    home: &Home,
    role: Role,
    ttl_secs: Option<u64>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let reply = local::admin(home, AdminRequest::Pair { role, ttl_secs }).await?;
    let AdminReply::Ticket(t) = reply else {
        return Err(unexpected());
    };
    // With a relay of one's own, the QR code is a link to its web client: a phone's
    // camera opens it and the browser pairs in one step. Of several relays, the one
    // the agent is on now (the ticket's): the page talks to its own relay only.
    let link = Config::load(&home.config)
        .ok()
        .filter(|c| !c.relay.own().is_empty())
        .and_then(|_| vibemesh_core::ticket::Ticket::parse(&t.ticket).ok()?.relay)
        .and_then(|relay| qr::web_link(&relay, &t.ticket));
    show(json, &t, |t| {
        let code = qr::render(link.as_deref().unwrap_or(&t.ticket));
        output::ticket(t, &code, link.as_deref())
    })
}

/// `vibemesh join`: says so when the name asked for was taken and the agent chose
/// another.
pub async fn join(
    home: &Home,
    ticket: String,
    asked: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let req = AdminRequest::Join {
        ticket,
        name: asked.clone(),
    };
    let AdminReply::Joined(p) = local::admin(home, req).await? else {
        return Err(unexpected());
    };
    show(json, &p, |p| {
        let name = inert(&p.name);
        outln!(
            "Paired with {name} ({}) as {}. Try: vibemesh open {name}",
            p.id.fmt_short(),
            p.our_role.map_or("?".into(), |r| r.to_string()),
        )?;
        match asked {
            Some(asked) if asked != p.name => outln!(
                "Another peer is already called {}, so this one is called {name}.",
                inert(&asked)
            ),
            _ => Ok(()),
        }
    })
}

/// `vibemesh status`.
pub async fn status(home: &Home, json: bool) -> anyhow::Result<ExitCode> {
    let AdminReply::Status(s) = local::admin(home, AdminRequest::Status).await? else {
        return Err(unexpected());
    };
    show(json, &s, output::status)
}

/// `vibemesh wait-path`.
pub async fn wait_path(
    home: &Home,
    peer: &str,
    path: PathKind,
    timeout: std::time::Duration,
) -> anyhow::Result<ExitCode> {
    let req = AdminRequest::WaitPath {
        peer: peer.to_string(),
        path,
        timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
    };
    let AdminReply::PathReached { path, waited_ms } = local::admin(home, req).await? else {
        return Err(unexpected());
    };
    outln!(
        "{peer}: {} after {:.2} s",
        path.as_str(),
        waited_ms as f64 / 1000.0
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `vibemesh reload`.
pub async fn reload(home: &Home) -> anyhow::Result<ExitCode> {
    let AdminReply::Reloaded {
        roots,
        restart_needed,
    } = local::admin(home, AdminRequest::Reload).await?
    else {
        return Err(unexpected());
    };
    outln!("allowed roots: {}", inert(&roots.join(", ")))?;
    if restart_needed {
        outln!("other changes take effect when the agent restarts")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `vibemesh peers`.
pub async fn peers(home: &Home, json: bool) -> anyhow::Result<ExitCode> {
    let AdminReply::Peers(p) = local::admin(home, AdminRequest::Peers).await? else {
        return Err(unexpected());
    };
    show(json, &p, |p| output::peers(p))
}

/// `vibemesh peers remove`.
pub async fn remove_peer(home: &Home, name: String, json: bool) -> anyhow::Result<ExitCode> {
    let AdminReply::Removed(p) = local::admin(home, AdminRequest::RemovePeer(name)).await? else {
        return Err(unexpected());
    };
    show(json, &p, |p| {
        outln!(
            "Removed {} ({}); its connections are closed.",
            inert(&p.name),
            p.id.fmt_short()
        )
    })
}
