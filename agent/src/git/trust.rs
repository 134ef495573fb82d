//! Refusing a repository whose own config names a program git would run while looking.
//!
//! Most such settings have one key and are overridden on the command line (see
//! [`super::run::git`]). Two kinds cannot be: a clean/smudge filter or a filter process
//! (`filter.<name>.clean|smudge|process`, selected per file by `.gitattributes`, which is
//! repository content), which `git status` and `git diff` run on files whose stat changed;
//! and a hook defined in config (`hook.<name>.command`, git 2.54 and later), which
//! `core.hooksPath` does not switch off. Both have a name only the repository knows, so a
//! repository whose own config (local or work-tree scope, and any file those include) sets
//! one is refused. The user's own config (system, global, the agent's environment) is the
//! user's choice and stays allowed: git-lfs installs its filter globally. The same value
//! repeated locally (`git lfs install --local`) is allowed too: it runs nothing the user
//! did not already choose.

use std::{
    collections::{HashMap, HashSet},
    path::Path,
};

use vibemesh_core::{ErrorCode, WireError};

use super::run::text;

/// The arguments that list every setting with where it came from: `scope NUL key LF
/// value NUL` per setting, in the order git reads them (the last one wins).
pub(super) const CONFIG_ARGS: &[&str] = &["config", "--list", "--show-scope", "--includes", "-z"];

/// Scopes the user controls; anything else (local, worktree, unknown) is the repository's.
const USER_SCOPES: &[&str] = &["system", "global", "command"];

/// Whether `key` (as git prints it: section and name lower case) names a program git runs
/// while looking at files.
fn runs_a_program(key: &str) -> bool {
    let in_section = |section: &str, names: &[&str]| {
        key.strip_prefix(section).is_some_and(|rest| {
            names
                .iter()
                .any(|n| rest.strip_suffix(n).is_some_and(|s| s.ends_with('.')))
        })
    };
    in_section("filter.", &["clean", "smudge", "process"]) || in_section("hook.", &["command"])
}

/// Refuses the repository at `top` when its own config, read from `git config --list`
/// output `out`, makes git run a program the user has not chosen.
pub(super) fn check(out: &[u8], top: &Path) -> Result<(), WireError> {
    // Each program key's last value and whether the repository set it; and every value
    // the user's own config gives each key.
    let mut last: HashMap<String, (bool, String)> = HashMap::new();
    let mut chosen: HashSet<(String, String)> = HashSet::new();
    let mut fields = out.split(|&b| b == 0);
    while let (Some(scope), Some(entry)) = (fields.next(), fields.next()) {
        let entry = text(entry);
        let (key, value) = entry.split_once('\n').unwrap_or((&entry, ""));
        if !runs_a_program(key) {
            continue;
        }
        let users = USER_SCOPES.contains(&text(scope).as_str());
        if users {
            chosen.insert((key.to_string(), value.to_string()));
        }
        last.insert(key.to_string(), (!users, value.to_string()));
    }
    let mut refused: Vec<&String> = last
        .iter()
        .filter(|(key, (repos, value))| {
            // An empty value runs nothing (it is how a filter is switched off).
            *repos && !value.is_empty() && !chosen.contains(&((*key).clone(), value.clone()))
        })
        .map(|(key, _)| key)
        .collect();
    refused.sort();
    let Some(key) = refused.first() else {
        return Ok(());
    };
    Err(WireError::new(
        ErrorCode::Forbidden,
        format!(
            "the git repository at {} sets {key} in its own config (.git/config or a file \
             it includes): a program git would run to read its files. VibeMesh never runs \
             programs a repository chooses; if you trust it, set the same in your \
             ~/.gitconfig (git config --global {key} ...)",
            top.display()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (scope, entry) in entries {
            out.extend_from_slice(scope.as_bytes());
            out.push(0);
            out.extend_from_slice(entry.as_bytes());
            out.push(0);
        }
        out
    }

    #[test]
    fn only_programs_the_repository_chose_are_refused() {
        let top = Path::new("/r");
        let ok = |e: &[(&str, &str)]| check(&list(e), top).is_ok();
        assert!(ok(&[
            ("local", "core.fsmonitor\n/evil"),
            ("local", "diff.x.textconv\nx")
        ]));
        assert!(ok(&[(
            "global",
            "filter.lfs.process\ngit-lfs filter-process"
        )]));
        // `git lfs install --local` repeats the global value.
        assert!(ok(&[
            ("global", "filter.lfs.clean\ngit-lfs clean -- %f"),
            ("local", "filter.lfs.clean\ngit-lfs clean -- %f"),
        ]));
        // Emptied (switched off), or overridden later by the user.
        assert!(ok(&[("local", "filter.x.clean\n")]));
        assert!(ok(&[("local", "filter.x.clean")]));
        assert!(ok(&[
            ("local", "filter.x.clean\nevil"),
            ("command", "filter.x.clean\n"),
        ]));
        assert!(ok(&[("local", "filter.x.cleanup\nevil")]));
        assert!(ok(&[("local", "filterx.clean\nevil")]));

        for (entries, key) in [
            (&[("local", "filter.x.clean\nevil")][..], "filter.x.clean"),
            (
                &[("worktree", "filter.A.b.smudge\nevil")],
                "filter.A.b.smudge",
            ),
            (&[("local", "filter..process\nevil")], "filter..process"),
            (&[("local", "hook.spy.command\nevil")], "hook.spy.command"),
            (
                &[
                    ("global", "filter.lfs.clean\ngit-lfs clean -- %f"),
                    ("local", "filter.lfs.clean\nevil"),
                ],
                "filter.lfs.clean",
            ),
        ] {
            let err = check(&list(entries), top).unwrap_err();
            assert_eq!(err.code, ErrorCode::Forbidden);
            assert!(err.message.contains(key), "{err}");
            assert!(err.message.contains("/r"), "{err}");
        }
    }
}
