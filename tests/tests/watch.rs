//! Live change events: a client watching a folder hears about file and git changes as
//! they happen (an AI agent editing files, say), without asking.

use std::process::Command;

use vibemesh_core::proto::control::{Event, RequestBody, ResponseBody};
use vibemesh_tests::{InProcPeer, TestAgent};

fn git(dir: &std::path::Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(["-c", "user.name=T", "-c", "user.email=t@example.invalid"])
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git runs")
        .success();
    assert!(ok, "git {args:?} failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_folder_pushes_file_and_git_changes() {
    let root = tempfile::tempdir().unwrap();
    let repo = root.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    let server = TestAgent::start_with("server", &format!("roots = [{:?}]", root.path()));
    let peer = InProcPeer::bind().await;
    peer.pair(&server, "viewer").await.expect("pair");
    let conn = peer.connect(&server).await.expect("connect");
    let (control, mut events, driver) = conn.control().await.expect("control");
    tokio::spawn(driver.run());

    let watching = control
        .request(RequestBody::Watch {
            path: repo.display().to_string(),
        })
        .await
        .expect("watch");
    let ResponseBody::Watching(id) = watching else {
        panic!("{watching:?}")
    };

    let mut next = async || {
        tokio::time::timeout(vibemesh_tests::TIMEOUT, events.recv())
            .await
            .expect("an event in time")
            .expect("stream open")
    };

    // A file appears: the event names it.
    let file = repo.join("notes.md");
    std::fs::write(&file, "hello\n").unwrap();
    let want = file.canonicalize().unwrap().display().to_string();
    loop {
        if let Event::FilesChanged { watch, paths } = next().await
            && watch == id
            && paths.iter().any(|p| *p == want || p.ends_with("notes.md"))
        {
            break;
        }
    }
    // Staging it changes the repository's state: pushed too.
    git(&repo, &["add", "notes.md"]);
    loop {
        if let Event::GitChanged { watch, root } = next().await
            && watch == id
        {
            assert!(root.ends_with("repo"), "{root}");
            break;
        }
    }

    // After unwatching, nothing more comes for this watch.
    let r = control
        .request(RequestBody::Unwatch(id))
        .await
        .expect("unwatch");
    assert_eq!(r, ResponseBody::Unwatched);
    let err = control.request(RequestBody::Unwatch(id)).await.unwrap_err();
    assert!(err.to_string().contains("no watch"), "{err}");

    // Paths outside the roots cannot be watched.
    let err = control
        .request(RequestBody::Watch {
            path: "/etc".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.wire().map(|w| w.code),
        Some(vibemesh_core::ErrorCode::OutsideRoots),
        "{err}"
    );
    peer.ep.close().await;
}

#[test]
fn git_refuses_a_repository_that_reaches_outside_the_roots() {
    // A dotfiles-style repository at the top, and only a subfolder shared.
    let top = tempfile::tempdir().unwrap();
    git(top.path(), &["init", "-q"]);
    std::fs::write(top.path().join("secret.txt"), "not shared\n").unwrap();
    let shared = top.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let server = TestAgent::start_with("server", &format!("roots = [{shared:?}]"));
    let err = server.fails(&["git", "local", shared.to_str().unwrap(), "status"]);
    assert!(
        err.contains("outside the folders this agent shares"),
        "{err}"
    );
    assert!(!err.contains("secret.txt"), "{err}");
}
