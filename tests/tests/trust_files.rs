//! The trust boundary of files, attacked: a viewer (and an owner) asking for the agent's
//! own key and state, the user's secrets, through `..`, symlinks and hard links; a
//! folder swapped for a symlink while reads, writes and renames race it; a viewer
//! opening watch after watch. Each attack worked against the agent before the fix.

use std::{
    os::unix::fs::{PermissionsExt, symlink},
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use tempfile::TempDir;
use vibemesh_core::{
    ErrorCode,
    client::{ClientError, ControlClient},
    proto::{
        control::{RequestBody, ResponseBody},
        files::{FileRequest, FileResponse},
    },
};
use vibemesh_tests::{InProcPeer, TestAgent, pair};

/// An in-process client paired with `agent` as `role` (keep the first half alive).
async fn client(agent: &TestAgent, role: &str) -> (vibemesh_tests::Paired, ControlClient) {
    let p = vibemesh_tests::paired(agent, role).await;
    let control = p.control.clone();
    (p, control)
}

fn p(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

fn refusal(r: Result<FileResponse, ClientError>) -> (ErrorCode, String) {
    match r {
        Err(e) => {
            let w = e.wire().expect("a typed refusal");
            (w.code, w.message.clone())
        }
        Ok(a) => panic!("expected a refusal, got {a:?}"),
    }
}

/// An agent whose roots hold its own home (as the default, the user's home, does), with
/// a fake user home inside the root holding SSH keys and shell history.
struct Exposed {
    agent: TestAgent,
    base: PathBuf,
    user_home: PathBuf,
    _base: TempDir,
}

fn exposed() -> Exposed {
    let base_dir = tempfile::Builder::new().prefix("vmt-").tempdir().unwrap();
    let base = base_dir.path().canonicalize().unwrap();
    let user_home = base.join("home");
    std::fs::create_dir_all(user_home.join(".ssh")).unwrap();
    std::fs::write(user_home.join(".ssh/id_ed25519"), "PRIVATE KEY\n").unwrap();
    std::fs::write(user_home.join(".bash_history"), "export TOKEN=s3cret\n").unwrap();
    std::fs::write(user_home.join("notes.txt"), "shared\n").unwrap();
    // The agent's home is a temporary folder under /tmp; the root is its parent, so the
    // agent's key, peers and config are inside the root, as in a default install.
    let probe = tempfile::tempdir().unwrap();
    let tmp_root = probe.path().parent().unwrap().canonicalize().unwrap();
    let extra = format!(
        "roots = [{:?}, {:?}]\nrecord = true",
        tmp_root.to_str().unwrap(),
        base.to_str().unwrap()
    );
    let agent = TestAgent::start_env("box", &extra, &[("HOME", user_home.to_str().unwrap())]);
    Exposed {
        agent,
        base,
        user_home,
        _base: base_dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_cannot_read_the_agents_key_state_or_the_users_secrets() {
    let e = exposed();
    let home = e.agent.path().canonicalize().unwrap();
    // A session so there is a recording to try to steal.
    let id = e
        .agent
        .open_detached("local", &e.base, &["sh", "-c", "echo typed; sleep 30"]);
    let recordings = home.join("recordings");
    let recording = std::fs::read_dir(&recordings)
        .unwrap()
        .flatten()
        .next()
        .expect("a recording")
        .path();

    // Links and hard links to the key placed inside the other root.
    symlink(home.join("key"), e.base.join("key-link")).unwrap();
    symlink(&home, e.base.join("home-link")).unwrap();
    let hard = std::fs::hard_link(home.join("key"), e.base.join("key-hard")).is_ok();

    let (_peer, viewer) = client(&e.agent, "viewer").await;
    let mut stolen = vec![
        home.join("key"),
        home.join("peers.json"),
        home.join("config.toml"),
        recording.clone(),
        e.base.join("key-link"),
        e.base.join("home-link/key"),
        e.base.join("home/../home-link/peers.json"),
        e.user_home.join(".ssh/id_ed25519"),
        e.user_home.join(".bash_history"),
    ];
    if hard {
        stolen.push(e.base.join("key-hard"));
    }
    for path in &stolen {
        let (code, msg) = refusal(
            viewer
                .files(FileRequest::Read {
                    path: p(path),
                    offset: 0,
                    len: None,
                })
                .await,
        );
        assert_eq!(code, ErrorCode::Forbidden, "{}: {msg}", path.display());
        assert!(msg.contains("never shared"), "{}: {msg}", path.display());
        let (code, _) = refusal(viewer.files(FileRequest::Stat { path: p(path) }).await);
        assert_eq!(code, ErrorCode::Forbidden, "stat {}", path.display());
    }
    // Listing the agent's home is refused, and listing the user's home hides the secrets.
    let (code, _) = refusal(viewer.files(FileRequest::List { path: p(&home) }).await);
    assert_eq!(code, ErrorCode::Forbidden);
    let FileResponse::Listing { entries, .. } = viewer
        .files(FileRequest::List {
            path: p(&e.user_home),
        })
        .await
        .unwrap()
    else {
        panic!()
    };
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["notes.txt"], "secrets are not even listed");

    // The CLI, as in the attack: `cat` and `cp` from a second machine paired as viewer.
    let thief = TestAgent::start("thief");
    pair(&thief, &e.agent, "box", "viewer");
    let err = thief.fails(&["cat", "box", &p(&home.join("key"))]);
    assert!(err.contains("never shared"), "{err}");
    let out = thief.path().join("k");
    let err = thief.fails(&[
        "cp",
        &format!("box:{}", p(&e.base.join("key-link"))),
        &p(&out),
    ]);
    assert!(err.contains("never shared"), "{err}");
    assert!(!out.exists());
    let err = thief.fails(&["cp", &format!("box:{}", p(&recording)), &p(&out)]);
    assert!(err.contains("never shared"), "{err}");
    // Not an owner either: the rule is the same for everyone.
    let err = e
        .agent
        .fails(&["cat", "local", &p(&home.join("peers.json"))]);
    assert!(err.contains("never shared"), "{err}");
    // What is shared still reads.
    let ok = thief.ok(&["cat", "box", &p(&e.user_home.join("notes.txt"))]);
    assert_eq!(ok, "shared\n");
    e.agent.ok(&["kill", "local", &id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_cannot_write_move_or_delete_secrets() {
    let e = exposed();
    let home = e.agent.path().canonicalize().unwrap();
    let (_peer, owner) = client(&e.agent, "owner").await;
    let before = std::fs::read(home.join("key")).unwrap();
    let write = |path: PathBuf| {
        owner.files(FileRequest::Write {
            path: p(&path),
            data: bytes::Bytes::from_static(b"ssh-ed25519 AAAA attacker\n"),
            expected: None,
        })
    };
    let (code, _) = refusal(write(e.user_home.join(".ssh/authorized_keys")).await);
    assert_eq!(code, ErrorCode::Forbidden);
    let (code, _) = refusal(write(home.join("peers2.json")).await);
    assert_eq!(code, ErrorCode::Forbidden);
    let (code, _) = refusal(
        owner
            .files(FileRequest::Delete {
                path: p(&home.join("key")),
            })
            .await,
    );
    assert_eq!(code, ErrorCode::Forbidden);
    // Moving a folder that holds secrets would move them too.
    let (code, msg) = refusal(
        owner
            .files(FileRequest::Rename {
                from: p(&e.user_home),
                to: p(&e.base.join("moved")),
            })
            .await,
    );
    assert_eq!(code, ErrorCode::Forbidden, "{msg}");
    assert_eq!(std::fs::read(home.join("key")).unwrap(), before);
    assert!(e.user_home.join(".ssh/id_ed25519").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_folders_and_files_are_private() {
    let e = exposed();
    let home = e.agent.path();
    let _paired = client(&e.agent, "viewer").await;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(home), 0o700);
    assert_eq!(mode(&home.join("key")), 0o600);
    assert_eq!(mode(&home.join("peers.json")), 0o600);
    assert_eq!(mode(&home.join("recordings")), 0o700);
    assert_eq!(mode(&home.join("conversations")), 0o700);
}

/// Swaps the folder `a` and the symlink `b` with one `renameat2(RENAME_EXCHANGE)` after
/// another until `stop`.
fn swap_forever(a: PathBuf, b: PathBuf, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            rustix::fs::renameat_with(
                rustix::fs::CWD,
                &a,
                rustix::fs::CWD,
                &b,
                rustix::fs::RenameFlags::EXCHANGE,
            )
            .expect("exchange");
            n += 1;
        }
        n
    })
}

/// A root holding `race/` (a real folder) and `swap` (a link to a folder outside), and
/// the outside folder; the agent shares only the root.
fn race_setup() -> (TempDir, PathBuf, PathBuf, TestAgent) {
    let tmp = tempfile::Builder::new().prefix("vmr-").tempdir().unwrap();
    let base = tmp.path().canonicalize().unwrap();
    let (root, outside) = (base.join("share"), base.join("outside"));
    std::fs::create_dir_all(root.join("race")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(root.join("race/passwd"), "inside\n").unwrap();
    std::fs::write(outside.join("passwd"), "OUTSIDE\n").unwrap();
    symlink(&outside, root.join("swap")).unwrap();
    let agent = TestAgent::start_with("box", &format!("roots = [{:?}]", p(&root)));
    (tmp, root, outside, agent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_swapped_for_a_link_never_leads_reads_out_of_the_root() {
    let (_tmp, root, _outside, agent) = race_setup();
    let (_peer, viewer) = client(&agent, "viewer").await;
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = swap_forever(root.join("race"), root.join("swap"), stop.clone());
    let target = p(&root.join("race/passwd"));
    let (mut inside, mut refused) = (0u32, 0u32);
    const READS: u32 = 20_000;
    // Sixteen at a time, as a client may.
    let mut pending = tokio::task::JoinSet::new();
    let mut sent = 0;
    while sent < READS || !pending.is_empty() {
        while sent < READS && pending.len() < 16 {
            let (c, t) = (viewer.clone(), target.clone());
            pending.spawn(async move {
                c.files(FileRequest::Read {
                    path: t,
                    offset: 0,
                    len: None,
                })
                .await
            });
            sent += 1;
        }
        match pending.join_next().await.unwrap().unwrap() {
            Ok(FileResponse::Data { data, .. }) => {
                assert_eq!(&data[..], b"inside\n", "a read left the root");
                inside += 1;
            }
            Ok(other) => panic!("{other:?}"),
            Err(e) => {
                let code = e.wire().map(|w| w.code);
                assert!(
                    matches!(
                        code,
                        Some(ErrorCode::OutsideRoots | ErrorCode::Conflict | ErrorCode::NotFound)
                    ),
                    "{e}"
                );
                refused += 1;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    println!("{READS} reads racing {swaps} swaps: {inside} inside, {refused} refused, 0 outside");
    assert!(swaps > 1000, "the race ran ({swaps} swaps)");
    assert!(inside > 0 && refused > 0, "both outcomes were seen");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_swapped_for_a_link_never_leads_writes_or_renames_out_of_the_root() {
    let (_tmp, root, outside, agent) = race_setup();
    let (_peer, owner) = client(&agent, "owner").await;
    std::fs::write(root.join("race/a"), "moving\n").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = swap_forever(root.join("race"), root.join("swap"), stop.clone());
    let (mut written, mut renamed) = (0u32, 0u32);
    for i in 0..10_000u32 {
        let w = owner
            .files(FileRequest::Write {
                path: p(&root.join(format!("race/new-{i}"))),
                data: bytes::Bytes::from_static(b"written\n"),
                expected: None,
            })
            .await;
        written += u32::from(w.is_ok());
        let (from, to) = if i % 2 == 0 { ("a", "b") } else { ("b", "a") };
        let r = owner
            .files(FileRequest::Rename {
                from: p(&root.join("race").join(from)),
                to: p(&root.join("race").join(to)),
            })
            .await;
        renamed += u32::from(r.is_ok());
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    // Whichever name the swap left the real folder under, it holds every write, and the
    // outside folder holds exactly what it held before.
    let mut outside_now: Vec<String> = std::fs::read_dir(&outside)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    outside_now.sort();
    println!("10000 writes ({written} done) and renames ({renamed} done) racing {swaps} swaps");
    assert_eq!(
        outside_now,
        ["passwd"],
        "nothing was written or moved outside"
    );
    assert_eq!(
        std::fs::read_to_string(outside.join("passwd")).unwrap(),
        "OUTSIDE\n"
    );
    assert!(swaps > 1000 && written > 0 && renamed > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_cannot_hold_unbounded_watches() {
    let tmp = tempfile::Builder::new().prefix("vmw-").tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let agent = TestAgent::start_with("box", &format!("roots = [{:?}]", p(&root)));
    let peer = InProcPeer::bind().await;
    peer.pair(&agent, "viewer").await.unwrap();
    let conn = peer.connect(&agent).await.unwrap();
    // Stream after stream, each with as many watches as it may hold.
    let mut held = Vec::new();
    let mut refused = None;
    let mut streams = Vec::new();
    'outer: for _ in 0..8 {
        let (control, events, driver) = conn.control().await.unwrap();
        tokio::spawn(driver.run());
        for _ in 0..16 {
            match control.request(RequestBody::Watch { path: p(&root) }).await {
                Ok(ResponseBody::Watching(id)) => held.push((control.clone(), id)),
                Ok(other) => panic!("{other:?}"),
                Err(e) => {
                    refused = Some((
                        control.clone(),
                        e.wire().map(|w| (w.code, w.message.clone())),
                    ));
                    break 'outer;
                }
            }
        }
        streams.push((control, events));
    }
    let (last, refusal) = refused.expect("a limit was met");
    let (code, msg) = refusal.expect("a typed refusal");
    assert_eq!(code, ErrorCode::Limit, "{msg}");
    assert_eq!(
        held.len(),
        16,
        "one device holds at most 16 watches on an agent"
    );
    // Another device is not affected.
    let (_other, c2) = client(&agent, "viewer").await;
    let r = c2.request(RequestBody::Watch { path: p(&root) }).await;
    assert!(matches!(r, Ok(ResponseBody::Watching(_))), "{r:?}");
    // Stopping one gives its place back, to any of the device's streams.
    let (control, id) = held.pop().unwrap();
    control.request(RequestBody::Unwatch(id)).await.unwrap();
    let r = last.request(RequestBody::Watch { path: p(&root) }).await;
    assert!(matches!(r, Ok(ResponseBody::Watching(_))), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_cannot_hold_unbounded_connections() {
    let agent = TestAgent::start("box");
    let peer = InProcPeer::bind().await;
    peer.pair(&agent, "viewer").await.unwrap();
    let mut held = Vec::new();
    let refused = loop {
        let conn = peer.connect(&agent).await.expect("connect");
        // The agent refuses an extra connection once it has looked at it: ask something.
        match conn.control().await {
            Ok((control, events, driver)) => {
                tokio::spawn(driver.run());
                match control.request(RequestBody::ListSessions).await {
                    Ok(_) => held.push((conn, control, events)),
                    Err(e) => break conn.closed_or(e),
                }
            }
            Err(e) => break conn.closed_or(e),
        }
        assert!(held.len() <= 16, "more than 16 connections were served");
    };
    assert_eq!(held.len(), 16);
    assert!(
        refused.to_string().contains("too many connections"),
        "{refused}"
    );
    // Another device still gets in.
    let (_other, c2) = client(&agent, "viewer").await;
    c2.request(RequestBody::ListSessions).await.unwrap();
}
