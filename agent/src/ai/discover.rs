//! Which AI providers this machine can run: their programs (configured, or on `PATH`)
//! and whether a key or login was found, with the reason when not.

use std::path::{Path, PathBuf};

use vibemesh_core::proto::{
    Provider,
    control::{ProviderStatus, Unavailable},
};

/// Where each provider's program is, as configured.
#[derive(Debug, Clone, Default)]
pub struct ProviderConfig {
    /// `claude`, when configured.
    pub claude: Option<PathBuf>,
    /// `codex`, when configured.
    pub codex: Option<PathBuf>,
}

impl ProviderConfig {
    /// The program for `provider`: configured, else found on `PATH`.
    pub fn program(&self, provider: Provider) -> Option<PathBuf> {
        let (configured, name) = match provider {
            Provider::Claude => (&self.claude, "claude"),
            Provider::Codex => (&self.codex, "codex"),
            Provider::Shell => return None,
        };
        match configured {
            Some(p) => p.is_file().then(|| p.clone()),
            None => on_path(name),
        }
    }

    /// Each AI provider's status.
    pub fn statuses(&self) -> Vec<ProviderStatus> {
        [Provider::Claude, Provider::Codex]
            .into_iter()
            .map(|p| self.status(p))
            .collect()
    }

    /// One provider's status.
    pub fn status(&self, provider: Provider) -> ProviderStatus {
        let program = self.program(provider);
        let unavailable = match &program {
            None => Some(Unavailable::NotInstalled),
            Some(_) if !logged_in(provider) => Some(Unavailable::NotLoggedIn),
            Some(_) => None,
        };
        ProviderStatus {
            provider,
            program: program.map(|p| p.display().to_string()),
            unavailable,
        }
    }
}

/// The first executable `name` on `PATH`.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn env_set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty())
}

fn home() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf())
}

/// Whether a key or a login for `provider` is visible to this agent. A best guess: a
/// login kept in a system keychain is not seen, so this only informs, never refuses.
fn logged_in(provider: Provider) -> bool {
    match provider {
        Provider::Claude => {
            env_set("ANTHROPIC_API_KEY")
                || env_set("ANTHROPIC_AUTH_TOKEN")
                || env_set("CLAUDE_CODE_OAUTH_TOKEN")
                || home().is_some_and(|h| h.join(".claude/.credentials.json").is_file())
        }
        Provider::Codex => {
            let codex_home = std::env::var_os("CODEX_HOME")
                .map(PathBuf::from)
                .or_else(|| home().map(|h| h.join(".codex")));
            env_set("OPENAI_API_KEY")
                || env_set("CODEX_API_KEY")
                || codex_home.is_some_and(|c| {
                    c.join("auth.json").is_file()
                        // A provider of one's own (a local model server) needs no login.
                        || std::fs::read_to_string(c.join("config.toml"))
                            .is_ok_and(|t| t.contains("model_provider"))
                })
        }
        Provider::Shell => true,
    }
}
