//! A `~` the local shell expanded before vibemesh saw it. `vibemesh ls-files box ~/src`
//! sends this machine's `/home/me/src`, which on `box` may be nobody's home; when such a
//! command fails, its error says so and how to quote `~` for the peer's own home.

use std::{ffi::OsStr, os::unix::ffi::OsStrExt, path::Path};

use super::{Command, args::OpenArgs, target};
use vibemesh_core::proto::local::Target;

/// The hint for `command`, if it names a peer and a path that begins with this machine's
/// home folder.
pub fn hint(command: &Command) -> Option<String> {
    let (peer, path): (&str, &OsStr) = match command {
        Command::Open(OpenArgs {
            peer,
            path: Some(path),
            ..
        }) => (peer, path.as_ref()),
        Command::LsFiles { peer, path, .. }
        | Command::Cat { peer, path }
        | Command::Rm { peer, path }
        | Command::Mkdir { peer, path }
        | Command::Edit { peer, path }
        | Command::Mv {
            peer, from: path, ..
        } => (peer, path),
        Command::Git { peer, path, .. } => (peer, path.as_ref()),
        _ => return None,
    };
    let home = std::env::var_os("HOME")?;
    hint_for(peer, path, Path::new(&home))
}

fn hint_for(peer: &str, path: &OsStr, home: &Path) -> Option<String> {
    if matches!(target(peer), Target::Local) || home.as_os_str().len() <= 1 {
        return None;
    }
    let rest = Path::new(path).strip_prefix(home).ok()?;
    let quoted = match rest.as_os_str().is_empty() {
        true => "'~'".to_string(),
        false => format!(
            "'~/{}'",
            String::from_utf8_lossy(rest.as_os_str().as_bytes())
        ),
    };
    Some(format!(
        "your shell turned `~` into {} (this machine's home) before vibemesh saw it; \
         to mean {peer}'s home, quote it: {quoted}",
        home.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_remote_path_under_the_local_home_gets_a_hint() {
        let home = Path::new("/home/me");
        let hint = hint_for("box", OsStr::new("/home/me/src/app"), home).unwrap_or_default();
        assert!(hint.contains("quote it: '~/src/app'"), "{hint}");
        assert!(hint.contains("box's home"), "{hint}");
        let bare = hint_for("box", OsStr::new("/home/me"), home).unwrap_or_default();
        assert!(bare.ends_with("'~'"), "{bare}");
        assert_eq!(hint_for("local", OsStr::new("/home/me/src"), home), None);
        assert_eq!(hint_for("box", OsStr::new("/home/meg/src"), home), None);
        assert_eq!(hint_for("box", OsStr::new("~/src"), home), None);
        assert_eq!(hint_for("box", OsStr::new("/srv/app"), home), None);
        // HOME=/ would otherwise match every absolute path.
        assert_eq!(hint_for("box", OsStr::new("/srv"), Path::new("/")), None);
    }
}
