//! Disk trouble under the recordings: a full or read-only folder stops the recording,
//! never the session, and the user is told (the listing marks the recording incomplete).
//! Needs to mount a small tmpfs (root); skips with a message where that is not allowed.

use std::{path::PathBuf, process::Command};

use vibemesh_tests::{TestAgent, vibemesh_bin};

/// A tmpfs of `size` mounted on a fresh folder, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Self { dir })
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    fn remount_read_only(&self) {
        let st = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(self.dir.path())
            .status()
            .expect("mount");
        assert!(st.success(), "remount read-only");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[test]
fn a_full_or_read_only_recordings_folder_stops_the_recording_not_the_session() {
    let Some(fs) = Tmpfs::mount("256k") else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root); disk-full case not tested");
        return;
    };
    let agent = TestAgent::start_with(
        "box",
        &format!("recordings_dir = \"{}\"", fs.path().display()),
    );
    let dir = tempfile::tempdir().unwrap();
    // 1 MiB of text through a 256 KiB folder: the recording runs out of room.
    let id = agent.open_detached("local", dir.path(), &["bash", "--norc", "--noprofile"]);
    let mut t = vibemesh_tests::Term::spawn(
        &vibemesh_bin(),
        &["attach", "local", &id],
        &[("VIBEMESH_HOME", agent.path())],
        24,
        80,
    );
    t.line("head -c 800000 /dev/zero | tr '\\0' y | fold -w 79; echo FLOOD-$((1+1))");
    t.wait_text("FLOOD-2");
    // The user is told, in the listing and its JSON.
    let list = agent.json(&["ls", "local"]);
    let err = list[0]["recording_error"].as_str().unwrap_or_default();
    assert!(!err.is_empty(), "recording marked incomplete: {list}");
    let table = agent.ok(&["ls", "local"]);
    assert!(table.contains("recording incomplete"), "{table}");
    // The session runs on, typing and all.
    t.line("echo still-$((40+2))");
    t.wait_text("still-42");
    assert_eq!(list[0]["status"], "running");

    // Read-only from the start: the session starts anyway, unrecorded, and says so.
    fs.remount_read_only();
    let id2 = agent.open_detached("local", dir.path(), &["sh", "-c", "echo ro-fine; exec cat"]);
    let t2 = vibemesh_tests::Term::spawn(
        &vibemesh_bin(),
        &["attach", "local", &id2],
        &[("VIBEMESH_HOME", agent.path())],
        24,
        80,
    );
    t2.wait_text("ro-fine");
    let list = agent.json(&["ls", "local"]);
    let s2 = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id2.as_str())
        .expect("listed");
    assert!(
        s2["recording_error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{s2}"
    );
    agent.ok(&["kill", "local", &id]);
    agent.ok(&["kill", "local", &id2]);
}
