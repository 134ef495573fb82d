//! Standard output for every command, and how a command ends when its reader goes away.
//!
//! `vibemesh ls --json | head -c1` closes the pipe while we still print. Rust ignores
//! SIGPIPE, so the write fails with EPIPE instead (and `println!` would panic). Every
//! command writes through here: a closed pipe becomes [`StdoutError::Closed`], which
//! [`super::main`] turns into a quiet death by SIGPIPE, the way `ls` and `git log` end
//! (status 141 in a shell, nothing on stderr). The signal stays ignored while commands
//! run: a socket to an agent that went away must be an error we report, not a silent
//! death.

use std::io::Write;

use tokio::io::AsyncWriteExt;

use super::tty::TtyOut;

/// Why writing to standard output failed.
#[derive(Debug, thiserror::Error)]
pub enum StdoutError {
    /// The reader went away (a closed pipe): not worth a message.
    #[error("standard output was closed")]
    Closed,
    /// Anything else (a full disk under a redirection, say).
    #[error("cannot write to standard output: {0}")]
    Failed(std::io::Error),
}

impl From<std::io::Error> for StdoutError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            StdoutError::Closed
        } else {
            StdoutError::Failed(e)
        }
    }
}

/// Prints formatted text (what [`outln!`] expands to).
pub fn print(args: std::fmt::Arguments<'_>) -> Result<(), StdoutError> {
    let mut out = std::io::stdout().lock();
    out.write_fmt(args)?;
    out.flush()?;
    Ok(())
}

/// Prints bytes as they are.
pub fn write(bytes: &[u8]) -> Result<(), StdoutError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(())
}

/// Like `println!`, but returns a [`StdoutError`] instead of panicking.
macro_rules! outln {
    () => {
        $crate::cli::stdout::print(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::stdout::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use outln;

/// Standard output for output that streams (files, recordings, sessions): each write
/// is on the terminal (or on its way down the pipe) when it returns.
pub struct AsyncOut(Out);

enum Out {
    /// A terminal, written from this task (see [`TtyOut`]).
    Tty(TtyOut),
    /// A pipe or a file, through tokio's blocking pool: a file cannot be polled, and
    /// only a terminal can be opened again as a description of our own.
    Other(tokio::io::Stdout),
}

impl AsyncOut {
    /// Standard output.
    pub fn new() -> Self {
        Self(match TtyOut::open() {
            Some(tty) => Out::Tty(tty),
            None => Out::Other(tokio::io::stdout()),
        })
    }

    /// Writes all of `bytes` and flushes.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), StdoutError> {
        match &mut self.0 {
            Out::Tty(tty) => tty.write_all(bytes).await?,
            Out::Other(out) => {
                out.write_all(bytes).await?;
                out.flush().await?;
            }
        }
        Ok(())
    }
}

impl Default for AsyncOut {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether a command failed only because its reader went away.
pub fn closed(e: &anyhow::Error) -> bool {
    e.chain()
        .any(|c| matches!(c.downcast_ref(), Some(StdoutError::Closed)))
}

/// Ends the process the way `ls` ends when its pipe closes: killed by SIGPIPE.
pub fn die_of_sigpipe() -> ! {
    use nix::sys::signal::{SigHandler, Signal, raise, signal};
    // SAFETY: restoring the default disposition installs no handler of ours.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
    let _ = raise(Signal::SIGPIPE);
    // Not reached unless SIGPIPE is blocked: exit with the status a shell would show.
    std::process::exit(128 + libc::SIGPIPE)
}
