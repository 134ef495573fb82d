//! The app's own preferences (font size, theme, recent folders), kept in `desktop.json`
//! next to the agent's config, and edits to the agent's `config.toml` (relay, roots)
//! that keep every other key as it was.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use egui::Key;
use serde::{Deserialize, Serialize};
use vibemesh_core::predict::Mode;

use crate::term::{Chord, KeyBindings};

/// The colour theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Theme {
    /// Dark window and terminal.
    #[default]
    Dark,
    /// Light window and terminal.
    Light,
}

/// When keys typed into a terminal are drawn before the session echoes them
/// (predictive local echo), saved as "auto", "always" or "never" as the CLI's
/// `--predict` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Predict {
    /// On other machines' sessions, when the round trip is long enough to notice.
    #[default]
    Auto,
    /// On every session, this machine's too.
    Always,
    /// Never.
    Never,
}

impl Predict {
    /// The engine's mode for a session on another machine (`remote`) or this one. This
    /// machine's sessions echo within a millisecond, so auto leaves them alone rather
    /// than time their echo to find that out.
    pub fn mode_for(self, remote: bool) -> Mode {
        match self {
            Predict::Auto if remote => Mode::Auto,
            Predict::Auto | Predict::Never => Mode::Never,
            Predict::Always => Mode::Always,
        }
    }
}

/// The app's preferences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    /// Terminal font size in points.
    pub font_size: f32,
    /// Colour theme.
    pub theme: Theme,
    /// Predictive local echo in terminals.
    pub predict: Predict,
    /// Folders sessions were started in on this machine, newest first.
    pub recent_folders: Vec<String>,
    /// The same for each peer, by its endpoint id: a folder of one machine means
    /// nothing on another.
    pub peer_folders: BTreeMap<String, Vec<String>>,
    /// Key bindings.
    pub keys: Keys,
    /// The tabs open when the window last changed them, reopened at start.
    pub open_tabs: Vec<SavedTab>,
}

/// An open tab, as saved: its machine and session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedTab {
    /// The machine: `None` for this one, a peer by its endpoint id.
    pub machine: Option<String>,
    /// The session's id on it.
    pub session: u32,
}

/// The window's key bindings, each a list of chords such as "Ctrl+Shift+C" (see
/// [`Chord`]); what no binding takes goes to the program in the terminal. Saved in
/// `desktop.json` under `"keys"`; a missing entry keeps its default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Keys {
    /// The terminal's own: copy, paste, scroll_up, scroll_down.
    #[serde(flatten)]
    pub terminal: KeyBindings,
    /// Show the next tab (default Ctrl+Tab, Ctrl+PageDown).
    pub next_tab: Vec<Chord>,
    /// Show the previous tab (default Ctrl+Shift+Tab, Ctrl+PageUp).
    pub prev_tab: Vec<Chord>,
    /// Open the command palette (default Ctrl+Shift+P, Cmd+Shift+P on macOS).
    pub palette: Vec<Chord>,
}

impl Default for Keys {
    fn default() -> Self {
        Self {
            terminal: KeyBindings::default(),
            next_tab: vec![
                Chord::key(Key::Tab).ctrl(),
                Chord::key(Key::PageDown).ctrl(),
            ],
            prev_tab: vec![
                Chord::key(Key::Tab).ctrl().shift(),
                Chord::key(Key::PageUp).ctrl(),
            ],
            palette: vec![if cfg!(target_os = "macos") {
                Chord::key(Key::P).cmd().shift()
            } else {
                Chord::key(Key::P).ctrl().shift()
            }],
        }
    }
}

impl Default for Prefs {
    fn default() -> Self {
        Self {
            font_size: 14.0,
            theme: Theme::Dark,
            predict: Predict::Auto,
            recent_folders: Vec::new(),
            peer_folders: BTreeMap::new(),
            keys: Keys::default(),
            open_tabs: Vec::new(),
        }
    }
}

/// Smallest and largest font sizes offered.
pub const FONT_SIZES: std::ops::RangeInclusive<f32> = 8.0..=32.0;

impl Prefs {
    /// Where the preferences live for an agent config at `config`.
    pub fn path_for(config: &Path) -> PathBuf {
        config
            .parent()
            .unwrap_or(Path::new("."))
            .join("desktop.json")
    }

    /// Loads them; a missing or unreadable file gives the defaults (they are only looks).
    pub fn load(path: &Path) -> Self {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Saves them atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        vibemesh_core::identity::write_private(path, &json)
    }

