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
        std::fs::create_dir_all(&dir)?;
        let log = Self::open(dir)?;
        log.save_meta(meta)?;
        Ok(log)
    }

    fn open(dir: PathBuf) -> std::io::Result<Self> {
        let events = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("events.jsonl"))?;
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

    /// Loads every session under `root`: its meta, its entries and its log to append to.
    /// Folders that cannot be read are skipped with a warning.
    pub fn load_all(root: &Path) -> Vec<(Meta, Vec<Entry>, Log)> {
        let Ok(dirs) = std::fs::read_dir(root) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for d in dirs.flatten() {
            match Self::load(d.path()) {
                Ok(x) => out.push(x),
                Err(e) => tracing::warn!("skipping conversation {}: {e}", d.path().display()),
            }
        }
        out
    }

    fn load(dir: PathBuf) -> std::io::Result<(Meta, Vec<Entry>, Log)> {
        let meta: Meta = serde_json::from_slice(&std::fs::read(dir.join("meta.json"))?)
            .map_err(std::io::Error::other)?;
        let path = dir.join("events.jsonl");
        let mut entries = Vec::new();
        let mut good_len = 0u64;
        if let Ok(f) = File::open(&path) {
            let mut reader = BufReader::new(f);
            let mut line = String::new();
            loop {
                line.clear();
                let n = reader.read_line(&mut line)?;
                if n == 0 || !line.ends_with('\n') {
                    break;
                }
                match serde_json::from_str::<Entry>(&line) {
                    Ok(e) => entries.push(e),
                    // Written by a newer build, or damaged: keep the rest readable.
                    Err(e) => tracing::warn!("{}: skipping a line: {e}", path.display()),
                }
                good_len += n as u64;
            }
            // Drop a line a crash cut short, so the next append starts a fresh line.
            let f = OpenOptions::new().write(true).open(&path)?;
            if f.metadata()?.len() != good_len {
                f.set_len(good_len)?;
            }
        }
        let log = Self::open(dir)?;
        Ok((meta, entries, log))
    }
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
        let mut all = Log::load_all(root.path());
        assert_eq!(all.len(), 1);
        let (m, entries, mut log) = all.pop().unwrap();
        assert_eq!(m, meta);
        assert_eq!(entries, vec![e1.clone()]);
        let e2 = Entry { seq: 2, ..e1 };
        log.append(&e2).unwrap();
        let (_, entries, _) = Log::load_all(root.path()).pop().unwrap();
        assert_eq!(entries.len(), 2);
    }
}
