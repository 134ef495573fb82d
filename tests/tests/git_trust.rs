//! Looking at a repository never runs a program the repository chose, and never shows a
//! repository that lives outside the roots: real repositories, a real agent, and a viewer
//! on the real CLI.

#[path = "git/repos.rs"]
#[allow(dead_code, reason = "shared with git.rs, which uses all of it")]
mod repos;
#[path = "git/traps.rs"]
mod traps;

use std::path::Path;

use serde_json::Value;
use vibemesh_tests::{TestAgent, pair};

use self::{
    repos::{Scratch, write},
    traps::Traps,
};

/// An agent sharing the scratch folder, whose global git config is `global` (no system
/// config), and a viewer paired with it as `srv`.
fn server_and_viewer(s: &Scratch, global: &Path) -> (TestAgent, TestAgent) {
    let roots = format!("roots = [{:?}]", s.tmp.path().to_str().unwrap());
    let env = [
        ("GIT_CONFIG_GLOBAL", global.to_str().unwrap()),
        ("GIT_CONFIG_NOSYSTEM", "1"),
    ];
    let server = TestAgent::start_env("srv", &roots, &env);
    let viewer = TestAgent::start("viewer");
    pair(&viewer, &server, "srv", "viewer");
    (server, viewer)
}

/// `vibemesh git srv <dir> <what>` as the viewer: stdout, or stderr when it failed.
fn git(viewer: &TestAgent, dir: &Path, what: &[&str]) -> Result<String, String> {
    let mut args = vec!["git", "srv", dir.to_str().unwrap()];
    args.extend_from_slice(what);
    let out = viewer.cli(&args);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    if out.status.success() {
        Ok(text(&out.stdout))
    } else {
        Err(text(&out.stderr))
    }
}

/// The viewer's listing of `dir`: entry name to git mark (`null` without one).
fn listing(viewer: &TestAgent, dir: &Path) -> Vec<(String, Value)> {
    let json = viewer.json(&["ls-files", "srv", dir.to_str().unwrap()]);
    json["entries"]
        .as_array()
        .expect("a listing")
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_string(), e["git"].clone()))
        .collect()
}

/// What every request a viewer can make about a repository answers, in order.
const LOOKS: &[&[&str]] = &[
    &["status"],
    &["diff"],
    &["diff", "--staged"],
    &["diff", "a.txt"],
    &["log"],
    &["branches"],
    &["worktrees"],
];

/// What went wrong, collected so one run shows all of it.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    /// Notes `what` when `ok` is false.
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    /// Notes the spies that ran since the last look, while doing `doing`.
    fn spies(&mut self, t: &Traps, doing: &str) {
        let sprung = t.sprung();
        self.check(sprung.is_empty(), || format!("{doing} ran {sprung:?}"));
    }

    /// Fails the test with everything noted.
    fn assert_none(self) {
        assert!(self.0.is_empty(), "\n{}", self.0.join("\n"));
    }
}

#[test]
fn a_viewer_looking_at_hostile_repositories_runs_none_of_their_programs() {
    let s = Scratch::new();
    let t = Traps::new();
    let hostile = traps::hostile(&s, &t);
    let lazy = traps::lazy(&s, &t);
    let filtered = traps::filtered(&s, &t);
    let hooked = traps::config_hooked(&s, &t);
    // A filter the user's own (global) config defines, which the repository repeats in
    // its config as `git lfs install --local` does: the user's choice, so it runs.
    let global = s.path("global.gitconfig");
    let trusted_clean = t.spy(&s.path("trusted-clean"), "trusted-clean", "cat");
    let filter = format!("[filter \"trusted\"]\n\tclean = {trusted_clean}\n");
    std::fs::write(&global, &filter).unwrap();
    let trusted = s.init("trusted");
    write(&trusted, "a.txt", "a\n");
    write(&trusted, ".gitattributes", "* filter=trusted\n");
    s.commit(&trusted, "first");
    s.git(
        &trusted,
        &["config", "filter.trusted.clean", &trusted_clean],
    );
    traps::stat_dirty(&trusted.join("a.txt"));
    assert_eq!(t.sprung(), Vec::<String>::new(), "setting up ran a spy");
    let (_server, viewer) = server_and_viewer(&s, &global);
    let mut p = Problems::default();

    // The hostile repository answers every request, with git's own output.
    let marks = listing(&viewer, &hostile);
    p.spies(&t, "listing");
    p.check(
        marks.contains(&("a.txt".into(), "modified".into()))
            && marks.contains(&("b.txt".into(), Value::Null)),
        || format!("listing marks: {marks:?}"),
    );
    listing(&viewer, &hostile.join("sm"));
    p.spies(&t, "listing the submodule");
    for what in LOOKS {
        let out = git(&viewer, &hostile, what);
        p.spies(&t, &format!("{what:?}"));
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                p.0.push(format!("{what:?} failed: {e}"));
                continue;
            }
        };
        let ok = match what[0] {
            "status" => out == "## main\n M a.txt\n",
            "diff" if what.get(1) != Some(&"--staged") => {
                out.contains("--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+a changed\n")
                    && !out.contains("b.txt")
            }
            "diff" => out.is_empty(),
            "log" => {
                let summaries: Vec<&str> = out
                    .lines()
                    .map(|l| l.rsplit("  ").next().unwrap_or(l))
                    .collect();
                summaries == ["signed", "second", "first"]
            }
            "branches" => out.starts_with("* main "),
            _ => out.starts_with(hostile.to_str().unwrap()),
        };
        p.check(ok, || format!("{what:?} answered:\n{out}"));
    }

    // A partial clone that would fetch a missing object through its own `uploadpack`.
    listing(&viewer, &lazy);
    p.spies(&t, "listing a partial clone");
    for what in LOOKS {
        let _ = git(&viewer, &lazy, what);
        p.spies(&t, &format!("{what:?} in a partial clone"));
    }

    // Filters and config hooks cannot be switched off from outside: refused, clearly,
    // and a listing simply has no marks.
    for (repo, key) in [(&filtered, "filter.x.clean"), (&hooked, "hook.spy.command")] {
        let marks = listing(&viewer, repo);
        p.spies(&t, &format!("listing {key}"));
        p.check(marks.iter().all(|(_, m)| m.is_null()), || {
            format!("listing {key}: {marks:?}")
        });
        for what in LOOKS {
            let answer = git(&viewer, repo, what);
            p.spies(&t, &format!("{what:?} with {key}"));
            p.check(
                answer.as_ref().is_err_and(|err| {
                    err.contains(key)
                        && err.contains("never runs programs a repository chooses")
                        && err.contains("~/.gitconfig")
                }),
                || format!("{what:?} with {key}: {answer:?}"),
            );
        }
    }

    // The filter the user defined runs, in the repository that asks for it.
    let st = git(&viewer, &trusted, &["status"]);
    p.check(st.as_deref() == Ok("## main\n"), || {
        format!("trusted: {st:?}")
    });
    let sprung = t.sprung();
    p.check(sprung == ["trusted-clean"], || {
        format!("trusted ran {sprung:?}")
    });
    p.assert_none();
}

