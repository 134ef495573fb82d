//! Starting a holder: the session's program and threads ([`start`]), inside the agent
//! ([`spawn_in_process`]) or as the `vibemesh-holder` process ([`main`]) that listens
//! for agents on its socket until its session is removed or its socket deleted.

use std::{
    collections::VecDeque,
    io::Write,
    os::unix::net::{UnixListener, UnixStream},
    path::{Path, PathBuf},
    sync::{Arc, Condvar, Mutex, mpsc::sync_channel},
    time::Duration,
};

use bytes::Bytes;
use vibemesh_core::{
    frame,
    proto::{
        bounds::TITLE_MAX,
        holder::{FromHolder, HolderSpawn, ToHolder},
    },
    text::cut,
};

use super::{
    super::{flood::FloodGuard, head::Head, pty, recorder::Recorder, screen::Screen},
    INPUT_QUEUE, Shared, State,
};

/// How long a connecting agent has to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts the session `spawn` describes and greets the agent on `conn`. `socket` is
/// where later agents reach it (a holder process); `None` inside the agent.
fn start(
    spawn: HolderSpawn,
    mut conn: UnixStream,
    socket: Option<PathBuf>,
) -> Result<(Arc<Shared>, Option<UnixListener>), String> {
    let refuse = |conn: &mut UnixStream, msg: String| {
        if let Ok(b) = frame::encode(&FromHolder::Refused(msg.clone())) {
            let _ = conn.write_all(&b);
        }
        msg
    };
    let spawned = match pty::spawn(
        spawn.id,
        &spawn.command,
        Path::new(&spawn.cwd),
        &spawn.env,
        spawn.size,
    ) {
        Ok(s) => s,
        Err(m) => return Err(refuse(&mut conn, m)),
    };
    let listener = match &socket {
        Some(path) => {
            let _ = std::fs::remove_file(path);
            match UnixListener::bind(path) {
                Ok(l) => {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
                    Some(l)
                }
                Err(e) => {
                    if let Some(pid) = spawned.pid {
                        pty::signal_group(pid, nix::sys::signal::Signal::SIGKILL);
                    }
                    let msg = format!("cannot listen on {}: {e}", path.display());
                    return Err(refuse(&mut conn, msg));
                }
            }
        }
        None => None,
    };
    let (recorder, recording_error) = match &spawn.recording {
        Some(path) => {
            match Recorder::create(Path::new(path), spawn.size, &spawn.title, &spawn.command) {
                Ok(r) => (Some(r), None),
                Err(e) => (None, Some(format!("cannot write {path}: {e}"))),
            }
        }
        None => (None, None),
    };
    let (input, input_rx) = sync_channel::<Bytes>(INPUT_QUEUE);
    let mut writer = spawned.writer;
    let spawn_err = |e: std::io::Error| e.to_string();
    std::thread::Builder::new()
        .name("holder-input".into())
        .stack_size(128 * 1024)
        .spawn(move || {
            for b in input_rx {
                // A program that ended takes no more input; keep draining.
                let _ = writer.write_all(&b).and_then(|()| writer.flush());
            }
        })
        .map_err(spawn_err)?;
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            backlog: VecDeque::new(),
            backlog_bytes: 0,
            skipped: false,
            conn: None,
            next_conn: 0,
            size: spawn.size,
            title: cut(&spawn.title, TITLE_MAX).into_owned(),
            exited: None,
            recorder,
            recording_error,
            recording_conn: None,
            flood: FloodGuard::new(spawned.pid, socket.is_some()),
            head: Head::new(),
        }),
        screen: Mutex::new(Screen::new(spawn.size, spawn.scrollback as usize)),
        wake: Condvar::new(),
        input,
        master: Mutex::new(spawned.master),
        pid: spawned.pid,
        spawn,
        socket,
    });
    // Greet first, so the hello comes before any output.
    shared.connect(conn).map_err(spawn_err)?;
    let me = shared.clone();
    let (reader, child) = (spawned.reader, spawned.child);
    std::thread::Builder::new()
        .name("holder-output".into())
        .stack_size(256 * 1024)
        .spawn(move || me.read_output(reader, child))
        .map_err(spawn_err)?;
    let me = shared.clone();
    std::thread::Builder::new()
        .name("holder-parse".into())
        .stack_size(512 * 1024)
        .spawn(move || me.parse())
        .map_err(spawn_err)?;
    Ok((shared, listener))
}

