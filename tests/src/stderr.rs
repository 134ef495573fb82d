//! A child process's stderr read on a thread of its own: every line kept, and waited on
//! by the lines themselves (a condition variable), never by polling.

use std::{
    io::{BufRead, BufReader, Read},
    sync::{Arc, Condvar, Mutex},
    time::{Duration, Instant},
};

#[derive(Default)]
struct Lines {
    text: String,
    ended: bool,
}

/// What a process wrote to stderr so far, growing as it writes.
#[derive(Clone, Default)]
pub struct StderrLog(Arc<(Mutex<Lines>, Condvar)>);

impl StderrLog {
    /// Starts reading `stderr` (a child's) line by line.
    pub fn follow(stderr: impl Read + Send + 'static) -> Self {
        let log = Self::default();
        let shared = log.0.clone();
        std::thread::spawn(move || {
            let (lock, cv) = &*shared;
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut l = lock.lock().unwrap_or_else(|e| e.into_inner());
                l.text.push_str(&line);
                l.text.push('\n');
                cv.notify_all();
            }
            lock.lock().unwrap_or_else(|e| e.into_inner()).ended = true;
            cv.notify_all();
        });
        log
    }

    /// Everything written so far.
    pub fn text(&self) -> String {
        self.0
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .text
            .clone()
    }

    /// Waits up to `limit` for `find` to find something in the text; `None` if it did
    /// not in time or the process closed its stderr first.
    pub fn wait_for<T>(&self, limit: Duration, find: impl Fn(&str) -> Option<T>) -> Option<T> {
        let (lock, cv) = &*self.0;
        let deadline = Instant::now() + limit;
        let mut l = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(found) = find(&l.text) {
                return Some(found);
            }
            let now = Instant::now();
            if l.ended || now >= deadline {
                return None;
            }
            l = cv
                .wait_timeout(l, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits up to `limit` for a line containing `needle`.
    pub fn wait_line(&self, limit: Duration, needle: &str) -> bool {
        self.wait_for(limit, |t| t.contains(needle).then_some(()))
            .is_some()
    }
}
