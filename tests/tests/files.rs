//! Files on real agents: listing, reads, writes with conflicts, the path guard, the trash,
//! and 100 MB transfers both ways through `vibemesh cp`.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use tempfile::TempDir;
use vibemesh_core::{
    ErrorCode,
    client::{ClientError, ControlClient},
    frame::{FrameReader, FrameWriter},
    proto::{
        StreamOpen,
        files::{FileKind, FileRequest, FileResponse, TransferFrame, UploadRequest},
    },
};
use vibemesh_tests::{
    InProcPeer, TestAgent,
    files::{leftovers, same_content, write_random},
    pair,
};

/// A shared folder (canonical, so paths compare) and an agent that serves only it.
fn agent_with_root(name: &str, env: &[(&str, &str)]) -> (TempDir, PathBuf, TestAgent) {
    let tmp = tempfile::Builder::new().prefix("vmf-").tempdir().unwrap();
    let base = tmp.path().canonicalize().unwrap();
    let root = base.join("root");
    std::fs::create_dir_all(&root).unwrap();
    let extra = format!("roots = [{:?}]", root.to_str().unwrap());
    let agent = TestAgent::start_env(name, &extra, env);
    (tmp, root, agent)
}

/// An in-process client paired with `agent` as `role` (keep the first half alive).
async fn client(agent: &TestAgent, role: &str) -> (vibemesh_tests::Paired, ControlClient) {
    let p = vibemesh_tests::paired(agent, role).await;
    let control = p.control.clone();
    (p, control)
}

fn code(r: Result<FileResponse, ClientError>) -> ErrorCode {
    match r {
        Err(e) => e.wire().map(|w| w.code).unwrap_or(ErrorCode::Unknown(0)),
        Ok(a) => panic!("expected a refusal, got {a:?}"),
    }
}

