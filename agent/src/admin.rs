//! Administrative requests from this machine's owner: status, pairing, peers.

use std::time::Duration;

use vibemesh_core::{
    ErrorCode, WireError, client,
    proto::local::{
        AdminReply, AdminRequest, AdminResponse, PathKind, PeerStatus, StatusReport, TicketInfo,
    },
    ticket::Ticket,
};

use crate::{
    access::KnownAgent,
    config::Config,
    daemon::Agent,
    net::{
        endpoint::{other_relays, relay_url, ticket_addrs},
        pairing::check_ttl,
    },
};
use vibemesh_core::time::now_ms;

/// How long a ticket waits for the agent to be on a relay of its own.
const HOME_RELAY_WAIT: Duration = Duration::from_secs(3);

/// How long `status` waits for each peer.
const STATUS_TIMEOUT: Duration = Duration::from_secs(3);

impl Agent {
    /// Answers one administrative request.
    pub async fn admin(&self, req: AdminRequest) -> AdminResponse {
        match req {
            AdminRequest::Status => Ok(AdminReply::Status(self.status().await)),
            AdminRequest::Pair { role, ttl_secs } => {
                let secs = ttl_secs.unwrap_or(self.config.ticket_ttl_minutes.saturating_mul(60));
                // Checked here too: the local API is not only the CLI's.
                let ttl = check_ttl(Duration::from_secs(secs)).map_err(|e| {
                    WireError::new(ErrorCode::BadRequest, format!("{e}; asked for {secs} s"))
                })?;
                let secret = self.tickets.mint(role, ttl)?;
                // Just started, the agent may not be on a relay yet: the ticket would name
                // the first one listed, not necessarily the one it settles on.
                if !self.config.relay.own().is_empty() {
                    let _ = tokio::time::timeout(HOME_RELAY_WAIT, self.endpoint.online()).await;
                }
                let relay = relay_url(&self.endpoint, &self.config);
                let ticket = Ticket {
                    id: self.endpoint.id(),
                    addrs: ticket_addrs(&self.endpoint),
                    other_relays: other_relays(&self.config, relay.as_deref()),
                    relay,
                    secret,
                };
                Ok(AdminReply::Ticket(TicketInfo {
                    ticket: ticket.to_text(),
                    role,
                    expires_ms: now_ms() + ttl.as_millis() as u64,
                }))
            }
            AdminRequest::Join { ticket, name } => self.join(&ticket, name).await,
            AdminRequest::Peers => Ok(AdminReply::Peers(self.access.entries())),
            AdminRequest::RemovePeer(name) => {
                let entry = self.access.remove(&name)?;
                self.links.forget(&entry.id);
                Ok(AdminReply::Removed(entry))
            }
            AdminRequest::WaitPath {
                peer,
                path,
                timeout_ms,
            } => {
                self.wait_path(&peer, path, Duration::from_millis(timeout_ms))
                    .await
            }
            AdminRequest::Reload => self.reload(),
        }
    }

    /// Re-reads `config.toml`. A file that does not parse changes nothing.
    fn reload(&self) -> AdminResponse {
        let fresh = Config::load(&self.home.config).map_err(|e| {
            WireError::new(ErrorCode::BadRequest, format!("{e}; nothing was changed"))
        })?;
        let files = &self.services.files;
        files.configure(fresh.file_roots(), fresh.secrets(&self.home));
        let mut running = self.config.clone();
        running.roots.clone_from(&fresh.roots);
        running.private.clone_from(&fresh.private);
        tracing::info!(roots = ?files.roots(), "config reloaded");
        Ok(AdminReply::Reloaded {
            roots: files
                .roots()
                .iter()
                .map(|r| r.to_string_lossy().into_owned())
                .collect(),
            restart_needed: running != fresh,
        })
    }

