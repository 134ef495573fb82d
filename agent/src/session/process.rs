//! Holder processes and the programs in them, seen from the agent: starting a holder,
//! finding a program without its holder's help, and noticing when a process ends.

use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
};

use super::HOLDER_ENV;

/// The holder binary: `$VIBEMESH_HOLDER`, else `vibemesh-holder` next to this program
/// (or one folder up, where cargo puts binaries when this is a test). `None` when there
/// is none: sessions are then held inside this process.
pub fn holder_binary() -> Option<&'static Path> {
    static BIN: OnceLock<Option<PathBuf>> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os(HOLDER_ENV) {
            return (!p.is_empty()).then(|| PathBuf::from(p));
        }
        let exe = std::env::current_exe().ok()?;
        let dir = exe.parent()?;
        let found = [dir, dir.parent()?]
            .into_iter()
            .map(|d| d.join("vibemesh-holder"))
            .find(|p| p.is_file());
        if found.is_none() {
            tracing::warn!(
                "no vibemesh-holder next to {}: sessions end when this agent does",
                exe.display()
            );
        }
        found
    })
    .as_deref()
}

/// Starts a holder process that will listen on `sock`; returns our end of the socket
/// pair it was given as standard input.
pub(super) fn start_holder(sock: &Path) -> std::io::Result<std::os::unix::net::UnixStream> {
    use std::process::{Command, Stdio};
    let bin = holder_binary().ok_or_else(|| std::io::Error::other("no holder binary"))?;
    if let Some(dir) = sock.parent() {
        std::fs::create_dir_all(dir)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;
    let mut child = Command::new(bin)
        .arg(sock)
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    // It forks its long-lived self away and exits at once: reap it now.
    let status = child.wait()?;
    if !status.success() {
        return Err(std::io::Error::other(format!(
            "{} failed: {status}",
            bin.display()
        )));
    }
    Ok(ours)
}

/// The program a holder runs, found without asking the holder (which may not answer):
/// its child process. Linux only (`/proc`); `None` elsewhere or when it has none.
pub fn program_of(holder: u32) -> Option<u32> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    // Any of the holder's threads may have started it.
    std::fs::read_dir(format!("/proc/{holder}/task"))
        .ok()?
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .find_map(|c| c.split_whitespace().next()?.parse().ok())
}

/// Sends `sig` to the one process `pid`.
pub fn signal(pid: u32, sig: nix::sys::signal::Signal) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
    }
}

/// Resolves when process `pid` has ended (at once when there is none), whoever its
/// parent is: a pidfd becomes readable then (Linux). Never resolves where that cannot be
/// watched, so callers race it against other news and a timeout.
pub async fn exited(pid: u32) {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{Pid, PidfdFlags, pidfd_open};
        let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
            return;
        };
        match pidfd_open(pid, PidfdFlags::empty()) {
            Err(rustix::io::Errno::SRCH) => return,
            Err(_) => {}
            Ok(fd) => {
                let interest = tokio::io::Interest::READABLE;
                // SAFETY: the AsyncFd owns the descriptor, so it stays open and the
                // same for as long as the AsyncFd lives.
                let fd = unsafe { tokio::io::unix::AsyncFd::register_with_interest(fd, interest) };
                if let Ok(fd) = fd {
                    let _ = fd.readable().await;
                    return;
                }
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = pid;
    std::future::pending().await
}
