//! The `vibemesh` command line. Each command is a few lines that talk to the local agent
//! through [`local`] and print through [`output`].

mod attach;
mod conversation;
mod files;
mod git;
pub mod local;
mod output;
mod play;
mod qr;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use vibemesh_core::{
    proto::{
        Provider, Role, SessionId, TermSize,
        ai::StartConversation,
        control::CreateSession,
        local::{AdminReply, AdminRequest, PathKind, Target},
    },
    text::{inert, inert_text},
};

use crate::config::{Config, Home};

/// Run and watch terminals on all your machines, peer to peer.
#[derive(Debug, Parser)]
#[command(name = "vibemesh", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the agent in the foreground (logs go to stderr).
    Agent,
    /// Print a one-time pairing ticket, as text and as a QR code.
    Pair {
        /// What the device that uses it may do: owner or viewer.
        #[arg(long, default_value = "owner")]
        role: Role,
        /// How long it stays valid, 1s to 168h (7 days), e.g. 90s, 10m, 1h (default: the
        /// config's).
        #[arg(long, value_parser = parse_ttl)]
        ttl: Option<u64>,
        /// Print JSON instead of text and a QR code.
        #[arg(long)]
        json: bool,
    },
    /// Pair with the agent a ticket names, and remember it.
    Join {
        /// The ticket `vibemesh pair` printed there.
        ticket: String,
        /// The name to call it by here (default: its own name).
        #[arg(long)]
        name: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// This agent and how each peer is reached.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Wait until a peer is reached `direct` or through the `relay`; says how long it took.
    WaitPath {
        /// The peer, by name or id.
        peer: String,
        /// `direct` or `relay`.
        path: String,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
    /// Re-read config.toml: the allowed roots apply at once (for `systemctl reload`).
    Reload,
    /// List peers, or remove one.
    Peers {
        #[command(subcommand)]
        action: Option<PeersAction>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Start a shell (or a command, or an AI agent) on a peer and attach to it.
    Open {
        /// The peer, or `local`.
        peer: String,
        /// What to run: shell, claude or codex (an AI agent's own full-screen interface).
        #[arg(long, default_value = "shell", value_parser = parse_provider)]
        provider: Provider,
        /// With --provider claude|codex: drive the agent here line by line (messages,
        /// tool calls, approvals) instead of its full-screen interface.
        #[arg(long)]
        structured: bool,
        /// The folder to start in (on the peer).
        #[arg(long)]
        path: Option<String>,
        /// A title for the session.
        #[arg(long)]
        title: Option<String>,
        /// Start it without attaching; print its id.
        #[arg(long)]
        detached: bool,
        /// With --detached: print JSON.
        #[arg(long)]
        json: bool,
        /// The command to run instead of the login shell.
        #[arg(last = true)]
        command: Vec<String>,
    },
    /// List a peer's sessions.
    Ls {
        /// The peer, or `local` (the default).
        #[arg(default_value = "local")]
        peer: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Which AI agents (claude, codex) a peer can run, and why not.
    Providers {
        /// The peer, or `local` (the default).
        #[arg(default_value = "local")]
        peer: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Attach to a session; the screen comes back as it was.
    Attach {
        /// The peer, or `local`.
        peer: String,
        /// The session id (a unique prefix works).
        id: String,
        /// Only watch; never type.
        #[arg(long)]
        watch: bool,
        /// Lines of scrollback to fetch first.
        #[arg(long, default_value_t = 1000)]
        scrollback: u32,
    },
    /// Stop a session (or forget an exited one).
    Kill {
        /// The peer, or `local`.
        peer: String,
        /// The session id (a unique prefix works).
        id: String,
    },
    /// Run a command here, attached here, and watchable by paired peers.
    Run {
        /// A title for the session.
        #[arg(long)]
        title: Option<String>,
        /// The command.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// List a folder on a peer: names, sizes, times, git state.
    LsFiles {
        /// The peer, or `local`.
        peer: String,
        /// The folder (absolute, or starting with ~).
        #[arg(default_value = "~")]
        path: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a file from a peer.
    Cat {
        /// The peer, or `local`.
        peer: String,
        /// The file.
        path: String,
    },
    /// Copy a file between here and a peer: `vibemesh cp build-box:~/log.txt .` or
    /// `vibemesh cp ./img.png build-box:~/img.png`.
    Cp {
        /// From: a local path or `peer:path`.
        from: String,
        /// To: a local path or `peer:path`.
        to: String,
    },
    /// Git for the repository around a path on a peer.
    Git {
        /// The peer, or `local`.
        peer: String,
        /// A path in the repository.
        path: String,
        /// What to show.
        #[command(subcommand)]
        action: git::GitAction,
        /// Print JSON.
        #[arg(long, global = true)]
        json: bool,
    },
    /// Replay an asciinema recording (v2 or v3) in this terminal. Keys: space pauses and
    /// resumes, `.` steps while paused, `]` plays to the next marker, right arrow skips
    /// 5 s, `q` or Ctrl-C quits.
    Play {
        /// The `.cast` file.
        file: PathBuf,
        /// Playback speed, from 0.01 to 1000 (2 = twice as fast).
        #[arg(short, long, default_value_t = 1.0)]
        speed: f64,
        /// Longest pause, in seconds, whatever the recording says (its own
        /// `idle_time_limit` otherwise).
        #[arg(short, long = "idle-time-limit", visible_alias = "idle-limit")]
        idle_limit: Option<f64>,
    },
}

#[derive(Debug, Subcommand)]
enum PeersAction {
    /// Forget a peer: it loses access here at once, and we stop reaching it.
    Remove {
        /// Its name or id.
        name: String,
    },
}

/// Parses `shell`, `claude` or `codex`.
fn parse_provider(s: &str) -> Result<Provider, String> {
    match s {
        "shell" => Ok(Provider::Shell),
        "claude" => Ok(Provider::Claude),
        "codex" => Ok(Provider::Codex),
        other => Err(format!(
            "unknown provider {other:?}: expected shell, claude or codex"
        )),
    }
}

/// Parses `90s`, `10m`, `1h` or plain seconds; more seconds than a u64 holds become
/// `u64::MAX` (the caller's bounds then refuse them).
fn parse_duration(s: &str) -> Result<u64, String> {
    let (num, mult) = match s.char_indices().last() {
        Some((i, 's')) => (&s[..i], 1),
        Some((i, 'm')) => (&s[..i], 60),
        Some((i, 'h')) => (&s[..i], 3600),
        _ => (s, 1),
    };
    match num.parse::<u64>() {
        Ok(n) => Ok(n.saturating_mul(mult)),
        Err(e) if *e.kind() == std::num::IntErrorKind::PosOverflow => Ok(u64::MAX),
        Err(_) => Err(format!("{s:?} is not a duration like 90s, 10m or 1h")),
    }
}

/// Parses a ticket lifetime (seconds) and refuses one the agent would refuse.
fn parse_ttl(s: &str) -> Result<u64, String> {
    let secs = parse_duration(s)?;
    crate::net::pairing::check_ttl(std::time::Duration::from_secs(secs))?;
    Ok(secs)
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("vibemesh: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            // Errors quote names and messages from the other machine.
            eprintln!("vibemesh: {}", inert_text(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

/// `local` and `.` name this machine's agent; anything else a peer.
pub(crate) fn target(peer: &str) -> Target {
    if peer == "local" || peer == "." {
        Target::Local
    } else {
        Target::Peer(peer.to_string())
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let home = Home::discover()?;
    match cli.command {
        Command::Agent => run_agent(home).await,
        Command::Pair { role, ttl, json } => {
            let reply = local::admin(
                &home,
                AdminRequest::Pair {
                    role,
                    ttl_secs: ttl,
                },
            )
            .await?;
            let AdminReply::Ticket(t) = reply else {
                return Err(unexpected());
            };
            // With a relay of one's own, the QR code is a link to its web client: a phone's
            // camera opens it and the browser pairs in one step.
            let link = Config::load(&home.config)
                .ok()
                .and_then(|c| qr::web_link(&c.relay, &t.ticket));
            show(json, &t, |t| {
                let code = qr::render(link.as_deref().unwrap_or(&t.ticket));
                output::ticket(t, &code, link.as_deref())
            })
        }
        Command::Join { ticket, name, json } => {
            let reply = local::admin(&home, AdminRequest::Join { ticket, name }).await?;
            let AdminReply::Joined(p) = reply else {
                return Err(unexpected());
            };
            show(json, &p, |p| {
                let name = inert(&p.name);
                println!(
                    "Paired with {name} ({}) as {}. Try: vibemesh open {name}",
                    p.id.fmt_short(),
                    p.our_role.map_or("?".into(), |r| r.to_string()),
                )
            })
        }
        Command::Status { json } => {
            let AdminReply::Status(s) = local::admin(&home, AdminRequest::Status).await? else {
                return Err(unexpected());
            };
            show(json, &s, output::status)
        }
        Command::WaitPath {
            peer,
            path,
            timeout,
        } => {
            let path = match path.as_str() {
                "direct" => PathKind::Direct,
                "relay" => PathKind::Relay,
                other => anyhow::bail!("unknown path {other:?}: say direct or relay"),
            };
            let req = AdminRequest::WaitPath {
                peer: peer.clone(),
                path,
                timeout_ms: timeout.saturating_mul(1000),
            };
            let AdminReply::PathReached { path, waited_ms } = local::admin(&home, req).await?
            else {
                return Err(unexpected());
            };
            println!(
                "{peer}: {} after {:.2} s",
                path.as_str(),
                waited_ms as f64 / 1000.0
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Reload => {
            let AdminReply::Reloaded {
                roots,
                restart_needed,
            } = local::admin(&home, AdminRequest::Reload).await?
            else {
                return Err(unexpected());
            };
            println!("allowed roots: {}", inert(&roots.join(", ")));
            if restart_needed {
                println!("other changes take effect when the agent restarts");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Peers { action: None, json } => {
            let AdminReply::Peers(p) = local::admin(&home, AdminRequest::Peers).await? else {
                return Err(unexpected());
            };
            show(json, &p, |p| output::peers(p))
        }
        Command::Peers {
            action: Some(PeersAction::Remove { name }),
            json,
        } => {
            let AdminReply::Removed(p) =
                local::admin(&home, AdminRequest::RemovePeer(name)).await?
            else {
                return Err(unexpected());
            };
            show(json, &p, |p| {
                println!(
                    "Removed {} ({}); its connections are closed.",
                    inert(&p.name),
                    p.id.fmt_short()
                )
            })
        }
        Command::Providers { peer, json } => {
            let control = local::control(&home, target(&peer)).await?;
            let info = control.info().await?;
            show(json, &info.provider_status, |p| output::providers(p))
        }
        Command::Ls { peer, json } => {
            let control = local::control(&home, target(&peer)).await?;
            let sessions = control.list_sessions().await?;
            show(json, &sessions, |s| output::sessions(s))
        }
        Command::Open {
            peer,
            provider,
            structured: true,
            path,
            title,
            detached,
            json,
            command: _,
        } => {
            let control = local::control(&home, target(&peer)).await?;
            let info = control
                .start_conversation(StartConversation {
                    provider,
                    cwd: path,
                    title,
                    prompt: None,
                })
                .await?;
            if detached {
                return show(json, &info, |i| println!("{}", i.id));
            }
            conversation::run(&home, target(&peer), &peer, info.id).await
        }
        Command::Open {
            peer,
            provider,
            structured: false,
            path,
            title,
            detached,
            json,
            command,
        } => {
            let control = local::control(&home, target(&peer)).await?;
            let size = attach::terminal_size().unwrap_or(TermSize::DEFAULT);
            let info = control
                .create_session(CreateSession {
                    provider,
                    cwd: path,
                    command,
                    size,
                    title,
                    env: Vec::new(),
                })
                .await?;
            if detached {
                return show(json, &info, |i| println!("{}", i.id));
            }
            attach::run(&home, target(&peer), &peer, info.id, false, 0).await
        }
        Command::Attach {
            peer,
            id,
            watch,
            scrollback,
        } => {
            let id = resolve_id(&home, &peer, &id).await?;
            let control = local::control(&home, target(&peer)).await?;
            let structured = control
                .list_sessions()
                .await?
                .iter()
                .any(|s| s.id == id && s.conversation.is_some());
            // Done with it: the attach stream must be the only one left open.
            let _ = control.finish().await;
            drop(control);
            if structured {
                return conversation::run(&home, target(&peer), &peer, id).await;
            }
            attach::run(&home, target(&peer), &peer, id, watch, scrollback).await
        }
        Command::Kill { peer, id } => {
            let id = resolve_id(&home, &peer, &id).await?;
            let control = local::control(&home, target(&peer)).await?;
            let what = control.kill_session(id).await?;
            println!("Killed session {id} on {peer}: {}.", inert(&what));
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { title, command } => {
            let control = local::control(&home, Target::Local).await?;
            let size = attach::terminal_size().unwrap_or(TermSize::DEFAULT);
            let cwd = std::env::current_dir()
                .ok()
                .map(|p| p.display().to_string());
            let info = control
                .create_session(CreateSession {
                    provider: Provider::Shell,
                    cwd,
                    command,
                    size,
                    title,
                    env: Vec::new(),
                })
                .await?;
            attach::run(&home, Target::Local, "local", info.id, false, 0).await
        }
        Command::Play {
            file,
            speed,
            idle_limit,
        } => play::run(&file, speed, idle_limit).await,
        Command::LsFiles { peer, path, json } => {
            files::ls_files(&home, target(&peer), &path, json).await
        }
        Command::Cat { peer, path } => files::cat(&home, target(&peer), &path).await,
        Command::Cp { from, to } => files::cp(&home, &from, &to).await,
        Command::Git {
            peer,
            path,
            action,
            json,
        } => git::run(&home, target(&peer), &path, action, json).await,
    }
}

/// Prints `value` as JSON for scripts, or for people with `human`.
fn show<T: serde::Serialize>(
    json: bool,
    value: &T,
    human: impl FnOnce(&T),
) -> anyhow::Result<ExitCode> {
    if json {
        output::json(value)?;
    } else {
        human(value);
    }
    Ok(ExitCode::SUCCESS)
}

/// The agent answered an admin request with the wrong kind of reply.
fn unexpected() -> anyhow::Error {
    anyhow::anyhow!("the agent gave an unexpected answer (is it an older version?)")
}

/// Accepts a full id or a unique prefix of one.
async fn resolve_id(home: &Home, peer: &str, text: &str) -> anyhow::Result<SessionId> {
    let text = text.to_ascii_lowercase();
    if text.len() == 8
        && let Ok(id) = text.parse()
    {
        return Ok(id);
    }
    let control = local::control(home, target(peer)).await?;
    let hits: Vec<SessionId> = control
        .list_sessions()
        .await?
        .into_iter()
        .map(|s| s.id)
        .filter(|id| id.to_string().starts_with(&text))
        .collect();
    match hits.as_slice() {
        [one] => Ok(*one),
        [] => anyhow::bail!("no session {text} on {peer}; `vibemesh ls {peer}` lists them"),
        _ => anyhow::bail!("{text} matches several sessions on {peer}; give more of the id"),
    }
}

async fn run_agent(home: Home) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "vibemesh_agent=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = Config::load(&home.config)?;
    let agent = crate::Agent::start(home, config).await?;
    eprintln!(
        "vibemesh agent {} ({}) is running; pair a device with `vibemesh pair`",
        agent.services.name,
        agent.endpoint.id()
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprintln!("vibemesh agent stopping");
    agent.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
