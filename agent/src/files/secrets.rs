//! What is never served, whatever the roots say.
//!
//! Two kinds: the agent's own state (its secret key, `peers.json`, `config.toml`, the
//! sockets of its sessions, recordings and conversation logs), which would let a client
//! become this machine or read what was typed; and the user's secrets under the home
//! folder (SSH and GPG keys, cloud and package-registry credentials, browser profiles,
//! shell history), which no remote client needs and every attacker wants. Owners have a
//! shell for the rare time they do. `private` in `config.toml` adds more.
//!
//! Paths are compared after resolving symlinks on both sides (a secret that is itself a
//! link, a client path through a link), and a file with more than one hard link is
//! compared by identity with the secret files, so neither a symlink nor a hard link to a
//! secret inside a root opens it.

use std::{
    collections::HashSet,
    io,
    path::{Path, PathBuf},
};

use vibemesh_core::{ErrorCode, WireError};

/// Files and folders under the user's home that hold credentials, keys or history.
pub const USER_SECRETS: &[&str] = &[
    // Keys and keyrings.
    ".ssh",
    ".gnupg",
    ".pki",
    ".password-store",
    ".local/share/keyrings",
    "Library/Keychains",
    // Cloud, cluster and container credentials.
    ".aws",
    ".azure",
    ".config/gcloud",
    ".kube",
    ".docker/config.json",
    ".oci",
    ".vault-token",
    ".terraform.d/credentials.tfrc.json",
    // Tokens of tools and package registries.
    ".netrc",
    ".git-credentials",
    ".config/git/credentials",
    ".config/gh/hosts.yml",
    ".config/hub",
    ".npmrc",
    ".pypirc",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".gem/credentials",
    ".config/op",
    // The AI CLIs' logins.
    ".claude/.credentials.json",
    ".claude.json",
    ".codex/auth.json",
    // Browser profiles (cookies are logins).
    ".mozilla",
    ".config/google-chrome",
    ".config/chromium",
    ".config/BraveSoftware",
    ".config/microsoft-edge",
    "Library/Cookies",
    "Library/Application Support/Google/Chrome",
    "Library/Application Support/Firefox",
    // Shell and REPL history (passwords typed by mistake, tokens on command lines).
    ".bash_history",
    ".zsh_history",
    ".zhistory",
    ".histfile",
    ".sh_history",
    ".local/share/fish/fish_history",
    ".python_history",
    ".node_repl_history",
    ".psql_history",
    ".mysql_history",
    ".sqlite_history",
    ".rediscli_history",
    ".irb_history",
    ".lesshst",
];

/// Most entries looked at when checking a hard-linked file against the secret folders.
const IDENTITY_BUDGET: usize = 100_000;

/// Why a path is never served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The agent's own key, peers, config, sockets, recordings or conversations.
    AgentState,
    /// A credential, key or history file of the user (built in, or `private`).
    UserSecret,
}

/// The paths no client may reach.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    entries: Vec<(PathBuf, Kind)>,
}

impl Secrets {
    /// The agent's own state (absolute paths), the built-in user secrets under `home`,
    /// and `extra` (absolute, from `private` in the config).
    pub fn new(agent_state: Vec<PathBuf>, home: Option<&Path>, extra: Vec<PathBuf>) -> Self {
        let mut entries: Vec<(PathBuf, Kind)> = agent_state
            .into_iter()
            .map(|p| (p, Kind::AgentState))
            .collect();
        if let Some(home) = home {
            entries.extend(
                USER_SECRETS
                    .iter()
                    .map(|s| (home.join(s), Kind::UserSecret)),
            );
        }
        entries.extend(extra.into_iter().map(|p| (p, Kind::UserSecret)));
        entries.retain(|(p, _)| p.is_absolute());
        Self { entries }
    }

    /// The secrets as written and as they resolve now (one may have become a link
    /// since it was configured): resolve once per request, then check many paths.
    pub fn resolve(&self) -> Resolved {
        let mut forms = Vec::with_capacity(self.entries.len() * 2);
        for (p, k) in &self.entries {
            forms.push((p.clone(), *k));
            if let Some(real) = lenient_canonical(p).filter(|r| r != p) {
                forms.push((real, *k));
            }
        }
        Resolved(forms)
    }

    /// Refuses `real` (a resolved path) when it is a secret or inside one.
    pub fn check(&self, real: &Path, shown: &str) -> Result<(), WireError> {
        self.resolve().check(real, shown)
    }

    /// Refuses a regular file with several hard links when one of them is a secret file.
    /// `stat` is the opened file's.
    pub fn check_identity(&self, stat: &rustix::fs::Stat, shown: &str) -> Result<(), WireError> {
        let (me, links) = super::identity_of(stat);
        if links <= 1 {
            return Ok(());
        }
        let mut seen = HashSet::new();
        let mut budget = IDENTITY_BUDGET;
        for (p, _) in &self.entries {
            if collect_ids(p, &mut seen, &mut budget, 0).is_err() {
                return Err(WireError::new(
                    ErrorCode::Forbidden,
                    format!(
                        "{shown} has other hard links, and VibeMesh could not rule out that \
                         one of them is a secret file; it is not shared"
                    ),
                ));
            }
        }
        if seen.contains(&me) {
            return Err(WireError::new(
                ErrorCode::Forbidden,
                format!("{shown} is a hard link to a file that is never shared (see SECURITY.md)"),
            ));
        }
        Ok(())
    }
}

