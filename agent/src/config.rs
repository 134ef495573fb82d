//! Where VibeMesh keeps its files, and the agent's settings (`config.toml`).
//!
//! Folders follow the platform (XDG on Linux, Application Support on macOS). Setting
//! `VIBEMESH_HOME` puts everything (config, key, state, recordings and the socket) in one
//! folder, so tests and several agents can share a machine.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
pub use vibemesh_core::client::RelaySetting;

/// The largest `recording_max_mb`: 1 TiB.
const MAX_RECORDING_MB: u64 = 1 << 20;
/// The most `recording_parts`.
const MAX_RECORDING_PARTS: u32 = 1000;

/// The environment variable that puts all files under one folder.
pub const HOME_ENV: &str = "VIBEMESH_HOME";

/// Every path VibeMesh uses.
#[derive(Debug, Clone)]
pub struct Home {
    /// `config.toml`.
    pub config: PathBuf,
    /// The secret key (mode 0600).
    pub key: PathBuf,
    /// Allow-list and known peers (`peers.json`).
    pub peers: PathBuf,
    /// asciinema recordings.
    pub recordings: PathBuf,
    /// Structured AI sessions' conversations (one folder each).
    pub conversations: PathBuf,
    /// The local control socket.
    pub socket: PathBuf,
}

/// Why the folders could not be determined.
#[derive(Debug, thiserror::Error)]
#[error("cannot find a home folder; set {HOME_ENV} to choose where VibeMesh keeps its files")]
pub struct NoHome;

impl Home {
    /// Paths from `VIBEMESH_HOME`, or the platform's folders.
    pub fn discover() -> Result<Self, NoHome> {
        match std::env::var_os(HOME_ENV) {
            Some(dir) if !dir.is_empty() => Ok(Self::under(Path::new(&dir))),
            _ => {
                let dirs = directories::ProjectDirs::from("", "", "vibemesh").ok_or(NoHome)?;
                let data = dirs.data_dir();
                let runtime = dirs.runtime_dir().unwrap_or(data);
                Ok(Self {
                    config: dirs.config_dir().join("config.toml"),
                    key: data.join("key"),
                    peers: data.join("peers.json"),
                    recordings: data.join("recordings"),
                    conversations: data.join("conversations"),
                    socket: runtime.join("agent.sock"),
                })
            }
        }
    }

    /// Where session holders put their sockets, next to the agent's own socket: a
    /// restarted agent adopts the sessions it finds there.
    pub(crate) fn holders(&self) -> PathBuf {
        self.socket
            .parent()
            .map_or_else(|| PathBuf::from("holders"), |d| d.join("holders"))
    }

    /// Creates the folders that hold state for the owner only (0700), and tightens
    /// them where an older version left them open to others. The files in them are
    /// written 0600.
    pub(crate) fn secure(&self) -> std::io::Result<()> {
        let folders = [&self.key, &self.peers, &self.config, &self.socket]
            .into_iter()
            .filter_map(|p| p.parent())
            .chain([self.recordings.as_path(), self.conversations.as_path()]);
        for dir in folders {
            vibemesh_core::identity::make_private_dir(dir)?;
        }
        Ok(())
    }

    /// Everything under one folder.
    pub fn under(dir: &Path) -> Self {
        Self {
            config: dir.join("config.toml"),
            key: dir.join("key"),
            peers: dir.join("peers.json"),
            recordings: dir.join("recordings"),
            conversations: dir.join("conversations"),
            socket: dir.join("agent.sock"),
        }
    }
}

