//! Attaching this terminal to a session: raw mode, keys up, screen down, size changes,
//! and the detach sequence (Enter, then `~.`, as in ssh).

use std::{io::Read, os::fd::AsFd, process::ExitCode};

use tokio::{io::AsyncWriteExt, sync::mpsc};
use vibemesh_core::{
    client::{self, ClientError},
    proto::{
        SessionId, TermSize,
        attach::{AttachRequest, ServerFrame},
        local::Target,
    },
};

use super::local;
use crate::config::Home;

/// Printed by `~?`.
const HELP: &str = "\r\n[vibemesh escapes, after Enter: ~. detach   ~~ send ~   ~? this help]\r\n";
/// Undoes modes a full-screen program may have left on: colours, hidden cursor, the
/// alternate screen, mouse reporting, bracketed paste, application keys.
const RESET: &str = "\x1b[0m\x1b[?25h\x1b[?1049l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[?1l\x1b>";

/// The size of the terminal on stdout (or stdin), if there is one.
pub fn terminal_size() -> Option<TermSize> {
    for fd in [libc::STDOUT_FILENO, libc::STDIN_FILENO] {
        let mut ws = libc::winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ writes one `winsize` into the struct we pass; fd is ours.
        let rc = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) };
        let size = TermSize {
            rows: ws.ws_row,
            cols: ws.ws_col,
        };
        if rc == 0 && size.is_valid() {
            return Some(size);
        }
    }
    None
}

/// Puts the terminal in raw mode until dropped (also on error or panic).
struct RawMode {
    saved: nix::sys::termios::Termios,
}

impl RawMode {
    fn enter() -> Option<Self> {
        use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
        let stdin = std::io::stdin();
        let saved = tcgetattr(stdin.as_fd()).ok()?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).ok()?;
        Some(Self { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        use nix::sys::termios::{SetArg, tcsetattr};
        let _ = tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, &self.saved);
    }
}

/// Watches typed bytes for the detach escape.
#[derive(Debug)]
pub struct Escape {
    line_start: bool,
    tilde: bool,
}

/// What the escape watcher decided about a chunk of input.
#[derive(Debug, PartialEq, Eq)]
pub enum Keys {
    /// Send these bytes.
    Send(Vec<u8>),
    /// Send these bytes, then detach.
    Detach(Vec<u8>),
    /// Send these bytes and show the escape help.
    Help(Vec<u8>),
}

impl Default for Escape {
    fn default() -> Self {
        Self {
            line_start: true,
            tilde: false,
        }
    }
}

impl Escape {
    /// Filters one chunk of typed input.
    pub fn feed(&mut self, input: &[u8]) -> Keys {
        let mut out = Vec::with_capacity(input.len());
        let mut help = false;
        for &b in input {
            if self.tilde {
                self.tilde = false;
                match b {
                    b'.' => return Keys::Detach(out),
                    b'?' => {
                        help = true;
                        continue;
                    }
                    b'~' => out.push(b'~'),
                    other => out.extend_from_slice(&[b'~', other]),
                }
            } else if self.line_start && b == b'~' {
                self.tilde = true;
                continue;
            } else {
                out.push(b);
            }
            self.line_start = b == b'\r' || b == b'\n';
        }
        if help {
            Keys::Help(out)
        } else {
            Keys::Send(out)
        }
    }
}

