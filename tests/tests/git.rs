//! Git on real repositories made here with the real `git`: status, diff, log, branches,
//! worktrees and folder marks, through the agent's git module and through the CLI.

#[path = "git/repos.rs"]
mod repos;

use std::path::Path;

use serde_json::{Value, json};
use vibemesh_agent::{Files, git};
use vibemesh_core::{
    ErrorCode,
    proto::git::{GitMark, GitRequest, GitResponse},
};
use vibemesh_tests::TestAgent;

use self::repos::{Scratch, T0, busy_repo, write};

/// Every folder as a root: these tests are about git's answers (the roots' own checks
/// are in git_trust.rs).
fn roots() -> Files {
    Files::new(vec!["/".into()], Default::default())
}

async fn ask(dir: &Path, req: GitRequest) -> GitResponse {
    git::handle(&roots(), dir, req).await.expect("git answer")
}

async fn marks_of(dir: &Path) -> Option<std::collections::HashMap<String, GitMark>> {
    git::marks(&roots(), dir).await
}

#[tokio::test]
async fn status_sees_every_kind_of_change() {
    let s = Scratch::new();
    let work = busy_repo(&s);
    let GitResponse::Status(st) =
        ask(&work.join("sub"), GitRequest::Status { path: "".into() }).await
    else {
        panic!("expected a status");
    };
    assert_eq!(st.root, work.to_str().unwrap());
    assert_eq!(st.branch.as_deref(), Some("main"));
    assert_eq!(st.upstream.as_deref(), Some("origin/main"));
    assert_eq!((st.ahead, st.behind), (2, 1));
    assert_eq!(st.head.as_ref().map(String::len), Some(40));
    let files: Vec<(String, Option<String>, GitMark, char, char)> = st
        .files
        .into_iter()
        .map(|f| (f.path, f.from, f.mark, f.index, f.worktree))
        .collect();
    let f = |p: &str, from: Option<&str>, m, i, w| (p.to_string(), from.map(String::from), m, i, w);
    let expected = [
        f("a.txt", None, GitMark::Staged, 'M', '.'),
        f("b.txt", None, GitMark::Modified, '.', 'M'),
        f("c.txt", None, GitMark::StagedModified, 'M', 'M'),
        f("d.txt", None, GitMark::Deleted, '.', 'D'),
        f("renamed.txt", Some("old.txt"), GitMark::Renamed, 'R', '.'),
        f("conflict.txt", None, GitMark::Conflicted, 'U', 'U'),
        f("new.txt", None, GitMark::Untracked, '?', '?'),
        f("sub/untracked.txt", None, GitMark::Untracked, '?', '?'),
    ];
    for e in &expected {
        assert!(files.contains(e), "{e:?} missing from {files:#?}");
    }
    assert_eq!(files.len(), expected.len(), "{files:#?}");
}

#[tokio::test]
async fn marks_describe_each_entry_of_a_folder() {
    let s = Scratch::new();
    let work = busy_repo(&s);
    let marks = marks_of(&work).await.expect("a repository");
    let m = |name: &str| marks.get(name).copied();
    assert_eq!(m("a.txt"), Some(GitMark::Staged));
    assert_eq!(m("b.txt"), Some(GitMark::Modified));
    assert_eq!(m("c.txt"), Some(GitMark::StagedModified));
    assert_eq!(m("renamed.txt"), Some(GitMark::Renamed));
    assert_eq!(m("conflict.txt"), Some(GitMark::Conflicted));
    assert_eq!(m("new.txt"), Some(GitMark::Untracked));
    assert_eq!(m("x.log"), Some(GitMark::Ignored));
    assert_eq!(m("build"), Some(GitMark::Ignored));
    assert_eq!(m("sub"), Some(GitMark::Dirty));
    assert_eq!(m("clean"), None);
    assert_eq!(m(".gitignore"), None);

    let sub = marks_of(&work.join("sub")).await.expect("a repository");
    assert_eq!(sub.get("untracked.txt"), Some(&GitMark::Untracked));
    assert_eq!(sub.len(), 1, "{sub:?}");
    assert!(marks_of(&work.join("clean")).await.unwrap().is_empty());
    assert_eq!(
        git::repo_root(&roots(), &work.join("sub")).await,
        Some(work.clone())
    );

    let plain = s.path("plain");
    std::fs::create_dir(&plain).unwrap();
    assert_eq!(marks_of(&plain).await, None);
    assert_eq!(git::repo_root(&roots(), &plain).await, None);
}

