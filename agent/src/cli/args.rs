//! The command line's arguments: every command and its options, as clap parses them.

use std::{ffi::OsString, path::PathBuf};

use clap::{Args, Parser, Subcommand};
use vibemesh_core::proto::{Provider, Role, local::PathKind};

use super::git;

/// Run and watch terminals on all your machines, peer to peer.
#[derive(Debug, Parser)]
#[command(
    name = "vibemesh",
    version = vibemesh_build_info::VERSION,
    long_version = vibemesh_build_info::CLI_LONG_VERSION,
    about
)]
pub struct Cli {
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Debug, Subcommand)]
pub(super) enum Command {
    /// Run the agent in the foreground (logs go to stderr).
    Agent,
    /// Print a one-time pairing ticket, as text and as a QR code.
    Pair {
        /// What the device that uses it may do: owner or viewer.
        #[arg(long, value_enum, default_value_t = Role::Owner)]
        role: Role,
        /// How long it stays valid, 1s to 7 days, e.g. 90s, 10m, 1h30m, 2days (default: the
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
        /// The path to wait for.
        #[arg(value_enum)]
        path: PathKind,
        /// Give up after this long: seconds, or a duration like 2m.
        #[arg(long, default_value = "30s", value_parser = parse_duration)]
        timeout: std::time::Duration,
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
    Open(OpenArgs),
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
        #[command(flatten)]
        predict: PredictArg,
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
        #[command(flatten)]
        predict: PredictArg,
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
        path: OsString,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a file from a peer.
    Cat {
        /// The peer, or `local`.
        peer: String,
        /// The file.
        path: OsString,
    },
    /// Move a file or folder on a peer to its trash.
    Rm {
        /// The peer, or `local`.
        peer: String,
        /// The file or folder.
        path: OsString,
    },
    /// Rename or move a file or folder on a peer (never replaces what is there).
    Mv {
        /// The peer, or `local`.
        peer: String,
        /// What to move.
        from: OsString,
        /// Where to.
        to: OsString,
    },
    /// Create a folder (and its missing parents) on a peer.
    Mkdir {
        /// The peer, or `local`.
        peer: String,
        /// The folder.
        path: OsString,
    },
    /// Edit a file on a peer in $VISUAL or $EDITOR here; it is written back only if it
    /// did not change there meanwhile.
    Edit {
        /// The peer, or `local`.
        peer: String,
        /// The file (created if it does not exist).
        path: OsString,
    },
    /// Copy a file between here and a peer: `vibemesh cp build-box:~/log.txt .` or
    /// `vibemesh cp ./img.png build-box:~/img.png`.
    Cp {
        /// From: a local path or `peer:path`.
        from: OsString,
        /// To: a local path or `peer:path`.
        to: OsString,
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
    /// Print the shell completion script for bash, zsh, fish, elvish or powershell (the
    /// .deb installs bash's, zsh's and fish's).
    ///
    /// For bash: `vibemesh completions bash >
    /// ~/.local/share/bash-completion/completions/vibemesh`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page, or write one per command into a folder (`vibemesh man
    /// ~/.local/share/man/man1`).
    Man {
        /// Where to write `vibemesh.1`, `vibemesh-open.1`, … (default: print `vibemesh(1)`).
        dir: Option<PathBuf>,
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

/// `vibemesh open`'s options.
#[derive(Debug, Args)]
pub(super) struct OpenArgs {
    /// The peer, or `local`.
    pub peer: String,
    /// What to run: shell, claude or codex (an AI agent's own full-screen interface).
    #[arg(long, value_enum, default_value_t = Provider::Shell)]
    pub provider: Provider,
    /// With --provider claude|codex: drive the agent here line by line (messages,
    /// tool calls, approvals) instead of its full-screen interface.
    #[arg(long)]
    pub structured: bool,
    /// The folder to start in (on the peer).
    #[arg(long)]
    pub path: Option<String>,
    /// A title for the session.
    #[arg(long)]
    pub title: Option<String>,
    /// Start it without attaching; print its id.
    #[arg(long)]
    pub detached: bool,
    /// With --detached: print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub predict: PredictArg,
    /// The command to run instead of the login shell.
    #[arg(last = true)]
    pub command: Vec<String>,
}

/// Whether typed keys are drawn before the session echoes them.
#[derive(Debug, Clone, Copy, Args)]
pub struct PredictArg {
    /// Draw typed keys before their echo comes back, underlined until it does: `auto`
    /// when the round trip is over 30 ms (to another machine only), `always`, `never`.
    #[arg(long, value_enum, default_value = "auto", env = "VIBEMESH_PREDICT")]
    pub predict: vibemesh_core::predict::Mode,
}

/// What `vibemesh peers` does besides listing.
#[derive(Debug, Subcommand)]
pub(super) enum PeersAction {
    /// Forget a peer: it loses access here at once, and we stop reaching it.
    Remove {
        /// Its name or id.
        name: String,
    },
}

/// Parses a duration as humantime writes them (`90s`, `10m`, `1h30m`, `2days`), or plain
/// seconds. One too long to count is `Duration::MAX`, for the caller's bounds to refuse.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(secs));
    }
    match humantime::parse_duration(s) {
        Ok(d) => Ok(d),
        Err(humantime::DurationError::NumberOverflow) => Ok(std::time::Duration::MAX),
        Err(e) => Err(format!(
            "{s:?} is not a duration like 90s, 10m or 1h30m ({e})"
        )),
    }
}

/// Parses a ticket lifetime (whole seconds) and refuses one the agent would refuse.
fn parse_ttl(s: &str) -> Result<u64, String> {
    let ttl = parse_duration(s)?;
    vibemesh_agent::check_ttl(ttl)?;
    Ok(ttl.as_secs())
}
