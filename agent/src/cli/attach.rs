//! Attaching this terminal to a session: raw mode, keys up, screen down, size changes,
//! and the detach sequence (Enter, then `~.`, as in ssh).

use std::{io::Read, os::fd::AsFd, process::ExitCode};

use tokio::sync::mpsc;
use vibemesh_core::{
    client::{self, AttachEvent, ClientError},
    predict::Mode,
    proto::{SessionId, TermSize, attach::AttachRequest, local::Target},
    text::inert,
};

use super::{local, shown::Shown, stdout::StdoutError, tty::TtyIn};
use vibemesh_agent::config::Home;

/// Printed by `~?`.
const HELP: &str = "\r\n[vibemesh escapes, after Enter: ~. detach   ~~ send ~   ~? this help]\r\n";
/// Undoes modes a full-screen program may have left on: colours, hidden cursor, the
/// alternate screen, mouse reporting, bracketed paste, application keys.
pub(super) const RESET: &str = "\x1b[0m\x1b[?25h\x1b[?1049l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[?1l\x1b>";

/// The size of the terminal on stdout (or stdin), if there is one.
pub fn terminal_size() -> Option<TermSize> {
    use std::os::fd::AsFd;
    let (stdout, stdin) = (std::io::stdout(), std::io::stdin());
    [stdout.as_fd(), stdin.as_fd()].into_iter().find_map(|fd| {
        let ws = rustix::termios::tcgetwinsize(fd).ok()?;
        let size = TermSize {
            rows: ws.ws_row,
            cols: ws.ws_col,
        };
        size.is_valid().then_some(size)
    })
}

/// Puts the terminal in raw mode until dropped (also on error or panic).
pub(super) struct RawMode {
    saved: nix::sys::termios::Termios,
}