    /// Answers once the connection to `peer` has `want` selected, watching iroh's path
    /// changes rather than asking again and again.
    async fn wait_path(&self, peer: &str, want: PathKind, limit: Duration) -> AdminResponse {
        use n0_future::StreamExt;
        let start = std::time::Instant::now();
        let known = self.access.find_known(peer)?;
        let waited = tokio::time::timeout(limit, async {
            let conn = self.links.get(&known).await?;
            let mut paths = conn.paths_stream();
            while let Some(list) = paths.next().await {
                let selected = list.iter().find(|p| p.is_selected()).map(|p| {
                    if p.is_relay() {
                        PathKind::Relay
                    } else {
                        PathKind::Direct
                    }
                });
                if selected == Some(want) {
                    return Ok(());
                }
            }
            Err(WireError::new(
                ErrorCode::Unreachable,
                format!("the connection to {} closed", known.name),
            ))
        })
        .await;
        match waited {
            Ok(Ok(())) => Ok(AdminReply::PathReached {
                path: want,
                waited_ms: start.elapsed().as_millis() as u64,
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(WireError::new(
                ErrorCode::Unreachable,
                format!(
                    "{} was not reached {} within {} s",
                    known.name,
                    want.as_str(),
                    limit.as_secs_f64()
                ),
            )),
        }
    }

    async fn join(&self, text: &str, name: Option<String>) -> AdminResponse {
        let ticket = Ticket::parse(text)
            .map_err(|e| WireError::new(ErrorCode::BadRequest, e.to_string()))?;
        if ticket.id == self.endpoint.id() {
            return Err(WireError::new(
                ErrorCode::BadRequest,
                "that ticket is this agent's own",
            ));
        }
        if let Some(n) = &name {
            check_name(n)?;
        }
        let accepted = client::pair(&self.endpoint, &ticket, &self.services.name)
            .await
            .map_err(WireError::from)?;
        // A name another peer has already gets a suffix (`box-2`), so every name picks
        // one peer; the CLI says so.
        let name = name.unwrap_or_else(|| sanitize(&accepted.name));
        self.access.add_known(KnownAgent {
            id: ticket.id,
            name,
            addrs: ticket.addrs.clone(),
            relay: ticket.relay.clone(),
            other_relays: ticket.other_relays.clone(),
            role: accepted.role,
            added_ms: now_ms(),
        })?;
        self.access
            .entries()
            .into_iter()
            .find(|e| e.id == ticket.id)
            .map(AdminReply::Joined)
            .ok_or_else(|| WireError::new(ErrorCode::Internal, "the new peer was not saved"))
    }

    /// Asks `peer` who it is, over our connection to it: a peer is online when it
    /// answers, not merely when a connection opens (one that revoked us accepts the
    /// connection and then closes it, saying why).
    async fn ask_info(&self, peer: &KnownAgent) -> Result<iroh::endpoint::Connection, WireError> {
        let conn = self.links.get(peer).await?;
        let pc = vibemesh_core::client::PeerConnection::from_connection(conn.clone());
        let said = |e: vibemesh_core::client::ClientError| {
            let e = pc.closed_or(e);
            match e.wire() {
                Some(w) if matches!(w.code, ErrorCode::NotPaired | ErrorCode::Revoked) => {
                    WireError::new(w.code, format!("{} refused us: {}", peer.name, w.message))
                }
                Some(w) => w.clone(),
                None => WireError::new(ErrorCode::Unreachable, format!("{}: {e}", peer.name)),
            }
        };
        let (control, _events, driver) = pc.control().await.map_err(said)?;
        let driving = tokio::spawn(driver.run());
        let answer = control.info().await;
        let _ = control.finish().await;
        driving.abort();
        answer.map_err(said)?;
        Ok(conn)
    }

    async fn status(&self) -> StatusReport {
        let known = self.access.known();
        let checks = known.iter().map(|k| async move {
            let lan = async {
                match &self.lan {
                    Some(lan) => lan.seen(k.id).await,
                    None => None,
                }
            };
            let asked = tokio::time::timeout(STATUS_TIMEOUT, self.ask_info(k));
            let (asked, lan) = tokio::join!(asked, lan);
            let (conn, error) = match asked {
                Ok(Ok(c)) => (Some(c), None),
                Ok(Err(e)) => (None, Some(e.message)),
                Err(_) => (
                    None,
                    Some(format!("no answer within {} s", STATUS_TIMEOUT.as_secs())),
                ),
            };
            let selected = conn.as_ref().and_then(|c| {
                c.paths()
                    .iter()
                    .find(|p| p.is_selected())
                    .map(|p| (p.is_relay(), p.rtt()))
            });
            PeerStatus {
                name: k.name.clone(),
                id: k.id,
                online: conn.is_some(),
                path: selected.map(|(relay, _)| {
                    if relay {
                        PathKind::Relay
                    } else {
                        PathKind::Direct
                    }
                    .as_str()
                    .to_string()
                }),
                rtt_us: selected.map(|(_, rtt)| rtt.as_micros() as u64),
                error,
                lan: lan.map(|addrs| {
                    addrs
                        .iter()
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                }),
            }
        });
        let peers = n0_future::join_all(checks).await;
        StatusReport {
            id: self.endpoint.id(),
            name: self.services.name.clone(),
            relay: self.config.relay.to_string(),
            addrs: self
                .endpoint
                .bound_sockets()
                .iter()
                .map(|a| a.to_string())
                .collect(),
            sessions: self.sessions.len() as u32,
            peers,
        }
    }
}

/// A peer name must be usable on a command line.
fn check_name(name: &str) -> Result<(), WireError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name != "local"
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(WireError::new(
            ErrorCode::BadRequest,
            format!(
                "{name:?} is not a usable peer name: use letters, digits, '-', '_' or '.' (and not \"local\")"
            ),
        ))
    }
}

fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if s.is_empty() || s == "local" {
        "peer".into()
    } else {
        s
    }
}