/// [`Secrets`] resolved at one moment.
#[derive(Debug, Clone)]
pub struct Resolved(Vec<(PathBuf, Kind)>);

impl Resolved {
    /// Refuses `real` (a resolved path) when it is a secret or inside one.
    pub fn check(&self, real: &Path, shown: &str) -> Result<(), WireError> {
        match self.0.iter().find(|(s, _)| real.starts_with(s)) {
            Some((_, kind)) => Err(refusal(shown, *kind)),
            None => Ok(()),
        }
    }

    /// Whether `real` (a resolved path) is a secret or inside one.
    pub fn covers(&self, real: &Path) -> bool {
        self.0.iter().any(|(s, _)| real.starts_with(s))
    }

    /// Refuses moving or deleting `real` when a secret lies inside it.
    pub fn check_holds_none(&self, real: &Path, shown: &str) -> Result<(), WireError> {
        match self.0.iter().find(|(s, _)| s.starts_with(real)) {
            Some((s, _)) => Err(WireError::new(
                ErrorCode::Forbidden,
                format!(
                    "{shown} holds {}, which VibeMesh never touches; move or delete it in a shell",
                    s.display()
                ),
            )),
            None => Ok(()),
        }
    }
}

fn refusal(shown: &str, kind: Kind) -> WireError {
    let what = match kind {
        Kind::AgentState => "this agent's own key and state",
        Kind::UserSecret => "keys, credentials or history",
    };
    WireError::new(
        ErrorCode::Forbidden,
        format!("{shown} is never shared: it is among {what} (see SECURITY.md)"),
    )
}

/// The identities of every file at or below `p` (links not followed); an error when
/// the budget runs out.
fn collect_ids(
    p: &Path,
    seen: &mut HashSet<(u64, u64)>,
    budget: &mut usize,
    depth: usize,
) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Ok(m) = std::fs::symlink_metadata(p) else {
        return Ok(());
    };
    *budget = budget
        .checked_sub(1)
        .ok_or_else(|| io::Error::other("too many files"))?;
    if m.is_file() {
        seen.insert((m.dev(), m.ino()));
    } else if m.is_dir() && depth < 32 {
        let Ok(rd) = std::fs::read_dir(p) else {
            return Ok(());
        };
        for e in rd.flatten() {
            collect_ids(&e.path(), seen, budget, depth + 1)?;
        }
    }
    Ok(())
}

/// `p` with symlinks resolved as far as it exists (the rest appended as written);
/// `None` when nothing of it resolves.
fn lenient_canonical(p: &Path) -> Option<PathBuf> {
    let mut missing = Vec::new();
    let mut cur = p;
    loop {
        if let Ok(real) = std::fs::canonicalize(cur) {
            let mut out = real;
            out.extend(missing.iter().rev());
            return Some(out);
        }
        missing.push(cur.file_name()?);
        cur = cur.parent()?;
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn secrets_match_through_links_and_below() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().canonicalize().unwrap();
        std::fs::create_dir_all(home.join("keys-elsewhere")).unwrap();
        std::fs::write(home.join("keys-elsewhere/id"), b"k").unwrap();
        // ~/.ssh is a link to where the keys really are.
        symlink(home.join("keys-elsewhere"), home.join(".ssh")).unwrap();
        let state = home.join("state");
        let s = Secrets::new(vec![state.clone()], Some(&home), vec![home.join("mine")]);
        let shown = "x";
        assert!(s.check(&home.join("keys-elsewhere/id"), shown).is_err());
        assert!(s.check(&home.join(".ssh/id"), shown).is_err());
        assert!(s.check(&state.join("key"), shown).is_err());
        assert!(s.check(&home.join("mine/a/b"), shown).is_err());
        assert!(s.check(&home.join(".bash_history"), shown).is_err());
        assert!(s.check(&home.join("src/project"), shown).is_ok());
        assert!(s.check(&home.join(".sshd_config"), shown).is_ok());
        let r = s.resolve();
        assert!(r.check_holds_none(&home, shown).is_err());
        assert!(r.check_holds_none(&home.join("src"), shown).is_ok());
        assert!(r.covers(&home.join(".ssh")));
        assert!(!r.covers(&home.join("src")));
        let e = s.check(&state.join("key"), "the key").unwrap_err();
        assert_eq!(e.code, ErrorCode::Forbidden);
        assert!(
            e.message.contains("the key is never shared"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_hard_link_to_a_secret_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().canonicalize().unwrap();
        let state = home.join("state");
        std::fs::create_dir(&state).unwrap();
        std::fs::write(state.join("key"), b"secret").unwrap();
        std::fs::hard_link(state.join("key"), home.join("innocent")).unwrap();
        std::fs::write(home.join("plain"), b"p").unwrap();
        std::fs::write(home.join("linked-a"), b"p").unwrap();
        std::fs::hard_link(home.join("linked-a"), home.join("linked-b")).unwrap();
        let s = Secrets::new(vec![state], Some(&home), vec![]);
        let st = |p: &str| rustix::fs::stat(home.join(p)).unwrap();
        assert!(s.check_identity(&st("innocent"), "innocent").is_err());
        assert!(s.check_identity(&st("plain"), "plain").is_ok());
        assert!(s.check_identity(&st("linked-b"), "linked-b").is_ok());
    }
}
