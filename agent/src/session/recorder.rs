//! Writes a session as an asciinema v2 `.cast` file while it runs.
//!
//! One JSON header line, then one `[seconds, "o"|"i"|"r", "data"]` line per event. Each
//! event is flushed to the file as it is written so a crash loses at most the last one.
//! A write error (disk full, folder gone read-only) stops the recording and marks it
//! failed; the session itself keeps running.

use std::{
    fs::File,
    io::{BufWriter, Write},
    path::{Path, PathBuf},
    time::Instant,
};

use vibemesh_core::proto::TermSize;

/// An open recording.
pub struct Recorder {
    out: Option<BufWriter<File>>,
    path: PathBuf,
    start: Instant,
    carry_out: Vec<u8>,
    carry_in: Vec<u8>,
    error: Option<String>,
}

impl Recorder {
    /// Creates the file and writes the header.
    pub fn create(
        path: &Path,
        size: TermSize,
        title: &str,
        command: &[String],
    ) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            vibemesh_core::identity::create_private_dir(dir)?;
        }
        // Terminal output can hold secrets: recordings are for the owner's eyes only.
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut out = BufWriter::new(opts.open(path)?);
        let header = serde_json::json!({
            "version": 2,
            "width": size.cols,
            "height": size.rows,
            "timestamp": std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            "title": title,
            "command": command.join(" "),
            "env": { "TERM": "xterm-256color" },
        });
        writeln!(out, "{header}")?;
        out.flush()?;
        Ok(Self {
            out: Some(out),
            path: path.to_path_buf(),
            start: Instant::now(),
            carry_out: Vec::new(),
            carry_in: Vec::new(),
            error: None,
        })
    }

    /// Where the recording is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Why recording stopped early, if it did.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
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
        self.event("r", &format!("{}x{}", size.cols, size.rows));
    }

    fn event(&mut self, kind: &str, data: &str) {
        if data.is_empty() {
            return;
        }
        let Some(out) = self.out.as_mut() else { return };
        let t = self.start.elapsed().as_secs_f64();
        let line = serde_json::to_string(&(t, kind, data)).unwrap_or_default();
        let res = writeln!(out, "{line}").and_then(|()| out.flush());
        if let Err(e) = res {
            tracing::warn!(path = %self.path.display(), "recording stopped: {e}");
            self.error = Some(e.to_string());
            self.out = None;
        }
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
mod tests {
    use super::*;

    #[test]
    fn split_characters_are_joined_and_garbage_replaced() {
        let mut carry = Vec::new();
        let euro = "€".as_bytes();
        assert_eq!(take_utf8(&mut carry, &[b'a', euro[0]]), "a");
        assert_eq!(take_utf8(&mut carry, &euro[1..]), "€");
        assert_eq!(take_utf8(&mut carry, &[0xff, b'b']), "\u{fffd}b");
        assert!(carry.is_empty());
    }

    #[test]
    fn writes_header_and_events_as_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.cast");
        let mut r = Recorder::create(&path, TermSize::DEFAULT, "t", &["sh".into()]).unwrap();
        r.output(b"hi\r\n");
        r.resize(TermSize {
            rows: 30,
            cols: 100,
        });
        drop(r);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["version"], 2);
        assert_eq!(lines[1][1], "o");
        assert_eq!(lines[1][2], "hi\r\n");
        assert_eq!(lines[2][2], "100x30");
    }
}