/// The agent's settings. Every key is optional; see the README for each one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The name peers see; the host name when unset.
    pub name: Option<String>,
    /// `"default"` (n0's public relays and address lookup), `"none"` (direct addresses
    /// only), the URL of a relay of your own, or a list of them (the agent moves to
    /// another when its relay fails).
    pub relay: RelaySetting,
    /// Addresses to listen on; all interfaces on a random port when empty.
    pub listen: Vec<SocketAddr>,
    /// Find paired peers on the same link by multicast DNS (announces this agent's id and
    /// addresses there, never its name).
    pub lan_discovery: bool,
    /// Lines of scrollback kept per session.
    pub scrollback: usize,
    /// Minutes a pairing ticket stays valid.
    pub ticket_ttl_minutes: u64,
    /// Record every session as an asciinema file.
    pub record: bool,
    /// Also record what is typed (off: passwords would land on disk).
    pub record_input: bool,
    /// Where recordings go; `recordings/` in the data folder when unset.
    pub recordings_dir: Option<PathBuf>,
    /// Most MiB one session's recording takes on disk, all its parts together.
    pub recording_max_mb: u64,
    /// How many parts a recording is kept in: when the newest is full, a new one starts
    /// and the oldest after the first is deleted; 1 stops recording at the limit.
    pub recording_parts: u32,
    /// Most sessions at once.
    pub max_sessions: usize,
    /// Folders clients may browse and edit; the user's home when empty.
    pub roots: Vec<PathBuf>,
    /// More files and folders never served to any client (absolute, or under `~/`),
    /// beyond the built-in list of keys, credentials and history (SECURITY.md).
    pub private: Vec<PathBuf>,
    /// The `claude` program; found on `PATH` when unset.
    pub claude: Option<PathBuf>,
    /// The `codex` program; found on `PATH` when unset.
    pub codex: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            name: None,
            relay: RelaySetting::default(),
            listen: Vec::new(),
            lan_discovery: true,
            scrollback: 10_000,
            ticket_ttl_minutes: 10,
            record: true,
            record_input: false,
            recordings_dir: None,
            recording_max_mb: 100,
            recording_parts: 4,
            max_sessions: 1000,
            roots: Vec::new(),
            private: Vec::new(),
            claude: None,
            codex: None,
        }
    }
}

/// Why the config file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// It could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// It is not valid.
    #[error("{path} is not valid: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong, with line and column.
        message: String,
    },
}

impl Config {
    /// Reads `path`; defaults when it does not exist.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: shown,
                    source,
                });
            }
        };
        let cfg: Config = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        cfg.validate().map_err(|message| ConfigError::Invalid {
            path: shown,
            message,
        })?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), String> {
        self.relay.validate()?;
        let max_minutes = crate::net::pairing::MAX_TTL.as_secs() / 60;
        if !(1..=max_minutes).contains(&self.ticket_ttl_minutes) {
            return Err(format!(
                "ticket_ttl_minutes = {}: must be between 1 and {max_minutes} (7 days)",
                self.ticket_ttl_minutes
            ));
        }
        self.validate_recording_limits()?;
        if self.max_sessions == 0 {
            return Err("max_sessions must be at least 1".into());
        }
        if let Some(r) = self.roots.iter().find(|r| !r.is_absolute()) {
            return Err(format!("roots: {} is not an absolute path", r.display()));
        }
        if let Some(p) = self
            .private
            .iter()
            .find(|p| !p.is_absolute() && !p.starts_with("~"))
        {
            return Err(format!(
                "private: {} is neither an absolute path nor under ~/",
                p.display()
            ));
        }
        Ok(())
    }

    fn validate_recording_limits(&self) -> Result<(), String> {
        if !(1..=MAX_RECORDING_MB).contains(&self.recording_max_mb) {
            return Err(format!(
                "recording_max_mb = {}: must be between 1 and {MAX_RECORDING_MB} (1 TiB)",
                self.recording_max_mb
            ));
        }
        if !(1..=MAX_RECORDING_PARTS).contains(&self.recording_parts) {
            return Err(format!(
                "recording_parts = {}: must be between 1 and {MAX_RECORDING_PARTS}",
                self.recording_parts
            ));
        }
        // Parts smaller than a MiB would turn a busy session into a stream of files.
        if u64::from(self.recording_parts) > self.recording_max_mb {
            return Err(format!(
                "recording_parts = {} needs recording_max_mb of at least {} (1 MiB a part), not {}",
                self.recording_parts, self.recording_parts, self.recording_max_mb
            ));
        }
        Ok(())
    }

    /// The recording limits sessions get.
    pub(crate) fn recording_limits(&self) -> vibemesh_core::proto::holder::RecordingLimits {
        vibemesh_core::proto::holder::RecordingLimits {
            max_bytes: self.recording_max_mb.saturating_mul(1 << 20),
            parts: self.recording_parts,
        }
    }

    /// What no client may reach: this agent's own files (`home`, and recordings kept
    /// elsewhere), the built-in secrets under the user's home, and `private`.
    pub(crate) fn secrets(&self, home: &Home) -> crate::files::Secrets {
        let user_home = directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf());
        let mut state: Vec<PathBuf> = [&home.config, &home.key, &home.socket]
            .into_iter()
            .filter_map(|p| p.parent().map(Path::to_path_buf))
            .collect();
        state.extend([
            home.key.clone(),
            home.peers.clone(),
            home.config.clone(),
            home.recordings.clone(),
            home.conversations.clone(),
            home.holders(),
        ]);
        state.extend(self.recordings_dir.clone());
        let extra = self
            .private
            .iter()
            .filter_map(|p| match p.strip_prefix("~") {
                Ok(rest) => user_home.as_ref().map(|h| h.join(rest)),
                Err(_) => Some(p.clone()),
            })
            .collect();
        crate::files::Secrets::new(state, user_home.as_deref(), extra)
    }

    /// The folders clients may use: `roots`, or the user's home.
    pub(crate) fn file_roots(&self) -> Vec<PathBuf> {
        if !self.roots.is_empty() {
            return self.roots.clone();
        }
        directories::BaseDirs::new()
            .map(|d| vec![d.home_dir().to_path_buf()])
            .unwrap_or_else(|| vec![PathBuf::from("/")])
    }

    /// The name peers see.
    pub(crate) fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(host_name)
    }
}