/// Attaches to `id` on `target` until the session ends or the user detaches.
pub async fn run(
    home: &Home,
    target: Target,
    peer: &str,
    id: SessionId,
    watch_only: bool,
    scrollback: u32,
) -> anyhow::Result<ExitCode> {
    let (_, r, w) = local::route(home, target).await?;
    let size = terminal_size();
    let (info, reader, mut writer) = client::open_attach(
        r,
        w,
        AttachRequest {
            session: id,
            size,
            scrollback,
            watch_only,
        },
    )
    .await?;
    let raw = RawMode::enter();
    let mut stdout = tokio::io::stdout();
    let keys = spawn_stdin_reader();
    let result = pump(reader, &mut writer, keys, &mut stdout).await;
    let _ = stdout.write_all(RESET.as_bytes()).await;
    let _ = stdout.flush().await;
    drop(raw);
    let title = &info.title;
    match result {
        Ok(End::Detached) => {
            let _ = writer.finish().await;
            eprintln!(
                "\r\n[vibemesh: detached from {id} ({title}) on {peer}; `vibemesh attach {peer} {id}` to return]"
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(End::Exited(exit)) => {
            eprintln!("\r\n[vibemesh: session {id} on {peer} ended: {exit}]");
            let code = exit.code.unwrap_or(1).clamp(0, 255) as u8;
            Ok(ExitCode::from(code))
        }
        Ok(End::Closed(why)) => {
            eprintln!("\r\n[vibemesh: {why}]");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("\r\n[vibemesh: connection to {peer} lost: {e}]");
            Ok(ExitCode::FAILURE)
        }
    }
}

enum End {
    Detached,
    Exited(vibemesh_core::proto::ExitInfo),
    Closed(vibemesh_core::WireError),
}

/// Reads stdin on a plain thread: a blocking read must not hold up runtime shutdown.
fn spawn_stdin_reader() -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel(64);
    let _ = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let mut stdin = std::io::stdin();
            let mut buf = [0u8; 4096];
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if tx.blocking_send(buf[..n].to_vec()).is_err() {
                            return;
                        }
                    }
                }
            }
        });
    rx
}

async fn pump(
    mut reader: client::AttachReader,
    writer: &mut client::AttachWriter,
    mut keys: mpsc::Receiver<Vec<u8>>,
    stdout: &mut tokio::io::Stdout,
) -> Result<End, ClientError> {
    use tokio::signal::unix::{SignalKind, signal};
    let sig = |kind| signal(kind).map_err(|e| ClientError::Connect(e.to_string()));
    let mut winch = sig(SignalKind::window_change())?;
    // Killed or hung up: leave like a detach, so the terminal is restored.
    let mut term = sig(SignalKind::terminate())?;
    let mut hup = sig(SignalKind::hangup())?;
    let mut escape = Escape::default();
    let mut stdin_open = true;
    // Frames are read in their own task: reading a frame is not cancel-safe.
    let (frames_tx, mut frames) = mpsc::channel(16);
    let read_task = tokio::spawn(async move {
        loop {
            let f = reader.next().await;
            let end = !matches!(f, Ok(Some(_)));
            if frames_tx.send(f).await.is_err() || end {
                return;
            }
        }
    });
    let end = loop {
        tokio::select! {
            f = frames.recv() => match f {
                Some(Ok(Some(frame))) => match frame {
                    ServerFrame::Snapshot(b) | ServerFrame::Output(b) => {
                        stdout.write_all(&b).await.map_err(|e| ClientError::Connect(e.to_string()))?;
                        stdout.flush().await.map_err(|e| ClientError::Connect(e.to_string()))?;
                    }
                    ServerFrame::Exited(info) => break Ok(End::Exited(info)),
                    ServerFrame::Closed(e) | ServerFrame::Refused(e) => break Ok(End::Closed(e)),
                    ServerFrame::Notice(e) => {
                        let msg = format!("\r\n[vibemesh: {e}]\r\n");
                        let _ = stdout.write_all(msg.as_bytes()).await;
                        let _ = stdout.flush().await;
                    }
                    ServerFrame::Resized(_) | ServerFrame::Attached(_) => {}
                },
                Some(Ok(None)) | None => break Ok(End::Closed(vibemesh_core::WireError::new(
                    vibemesh_core::ErrorCode::Unreachable,
                    "the session stream ended unexpectedly",
                ))),
                Some(Err(e)) => break Err(e),
            },
            k = keys.recv(), if stdin_open => match k {
                Some(bytes) => match escape.feed(&bytes) {
                    Keys::Send(b) => if !b.is_empty() { writer.input(b).await? },
                    Keys::Help(b) => {
                        if !b.is_empty() { writer.input(b).await? }
                        let _ = stdout.write_all(HELP.as_bytes()).await;
                        let _ = stdout.flush().await;
                    }
                    Keys::Detach(b) => {
                        if !b.is_empty() { writer.input(b).await? }
                        break Ok(End::Detached);
                    }
                },
                // Input ended (a pipe): keep showing output until the session ends.
                None => stdin_open = false,
            },
            _ = term.recv() => break Ok(End::Detached),
            _ = hup.recv() => break Ok(End::Detached),
            _ = winch.recv() => {
                if let Some(size) = terminal_size() {
                    writer.resize(size).await?;
                }
            }
        }
    };
    read_task.abort();
    end
}
