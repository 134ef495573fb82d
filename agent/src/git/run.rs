//! Running the `git` CLI: a fixed environment, bounded output and a time limit.

use std::{ffi::OsStr, io, path::Path, process::Stdio, time::Duration};

use tokio::{io::AsyncReadExt, process::Command};
use vibemesh_core::{ErrorCode, WireError};

/// The longest any one git command may run before it is stopped.
const GIT_TIMEOUT: Duration = Duration::from_secs(60);

/// The most of git's standard error kept for an error message.
const STDERR_KEEP: usize = 8 * 1024;

/// Why a git command gave no usable output.
#[derive(Debug)]
pub(super) enum Fail {
    /// There is no `git` to run.
    Missing,
    /// The folder is not in a git work tree.
    NotARepo,
    /// The output was over the cap given.
    TooLarge,
    /// git ran and failed; its exit code and what it said.
    Failed(Option<i32>, String),
    /// Starting or talking to git failed.
    Io(io::Error),
    /// git took longer than [`GIT_TIMEOUT`].
    Timeout,
}

impl Fail {
    /// The error a client sees, for a git command run in `dir`.
    pub(super) fn into_wire(self, dir: &Path) -> WireError {
        match self {
            Fail::Missing => WireError::new(
                ErrorCode::Internal,
                "the agent needs the `git` command for this, and it is not installed \
                 (or not on the agent's PATH)",
            ),
            Fail::NotARepo => WireError::new(
                ErrorCode::NotFound,
                format!("{} is not in a git repository", dir.display()),
            ),
            Fail::TooLarge => WireError::new(
                ErrorCode::TooLarge,
                format!("git's answer for {} is too large to send", dir.display()),
            ),
            Fail::Failed(code, stderr) => {
                let said = stderr.trim();
                let said = if said.is_empty() { "no message" } else { said };
                let code = code.map_or("a signal".to_string(), |c| format!("exit code {c}"));
                WireError::new(ErrorCode::Internal, format!("git failed ({code}): {said}"))
            }
            Fail::Io(e) => WireError::new(ErrorCode::Internal, format!("running git failed: {e}")),
            Fail::Timeout => WireError::new(
                ErrorCode::Internal,
                format!(
                    "git took longer than {} s in {} and was stopped",
                    GIT_TIMEOUT.as_secs(),
                    dir.display()
                ),
            ),
        }
    }
}

/// Settings on every git command line. Command-line settings beat every config file, so
/// these hold whatever the repository's own config (or a file it includes) says.
const SETTINGS: &[&str] = &[
    "core.quotepath=off",
    "color.ui=false",
    // No fsmonitor hook program and no fsmonitor daemon (`true` starts git's own).
    "core.fsmonitor=false",
    // No hooks from the hooks folder: `git diff` refreshes and writes the index, and so
    // runs post-index-change, whatever GIT_OPTIONAL_LOCKS says. `/dev/null/<hook>` never
    // exists. (Hooks defined in config, git 2.54 and later, are refused in `trust`.)
    "core.hooksPath=/dev/null",
    // A folder laid out as a bare repository (HEAD, objects, refs, a config with its own
    // `core.worktree`) is used only when named explicitly, never found by looking around.
    "safe.bareRepository=explicit",
    // `log` also says --no-show-signature: gpg.program never runs.
    "log.showSignature=false",
];