/// The scratch repository outside the roots that a hostile folder tries to show.
const SECRET: &str = "SECRET";

#[test]
fn repositories_reaching_outside_the_roots_show_nothing_of_it() {
    let s = Scratch::new();
    let out = Scratch::new();
    let secret = out.init("secret");
    write(&secret, "secret.txt", &format!("{SECRET} content\n"));
    out.commit(&secret, &format!("{SECRET} commit"));
    let head = out.git(&secret, &["rev-parse", "HEAD"]);
    let secret_git = secret.join(".git");
    let sg = secret_git.to_str().unwrap();

    // A `.git` file naming the outside repository's git folder.
    let gitfile = s.path("gitfile");
    write(&gitfile, "a.txt", "a\n");
    write(&gitfile, ".git", &format!("gitdir: {sg}\n"));
    // Borrowing the outside repository's objects: alternates, and a linked folder.
    let alt = s.init("alternates");
    write(
        &alt,
        ".git/objects/info/alternates",
        &format!("{sg}/objects\n"),
    );
    write(&alt, ".git/refs/heads/main", &head);
    // Alternates of alternates: a store inside the roots that borrows, C-quoted, from
    // the outside one.
    let nested = s.init("nested-alternates");
    let middle = s.path("middle-objects");
    write(
        &middle,
        "info/alternates",
        &format!("# borrowed\n\"{sg}/obj\\145cts\"\n"),
    );
    let middle_entry = format!("{}\n", middle.to_str().unwrap());
    write(&nested, ".git/objects/info/alternates", &middle_entry);
    write(&nested, ".git/refs/heads/main", &head);
    let linked = s.init("linked-objects");
    std::fs::remove_dir_all(linked.join(".git/objects")).unwrap();
    std::os::unix::fs::symlink(secret_git.join("objects"), linked.join(".git/objects")).unwrap();
    write(&linked, ".git/refs/heads/main", &head);
    // A linked work tree whose own git folder is inside, and its common folder outside.
    let wt = s.path("worktree");
    out.git(
        &secret,
        &["worktree", "add", "-q", "-b", "side", wt.to_str().unwrap()],
    );
    let meta = s.path("worktree-meta");
    std::fs::rename(secret_git.join("worktrees/worktree"), &meta).unwrap();
    write(&meta, "commondir", &format!("{sg}\n"));
    write(
        &wt,
        ".git",
        &format!("gitdir: {}\n", meta.to_str().unwrap()),
    );
    // A repository whose `core.worktree` is the outside one.
    let cw = s.init("core-worktree");
    s.git(&cw, &["config", "core.worktree", secret.to_str().unwrap()]);

    let global = s.path("global.gitconfig");
    std::fs::write(&global, "").unwrap();
    let (_server, viewer) = server_and_viewer(&s, &global);
    let mut p = Problems::default();
    for (dir, how) in [
        (&gitfile, "keeps its git folder at"),
        (&alt, "reads objects from"),
        (&nested, "reads objects from"),
        (&linked, "reads objects from"),
        (&wt, "keeps the git folder its work trees share at"),
        (&cw, "starts at"),
    ] {
        let d = dir.display();
        let marks = listing(&viewer, dir);
        p.check(marks.iter().all(|(_, m)| m.is_null()), || {
            format!("{d}: listing marks {marks:?}")
        });
        for what in LOOKS {
            let answer = git(&viewer, dir, what);
            p.check(
                answer.as_ref().is_err_and(|err| {
                    err.contains(how)
                        && err.contains(secret.to_str().unwrap())
                        && err.contains("outside the folders this agent shares")
                        && !err.contains(SECRET)
                }),
                || format!("{d}: {what:?} answered {answer:?}"),
            );
        }
    }
    p.assert_none();
}