/// Runs a holder inside this process, on threads: for agents without a holder binary.
/// Returns the agent's end of the connection, on which the caller sends the spawn.
pub fn spawn_in_process() -> std::io::Result<UnixStream> {
    let (agent_end, holder_end) = UnixStream::pair()?;
    std::thread::Builder::new()
        .name("holder-start".into())
        .spawn(move || {
            let mut conn = holder_end;
            if let Ok(Some(spawn)) = frame::read_blocking::<HolderSpawn>(&mut conn) {
                let _ = start(spawn, conn, None);
            }
        })?;
    Ok(agent_end)
}

/// The holder process: `vibemesh-holder SOCKET`, started by the agent with its end of a
/// socket pair as standard input. Never returns while the session is held.
pub fn main() -> std::process::ExitCode {
    use std::os::fd::{FromRawFd, OwnedFd};
    let Some(socket) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: vibemesh-holder SOCKET (started by the vibemesh agent)");
        return std::process::ExitCode::from(2);
    };
    // Leave the agent's process group and session: its restart, its Ctrl-C and its
    // terminal closing must not reach us. Forking first makes us not a group leader
    // (so setsid works) and lets the agent reap its direct child at once.
    // SAFETY: no other thread exists yet in this process.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Parent { .. }) => return std::process::ExitCode::SUCCESS,
        Ok(nix::unistd::ForkResult::Child) => {}
        Err(e) => {
            eprintln!("vibemesh-holder: fork failed: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    let _ = nix::unistd::setsid();
    super::memory::configure();
    // SAFETY: the agent gave us our end of the socket pair as stdin, and nothing else in
    // this process uses fd 0 (not `std::io::stdin()`, whose buffer an idle holder would
    // keep for nothing).
    let stdin = unsafe { OwnedFd::from_raw_fd(0) };
    let mut conn = UnixStream::from(stdin);
    let _ = conn.set_read_timeout(Some(HELLO_TIMEOUT));
    let spawn = match frame::read_blocking::<HolderSpawn>(&mut conn) {
        Ok(Some(s)) => s,
        _ => return std::process::ExitCode::FAILURE,
    };
    let _ = conn.set_read_timeout(None);
    let (shared, listener) = match start(spawn, conn, Some(socket.clone())) {
        Ok((s, Some(l))) => (s, l),
        _ => return std::process::ExitCode::FAILURE,
    };
    let _watcher = exit_when_deleted(&socket, shared.pid);
    for conn in listener.incoming() {
        let Ok(mut conn) = conn else { continue };
        let _ = conn.set_read_timeout(Some(HELLO_TIMEOUT));
        match frame::read_blocking::<ToHolder>(&mut conn) {
            Ok(Some(ToHolder::Hello { .. })) => {
                let _ = conn.set_read_timeout(None);
                let _ = shared.connect(conn);
            }
            _ => continue,
        }
    }
    std::process::ExitCode::SUCCESS
}

/// Watches the socket file: when it is deleted (the agent's folder went away), nobody
/// can adopt this session any more, so end it rather than leave it running unseen.
fn exit_when_deleted(socket: &Path, pid: Option<u32>) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let dir = socket.parent()?.to_path_buf();
    let sock = socket.to_path_buf();
    let mut watcher = notify::recommended_watcher(move |_: notify::Result<notify::Event>| {
        if !sock.exists() {
            if let Some(pid) = pid {
                pty::signal_group(pid, nix::sys::signal::Signal::SIGHUP);
                pty::signal_group(pid, nix::sys::signal::Signal::SIGKILL);
            }
            std::process::exit(0);
        }
    })
    .ok()?;
    watcher
        .watch(&dir, notify::RecursiveMode::NonRecursive)
        .ok()?;
    Some(watcher)
}
