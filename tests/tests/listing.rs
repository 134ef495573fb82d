//! Folders of any size list completely, a page at a time; a request the agent cannot
//! read (a path that is not UTF-8) is refused alone, the control stream goes on; and a
//! file whose name is not UTF-8 lists and is reached by the name its listing gives.

use std::{
    os::unix::ffi::OsStrExt,
    path::{Path, PathBuf},
};

use tempfile::TempDir;
use vibemesh_core::{
    ErrorCode,
    client::BoxRead,
    frame::{FrameReader, FrameWriter},
    proto::{
        StreamOpen,
        control::{ControlFrame, Request, RequestBody, Response, ResponseBody},
        files::{FileRequest, FileResponse},
    },
};
use vibemesh_tests::{InProcPeer, TestAgent};

/// How many files the big folder holds: ten times what one answer used to carry.
const FILES: usize = 100_000;

/// A shared folder (canonical) and an agent that serves only it.
fn agent_with_root() -> (TempDir, PathBuf, TestAgent) {
    let tmp = tempfile::Builder::new().prefix("vml-").tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let extra = format!("roots = [{:?}]", root.to_str().unwrap());
    let agent = TestAgent::start_with("srv", &extra);
    (tmp, root, agent)
}

/// A folder of [`FILES`] empty files `f000000`... and one folder `sub`.
fn big_folder(root: &Path) -> PathBuf {
    let dir = root.join("big");
    std::fs::create_dir(&dir).unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    for i in 0..FILES {
        std::fs::File::create(dir.join(format!("f{i:06}"))).unwrap();
    }
    dir
}

/// The names the listing must show, in its order: the folder first.
fn expected_names() -> Vec<String> {
    std::iter::once("sub".to_string())
        .chain((0..FILES).map(|i| format!("f{i:06}")))
        .collect()
}

