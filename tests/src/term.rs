//! A program in a real PTY whose screen the test reads through vt100.

use std::{
    io::{Read, Write},
    path::Path,
    sync::{Arc, Condvar, Mutex},
    time::Instant,
};

use portable_pty::{CommandBuilder, MasterPty, PtySize, native_pty_system};

use crate::TIMEOUT;

/// How much of a program's output [`Term::output`] keeps: floods of hundreds of MiB
/// are read, not kept.
const OUTPUT_KEPT: usize = 64 << 20;

struct Screen {
    parser: vt100::Parser,
    /// Every byte the program wrote, in order: what a terminal was given, beyond what
    /// its screen and scrollback still show.
    output: Vec<u8>,
    ended: bool,
    /// Set by [`Term::answer_queries`]: finds the queries a real terminal answers.
    queries: Option<vibemesh_term::QueryFilter>,
}

/// A terminal running one program.
pub struct Term {
    screen: Arc<(Mutex<Screen>, Condvar)>,
    master: Box<dyn MasterPty + Send>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Term {
    /// Runs `program args` with `env` in a `rows` x `cols` terminal.
    pub fn spawn(
        program: &Path,
        args: &[&str],
        env: &[(&str, &Path)],
        rows: u16,
        cols: u16,
    ) -> Self {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn in pty");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = Arc::new(Mutex::new(pair.master.take_writer().expect("pty writer")));
        let answers = writer.clone();
        let screen = Arc::new((
            Mutex::new(Screen {
                parser: vt100::Parser::new(nz(rows), nz(cols), 10_000),
                output: Vec::new(),
                ended: false,
                queries: None,
            }),
            Condvar::new(),
        ));
        let s2 = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                let n = reader.read(&mut buf).unwrap_or(0);
                let (lock, cv) = &*s2;
                let mut s = lock.lock().unwrap();
                if n == 0 {
                    s.ended = true;
                    cv.notify_all();
                    return;
                }
                s.parser.process(&buf[..n]);
                if let Some(q) = s.queries.as_mut() {
                    let (mut rest, mut found) = (Vec::new(), Vec::new());
                    q.filter(&buf[..n], &mut rest, &mut found);
                    let mut w = answers.lock().unwrap();
                    for (_, query) in found {
                        let _ = w.write_all(&vibemesh_term::answer(query, s.parser.screen()));
                    }
                    let _ = w.flush();
                }
                if s.output.len() < OUTPUT_KEPT {
                    s.output.extend_from_slice(&buf[..n]);
                }
                cv.notify_all();
            }
        });
        Self {
            screen,
            master: pair.master,
            writer,
            child,
        }
    }

    /// Types `text`.
    pub fn send(&mut self, text: &str) {
        let mut w = self.writer.lock().unwrap();
        w.write_all(text.as_bytes()).expect("type into pty");
        w.flush().expect("flush pty");
    }

    /// From now on the terminal answers the queries a program sends it (cursor
    /// position, device attributes, colours), as the user's real terminal would: from
    /// its screen after the read that brought the query.
    pub fn answer_queries(&self) {
        self.screen.0.lock().unwrap().queries = Some(Default::default());
    }

    /// Types a line and Enter.
    pub fn line(&mut self, text: &str) {
        self.send(&format!("{text}\r"));
    }

    /// The screen's text now.
    pub fn screen(&self) -> String {
        self.screen.0.lock().unwrap().parser.screen().contents()
    }

    /// The screen now as escape sequences: its text with every cell's colours and
    /// attributes, for comparing two screens exactly.
    pub fn screen_formatted(&self) -> String {
        self.screen
            .0
            .lock()
            .unwrap()
            .parser
            .screen()
            .contents_formatted()
    }

    /// Every byte the program wrote to the terminal so far, escape sequences and all (the
    /// first 64 MiB).
    pub fn output(&self) -> Vec<u8> {
        self.screen.0.lock().unwrap().output.clone()
    }

    /// The text of the history the terminal scrolled off the top (oldest first; pages may
    /// overlap), then the screen.
    pub fn scrollback_text(&self) -> String {
        let mut s = self.screen.0.lock().unwrap();
        let screen = s.parser.screen_mut();
        screen.set_scrollback(usize::MAX);
        let total = screen.scrollback();
        let rows = screen.size().0.get() as usize;
        let mut out = String::new();
        let mut k = total;
        while k > 0 {
            screen.set_scrollback(k);
            out.push_str(&screen.contents());
            out.push('\n');
            k = k.saturating_sub(rows);
        }
        screen.set_scrollback(0);
        out.push_str(&screen.contents());
        out
    }

    /// Waits until `pred(screen text)` holds, waking on every output; returns the screen.
    /// Fails the test with the screen after [`TIMEOUT`].
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.wait_for_within(what, TIMEOUT, pred)
    }

    /// Like [`Term::wait_for`], failing after `limit` instead: for what takes long by
    /// nature (hundreds of MiB through a debug build), where the limit only catches a hang.
    pub fn wait_for_within(
        &self,
        what: &str,
        limit: std::time::Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        match self.try_wait_for(limit, pred) {
            Ok(text) => text,
            Err((text, true)) => {
                panic!("the program ended while waiting for {what}; the screen shows:\n{text}")
            }
            Err((text, false)) => panic!("timed out waiting for {what}; the screen shows:\n{text}"),
        }
    }

    /// Waits up to `limit` until `pred(screen text)` holds, waking on every output: the
    /// screen, or the screen when it gave up and whether the program had ended.
    pub fn try_wait_for(
        &self,
        limit: std::time::Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Result<String, (String, bool)> {
        let (lock, cv) = &*self.screen;
        let deadline = Instant::now() + limit;
        let mut s = lock.lock().unwrap();
        loop {
            let text = s.parser.screen().contents();
            if pred(&text) {
                return Ok(text);
            }
            let now = Instant::now();
            if s.ended || now >= deadline {
                return Err((text, s.ended));
            }
            s = cv.wait_timeout(s, deadline - now).unwrap().0;
        }
    }

    /// Waits until the screen contains `text`.
    pub fn wait_text(&self, text: &str) -> String {
        self.wait_for(&format!("{text:?}"), |s| s.contains(text))
    }

    /// Waits for the program to end and its output to be read; returns its exit code.
    pub fn wait_exit(&mut self) -> u32 {
        self.wait_exit_within(TIMEOUT)
    }

    /// Like [`Term::wait_exit`], failing after `limit` instead: for programs that print
    /// megabytes through debug builds, where the limit only catches a hang.
    pub fn wait_exit_within(&mut self, limit: std::time::Duration) -> u32 {
        {
            let (lock, cv) = &*self.screen;
            let deadline = Instant::now() + limit;
            let mut s = lock.lock().unwrap();
            while !s.ended {
                let now = Instant::now();
                assert!(
                    now < deadline,
                    "program did not end; screen:\n{}",
                    s.parser.screen().contents()
                );
                s = cv.wait_timeout(s, deadline - now).unwrap().0;
            }
        }
        self.child.wait().expect("wait").exit_code()
    }

    /// Whether the terminal is in canonical mode with echo, as a shell leaves it (raw
    /// mode turns both off); `None` where the PTY cannot tell.
    pub fn is_cooked(&self) -> Option<bool> {
        use nix::sys::termios::LocalFlags;
        let t = self.master.get_termios()?;
        Some(
            t.local_flags
                .contains(LocalFlags::ICANON | LocalFlags::ECHO),
        )
    }

    /// Resizes the terminal (the program gets SIGWINCH).
    pub fn resize(&mut self, rows: u16, cols: u16) {
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize pty");
        self.screen
            .0
            .lock()
            .unwrap()
            .parser
            .set_size(nz(rows), nz(cols));
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("terminal sizes are not zero")
}