#[tokio::test]
async fn refusals_carry_typed_codes() {
    let s = Scratch::new();
    let plain = s.path("plain");
    std::fs::create_dir(&plain).unwrap();
    let err = git::handle(&roots(), &plain, GitRequest::Status { path: "".into() })
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    assert!(err.message.contains("is not in a git repository"), "{err}");

    let repo = s.init("repo");
    for (file, why) in [
        ("../x", "`..`"),
        ("a/../../x", "`..`"),
        ("/etc/passwd", "relative"),
    ] {
        let req = GitRequest::Diff {
            path: "".into(),
            file: Some(file.into()),
            staged: false,
        };
        let err = git::handle(&roots(), &repo, req).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest, "{file}");
        assert!(err.message.contains(why), "{file}: {err}");
    }

    // More diff than one answer carries: refused, and the stream would live on.
    write(&repo, "big.txt", "");
    s.commit(&repo, "empty big");
    let line = "0123456789abcdef".repeat(8) + "\n";
    write(&repo, "big.txt", &line.repeat(20_000));
    let req = GitRequest::Diff {
        path: "".into(),
        file: None,
        staged: false,
    };
    let err = git::handle(&roots(), &repo, req).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::TooLarge);
    assert!(err.message.contains("one file at a time"), "{err}");
}

#[tokio::test]
async fn an_empty_repository_has_an_empty_log() {
    let s = Scratch::new();
    let repo = s.init("empty");
    write(&repo, "first.txt", "x\n");
    let log = ask(
        &repo,
        GitRequest::Log {
            path: "".into(),
            skip: 0,
            limit: 10,
        },
    )
    .await;
    assert_eq!(log, GitResponse::Log(vec![]));
    let GitResponse::Status(st) = ask(&repo, GitRequest::Status { path: "".into() }).await else {
        panic!("expected a status");
    };
    assert_eq!(
        (st.branch.as_deref(), st.head, st.upstream),
        (Some("main"), None, None)
    );
    assert_eq!(st.files.len(), 1);
    let branches = ask(&repo, GitRequest::Branches { path: "".into() }).await;
    assert_eq!(branches, GitResponse::Branches(vec![]));
}

/// An agent whose roots are `roots`.
fn agent(roots: &Path) -> TestAgent {
    TestAgent::start_with("a", &format!("roots = [{:?}]", roots.to_str().unwrap()))
}

#[test]
fn cli_status_diff_and_refusals() {
    let s = Scratch::new();
    let work = busy_repo(&s);
    let a = agent(s.tmp.path());
    let w = work.to_str().unwrap();

    let out = a.ok(&["git", "local", w, "status"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0], "## main...origin/main [ahead 2, behind 1]",
        "{out}"
    );
    for l in [
        "M  a.txt",
        " M b.txt",
        "MM c.txt",
        " D d.txt",
        "R  old.txt -> renamed.txt",
    ] {
        assert!(lines.contains(&l), "{l:?} missing:\n{out}");
    }
    for l in ["UU conflict.txt", "?? new.txt", "?? sub/untracked.txt"] {
        assert!(lines.contains(&l), "{l:?} missing:\n{out}");
    }
    let st = a.json(&["git", "local", &format!("{w}/sub/deep.txt"), "status"]);
    assert_eq!(st["root"], json!(w));
    assert_eq!(
        (st["ahead"].clone(), st["behind"].clone()),
        (json!(2), json!(1))
    );

    // Diffs are git's own unified diffs, byte for byte.
    let ours = a.ok(&["git", "local", w, "diff", "b.txt"]);
    assert_eq!(ours, s.git(&work, &["diff", "--", "b.txt"]));
    assert!(ours.contains("-b.txt\n+b changed\n"), "{ours}");
    let all = a.ok(&["git", "local", w, "diff"]);
    assert!(all.contains("diff --git a/b.txt b/b.txt") && all.contains("diff --cc conflict.txt"));
    assert!(
        !all.contains("a/a.txt"),
        "staged change in the unstaged diff:\n{all}"
    );
    let staged = a.ok(&["git", "local", w, "diff", "--staged"]);
    assert!(staged.contains("+a staged") && staged.contains("rename to renamed.txt"));
    assert!(!staged.contains("b changed"), "{staged}");
    let one = a.json(&["git", "local", w, "diff", "--staged", "a.txt"]);
    assert!(
        one.as_str()
            .unwrap()
            .starts_with("diff --git a/a.txt b/a.txt\n")
    );

    let err = a.fails(&["git", "local", w, "diff", "../../etc/passwd"]);
    assert!(err.contains("may not contain `..`"), "{err}");
    let plain = s.path("plain");
    std::fs::create_dir(&plain).unwrap();
    let err = a.fails(&["git", "local", plain.to_str().unwrap(), "status"]);
    assert!(err.contains("is not in a git repository"), "{err}");
}

