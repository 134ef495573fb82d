//! Starting a program in a PTY and reading its output.

use std::{
    io::{Read, Write},
    path::Path,
    sync::{Arc, Mutex},
};

use bytes::Bytes;
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use vibemesh_core::proto::{ExitInfo, SessionId, TermSize};

use super::{hub::Hub, recorder::Recorder};

/// Bytes read from the PTY at most per chunk.
const READ_BUF: usize = 64 * 1024;

/// A program started in a fresh PTY whose output nobody reads yet.
pub struct Spawned {
    running: Running,
    reader: Box<dyn Read + Send>,
    child: Box<dyn Child + Send + Sync>,
}

/// The handles a session keeps of its running program.
pub struct Running {
    /// Its process id, which is also its process group id.
    pub pid: Option<u32>,
    /// The PTY master, for resizing.
    pub master: Box<dyn MasterPty + Send>,
    /// Writes keys to the program.
    pub writer: Box<dyn Write + Send>,
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
        running: Running {
            pid: child.process_id(),
            master: pair.master,
            writer,
        },
        reader,
        child,
    })
}

impl Spawned {
    /// Starts the thread that reads output into `hub` (and `recorder`) until the program
    /// and everything holding its terminal is gone, then reaps it and calls `on_exit`.
    pub fn start_reader(
        self,
        hub: Arc<Hub>,
        recorder: Option<Arc<Mutex<Recorder>>>,
        on_exit: impl FnOnce(ExitInfo) + Send + 'static,
    ) -> std::io::Result<Running> {
        let Spawned {
            running,
            mut reader,
            mut child,
        } = self;
        std::thread::Builder::new()
            .name("pty-reader".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                let mut buf = vec![0u8; READ_BUF];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            if let Some(r) = &recorder {
                                r.lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .output(&buf[..n]);
                            }
                            hub.push(Bytes::copy_from_slice(&buf[..n]));
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        // Linux reports EIO once the last slave fd closes.
                        Err(_) => break,
                    }
                }
                let info = match child.wait() {
                    Ok(st) => match st.signal() {
                        Some(sig) => ExitInfo {
                            code: None,
                            signal: Some(sig.to_string()),
                        },
                        None => ExitInfo {
                            code: Some(st.exit_code() as i32),
                            signal: None,
                        },
                    },
                    Err(e) => {
                        tracing::warn!("could not reap session process: {e}");
                        ExitInfo {
                            code: None,
                            signal: None,
                        }
                    }
                };
                on_exit(info);
            })?;
        Ok(running)
    }
}

/// Sends `sig` to the whole process group led by `pid`, so background jobs that ignore
/// SIGHUP go too.
pub fn signal_group(pid: u32, sig: nix::sys::signal::Signal) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), sig);
    }
}