fn p(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_ranges_binary_and_large_files() {
    let (_tmp, root, agent) = agent_with_root("srv", &[]);
    std::fs::create_dir(root.join("zdir")).unwrap();
    std::fs::write(root.join("b.txt"), b"hello, world\n").unwrap();
    let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    std::fs::write(root.join("a.bin"), &binary).unwrap();
    write_random(&root.join("large"), 3 << 20, 7);

    // The CLI: folders first, sizes, names; JSON is the agent's answer.
    let out = agent.ok(&["ls-files", "local", &p(&root)]);
    let names: Vec<&str> = out.lines().map(|l| l.rsplit(' ').next().unwrap()).collect();
    assert_eq!(names, ["zdir/", "a.bin", "b.txt", "large"], "{out}");
    assert!(out.contains("4.0K") && out.contains("3.0M"), "{out}");
    let json = agent.json(&["ls-files", "local", &p(&root)]);
    let entries = json["entries"].as_array().unwrap();
    assert_eq!(entries[0]["kind"], "dir");
    assert_eq!(entries[2]["size"], 13);

    let (_peer, c) = client(&agent, "viewer").await;
    let roots = c.files(FileRequest::Roots).await.unwrap();
    assert_eq!(roots, FileResponse::Roots(vec![p(&root)]));
    let read = |path: PathBuf, offset, len| {
        c.files(FileRequest::Read {
            path: p(&path),
            offset,
            len,
        })
    };
    let FileResponse::Data {
        data, eof, meta, ..
    } = read(root.join("b.txt"), 7, Some(5)).await.unwrap()
    else {
        panic!()
    };
    assert_eq!((&data[..], eof), (&b"world"[..], false));
    assert!(meta.version.is_none(), "a part has no version");
    let FileResponse::Data { data, eof, .. } = read(root.join("b.txt"), 7, None).await.unwrap()
    else {
        panic!()
    };
    assert_eq!((&data[..], eof), (&b"world\n"[..], true));
    let FileResponse::Data {
        data, eof, meta, ..
    } = read(root.join("a.bin"), 0, None).await.unwrap()
    else {
        panic!()
    };
    assert_eq!((&data[..], eof), (&binary[..], true));
    assert_eq!(meta.version.unwrap().size, 4096);

    // Too large for one read: refused with a pointer to a download; a range is fine.
    let err = read(root.join("large"), 0, None).await.unwrap_err();
    let w = err.wire().unwrap();
    assert_eq!(w.code, ErrorCode::TooLarge);
    assert!(w.message.contains("vibemesh cp"), "{}", w.message);
    let FileResponse::Data { data, eof, .. } =
        read(root.join("large"), 1 << 20, Some(1000)).await.unwrap()
    else {
        panic!()
    };
    assert_eq!((data.len(), eof), (1000, false));
    assert_eq!(
        code(read(root.join("zdir"), 0, None).await),
        ErrorCode::BadRequest
    );

    // `cat` streams any size, byte for byte.
    let out = agent.cli(&["cat", "local", &p(&root.join("large"))]);
    assert!(out.status.success());
    assert_eq!(out.stdout, std::fs::read(root.join("large")).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escapes_are_refused() {
    let (tmp, root, agent) = agent_with_root("srv", &[]);
    let outside = tmp.path().canonicalize().unwrap().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret"), b"secret").unwrap();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret"), root.join("link")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("sub/dirlink")).unwrap();
    std::os::unix::fs::symlink(root.join("sub"), root.join("inside")).unwrap();

    let (_peer, c) = client(&agent, "owner").await;
    let attempts = [
        format!("{}/..", p(&root)),
        format!("{}/../outside/secret", p(&root)),
        format!("{}/sub/../../outside/secret", p(&root)),
        format!("{}/missing/../../outside/secret", p(&root)),
        p(&outside.join("secret")),
        "/etc/passwd".to_string(),
        p(&root.join("link")),
        p(&root.join("sub/dirlink/secret")),
        p(&root.join("sub/dirlink/new-file")),
    ];
    for path in &attempts {
        let stat = c.files(FileRequest::Stat { path: path.clone() }).await;
        assert_eq!(code(stat), ErrorCode::OutsideRoots, "stat {path}");
        let read = FileRequest::Read {
            path: path.clone(),
            offset: 0,
            len: None,
        };
        assert_eq!(code(c.files(read).await), ErrorCode::OutsideRoots, "{path}");
        let write = FileRequest::Write {
            path: path.clone(),
            data: Bytes::from_static(b"x"),
            expected: None,
        };
        assert_eq!(
            code(c.files(write).await),
            ErrorCode::OutsideRoots,
            "{path}"
        );
    }
    let list = c.files(FileRequest::List {
        path: p(&root.join("sub/dirlink")),
    });
    assert_eq!(code(list.await), ErrorCode::OutsideRoots);
    let rename = c.files(FileRequest::Rename {
        from: p(&root.join("sub")),
        to: p(&outside.join("stolen")),
    });
    assert_eq!(code(rename.await), ErrorCode::OutsideRoots);
    let relative = c.files(FileRequest::Stat { path: "sub".into() });
    assert_eq!(code(relative.await), ErrorCode::BadRequest);
    assert_eq!(std::fs::read(outside.join("secret")).unwrap(), b"secret");
    assert!(!outside.join("new-file").exists());

    // A link that stays inside is followed.
    let inside = c.files(FileRequest::Stat {
        path: p(&root.join("inside")),
    });
    let FileResponse::Meta(m) = inside.await.unwrap() else {
        panic!()
    };
    assert_eq!((m.kind, m.path), (FileKind::Dir, p(&root.join("sub"))));

    // The CLI shows the reason.
    let err = agent.fails(&["cat", "local", &p(&root.join("link"))]);
    assert!(err.contains("outside the folders"), "{err}");
    let err = agent.fails(&["cp", "local:/etc/passwd", &p(&tmp.path().join("x"))]);
    assert!(err.contains("outside the folders"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_conflict_viewers_refused_and_delete_to_trash() {
    let data_home = tempfile::Builder::new().prefix("vmx-").tempdir().unwrap();
    let xdg = p(data_home.path());
    let (_tmp, root, agent) = agent_with_root("srv", &[("XDG_DATA_HOME", &xdg)]);
    let (_p1, one) = client(&agent, "owner").await;
    let (_p2, two) = client(&agent, "owner").await;
    let (_p3, viewer) = client(&agent, "viewer").await;
    let file = p(&root.join("notes.txt"));
    let write = |data: &'static [u8], expected| FileRequest::Write {
        path: file.clone(),
        data: Bytes::from_static(data),
        expected,
    };

    let FileResponse::Done(created) = one.files(write(b"v1", None)).await.unwrap() else {
        panic!()
    };
    assert_eq!(
        code(two.files(write(b"again", None)).await),
        ErrorCode::Conflict
    );
    let read = FileRequest::Read {
        path: file.clone(),
        offset: 0,
        len: None,
    };
    let FileResponse::Data { meta, .. } = two.files(read).await.unwrap() else {
        panic!()
    };
    let v1 = meta.version.unwrap();
    assert_eq!(Some(v1.hash), created.version.map(|v| v.hash));
    // Both read v1; the first save wins, the second is told, nothing is lost.
    one.files(write(b"v2 from one", Some(v1))).await.unwrap();
    let err = two
        .files(write(b"v2 from two", Some(v1)))
        .await
        .unwrap_err();
    let w = err.wire().unwrap();
    assert_eq!(w.code, ErrorCode::Conflict);
    assert!(
        w.message.contains("changed since you read it"),
        "{}",
        w.message
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"v2 from one");
    assert!(leftovers(&root).is_empty());

    // Permissions survive a save.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let FileResponse::Meta(m) = one.stat(&file).await.map(FileResponse::Meta).unwrap() else {
        panic!()
    };
    one.files(write(b"v3", m.version)).await.unwrap();
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o640);

    // A viewer reads but never writes.
    let err = viewer.files(write(b"viewer", m.version)).await.unwrap_err();
    assert_eq!(err.wire().unwrap().code, ErrorCode::Forbidden);
    assert!(err.to_string().contains("viewer may not"), "{err}");
    let mkdir = FileRequest::Mkdir {
        path: p(&root.join("d")),
    };
    assert_eq!(
        code(viewer.files(mkdir.clone()).await),
        ErrorCode::Forbidden
    );
    let del = FileRequest::Delete { path: file.clone() };
    assert_eq!(code(viewer.files(del.clone()).await), ErrorCode::Forbidden);
    assert_eq!(std::fs::read(&file).unwrap(), b"v3");

    // Mkdir, rename (never over an existing target), delete to the trash.
    one.files(mkdir).await.unwrap();
    let rename = |to: &Path| FileRequest::Rename {
        from: file.clone(),
        to: p(to),
    };
    std::fs::write(root.join("taken"), b"keep").unwrap();
    assert_eq!(
        code(one.files(rename(&root.join("taken"))).await),
        ErrorCode::Conflict
    );
    one.files(rename(&root.join("d/notes.txt"))).await.unwrap();
    let moved = p(&root.join("d/notes.txt"));
    let answer = one
        .files(FileRequest::Delete {
            path: moved.clone(),
        })
        .await;
    assert_eq!(answer.unwrap(), FileResponse::Deleted { trashed: true });
    assert!(!Path::new(&moved).exists());
    let trash = data_home.path().join("Trash");
    assert_eq!(std::fs::read(trash.join("files/notes.txt")).unwrap(), b"v3");
    let info = std::fs::read_to_string(trash.join("info/notes.txt.trashinfo")).unwrap();
    assert!(info.starts_with("[Trash Info]\n"), "{info}");
    assert!(info.contains(&format!("Path={moved}\n")), "{info}");
    assert!(info.contains("DeletionDate="), "{info}");
    // A second file of the same name gets its own place.
    std::fs::write(root.join("d/notes.txt"), b"second").unwrap();
    one.files(FileRequest::Delete { path: moved })
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(trash.join("files/notes.txt.2")).unwrap(),
        b"second"
    );
    let root_del = one.files(FileRequest::Delete { path: p(&root) }).await;
    assert_eq!(code(root_del), ErrorCode::Forbidden);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_upload_leaves_nothing_behind() {
    let (_tmp, root, agent) = agent_with_root("srv", &[]);
    let peer = InProcPeer::bind().await;
    peer.pair(&agent, "owner").await.unwrap();
    let conn = peer.connect(&agent).await.unwrap();
    let target = p(&root.join("upload.bin"));
    for reset in [true, false] {
        let (mut send, recv) = conn.connection().open_bi().await.unwrap();
        let mut w = FrameWriter::new(&mut send);
        let open = StreamOpen::Upload(UploadRequest {
            path: target.clone(),
            size: 10 << 20,
            expected: None,
        });
        w.send(&open).await.unwrap();
        for _ in 0..8 {
            let data = Bytes::from(vec![7u8; 256 * 1024]);
            w.send(&TransferFrame::Data(data)).await.unwrap();
        }
        if reset {
            send.reset(0u32.into()).unwrap();
        } else {
            send.finish().unwrap();
        }
        // The agent answers only once the temp file is gone.
        let mut r = FrameReader::new(recv);
        let answer = r.recv::<TransferFrame>().await.unwrap();
        assert!(
            matches!(answer, Some(TransferFrame::Failed(_))),
            "{answer:?}"
        );
        assert!(!root.join("upload.bin").exists());
        assert!(leftovers(&root).is_empty(), "{:?}", leftovers(&root));
    }
}

#[test]
fn cp_moves_100_mb_intact_both_ways() {
    let (tmp, root, server) = agent_with_root("srv", &[]);
    let here = TestAgent::start("here");
    pair(&here, &server, "srv", "owner");
    let local = tmp.path().join("local");
    std::fs::create_dir(&local).unwrap();
    let big = local.join("big.bin");
    write_random(&big, 100 << 20, 0x9e37_79b9_7f4a_7c15);

    // Up, into a folder, under its own name.
    here.ok(&["cp", &p(&big), &format!("srv:{}", p(&root))]);
    assert!(same_content(&big, &root.join("big.bin")));
    // Down, to a new name.
    let back = local.join("back.bin");
    here.ok(&[
        "cp",
        &format!("srv:{}", p(&root.join("big.bin"))),
        &p(&back),
    ]);
    assert!(same_content(&big, &back));
    assert!(leftovers(&root).is_empty() && leftovers(&local).is_empty());
    // Over an existing remote file (its version is checked), and refusals.
    std::fs::write(local.join("small"), b"small").unwrap();
    let dest = format!("srv:{}", p(&root.join("big.bin")));
    here.ok(&["cp", &p(&local.join("small")), &dest]);
    assert_eq!(std::fs::read(root.join("big.bin")).unwrap(), b"small");
    let err = here.fails(&["cp", &p(&big), &p(&back)]);
    assert!(err.contains("neither side is remote"), "{err}");

    // A viewer may download but not upload.
    let viewer = TestAgent::start("viewer");
    pair(&viewer, &server, "srv", "viewer");
    viewer.ok(&["cp", &dest, &p(&local.join("v"))]);
    let err = viewer.fails(&["cp", &p(&big), &format!("srv:{}", p(&root.join("v.bin")))]);
    assert!(err.contains("viewer may not"), "{err}");
    assert!(!root.join("v.bin").exists() && leftovers(&root).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_changes_the_roots_of_the_running_agent() {
    let (tmp, root, agent) = agent_with_root("reload", &[]);
    let other = tmp.path().canonicalize().unwrap().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("note.txt"), "hi").unwrap();
    let (_keep, c) = client(&agent, "owner").await;
    let list = |dir: &Path| FileRequest::List { path: p(dir) };
    assert_eq!(code(c.files(list(&other)).await), ErrorCode::OutsideRoots);

    // A config that does not parse changes nothing, and says so.
    let config = agent.path().join("config.toml");
    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, "roots = 7\n").unwrap();
    let err = agent.fails(&["reload"]);
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(c.files(list(&root)).await.is_ok());

    // Share the other folder instead: it applies at once, to the open connection too.
    std::fs::write(&config, good.replace(&p(&root), &p(&other))).unwrap();
    let out = agent.ok(&["reload"]);
    assert!(
        out.contains(&format!("allowed roots: {}", p(&other))),
        "{out}"
    );
    match c.files(list(&other)).await.unwrap() {
        FileResponse::Listing { entries, .. } => {
            assert!(entries.iter().any(|f| f.name == "note.txt"), "{entries:?}");
        }
        other => panic!("expected a listing, got {other:?}"),
    }
    assert_eq!(code(c.files(list(&root)).await), ErrorCode::OutsideRoots);
}
