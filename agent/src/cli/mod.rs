//! The `vibemesh` command line. Each command is a few lines that talk to the local agent
//! through [`local`] and print through [`output`].

mod admin;
mod args;
mod attach;
mod change;
mod conversation;
mod docs;
mod files;
mod git;
mod local;
mod output;
mod play;
mod qr;
mod shown;
mod stdout;
mod tilde;
mod tty;

use std::{io::IsTerminal, process::ExitCode};

pub use args::Cli;
use args::{Command, OpenArgs, PeersAction};
use clap::Parser;
use stdout::{StdoutError, outln};
use vibemesh_core::{
    proto::{
        Provider, SessionId, SessionInfo, SessionKind, TermSize, ai::StartConversation,
        control::CreateSession, local::Target,
    },
    text::{inert, inert_text},
};

use vibemesh_agent::config::{Config, Home};

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match runtime_for(&cli.command).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("vibemesh: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        // The reader of our output went away (`vibemesh ls | head`): end as `ls` does.
        Err(e) if stdout::closed(&e) => stdout::die_of_sigpipe(),
        Err(e) => {
            // Errors quote names and messages from the other machine.
            eprintln!("vibemesh: {}", inert_text(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

/// The agent serves many connections and `cp` hashes what it moves, so they get a thread
/// per core. Every other command does little work and waits on one agent: on one thread
/// its tasks (the stream drivers, the terminal pump) hand each other keys and output
/// without waking another thread, which costs more than the work itself (echo through
/// `vibemesh open`), and no worker threads are started before the first request.
fn runtime_for(command: &Command) -> tokio::runtime::Builder {
    match command {
        Command::Agent | Command::Cp { .. } => tokio::runtime::Builder::new_multi_thread(),
        _ => tokio::runtime::Builder::new_current_thread(),
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
    // These need no home: they describe the command line itself.
    match &cli.command {
        Command::Completions { shell } => return docs::completions(*shell),
        Command::Man { dir } => return docs::man(dir.as_deref()),
        _ => {}
    }
    let hint = tilde::hint(&cli.command);
    let result = run_command(cli.command).await;
    match (result, hint) {
        (Err(e), Some(hint)) if !stdout::closed(&e) => {
            Err(anyhow::anyhow!("{e:#}\n  hint: {hint}"))
        }
        (result, _) => result,
    }
}

async fn run_command(command: Command) -> anyhow::Result<ExitCode> {
    let home = Home::discover()?;
    match command {
        Command::Agent => run_agent(home).await,
        Command::Pair { role, ttl, json } => admin::pair(&home, role, ttl, json).await,
        Command::Join { ticket, name, json } => admin::join(&home, ticket, name, json).await,
        Command::Status { json } => admin::status(&home, json).await,
        Command::WaitPath {
            peer,
            path,
            timeout,
        } => admin::wait_path(&home, &peer, path, timeout).await,
        Command::Reload => admin::reload(&home).await,
        Command::Peers { action: None, json } => admin::peers(&home, json).await,
        Command::Peers {
            action: Some(PeersAction::Remove { name }),
            json,
        } => admin::remove_peer(&home, name, json).await,
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
        Command::Open(args) => open(&home, args).await,
        Command::Attach {
            peer,
            id,
            watch,
            scrollback,
            predict,
        } => {
            let (id, kind) = resolve_attach(&home, &peer, &id).await?;
            let run = |kind| {
                let (home, peer) = (&home, &peer);
                async move {
                    match kind {
                        SessionKind::Conversation => {
                            conversation::run(home, target(peer), peer, id).await
                        }
                        SessionKind::Terminal => {
                            let view = attach::View {
                                watch_only: watch,
                                scrollback,
                                predict: predict.predict,
                            };
                            attach::run(home, target(peer), peer, id, view).await
                        }
                    }
                }
            };
            match (run(kind.guess()).await, kind) {
                // An id made before ids said their kind: it is in the other registry.
                (Err(e), Kind::FromId(k)) if is_not_found(&e) => run(k.other()).await,
                (result, _) => result,
            }
        }
        Command::Kill { peer, id } => {
            let id = resolve_id(&home, &peer, &id).await?;
            let control = local::control(&home, target(&peer)).await?;
            let what = control.kill_session(id).await?;
            outln!("Killed session {id} on {peer}: {}.", inert(&what))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            title,
            predict,
            command,
        } => {
            let control = local::control(&home, Target::Local).await?;
            let cwd = std::env::current_dir()
                .ok()
                .map(|p| p.display().to_string());
            let create = CreateSession {
                provider: Provider::Shell,
                cwd,
                command,
                size: attach::terminal_size().unwrap_or(TermSize::DEFAULT),
                title,
                env: Vec::new(),
            };
            let info = control.create_session(create).await?;
            let view = attach::View::typing(predict.predict);
            attach::run(&home, Target::Local, "local", info.id, view).await
        }
        Command::Completions { .. } | Command::Man { .. } => unreachable!("handled above"),
        Command::Play {
            file,
            speed,
            idle_limit,
        } => play::run(&file, speed, idle_limit).await,
        Command::LsFiles { peer, path, json } => {
            files::ls_files(&home, target(&peer), &files::wire_arg(&path), json).await
        }
        Command::Cat { peer, path } => {
            files::cat(&home, target(&peer), &files::wire_arg(&path)).await
        }
        Command::Cp { from, to } => files::cp(&home, &from, &to).await,
        Command::Rm { peer, path } => change::rm(&home, &peer, &files::wire_arg(&path)).await,
        Command::Mv { peer, from, to } => {
            let (from, to) = (files::wire_arg(&from), files::wire_arg(&to));
            change::mv(&home, &peer, &from, &to).await
        }
        Command::Mkdir { peer, path } => change::mkdir(&home, &peer, &files::wire_arg(&path)).await,
        Command::Edit { peer, path } => change::edit(&home, &peer, &files::wire_arg(&path)).await,
        Command::Git {
            peer,
            path,
            action,
            json,
        } => git::run(&home, target(&peer), &path, action, json).await,
    }
}

/// `vibemesh open`: starts a session and attaches to it (unless `--detached`).
async fn open(home: &Home, args: OpenArgs) -> anyhow::Result<ExitCode> {
    let OpenArgs {
        peer,
        provider,
        structured,
        path,
        title,
        detached,
        json,
        predict,
        command,
    } = args;
    let control = local::control(home, target(&peer)).await?;
    let info = if structured {
        let start = StartConversation {
            provider,
            cwd: path,
            title,
            prompt: None,
        };
        control.start_conversation(start).await?
    } else {
        let create = CreateSession {
            provider,
            cwd: path,
            command,
            size: attach::terminal_size().unwrap_or(TermSize::DEFAULT),
            title,
            env: Vec::new(),
        };
        control.create_session(create).await?
    };
    if detached {
        return show(json, &info, |i| outln!("{}", i.id));
    }
    if structured {
        return conversation::run(home, target(&peer), &peer, info.id).await;
    }
    let view = attach::View::typing(predict.predict);
    attach::run(home, target(&peer), &peer, info.id, view).await
}

/// Prints `value` as JSON for scripts, or for people with `human`.
fn show<T: serde::Serialize>(
    json: bool,
    value: &T,
    human: impl FnOnce(&T) -> Result<(), StdoutError>,
) -> anyhow::Result<ExitCode> {
    if json {
        output::json(value)?;
    } else {
        human(value)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Accepts a full id or a unique prefix of one.
/// How the CLI knows which registry holds a session.
#[derive(Clone, Copy)]
enum Kind {
    /// From the agent's own list.
    Listed(SessionKind),
    /// From the id alone (see [`SessionId::kind`]).
    FromId(SessionKind),
}

impl Kind {
    fn guess(self) -> SessionKind {
        match self {
            Kind::Listed(k) | Kind::FromId(k) => k,
        }
    }
}

/// `text` as one of `peer`'s sessions: a whole id as it is (the id says its kind, so
/// attaching takes one round trip), a prefix by listing the sessions once.
async fn resolve_attach(home: &Home, peer: &str, text: &str) -> anyhow::Result<(SessionId, Kind)> {
    if let Some(id) = whole_id(text) {
        return Ok((id, Kind::FromId(id.kind())));
    }
    let s = find_session(home, peer, text).await?;
    let kind = match s.conversation {
        Some(_) => SessionKind::Conversation,
        None => SessionKind::Terminal,
    };
    Ok((s.id, Kind::Listed(kind)))
}

async fn resolve_id(home: &Home, peer: &str, text: &str) -> anyhow::Result<SessionId> {
    match whole_id(text) {
        Some(id) => Ok(id),
        None => Ok(find_session(home, peer, text).await?.id),
    }
}

/// `text` when it is a whole id (8 hex digits).
fn whole_id(text: &str) -> Option<SessionId> {
    (text.len() == 8).then(|| text.to_ascii_lowercase().parse().ok())?
}

/// The one session on `peer` whose id starts with `text`.
async fn find_session(home: &Home, peer: &str, text: &str) -> anyhow::Result<SessionInfo> {
    let text = text.to_ascii_lowercase();
    let control = local::control(home, target(peer)).await?;
    let mut hits: Vec<SessionInfo> = control
        .list_sessions()
        .await?
        .into_iter()
        .filter(|s| s.id.to_string().starts_with(&text))
        .collect();
    match hits.len() {
        1 => Ok(hits.remove(0)),
        0 => anyhow::bail!("no session {text} on {peer}; `vibemesh ls {peer}` lists them"),
        _ => anyhow::bail!("{text} matches several sessions on {peer}; give more of the id"),
    }
}

/// Whether the agent refused because there is no such session.
fn is_not_found(e: &anyhow::Error) -> bool {
    e.downcast_ref::<vibemesh_core::WireError>()
        .is_some_and(|w| w.code == vibemesh_core::ErrorCode::NotFound)
}

async fn run_agent(home: Home) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(vibemesh_agent::log::filter("vibemesh_agent=info,warn"))
        .with_writer(std::io::stderr)
        // journald and log files get plain text; colour codes only for a person.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let config = Config::load(&home.config)?;
    let agent = vibemesh_agent::Agent::start(home, config).await?;
    eprintln!(
        "vibemesh agent {} ({}) is running; pair a device with `vibemesh pair`",
        agent.name(),
        agent.id()
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
