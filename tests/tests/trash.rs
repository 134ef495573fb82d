//! Deleting on another filesystem than the home trash: the file goes to that filesystem's
//! own `.Trash-$uid`, not into oblivion. Needs a tmpfs mount; skipped (with a message)
//! where the test may not mount.

use std::process::Command;

use vibemesh_core::proto::files::{FileRequest, FileResponse};
use vibemesh_tests::{InProcPeer, TestAgent};

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount() -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=8m", "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Self(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_on_another_filesystem_uses_that_filesystems_trash() {
    let Some(fs) = Tmpfs::mount() else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)");
        return;
    };
    let root = fs.0.path().canonicalize().unwrap().join("work");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("draft.txt"), "keep me").unwrap();
    let data_home = tempfile::tempdir().unwrap();
    let agent = TestAgent::start_env(
        "server",
        &format!("roots = [{:?}]", root),
        &[("XDG_DATA_HOME", data_home.path().to_str().unwrap())],
    );
    let peer = InProcPeer::bind().await;
    peer.pair(&agent, "owner").await.unwrap();
    let conn = peer.connect(&agent).await.unwrap();
    let (control, _events, driver) = conn.control().await.unwrap();
    tokio::spawn(driver.run());

    let answer = control
        .files(FileRequest::Delete {
            path: root.join("draft.txt").display().to_string(),
        })
        .await
        .unwrap();
    assert_eq!(answer, FileResponse::Deleted { trashed: true });
    assert!(!root.join("draft.txt").exists());
    let uid = nix::unistd::getuid();
    let trash = fs.0.path().join(format!(".Trash-{uid}"));
    assert_eq!(
        std::fs::read(trash.join("files/draft.txt")).unwrap(),
        b"keep me"
    );
    assert!(trash.join("info/draft.txt.trashinfo").exists());
    drop(agent);
    peer.ep.close().await;
}