impl RawMode {
    /// Raw mode on stdin; `None` when stdin is not a terminal.
    pub(super) fn enter() -> Option<Self> {
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

/// How an attached session is shown.
#[derive(Debug, Clone, Copy)]
pub struct View {
    /// Only watch; never type.
    pub watch_only: bool,
    /// Lines of scrollback to fetch first.
    pub scrollback: u32,
    /// When typed keys are drawn ahead of their echo.
    pub predict: Mode,
}

impl View {
    /// A session just started here: typed into, nothing scrolled back to fetch.
    pub fn typing(predict: Mode) -> Self {
        Self {
            watch_only: false,
            scrollback: 0,
            predict,
        }
    }
}

/// Attaches to `id` on `target` until the session ends or the user detaches. When the
/// connection drops (the agent restarted, the network went away) it reconnects by
/// itself and the screen comes back; keys typed meanwhile are refused, never replayed.
pub async fn run(
    home: &Home,
    target: Target,
    peer: &str,
    id: SessionId,
    view: View,
) -> anyhow::Result<ExitCode> {
    let remote = !matches!(target, Target::Local);
    let dial = dialler(home, target);
    let size = terminal_size();
    let req = AttachRequest {
        session: id,
        size,
        scrollback: view.scrollback,
        watch_only: view.watch_only,
    };
    let asked = std::time::Instant::now();
    let (handle, mut events, driver) = client::reattach(dial, req, client::Backoff::default());
    let driver = tokio::spawn(driver);
    // The first answer decides whether we attach at all.
    let info = match events.recv().await {
        Some(AttachEvent::Attached { info, .. }) => info,
        Some(AttachEvent::Reconnecting { error, .. }) => {
            driver.abort();
            anyhow::bail!("{error}");
        }
        Some(AttachEvent::Closed(e)) => return Err(e.into()),
        _ => anyhow::bail!("the agent closed the connection without answering"),
    };
    let raw = RawMode::enter();
    let attach = asked.elapsed();
    let mut shown = Shown::new(view.predict, remote, attach, !view.watch_only, size);
    let keys = spawn_stdin_reader();
    let result = pump(&handle, &mut events, keys, &mut shown).await;
    let _ = shown.output(RESET.as_bytes()).await;
    drop(raw);
    driver.abort();
    // Around the session's own output, what this side says is inert: the title and the
    // messages come from the other machine.
    let title = inert(&info.title);
    match result {
        Ok(End::Detached) => {
            eprintln!(
                "\r\n[vibemesh: detached from {id} ({title}) on {peer}; `vibemesh attach {peer} {id}` to return]"
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(End::Exited(exit)) => {
            let shown = inert(&exit.to_string()).into_owned();
            eprintln!("\r\n[vibemesh: session {id} on {peer} ended: {shown}]");
            let code = exit.code.unwrap_or(1).clamp(0, 255) as u8;
            Ok(ExitCode::from(code))
        }
        Ok(End::Closed(why)) => {
            eprintln!("\r\n[vibemesh: {}]", inert(&why.to_string()));
            Ok(ExitCode::FAILURE)
        }
        // Nobody reads what we show (`vibemesh run ... | head`): the session goes on, as
        // after a detach, and the caller ends quietly.
        Err(PumpError::Stdout(e)) => Err(e.into()),
        Err(PumpError::Signals(e)) => Err(e.into()),
    }
}

/// A stream to a session's agent, on its way.
type Dialled = std::pin::Pin<
    Box<dyn Future<Output = Result<(client::BoxRead, client::BoxWrite), ClientError>> + Send>,
>;

/// Dials a fresh stream to `target` through this machine's agent, once per try of a
/// reconnecting stream ([`client::reconnecting`]).
pub(super) fn dialler(home: &Home, target: Target) -> impl FnMut() -> Dialled + Send + 'static {
    let home = home.clone();
    move || {
        let (home, target) = (home.clone(), target.clone());
        Box::pin(async move {
            match local::route(&home, target).await {
                Ok((_, r, w)) => Ok((r, w)),
                Err(e) => Err(match e.downcast::<vibemesh_core::WireError>() {
                    Ok(w) => ClientError::Remote(w),
                    Err(e) => ClientError::Connect(e.to_string()),
                }),
            }
        })
    }
}

/// Why showing a session stopped before it ended.
enum PumpError {
    /// Writing to the terminal (or pipe) failed.
    Stdout(StdoutError),
    /// The signal handlers could not be set up.
    Signals(std::io::Error),
}

impl From<StdoutError> for PumpError {
    fn from(e: StdoutError) -> Self {
        PumpError::Stdout(e)
    }
}

enum End {
    Detached,
    Exited(vibemesh_core::proto::ExitInfo),
    Closed(vibemesh_core::WireError),
}

/// Waits until `at` (never, for `None`: the branch is off then).
async fn sleep_until(at: Option<std::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Reads stdin: a terminal from a task of this runtime (see [`TtyIn`]); anything else on a
/// plain thread, as a blocking read must not hold up runtime shutdown. Inside the runtime.
pub(super) fn spawn_stdin_reader() -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel(64);
    if let Some(tty) = TtyIn::open() {
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            loop {
                match tty.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
        return rx;
    }
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

/// A line of our own between the session's output; `msg` may quote the other machine.
async fn say(stdout: &mut Shown, msg: &str) -> Result<(), StdoutError> {
    let msg = inert(msg);
    stdout
        .output(format!("\r\n[vibemesh: {msg}]\r\n").as_bytes())
        .await
}

/// Sends typed bytes, and draws them ahead of their echo where that is on.
async fn send(
    handle: &client::ReattachHandle,
    stdout: &mut Shown,
    bytes: Vec<u8>,
) -> Result<(), StdoutError> {
    if bytes.is_empty() {
        return Ok(());
    }
    handle.input(bytes.clone());
    stdout.typed(&bytes).await
}

async fn pump(
    handle: &client::ReattachHandle,
    events: &mut mpsc::Receiver<AttachEvent>,
    mut keys: mpsc::Receiver<Vec<u8>>,
    stdout: &mut Shown,
) -> Result<End, PumpError> {
    use tokio::signal::unix::{SignalKind, signal};
    let sig = |kind| signal(kind).map_err(PumpError::Signals);
    let mut winch = sig(SignalKind::window_change())?;
    // Killed or hung up: leave like a detach, so the terminal is restored.
    let mut term = sig(SignalKind::terminate())?;
    let mut hup = sig(SignalKind::hangup())?;
    let mut escape = Escape::default();
    let mut stdin_open = true;
    let mut reconnected = false;
    loop {
        let deadline = stdout.deadline();
        tokio::select! {
            ev = events.recv() => match ev {
                Some(AttachEvent::Screen(b)) => {
                    if std::mem::take(&mut reconnected) {
                        // Undo what the old screen left on before drawing the new one.
                        stdout.output(RESET.as_bytes()).await?;
                    }
                    stdout.output(&b).await?;
                }
                Some(AttachEvent::Output(b)) => stdout.output(&b).await?,
                Some(AttachEvent::Attached { reconnected: again, .. }) => reconnected = again,
                Some(AttachEvent::Resized(_)) => {}
                Some(AttachEvent::Notice(e)) => say(stdout, &e.to_string()).await?,
                Some(AttachEvent::Reconnecting { attempt, delay, error }) => {
                    let msg = format!(
                        "connection lost ({error}); reconnecting in {:.1} s (try {attempt}), Enter ~. to detach",
                        delay.as_secs_f32()
                    );
                    say(stdout, &msg).await?;
                }
                Some(AttachEvent::NotSent { bytes }) => {
                    say(stdout, &format!("not connected: {bytes} typed bytes NOT sent")).await?;
                }
                Some(AttachEvent::Unconfirmed { bytes }) => {
                    let msg = format!(
                        "{bytes} bytes typed just before the connection dropped may not have arrived; they are not sent again"
                    );
                    say(stdout, &msg).await?;
                }
                Some(AttachEvent::Exited(info)) => return Ok(End::Exited(info)),
                Some(AttachEvent::Closed(e)) => return Ok(End::Closed(e)),
                Some(AttachEvent::Detached) | None => return Ok(End::Detached),
            },
            k = keys.recv(), if stdin_open => match k {
                Some(bytes) => match escape.feed(&bytes) {
                    Keys::Send(b) => send(handle, stdout, b).await?,
                    Keys::Help(b) => {
                        send(handle, stdout, b).await?;
                        stdout.output(HELP.as_bytes()).await?;
                        say(stdout, &stdout.status()).await?;
                    }
                    Keys::Detach(b) => {
                        send(handle, stdout, b).await?;
                        // The driver sends what came before, then detaches.
                        handle.detach();
                    }
                },
                // Input ended (a pipe): keep showing output until the session ends.
                None => stdin_open = false,
            },
            _ = term.recv() => handle.detach(),
            _ = hup.recv() => handle.detach(),
            _ = winch.recv() => {
                if let Some(size) = terminal_size() {
                    handle.resize(size);
                    stdout.resize(size).await?;
                }
            }
            _ = sleep_until(deadline), if deadline.is_some() => stdout.expire().await?,
        }
    }
}
