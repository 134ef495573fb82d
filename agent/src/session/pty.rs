//! Starting a program in a PTY and reading its output.

use std::{
    io::{Read, Write},
    path::Path,
};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use vibemesh_core::proto::{SessionId, TermSize};

/// A program started in a fresh PTY whose output nobody reads yet.
pub struct Spawned {
    /// Its process id, which is also its process group id.
    pub pid: Option<u32>,
    /// The PTY master, for resizing.
    pub master: Box<dyn MasterPty + Send>,
    /// Writes keys to the program.
    pub writer: Box<dyn Write + Send>,
    /// Reads its output.
    pub reader: Box<dyn Read + Send>,
    /// The process, to reap.
    pub child: Box<dyn Child + Send + Sync>,
}

/// Converts our size to portable-pty's.
pub fn pty_size(size: TermSize) -> PtySize {
    PtySize {
        rows: size.rows,
        cols: size.cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

/// The shell an empty command starts: `$SHELL` when it is executable, else the user's
/// shell from the password database, else `/bin/sh` (portable-pty's own choice, so a
/// session's default title names the program that really runs).
pub fn login_shell() -> String {
    CommandBuilder::new_default_prog().get_shell()
}

/// Starts `command` (the login shell when empty) in `cwd` with a PTY of `size`.
pub fn spawn(
    id: SessionId,
    command: &[String],
    cwd: &Path,
    env: &[(String, String)],
    size: TermSize,
) -> Result<Spawned, String> {
    let pair = native_pty_system()
        .openpty(pty_size(size))
        .map_err(|e| format!("cannot open a PTY: {e}"))?;
    let mut cmd = match command.split_first() {
        None => CommandBuilder::new_default_prog(),
        Some((prog, args)) => {
            let mut c = CommandBuilder::new(prog);
            c.args(args);
            c
        }
    };
    cmd.cwd(cwd);
    cmd.env("TERM", "xterm-256color");
    cmd.env("COLORTERM", "truecolor");
    cmd.env("VIBEMESH_SESSION", id.to_string());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = pair.slave.spawn_command(cmd).map_err(|e| {
        format!(
            "cannot start {}: {e}",
            command.first().map_or("the shell", |s| s)
        )
    })?;
    // Our copy of the slave must go, or the reader never sees end of file.
    drop(pair.slave);
    let reader = pair
        .master
        .try_clone_reader()
        .map_err(|e| format!("cannot read the PTY: {e}"))?;
    let writer = pair
        .master
        .take_writer()
        .map_err(|e| format!("cannot write the PTY: {e}"))?;
    Ok(Spawned {
        pid: child.process_id(),
        master: pair.master,
        writer,
        reader,
        child,
    })
}

/// Sends `sig` to the whole process group led by `pid`, so background jobs that ignore
/// SIGHUP go too.
pub fn signal_group(pid: u32, sig: nix::sys::signal::Signal) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), sig);
    }
}
