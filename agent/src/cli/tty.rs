//! The user's terminal read and written from the runtime's own thread, without a thread
//! in between.
//!
//! Standard input and output are file descriptions shared with the shell that started
//! us (and whatever it runs next), so we must not make them non-blocking. A terminal,
//! unlike a pipe or a file, can be opened again: `/proc/self/fd/N` opens the same
//! terminal as a description of our own, which can be non-blocking and polled by the
//! runtime. Each key and each chunk of output then costs a system call on this thread,
//! where a blocking read on a thread of its own, or tokio's `Stdout` (a blocking-pool
//! thread per write), wakes another thread and waits for it: those hand-offs were most
//! of what the CLI added to each keystroke's echo.

use std::{
    fs::{File, OpenOptions},
    io::{self, IsTerminal, Read, Write},
    os::{
        fd::{AsFd, AsRawFd, BorrowedFd, RawFd},
        unix::fs::OpenOptionsExt,
    },
};

use tokio::io::{Interest, unix::AsyncFd};

/// The terminal on standard input, opened again to be read without blocking.
pub struct TtyIn(AsyncFd<File>);

impl TtyIn {
    /// `None` when stdin is not a terminal (or it cannot be opened again): the caller
    /// reads stdin as it is. Inside the runtime (the descriptor joins its reactor).
    pub fn open() -> Option<Self> {
        let file = reopen(std::io::stdin().as_fd(), OpenOptions::new().read(true))?;
        // SAFETY: the AsyncFd owns the file, so the descriptor stays open and the same
        // for as long as it is registered.
        unsafe { AsyncFd::register_with_interest(file, Interest::READABLE) }
            .ok()
            .map(Self)
    }

    /// Reads what was typed, waiting until there is some; 0 at the end of input.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut ready = self.0.readable().await?;
            match ready.try_io(|f| retry_eintr(|| f.get_ref().read(buf))) {
                Ok(result) => return result,
                // Drained since it was reported readable: wait for the next input.
                Err(_would_block) => continue,
            }
        }
    }
}

/// The terminal on standard output, opened again to be written without blocking.
///
/// It is registered with the reactor only while the terminal takes no more: a terminal
/// reports itself writable again each time its reader takes output, which would wake
/// us for nothing after every chunk we show.
pub struct TtyOut(File);

impl TtyOut {
    /// `None` as for [`TtyIn::open`].
    pub fn open() -> Option<Self> {
        reopen(std::io::stdout().as_fd(), OpenOptions::new().write(true)).map(Self)
    }

    /// Writes all of `bytes`, waiting whenever the terminal is not taking more. Inside
    /// the runtime.
    pub async fn write_all(&self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            match retry_eintr(|| (&self.0).write(bytes)) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.writable().await?,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Waits until the terminal takes output again.
    async fn writable(&self) -> io::Result<()> {
        let fd: RawFd = self.0.as_raw_fd();
        // SAFETY: `self.0` keeps the descriptor open and the same for as long as this
        // registration lives (until the end of this function).
        let registered = unsafe { AsyncFd::register_with_interest(fd, Interest::WRITABLE) }?;
        // Registering reports the terminal's state as it is now, so output it took
        // after our failed write is not missed.
        drop(registered.writable().await?);
        Ok(())
    }
}

/// The terminal on `fd` as a non-blocking description of our own; `None` when `fd` is
/// not a terminal or cannot be opened again (no `/proc`, say).
fn reopen(fd: BorrowedFd<'_>, how: &mut OpenOptions) -> Option<File> {
    if !fd.is_terminal() {
        return None;
    }
    how
        // O_NOCTTY: opening a terminal must never make it our controlling one.
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .ok()
}

/// A signal arriving during the call is no failure: try again.
fn retry_eintr(mut f: impl FnMut() -> io::Result<usize>) -> io::Result<usize> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}