    /// The folders sessions were started in on `machine` (`None`: this one), newest
    /// first.
    pub fn recent(&self, machine: Option<&str>) -> &[String] {
        match machine {
            None => &self.recent_folders,
            Some(id) => self.peer_folders.get(id).map_or(&[], Vec::as_slice),
        }
    }

    /// Remembers a folder of `machine` (`None`: this one) at the top of its list.
    pub fn remember_folder(&mut self, machine: Option<&str>, folder: &str) {
        if folder.is_empty() {
            return;
        }
        let list = match machine {
            None => &mut self.recent_folders,
            Some(id) => self.peer_folders.entry(id.to_string()).or_default(),
        };
        list.retain(|f| f != folder);
        list.insert(0, folder.to_string());
        list.truncate(10);
    }
}

/// Why the agent's config could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigEditError {
    /// Reading or writing the file failed.
    #[error("cannot write {0}: {1}")]
    Io(String, std::io::Error),
    /// The file is not valid TOML (it is left alone).
    #[error("{0} is not valid TOML, so it was left alone: {1}")]
    Parse(String, String),
}

/// Sets `relay` and `roots` in the agent's `config.toml`, keeping everything else. The
/// agent reads them when it starts.
pub fn edit_agent_config(
    path: &Path,
    relay: &str,
    roots: &[String],
) -> Result<(), ConfigEditError> {
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(ConfigEditError::Io(shown, e)),
    };
    let mut table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigEditError::Parse(shown.clone(), e.to_string()))?;
    let relay = match vibemesh_core::client::RelaySetting::from_text(relay) {
        vibemesh_core::client::RelaySetting::One(one) => toml::Value::String(one),
        vibemesh_core::client::RelaySetting::List(urls) => {
            toml::Value::Array(urls.into_iter().map(toml::Value::String).collect())
        }
    };
    table.insert("relay".into(), relay);
    let roots: Vec<toml::Value> = roots
        .iter()
        .filter(|r| !r.trim().is_empty())
        .map(|r| toml::Value::String(r.trim().into()))
        .collect();
    table.insert("roots".into(), toml::Value::Array(roots));
    let out = toml::to_string(&table)
        .map_err(|e| ConfigEditError::Parse(shown.clone(), e.to_string()))?;
    vibemesh_core::identity::write_private(path, out.as_bytes())
        .map_err(|e| ConfigEditError::Io(shown, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_edits_keep_other_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "name = \"box\"\nrelay = \"none\"\n").unwrap();
        edit_agent_config(&path, "default", &["/srv".into(), " ".into()]).unwrap();
        let t: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
        assert_eq!(t["name"].as_str(), Some("box"));
        assert_eq!(t["relay"].as_str(), Some("default"));
        assert_eq!(t["roots"].as_array().unwrap().len(), 1);
        std::fs::write(&path, "not toml [").unwrap();
        assert!(edit_agent_config(&path, "none", &[]).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not toml [");
    }

    #[test]
    fn predictive_echo_is_auto_on_other_machines_and_saved_as_the_cli_spells_it() {
        assert_eq!(Predict::Auto.mode_for(true), Mode::Auto);
        assert_eq!(Predict::Auto.mode_for(false), Mode::Never);
        assert_eq!(Predict::Always.mode_for(false), Mode::Always);
        assert_eq!(Predict::Never.mode_for(true), Mode::Never);
        // Files from before the setting existed get the default.
        let p: Prefs = serde_json::from_str(r#"{"font_size": 12.0}"#).unwrap();
        assert_eq!(p.predict, Predict::Auto);
        let p = Prefs {
            predict: Predict::Always,
            ..Prefs::default()
        };
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.contains(r#""predict":"always""#), "{json}");
    }

    #[test]
    fn prefs_round_trip_and_recent_folders() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("desktop.json");
        let mut p = Prefs::load(&path);
        assert_eq!(p, Prefs::default());
        p.remember_folder(None, "/a");
        p.remember_folder(None, "/b");
        p.remember_folder(None, "/a");
        p.remember_folder(Some("peer"), "/srv");
        p.save(&path).unwrap();
        let p = Prefs::load(&path);
        assert_eq!(p.recent(None), ["/a", "/b"]);
        assert_eq!(p.recent(Some("peer")), ["/srv"]);
        assert!(p.recent(Some("other")).is_empty());
    }
}