#[test]
fn cli_log_pages_and_lists_branches_and_worktrees() {
    let s = Scratch::new();
    let repo = s.init("repo");
    for i in 1..=5 {
        write(&repo, "f.txt", &format!("{i}\n"));
        s.commit(&repo, &format!("commit {i}"));
    }
    s.git(&repo, &["branch", "feature"]);
    let wt = s.path("wt");
    s.git(
        &repo,
        &["worktree", "add", "-q", "-b", "side", wt.to_str().unwrap()],
    );
    let a = agent(s.tmp.path());
    let r = repo.to_str().unwrap();

    let page = |args: &[&str]| -> Vec<Value> {
        let mut all = vec!["git", "local", r, "log"];
        all.extend_from_slice(args);
        a.json(&all).as_array().unwrap().clone()
    };
    let summaries = |list: &[Value]| -> Vec<String> {
        list.iter()
            .map(|c| c["summary"].as_str().unwrap().to_string())
            .collect()
    };
    let first = page(&["--limit", "2"]);
    assert_eq!(summaries(&first), ["commit 5", "commit 4"]);
    assert_eq!(first[0]["time_ms"], json!((T0 + 4 * 3600) * 1000));
    assert_eq!(first[0]["author"], json!("Tess Ter"));
    assert_eq!(first[0]["email"], json!("tess@example.org"));
    let head = s.git(&repo, &["rev-parse", "HEAD"]);
    assert_eq!(first[0]["id"], json!(head.trim()));
    assert_eq!(
        summaries(&page(&["--skip", "2", "--limit", "2"])),
        ["commit 3", "commit 2"]
    );
    assert_eq!(summaries(&page(&["--skip", "4"])), ["commit 1"]);
    assert!(page(&["--skip", "10"]).is_empty());

    let text = a.ok(&["git", "local", r, "log", "--limit", "1"]);
    assert_eq!(
        text,
        format!("{} 2024-01-02 Tess Ter  commit 5\n", &head[..7])
    );

    let branches = a.ok(&["git", "local", r, "branches"]);
    let short = &head[..7];
    let expected = format!("  feature  {short}\n* main     {short}\n  side     {short}\n");
    assert_eq!(branches, expected);
    let from_wt = a.json(&["git", "local", wt.to_str().unwrap(), "branches"]);
    let current: Vec<&Value> = from_wt
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["current"] == json!(true))
        .collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["name"], json!("side"));

    let list = a.json(&["git", "local", r, "worktrees"]);
    assert_eq!(list[0]["path"], json!(r));
    assert_eq!(list[0]["branch"], json!("main"));
    assert_eq!(list[1]["path"], json!(wt.to_str().unwrap()));
    assert_eq!(list[1]["branch"], json!("side"));
    assert_eq!(list[1]["head"], json!(head.trim()));
    let text = a.ok(&["git", "local", r, "worktrees"]);
    let words: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        words[1],
        [wt.to_str().unwrap(), &head[..7], "[side]"],
        "{text}"
    );
    let st = a.ok(&["git", "local", wt.to_str().unwrap(), "status"]);
    assert_eq!(st, "## side\n");
}

#[test]
fn paths_outside_the_roots_are_refused() {
    let s = Scratch::new();
    let repo = s.init("repo");
    let elsewhere = tempfile::tempdir().unwrap();
    let a = agent(elsewhere.path());
    let err = a.fails(&["git", "local", repo.to_str().unwrap(), "status"]);
    assert!(err.to_lowercase().contains("outside"), "{err}");
    let err = a.fails(&["git", "local", repo.to_str().unwrap(), "diff"]);
    assert!(err.to_lowercase().contains("outside"), "{err}");
}