fn p(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

/// The next response on a control stream (events are skipped).
async fn answer(reader: &mut FrameReader<BoxRead>) -> Response {
    loop {
        match reader.recv::<ControlFrame>().await {
            Ok(Some(ControlFrame::Response(r))) => return r,
            Ok(Some(ControlFrame::Event(_))) => continue,
            other => panic!("the stream ended instead of answering: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_of_100000_files_lists_completely() {
    let (_tmp, root, agent) = agent_with_root();
    let dir = big_folder(&root);
    let want = expected_names();

    // The CLI, for people and as JSON.
    let out = agent.ok(&["ls-files", "local", &p(&dir)]);
    let names: Vec<&str> = out
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap().trim_end_matches('/'))
        .collect();
    assert_eq!(
        names.len(),
        want.len(),
        "the CLI listed {} entries",
        names.len()
    );
    assert!(
        names == want,
        "the CLI's listing is not every name in order"
    );
    let json = agent.json(&["ls-files", "local", &p(&dir)]);
    let entries = json["entries"].as_array().unwrap();
    assert_eq!(entries.len(), want.len());
    assert_eq!(entries[0]["kind"], "dir");

    // The core client: every page fits a frame, and together they are the folder.
    let peer = InProcPeer::bind().await;
    peer.pair(&agent, "viewer").await.unwrap();
    let conn = peer.connect(&agent).await.unwrap();
    let (c, _events, driver) = conn.control().await.unwrap();
    tokio::spawn(driver.run());
    let (resolved, all) = c.list_dir(&p(&dir)).await.unwrap();
    assert_eq!(resolved, p(&dir));
    let names: Vec<String> = all.into_iter().map(|e| e.name).collect();
    assert!(
        names == want,
        "list_dir gave {} entries, not the folder",
        names.len()
    );
    let (_, first, next) = c.list_page(&p(&dir), None).await.unwrap();
    assert!(
        first.len() < want.len() && next.is_some(),
        "one page of {} entries",
        first.len()
    );
    // Folder completion finds the folder among them without listing them all.
    let typed = format!("{}/s", p(&dir));
    let found = c.complete_folder(&typed, 5).await.unwrap();
    assert_eq!(found, [format!("{}/sub/", p(&dir))]);
    // The old one-answer listing refuses what does not fit, and says why.
    let old = c.files(FileRequest::List { path: p(&dir) }).await;
    let e = old.expect_err("too many for one answer");
    assert_eq!(e.wire().map(|w| w.code), Some(ErrorCode::TooLarge), "{e}");
    // A cursor that is not one is refused, and the stream goes on.
    let bad = c.list_page(&p(&dir), Some("nonsense".into())).await;
    assert_eq!(
        bad.expect_err("a bad cursor").wire().map(|w| w.code),
        Some(ErrorCode::BadRequest)
    );
    assert_eq!(c.list_dir(&p(&root)).await.unwrap().1.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_that_is_not_utf8_is_refused_alone_and_such_names_list() {
    let (_tmp, root, agent) = agent_with_root();
    // A file whose name is not UTF-8 lists beside a plain one: shown as `ls -b` shows
    // it, exact in JSON (the byte travels escaped), and addressable by that name.
    let odd = std::ffi::OsStr::from_bytes(b"odd-\xff-name");
    std::fs::write(root.join(odd), b"x").unwrap();
    std::fs::write(root.join("plain"), b"y").unwrap();
    let out = agent.ok(&["ls-files", "local", &p(&root)]);
    assert!(
        out.contains("odd-\\xff-name") && out.contains("plain"),
        "{out}"
    );
    let json = agent.json(&["ls-files", "local", &p(&root)]);
    let wire_name = "odd-\0ff-name";
    assert_eq!(json["entries"][0]["name"], wire_name, "{json}");
    let cat = std::process::Command::new(vibemesh_tests::vibemesh_bin())
        .arg("cat")
        .arg("local")
        .arg(root.join(odd))
        .env("VIBEMESH_HOME", agent.path())
        .output()
        .unwrap();
    assert_eq!(cat.stdout, b"x", "{}", String::from_utf8_lossy(&cat.stderr));

    let peer = InProcPeer::bind().await;
    peer.pair(&agent, "owner").await.unwrap();
    let conn = peer.connect(&agent).await.unwrap();
    let (r, w) = conn.open_stream().await.unwrap();
    let mut writer = FrameWriter::new(w);
    let mut reader = FrameReader::new(r);
    writer.send(&StreamOpen::Control).await.unwrap();
    // A request whose path holds a byte that is not UTF-8: no client of ours can send
    // one, a broken or hostile one can.
    let req = Request {
        id: 7,
        body: RequestBody::Files(FileRequest::Stat {
            path: p(&root.join("X")),
        }),
    };
    let mut body = postcard::to_stdvec(&req).unwrap();
    let x = body.iter().rposition(|&b| b == b'X').unwrap();
    body[x] = 0xff;
    let mut frame = (body.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    let mut raw = writer.into_inner();
    tokio::io::AsyncWriteExt::write_all(&mut raw, &frame)
        .await
        .unwrap();
    let mut writer = FrameWriter::new(raw);
    let refused = answer(&mut reader).await;
    assert_eq!(refused.id, 7);
    let e = refused
        .result
        .expect_err("a path that is not UTF-8 is refused");
    assert_eq!(e.code, ErrorCode::Malformed, "{e}");
    // The same stream answers the next request.
    let list = Request {
        id: 8,
        body: RequestBody::Files(FileRequest::ListPage {
            path: p(&root),
            after: None,
        }),
    };
    writer.send(&list).await.unwrap();
    let listed = answer(&mut reader).await;
    assert_eq!(listed.id, 8);
    let Ok(ResponseBody::Files(FileResponse::Page { entries, next, .. })) = listed.result else {
        panic!("expected a page, got {listed:?}");
    };
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, [wire_name, "plain"]);
    assert_eq!(next, None);
    // A client joins the folder and the name, and reaches exactly that file.
    let read = Request {
        id: 9,
        body: RequestBody::Files(FileRequest::Read {
            path: format!("{}/{wire_name}", p(&root)),
            offset: 0,
            len: None,
        }),
    };
    writer.send(&read).await.unwrap();
    let got = answer(&mut reader).await;
    let Ok(ResponseBody::Files(FileResponse::Data { data, meta, .. })) = got.result else {
        panic!("expected the file, got {got:?}");
    };
    assert_eq!(
        (&data[..], meta.path),
        (&b"x"[..], format!("{}/{wire_name}", p(&root)))
    );
}
