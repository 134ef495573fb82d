//! `vibemesh rm`, `mv`, `mkdir` and `edit` against a real agent over a real pairing: what a
//! user types and sees, and that an edit never overwrites a change made meanwhile.

use std::{os::unix::fs::PermissionsExt, path::PathBuf, process::Command};

use tempfile::TempDir;
use vibemesh_tests::{TestAgent, pair, vibemesh_bin};

/// A laptop paired as owner with a server sharing one folder (its trash in a folder of
/// the test's own).
struct Setup {
    _tmp: TempDir,
    root: PathBuf,
    trash: PathBuf,
    laptop: TestAgent,
    _server: TestAgent,
}

fn setup() -> Setup {
    let tmp = tempfile::Builder::new().prefix("vmc-").tempdir().unwrap();
    let base = tmp.path().canonicalize().unwrap();
    let (root, data) = (base.join("root"), base.join("data"));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    let extra = format!("roots = [{:?}]", root.to_str().unwrap());
    let server = TestAgent::start_env("srv", &extra, &[("XDG_DATA_HOME", data.to_str().unwrap())]);
    let laptop = TestAgent::start("laptop");
    pair(&laptop, &server, "box", "owner");
    Setup {
        _tmp: tmp,
        trash: data.join("Trash/files"),
        root,
        laptop,
        _server: server,
    }
}

/// Runs `vibemesh edit box <path>` with `editor` as `$EDITOR`.
fn edit(s: &Setup, path: &str, editor: &str) -> std::process::Output {
    Command::new(vibemesh_bin())
        .args(["edit", "box", path])
        .env("VIBEMESH_HOME", s.laptop.path())
        .env_remove("VISUAL")
        .env("EDITOR", editor)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn mkdir_mv_and_rm_change_the_peer_and_say_what_they_did() {
    let s = setup();
    let dir = s.root.join("a/b");
    let out = s.laptop.ok(&["mkdir", "box", dir.to_str().unwrap()]);
    assert!(dir.is_dir() && out.contains("Created box:"), "{out}");

    let (from, to) = (s.root.join("notes.txt"), dir.join("notes.txt"));
    std::fs::write(&from, "hello").unwrap();
    let out = s
        .laptop
        .ok(&["mv", "box", from.to_str().unwrap(), to.to_str().unwrap()]);
    assert!(out.contains("Moved box:") && !from.exists(), "{out}");
    assert_eq!(std::fs::read_to_string(&to).unwrap(), "hello");

    // mv never replaces.
    std::fs::write(&from, "other").unwrap();
    let err = s
        .laptop
        .fails(&["mv", "box", from.to_str().unwrap(), to.to_str().unwrap()]);
    assert!(err.contains("already exists; mv never replaces"), "{err}");
    assert_eq!(std::fs::read_to_string(&to).unwrap(), "hello");

    let out = s.laptop.ok(&["rm", "box", to.to_str().unwrap()]);
    assert!(out.contains("to the trash"), "{out}");
    assert!(!to.exists());
    assert_eq!(
        std::fs::read_to_string(s.trash.join("notes.txt")).unwrap(),
        "hello"
    );

    // Outside the shared folder: refused, nothing removed.
    let outside = s._tmp.path().join("keep.txt");
    std::fs::write(&outside, "mine").unwrap();
    let err = s.laptop.fails(&["rm", "box", outside.to_str().unwrap()]);
    assert!(outside.exists(), "{err}");
}

#[test]
fn edit_writes_back_only_what_changed_and_never_over_a_change_made_meanwhile() {
    let s = setup();
    let file = s.root.join("config.ini");
    std::fs::write(&file, "colour = red\n").unwrap();
    let path = file.to_str().unwrap();

    // An editor that changes the copy: saved on the peer.
    let out = edit(&s, path, "sed -i s/red/blue/");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Saved box:"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "colour = blue\n");

    // An editor that changes nothing: nothing written.
    let out = edit(&s, path, "true");
    assert!(
        text(&out.stdout).contains("No changes"),
        "{}",
        text(&out.stdout)
    );

    // An editor that fails: nothing written.
    let out = edit(&s, path, "sed -i s/blue/green/ \"$1\"; false");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("nothing was written"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "colour = blue\n");

    // Someone changes the file on the peer while the user edits: the user's edit is
    // refused, not written over theirs, and kept where the error says.
    let script = s._tmp.path().join("editor.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho 'colour = theirs' > {path:?}\necho 'colour = mine' > \"$1\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = edit(&s, path, script.to_str().unwrap());
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("changed there while you edited"), "{err}");
    assert!(
        !err.contains("reconnecting"),
        "a conflict is no lost connection: {err}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "colour = theirs\n");
    let kept = err
        .split("kept in ")
        .nth(1)
        .map(|p| PathBuf::from(p.trim()))
        .unwrap_or_default();
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap_or_default(),
        "colour = mine\n"
    );
    let _ = std::fs::remove_dir_all(kept.parent().unwrap_or(&kept));

    // A new file: created.
    let new = s.root.join("new.txt");
    let out = edit(&s, new.to_str().unwrap(), "sh -c 'echo fresh > \"$0\"'");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&new).unwrap(), "fresh\n");
}

/// A large copy on a terminal shows one progress line (indicatif's, on stderr) that ends
/// at 100% of the file's size, both ways.
#[test]
fn a_large_copy_on_a_terminal_shows_its_progress_to_the_end() {
    let s = setup();
    let big = vec![b'x'; 3 << 20];
    std::fs::write(s.root.join("big.bin"), &big).unwrap();
    let here = tempfile::tempdir().unwrap();
    let local = here.path().join("big.bin");
    let remote = format!("box:{}", s.root.join("big.bin").display());
    for (from, to, name) in [
        (remote.clone(), local.display().to_string(), remote.clone()),
        (
            local.display().to_string(),
            format!("box:{}", s.root.join("back.bin").display()),
            format!("box:{}", s.root.join("back.bin").display()),
        ),
    ] {
        let mut t = s.laptop.term(&["cp", &from, &to], 24, 160);
        assert_eq!(t.wait_exit(), 0, "{}", t.screen());
        let screen = t.screen();
        let line = screen
            .lines()
            .find(|l| l.contains("100%"))
            .unwrap_or_else(|| panic!("no finished progress line:\n{screen}"));
        assert!(line.starts_with(&name), "{line}");
        assert!(line.contains("3.00 MiB/3.00 MiB"), "{line}");
    }
    assert_eq!(std::fs::read(s.root.join("back.bin")).unwrap(), big);
}
