//! Writes a session as asciinema v2 `.cast` files while it runs, within a size limit.
//!
//! One JSON header line, then one `[seconds, "o"|"i"|"r", "data"]` line per event. Each
//! event is flushed to the file as it is written so a crash loses at most the last one.
//! A write error (disk full, folder gone read-only) stops the recording and marks it
//! failed; the session itself keeps running.
//!
//! The recording is kept in parts ([`RecordingLimits`]): each part gets an equal share of
//! the limit, and is a complete recording with its own header and its own clock, so any
//! part plays on its own (`vibemesh play`, `asciinema play`). When the newest part is
//! full a new one starts (`NAME.2.cast`, `NAME.3.cast`, ...) and, beyond the number of
//! parts kept, the oldest part after the first is deleted: the beginning of the session
//! and its latest output stay. With one part the recording stops at the limit instead.
//! All of it is a few system calls on the thread that records, with no waiting.

use std::{
    fs::File,
    io::{BufWriter, Write},
    path::{Path, PathBuf},
    time::Instant,
};

use vibemesh_core::proto::{RecordingState, TermSize, holder::RecordingLimits};

use crate::cast;

/// The limits a holder applies until its agent sends the configured ones (an agent
/// older than holder protocol 2 never does): the config's defaults.
pub const DEFAULT_LIMITS: RecordingLimits = RecordingLimits {
    max_bytes: 100 << 20,
    parts: 4,
};

/// A part on disk.
struct Part {
    path: PathBuf,
    bytes: u64,
    /// Only its header so far.
    empty: bool,
}

/// An open recording.
pub struct Recorder {
    out: Option<BufWriter<File>>,
    /// The first part's path; later parts are named after it.
    path: PathBuf,
    title: String,
    command: Vec<String>,
    size: TermSize,
    limits: RecordingLimits,
    /// The parts on disk: the first, then the newest; the last is being written.
    parts: Vec<Part>,
    /// The number the next part gets.
    next_part: u32,
    dropped_parts: u32,
    dropped_bytes: u64,
    /// When the part being written started: its events' times count from here.
    start: Instant,
    carry_out: Vec<u8>,
    carry_in: Vec<u8>,
    error: Option<String>,
    /// What was last reported: which parts (by the next part's number) and limits.
    reported: Option<(u32, RecordingLimits)>,
}