/// Runs `git -C dir <args>` and returns its standard output, at most `cap` bytes.
///
/// The environment is fixed so the output never depends on the user's setup: no prompts,
/// no optional locks (status must not take the index lock while an AI agent works in the
/// repository), the C locale, unquoted paths, no pager, and no `GIT_DIR`-style variables
/// inherited from whoever started the agent.
///
/// Git never runs a program the repository chose. The commands here only look (rev-parse,
/// config --list, status, diff, log, for-each-ref, worktree list); what they could run is
/// switched off here ([`SETTINGS`], no transport at all), by their own flags
/// (`--no-ext-diff --no-textconv --ignore-submodules=dirty`, `--no-show-signature`), or
/// refused before they run (filters and config hooks, see `trust`). Keys that name a
/// program but are only read by commands never run here: core.sshCommand, core.gitProxy,
/// core.askPass, credential helpers, remote helpers and `remote.*.uploadpack` (fetch and
/// push: no transport is allowed, which also stops a partial clone's lazy fetch),
/// core.editor, sequence.editor, merge drivers, mergetool/difftool, `!` aliases (a
/// built-in command always wins), core.alternateRefsCommand and uploadpack hooks (serving
/// fetches), gc/maintenance (only writing commands start them), status.submoduleSummary
/// (long status only), pagers (`--no-pager`, and output is never a terminal).
///
/// `GIT_CONFIG_PARAMETERS` and `GIT_CONFIG_COUNT` from the agent's own environment are
/// kept: whoever started the agent set them, as trusted as `~/.gitconfig`, and the
/// settings here come after them, so they win.
pub(super) async fn git<S: AsRef<OsStr>>(
    dir: &Path,
    args: &[S],
    cap: usize,
) -> Result<Vec<u8>, Fail> {
    let mut cmd = Command::new("git");
    cmd.arg("--no-pager").arg("-C").arg(dir);
    for setting in SETTINGS {
        cmd.args(["-c", setting]);
    }
    cmd.args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("LC_ALL", "C")
        .env("GIT_PAGER", "cat")
        // No transport (file, ssh, http, helpers) may be used: an empty allow-list beats
        // any `protocol.*.allow` in config. A partial clone missing an object would
        // otherwise fetch it through its remote's own `uploadpack` or `sshCommand`.
        .env("GIT_ALLOW_PROTOCOL", "")
        // The same, said directly (git 2.44 and later): never fetch a missing object.
        .env("GIT_NO_LAZY_FETCH", "1")
        .env_remove("LANGUAGE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_EXTERNAL_DIFF",
        "GIT_LITERAL_PATHSPECS",
        "GIT_GLOB_PATHSPECS",
        "GIT_NOGLOB_PATHSPECS",
        "GIT_ICASE_PATHSPECS",
        // Makes `git config --list` read that one file instead of the repository's.
        "GIT_CONFIG",
    ] {
        cmd.env_remove(var);
    }
    match tokio::time::timeout(GIT_TIMEOUT, collect(cmd, cap)).await {
        Ok(result) => result,
        // Dropping the future dropped the child, and `kill_on_drop` stopped it.
        Err(_) => Err(Fail::Timeout),
    }
}

async fn collect(mut cmd: Command, cap: usize) -> Result<Vec<u8>, Fail> {
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => Fail::Missing,
        _ => Fail::Io(e),
    })?;
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(Fail::Io(io::Error::other("git's output pipes are missing")));
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut obuf = vec![0u8; 64 * 1024];
    let mut ebuf = vec![0u8; 4 * 1024];
    let (mut out_open, mut err_open) = (true, true);
    // Read both pipes together so git never blocks on a full one.
    while out_open || err_open {
        tokio::select! {
            r = stdout.read(&mut obuf), if out_open => match r {
                Ok(0) => out_open = false,
                Ok(n) => {
                    if out.len() + n > cap {
                        // Returning drops the child: `kill_on_drop` stops it.
                        return Err(Fail::TooLarge);
                    }
                    out.extend_from_slice(&obuf[..n]);
                }
                Err(e) => return Err(Fail::Io(e)),
            },
            r = stderr.read(&mut ebuf), if err_open => match r {
                Ok(0) | Err(_) => err_open = false,
                Ok(n) => {
                    let room = STDERR_KEEP.saturating_sub(err.len()).min(n);
                    err.extend_from_slice(&ebuf[..room]);
                }
            },
        }
    }
    let status = child.wait().await.map_err(Fail::Io)?;
    if status.success() {
        return Ok(out);
    }
    let said = String::from_utf8_lossy(&err).into_owned();
    // With LC_ALL=C git's wording is stable; this is how it says "no repository here"
    // ("inside .git, not a work tree", and "a bare repository found by looking around").
    if said.contains("not a git repository")
        || said.contains("must be run in a work tree")
        || said.contains("cannot use bare repository")
    {
        return Err(Fail::NotARepo);
    }
    Err(Fail::Failed(status.code(), said))
}

/// Text from git: lossy UTF-8 (paths and messages that are not UTF-8 still show).
pub(super) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
