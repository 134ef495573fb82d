//! A structured session on disk: `meta.json` (what it is, the provider's session id to
//! resume) written atomically, and `events.jsonl`, one [`Entry`] per line, append-only.
//! An agent restart loads both; a line cut short by a crash is dropped, never appended to.

use std::{
    fs::{File, OpenOptions},
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use vibemesh_core::proto::{Provider, SessionId, ai::Entry};

use super::entries::push_compacted;

/// What a structured session is, as kept on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// The session's id.
    pub id: SessionId,
    /// Claude or Codex.
    pub provider: Provider,
    /// The folder it works in.
    pub cwd: String,
    /// Its title.
    pub title: String,
    /// When it started, ms since the epoch.
    pub created_ms: u64,
    /// The provider's own session (Claude) or thread (Codex) id, to resume.
    pub provider_session: Option<String>,
}

/// One session's folder.
pub struct Log {
    dir: PathBuf,
    events: File,
}

impl Log {
    /// Creates the folder and its files for a new session.
    pub fn create(root: &Path, meta: &Meta) -> std::io::Result<Self> {
        let dir = root.join(meta.id.to_string());
        // What was said to an AI agent is the owner's alone, like recordings.
        vibemesh_core::identity::create_private_dir(&dir)?;
        let log = Self::open(dir)?;
        log.save_meta(meta)?;
        Ok(log)
    }

    fn open(dir: PathBuf) -> std::io::Result<Self> {
        let events = {
            use std::os::unix::fs::OpenOptionsExt;
            OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(dir.join("events.jsonl"))?
        };
        Ok(Self { dir, events })
    }

    /// Writes `meta.json` (temp file + rename: never half written).
    pub fn save_meta(&self, meta: &Meta) -> std::io::Result<()> {
        let text = serde_json::to_vec_pretty(meta).map_err(std::io::Error::other)?;
        vibemesh_core::identity::write_private(&self.dir.join("meta.json"), &text)
    }

    /// Appends one entry.
    pub fn append(&mut self, entry: &Entry) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.events.write_all(&line)
    }

    /// Removes the session's folder.
    pub fn remove(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// The file the entries are in (to replay older ones with [`read_range`]).
    pub fn events_path(&self) -> PathBuf {
        self.dir.join("events.jsonl")
    }

    /// The folders of every session under `root`, to [`Log::load`] one at a time.
    pub fn dirs(root: &Path) -> Vec<PathBuf> {
        let Ok(dirs) = std::fs::read_dir(root) else {
            return Vec::new();
        };
        dirs.flatten().map(|d| d.path()).collect()
    }

    /// Loads one session: its meta and its log to append to; each entry goes to
    /// `on_entry`, oldest first (so the caller keeps only what it needs).
    pub fn load(dir: PathBuf, on_entry: impl FnMut(Entry)) -> std::io::Result<(Meta, Log)> {
        let meta: Meta = serde_json::from_slice(&std::fs::read(dir.join("meta.json"))?)
            .map_err(std::io::Error::other)?;
        let path = dir.join("events.jsonl");
        if let Ok(f) = File::open(&path) {
            let good_len = read_lines(&path, f, on_entry)?;
            // Drop a line a crash cut short, so the next append starts a fresh line.
            let f = OpenOptions::new().write(true).open(&path)?;
            if f.metadata()?.len() != good_len {
                f.set_len(good_len)?;
            }
        }
        let log = Self::open(dir)?;
        Ok((meta, log))
    }
}

/// Reads whole lines of `f` as entries into `on_entry`; returns the length read (a
/// last line without its newline is not counted: a crash cut it short).
fn read_lines(path: &Path, f: File, mut on_entry: impl FnMut(Entry)) -> std::io::Result<u64> {
    let mut reader = BufReader::new(f);
    let mut line = String::new();
    let mut good_len = 0u64;
    loop {
        line.clear();
        let n = reader.read_line(&mut line)?;
        if n == 0 || !line.ends_with('\n') {
            return Ok(good_len);
        }
        match serde_json::from_str::<Entry>(&line) {
            Ok(e) => on_entry(e),
            // Written by a newer build, or damaged: keep the rest readable.
            Err(e) => tracing::warn!("{}: skipping a line: {e}", path.display()),
        }
        good_len += n as u64;
    }
}

/// The entries numbered after `after` up to `upto` from a session's events file, with
/// finished messages in place of their deltas (as memory keeps them).
pub fn read_range(path: &Path, after: u64, upto: u64) -> std::io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    read_lines(path, File::open(path)?, |e| {
        if e.seq > after && e.seq <= upto {
            push_compacted(&mut out, e);
        }
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vibemesh_core::proto::ai::AiEvent;

    #[test]
    fn entries_survive_a_reload_and_a_cut_line_is_dropped() {
        let root = tempfile::tempdir().unwrap();
        let meta = Meta {
            id: SessionId(7),
            provider: Provider::Claude,
            cwd: "/tmp".into(),
            title: "t".into(),
            created_ms: 1,
            provider_session: Some("abc".into()),
        };
        let mut log = Log::create(root.path(), &meta).unwrap();
        let e1 = Entry {
            seq: 1,
            at_ms: 2,
            event: AiEvent::User { text: "hi".into() },
        };
        log.append(&e1).unwrap();
        drop(log);
        let events = root.path().join("00000007/events.jsonl");
        let mut f = OpenOptions::new().append(true).open(&events).unwrap();
        f.write_all(b"{\"seq\":2,\"at_").unwrap();
        let dirs = Log::dirs(root.path());
        assert_eq!(dirs.len(), 1);
        let mut entries = Vec::new();
        let (m, mut log) = Log::load(dirs[0].clone(), |e| entries.push(e)).unwrap();
        assert_eq!(m, meta);
        assert_eq!(entries, vec![e1.clone()]);
        let e2 = Entry { seq: 2, ..e1 };
        log.append(&e2).unwrap();
        let mut entries = Vec::new();
        Log::load(dirs[0].clone(), |e| entries.push(e)).unwrap();
        assert_eq!(entries.len(), 2);
        // A replay of older entries reads just the range asked for.
        let only_2 = read_range(&log.events_path(), 1, 2).unwrap();
        assert_eq!(only_2, vec![e2]);
    }
}