/// This machine's host name, or `vibemesh` when it has none.
fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "vibemesh".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_defaults_and_bad_files_say_where() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert_eq!(Config::load(&path).unwrap(), Config::default());
        std::fs::write(&path, "relay = \"none\"\nlisten = [\"127.0.0.1:4000\"]\n").unwrap();
        let cfg = Config::load(&path).unwrap();
        assert_eq!(cfg.relay, "none".into());
        assert_eq!(cfg.listen, vec!["127.0.0.1:4000".parse().unwrap()]);
        // Several relays of one's own: a list; an empty list or a bad URL in it is refused.
        std::fs::write(
            &path,
            "relay = [\"https://a.example/\", \"https://b.example/\"]\n",
        )
        .unwrap();
        let cfg = Config::load(&path).unwrap();
        assert_eq!(
            cfg.relay.own(),
            ["https://a.example/", "https://b.example/"]
        );
        assert_eq!(
            cfg.relay.to_string(),
            "https://a.example/, https://b.example/"
        );
        assert_eq!(RelaySetting::from_text(&cfg.relay.to_string()), cfg.relay);
        for bad in ["[]", "[\"https://a.example/\", \"pigeon\"]"] {
            std::fs::write(&path, format!("relay = {bad}\n")).unwrap();
            let err = Config::load(&path).unwrap_err().to_string();
            assert!(err.contains("relay"), "{bad}: {err}");
        }
        std::fs::write(&path, "relya = \"none\"\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("relya"), "{err}");
        std::fs::write(&path, "relay = \"carrier pigeon\"\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("carrier pigeon"), "{err}");
        for minutes in ["0", "10081", "18000000000000000000"] {
            std::fs::write(&path, format!("ticket_ttl_minutes = {minutes}\n")).unwrap();
            let err = Config::load(&path).unwrap_err().to_string();
            assert!(err.contains("ticket_ttl_minutes"), "{err}");
        }
        std::fs::write(&path, "ticket_ttl_minutes = 10080\n").unwrap();
        assert_eq!(Config::load(&path).unwrap().ticket_ttl_minutes, 10080);
    }

    #[test]
    fn recording_limits_are_checked_and_the_defaults_match_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert_eq!(
            Config::default().recording_limits(),
            crate::session::recorder::DEFAULT_LIMITS
        );
        for (text, key) in [
            ("recording_max_mb = 0", "recording_max_mb"),
            ("recording_max_mb = 2000000", "recording_max_mb"),
            ("recording_max_mb = -1", "recording_max_mb"),
            ("recording_parts = 0", "recording_parts"),
            ("recording_max_mb = 3\nrecording_parts = 4", "at least 4"),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = Config::load(&path).unwrap_err().to_string();
            assert!(err.contains(key), "{text}: {err}");
        }
        std::fs::write(&path, "recording_max_mb = 2\nrecording_parts = 2").unwrap();
        let limits = Config::load(&path).unwrap().recording_limits();
        assert_eq!((limits.max_bytes, limits.parts), (2 << 20, 2));
    }
}
