//! How commands print: aligned tables for people, `--json` for scripts.
//!
//! Every name, title, command, path and message in a table comes from another machine,
//! a file system or a program, and passes through [`inert`] so that no escape sequence in
//! it reaches the terminal; `--json` prints it exact.

use serde::Serialize;
use vibemesh_core::proto::{
    SessionInfo, SessionStatus,
    ai::Waiting,
    control::ProviderStatus,
    local::{PeerEntry, StatusReport, TicketInfo},
};
use vibemesh_core::text::inert;

use super::stdout::{StdoutError, outln};
use vibemesh_core::time::now_ms;

/// Prints any answer as pretty JSON.
pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?)?;
    Ok(())
}

/// Prints rows with columns padded to their widest cell.
fn table(header: &[&str], rows: Vec<Vec<String>>) -> Result<(), StdoutError> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        outln!("{}", s.trim_end())
    };
    line(header.iter().map(|h| h.to_string()).collect())?;
    for row in rows {
        line(row)?;
    }
    Ok(())
}

/// "5s", "3m", "2h", "4d".
pub fn age(since_ms: u64) -> String {
    let secs = now_ms().saturating_sub(since_ms) / 1000;
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// `vibemesh ls`.
pub fn sessions(list: &[SessionInfo]) -> Result<(), StdoutError> {
    if list.is_empty() {
        return outln!("No sessions.");
    }
    let rows = list
        .iter()
        .map(|s| {
            vec![
                s.id.to_string(),
                inert(&s.title).into_owned(),
                if s.command.is_empty() {
                    "(login shell)".into()
                } else {
                    inert(&s.command.join(" ")).into_owned()
                },
                inert(&s.cwd).into_owned(),
                s.size.to_string(),
                age(s.created_ms),
                {
                    let status: String = match (
                        &s.status,
                        s.conversation.as_ref().and_then(|c| c.waiting.as_ref()),
                    ) {
                        (SessionStatus::Running, None) => "running".into(),
                        (SessionStatus::Running, Some(Waiting::Reply)) => "waiting for you".into(),
                        (SessionStatus::Running, Some(Waiting::Approval { tool })) => {
                            format!("needs approval ({})", inert(tool))
                        }
                        (SessionStatus::Exited(e), _) => {
                            format!("exited ({})", inert(&e.to_string()))
                        }
                        (SessionStatus::Unreachable(why), _) => {
                            format!("unreachable: {}", inert(why))
                        }
                    };
                    // The disk filled up or went read-only under the recording, or
                    // its size limit stopped it or deleted parts of it.
                    let trimmed = s
                        .recording_state
                        .as_ref()
                        .is_some_and(|r| r.dropped_parts > 0);
                    match (&s.recording_error, trimmed) {
                        (Some(_), _) => format!("{status}, recording incomplete"),
                        (None, true) => format!("{status}, recording trimmed"),
                        (None, false) => status,
                    }
                },
                s.viewers.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "ID", "TITLE", "COMMAND", "CWD", "SIZE", "AGE", "STATUS", "VIEWERS",
        ],
        rows,
    )
}

/// `vibemesh providers`.
pub fn providers(list: &[ProviderStatus]) -> Result<(), StdoutError> {
    let rows = list
        .iter()
        .map(|p| {
            vec![
                p.provider.to_string(),
                match &p.unavailable {
                    None => "ready".into(),
                    Some(why) => why.to_string(),
                },
                p.program
                    .as_deref()
                    .map_or("-".into(), |p| inert(p).into_owned()),
            ]
        })
        .collect();
    table(&["PROVIDER", "STATUS", "PROGRAM"], rows)
}

/// `vibemesh peers`.
pub fn peers(list: &[PeerEntry]) -> Result<(), StdoutError> {
    if list.is_empty() {
        return outln!(
            "No peers yet. Pair one: `vibemesh pair` on it, `vibemesh join <ticket>` here."
        );
    }
    let rows = list
        .iter()
        .map(|p| {
            vec![
                inert(&p.name).into_owned(),
                p.id.fmt_short().to_string(),
                p.our_role
                    .map_or("-".into(), |r| format!("reachable ({r})")),
                p.allowed.map_or("-".into(), |r| format!("allowed ({r})")),
                p.last_seen_ms
                    .map_or("never".into(), |t| format!("{} ago", age(t))),
            ]
        })
        .collect();
    table(&["NAME", "ID", "WE CAN", "IT CAN", "LAST SEEN HERE"], rows)
}

/// `vibemesh status`.
pub fn status(s: &StatusReport) -> Result<(), StdoutError> {
    outln!("Agent   {} ({})", inert(&s.name), s.id)?;
    outln!("Relay   {}", inert(&s.relay))?;
    outln!("Listen  {}", inert(&s.addrs.join(", ")))?;
    outln!("Sessions {}", s.sessions)?;
    if s.peers.is_empty() {
        return outln!("\nNo peers to reach yet.");
    }
    outln!()?;
    let rows = s
        .peers
        .iter()
        .map(|p| {
            vec![
                inert(&p.name).into_owned(),
                p.id.fmt_short().to_string(),
                if p.online {
                    "online".into()
                } else {
                    "offline".into()
                },
                p.path
                    .as_deref()
                    .map_or("-".into(), |p| inert(p).into_owned()),
                p.rtt_us
                    .map_or("-".into(), |us| format!("{:.2} ms", us as f64 / 1000.0)),
                match (&p.error, &p.lan) {
                    (Some(e), _) => inert(e).into_owned(),
                    (None, Some(at)) => format!("on this LAN at {}", inert(at)),
                    (None, None) => String::new(),
                },
            ]
        })
        .collect();
    table(&["PEER", "ID", "STATE", "PATH", "RTT", "NOTE"], rows)
}

/// `vibemesh pair`.
pub fn ticket(t: &TicketInfo, qr: &str, link: Option<&str>) -> Result<(), StdoutError> {
    // QR, one line, and the command: 24 lines in all, so it fits an 80x24 terminal.
    outln!("{qr}")?;
    let mins = t.expires_ms.saturating_sub(now_ms()).div_ceil(60_000);
    outln!(
        "Scan, or run this on the other machine ({} role, one use, expires in {mins} min):",
        t.role
    )?;
    outln!("vibemesh join {}", t.ticket)?;
    if let Some(link) = link {
        outln!("or open in a browser: {link}")?;
    }
    Ok(())
}