impl Recorder {
    /// Creates the first part and writes its header.
    pub fn create(
        path: &Path,
        size: TermSize,
        title: &str,
        command: &[String],
    ) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            vibemesh_core::identity::create_private_dir(dir)?;
        }
        let mut r = Self {
            out: None,
            path: path.to_path_buf(),
            title: title.to_string(),
            command: command.to_vec(),
            size,
            limits: DEFAULT_LIMITS,
            parts: Vec::new(),
            next_part: 2,
            dropped_parts: 0,
            dropped_bytes: 0,
            start: Instant::now(),
            carry_out: Vec::new(),
            carry_in: Vec::new(),
            error: None,
            reported: None,
        };
        r.open_part(path.to_path_buf())?;
        Ok(r)
    }

    /// Why recording stopped early, if it did.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Applies new size limits from the next event on (a part already past its new
    /// share is closed then).
    pub fn set_limits(&mut self, limits: RecordingLimits) {
        self.limits = RecordingLimits {
            max_bytes: limits.max_bytes.max(1),
            parts: limits.parts.max(1),
        };
    }

    /// The parts, their size and what the limit cut.
    pub fn state(&self) -> RecordingState {
        RecordingState {
            parts: self
                .parts
                .iter()
                .map(|p| p.path.display().to_string())
                .collect(),
            bytes: self.parts.iter().map(|p| p.bytes).sum(),
            dropped_parts: self.dropped_parts,
            dropped_bytes: self.dropped_bytes,
            max_bytes: self.limits.max_bytes,
            max_parts: self.limits.parts,
        }
    }

    /// The state, when it is news: always with `force`, else when the parts or the
    /// limits changed (a size that only grew is measured on disk when it is listed,
    /// [`measure`]). Cheap when there is nothing to report.
    pub fn report(&mut self, force: bool) -> Option<RecordingState> {
        let now = (self.next_part, self.limits);
        if !force && self.reported == Some(now) {
            return None;
        }
        self.reported = Some(now);
        Some(self.state())
    }

    /// Records program output.
    pub fn output(&mut self, bytes: &[u8]) {
        let text = take_utf8(&mut self.carry_out, bytes);
        self.event("o", &text);
    }

    /// Records typed input.
    pub fn input(&mut self, bytes: &[u8]) {
        let text = take_utf8(&mut self.carry_in, bytes);
        self.event("i", &text);
    }

    /// Records a size change.
    pub fn resize(&mut self, size: TermSize) {
        self.size = size;
        self.event("r", &format!("{}x{}", size.cols, size.rows));
    }

    fn event(&mut self, kind: &str, data: &str) {
        if data.is_empty() || self.out.is_none() {
            return;
        }
        let line = cast::event_line(self.start.elapsed().as_secs_f64(), kind, data);
        let len = line.len() as u64 + 1;
        if self.is_full(len)
            && let Err(e) = self.next_part()
        {
            return self.stop(e);
        }
        let Some(out) = self.out.as_mut() else { return };
        if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
            return self.stop(e.to_string());
        }
        if let Some(p) = self.parts.last_mut() {
            p.bytes += len;
            p.empty = false;
        }
    }

    /// Whether `len` more bytes take the current part past its share. A part holds at
    /// least one event, whatever its size.
    fn is_full(&self, len: u64) -> bool {
        let share = self.limits.max_bytes / u64::from(self.limits.parts.max(1));
        self.parts
            .last()
            .is_some_and(|p| !p.empty && p.bytes + len > share)
    }

    fn header(&self) -> String {
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        cast::header_line(
            self.size.cols,
            self.size.rows,
            timestamp,
            &self.title,
            &self.command,
        )
    }

    /// Closes the full part and starts the next, deleting the oldest part after the
    /// first beyond the number kept; with one part kept, stops instead.
    fn next_part(&mut self) -> Result<(), String> {
        if self.limits.parts <= 1 {
            return Err(format!(
                "stopped at its size limit of {} (recording_max_mb, with recording_parts = 1)",
                shown_size(self.limits.max_bytes)
            ));
        }
        let path = part_path(&self.path, self.next_part);
        self.next_part += 1;
        if let Some(mut out) = self.out.take() {
            out.flush().map_err(|e| e.to_string())?;
        }
        self.open_part(path)
            .map_err(|e| format!("cannot start a new part: {e}"))?;
        // Never the first part, nor the one just started.
        while self.parts.len() > (self.limits.parts as usize).max(2) {
            let old = self.parts.remove(1);
            self.dropped_parts += 1;
            self.dropped_bytes += old.bytes;
            if let Err(e) = std::fs::remove_file(&old.path) {
                tracing::warn!(path = %old.path.display(), "cannot delete an old recording part: {e}");
            }
        }
        Ok(())
    }

    fn open_part(&mut self, path: PathBuf) -> std::io::Result<()> {
        // Terminal output can hold secrets: recordings are for the owner's eyes only.
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut out = BufWriter::new(opts.open(&path)?);
        let header = self.header();
        writeln!(out, "{header}")?;
        out.flush()?;
        self.out = Some(out);
        self.start = Instant::now();
        self.parts.push(Part {
            path,
            bytes: header.len() as u64 + 1,
            empty: true,
        });
        Ok(())
    }

    fn stop(&mut self, reason: String) {
        tracing::warn!(path = %self.path.display(), "recording stopped: {reason}");
        self.error = Some(reason);
        self.out = None;
    }
}

/// Sets `state.bytes` to the size of its parts on disk now (blocking: a few `stat`s).
pub fn measure(state: &mut RecordingState) {
    state.bytes = state
        .parts
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
}

/// Part `n` of the recording whose first part is `first`: `NAME.cast` -> `NAME.n.cast`.
pub fn part_path(first: &Path, n: u32) -> PathBuf {
    let stem = first
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    first.with_file_name(format!("{stem}.{n}.cast"))
}

fn shown_size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// Decodes as much of `carry + bytes` as is complete UTF-8, replacing invalid bytes, and
/// keeps an incomplete trailing sequence for the next call (output chunks split
/// characters anywhere).
fn take_utf8(carry: &mut Vec<u8>, bytes: &[u8]) -> String {
    carry.extend_from_slice(bytes);
    let mut text = String::with_capacity(carry.len());
    let mut rest: &[u8] = carry;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                text.push_str(s);
                rest = &[];
                break;
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                // from_utf8 just said this prefix is valid.
                text.push_str(std::str::from_utf8(valid).unwrap_or_default());
                match e.error_len() {
                    Some(n) => {
                        text.push('\u{fffd}');
                        rest = &after[n..];
                    }
                    None => {
                        rest = after;
                        break;
                    }
                }
            }
        }
    }
    let keep = rest.to_vec();
    *carry = keep;
    text
}

#[cfg(test)]
mod tests;
