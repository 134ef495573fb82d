//! Repositories that try to make git run their own programs, each program a spy that
//! leaves a marker behind when it runs.

use std::{
    fs::{self, File},
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use tempfile::TempDir;

use super::repos::{Scratch, write};

/// Every hook git knows (githooks(5)); a read-only command must fire none of them.
const HOOKS: &[&str] = &[
    "applypatch-msg",
    "pre-applypatch",
    "post-applypatch",
    "pre-commit",
    "pre-merge-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "pre-rebase",
    "post-checkout",
    "post-merge",
    "pre-push",
    "pre-receive",
    "update",
    "proc-receive",
    "post-receive",
    "post-update",
    "reference-transaction",
    "push-to-checkout",
    "pre-auto-gc",
    "post-rewrite",
    "sendemail-validate",
    "fsmonitor-watchman",
    "post-index-change",
];

/// Spy programs and the folder (outside every root) where they leave markers.
pub struct Traps {
    markers: TempDir,
}

impl Traps {
    /// A fresh, empty marker folder.
    pub fn new() -> Self {
        let markers = tempfile::Builder::new()
            .prefix("vm-markers-")
            .tempdir()
            .unwrap();
        Self { markers }
    }

    /// Writes an executable script at `at` that leaves the marker `name`, then runs
    /// `then` (`exit 1`, `cat`, ...). Returns its path, for a config value.
    pub fn spy(&self, at: &Path, name: &str, then: &str) -> String {
        let marker = self.markers.path().join(name);
        let script = format!("#!/bin/sh\ntouch '{}'\n{then}\n", marker.display());
        fs::write(at, script).unwrap();
        fs::set_permissions(at, fs::Permissions::from_mode(0o755)).unwrap();
        at.to_str().unwrap().to_string()
    }

    /// The markers left since the last call, sorted; they are cleared.
    pub fn sprung(&self) -> Vec<String> {
        let mut names = Vec::new();
        for e in fs::read_dir(self.markers.path()).unwrap() {
            let e = e.unwrap();
            names.push(e.file_name().to_string_lossy().into_owned());
            fs::remove_file(e.path()).unwrap();
        }
        names.sort();
        names
    }
}

/// Sets `file`'s modification time a day back: its content must be read again to know
/// whether it changed (what runs clean filters and refreshes the index).
pub fn stat_dirty(file: &Path) {
    let then = SystemTime::now() - Duration::from_secs(86_400);
    File::options()
        .write(true)
        .open(file)
        .unwrap()
        .set_modified(then)
        .unwrap();
}

/// Sets `key` to `value` in `repo`'s own config.
fn config(s: &Scratch, repo: &Path, key: &str, value: &str) {
    s.git(repo, &["config", key, value]);
}

/// A repository whose own config names a program for every setting a looking command
/// could run (fsmonitor, external diff, diff command, textconv, pagers, gpg), with every
/// hook, a signed commit, a modified and a stat-dirty file, and a submodule whose own
/// config has an fsmonitor and a clean filter for its stat-dirty file.
pub fn hostile(s: &Scratch, t: &Traps) -> PathBuf {
    let sub = s.init("hostile-sub");
    write(&sub, "f.txt", "f\n");
    s.commit(&sub, "sub first");
    let repo = s.init("hostile");
    write(&repo, "a.txt", "a\n");
    write(&repo, "b.txt", "b\n");
    write(&repo, ".gitattributes", "* diff=x\n");
    s.commit(&repo, "first");
    let sub_url = sub.to_str().unwrap();
    let add = [
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        sub_url,
        "sm",
    ];
    s.git(&repo, &add);
    s.commit(&repo, "second");
    signed_commit(s, &repo);

    let sm = repo.join("sm");
    let bin = s.path("hostile-bin");
    fs::create_dir(&bin).unwrap();
    let spy = |name: &str, then: &str| t.spy(&bin.join(name), name, then);
    config(s, &sm, "core.fsmonitor", &spy("sm-fsmonitor", "exit 1"));
    config(s, &sm, "filter.q.clean", &spy("sm-clean", "cat"));
    write(&sm, ".gitattributes", "* filter=q\n");
    stat_dirty(&sm.join("f.txt"));

    config(s, &repo, "core.fsmonitor", &spy("fsmonitor", "exit 1"));
    config(s, &repo, "diff.external", &spy("diff-external", "exit 1"));
    config(s, &repo, "diff.x.command", &spy("diff-command", "exit 1"));
    config(s, &repo, "diff.x.textconv", &spy("textconv", "cat \"$1\""));
    config(s, &repo, "core.pager", &spy("pager", "cat"));
    for cmd in ["status", "diff", "log", "branch", "worktree"] {
        config(s, &repo, &format!("pager.{cmd}"), &spy("pager-cmd", "cat"));
    }
    config(s, &repo, "gpg.program", &spy("gpg", "exit 1"));
    config(s, &repo, "log.showSignature", "true");
    config(s, &repo, "core.sshCommand", &spy("ssh", "exit 1"));
    config(
        s,
        &repo,
        "credential.helper",
        &format!("!{}", spy("credential", "exit 1")),
    );
    let hooks = repo.join(".git/hooks");
    for hook in HOOKS {
        t.spy(&hooks.join(hook), &format!("hook-{hook}"), "exit 1");
    }
    write(&repo, "a.txt", "a changed\n");
    stat_dirty(&repo.join("b.txt"));
    repo
}

/// Makes HEAD a commit carrying a (fake) PGP signature, which `log --show-signature`
/// would hand to `gpg.program`.
fn signed_commit(s: &Scratch, repo: &Path) {
    let tree = s.git(repo, &["rev-parse", "HEAD^{tree}"]);
    let parent = s.git(repo, &["rev-parse", "HEAD"]);
    let who = "Tess Ter <tess@example.org> 1704300000 +0000";
    let body = format!(
        "tree {}\nparent {}\nauthor {who}\ncommitter {who}\n\
         gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\
         \nsigned\n",
        tree.trim(),
        parent.trim()
    );
    let file = s.path("signed-commit");
    fs::write(&file, body).unwrap();
    let id = s.git(
        repo,
        &["hash-object", "-t", "commit", "-w", file.to_str().unwrap()],
    );
    s.git(repo, &["update-ref", "refs/heads/main", id.trim()]);
    fs::remove_file(file).unwrap();
}

/// A partial clone missing the blob of its modified `f.txt`: showing the diff would fetch
/// it from its promisor remote, whose `uploadpack` is a spy.
pub fn lazy(s: &Scratch, t: &Traps) -> PathBuf {
    let repo = s.init("lazy");
    write(&repo, "f.txt", "f\n");
    s.commit(&repo, "first");
    let blob = s.git(&repo, &["rev-parse", "HEAD:f.txt"]);
    let blob = blob.trim();
    fs::remove_file(repo.join(".git/objects").join(&blob[..2]).join(&blob[2..])).unwrap();
    let upload = t.spy(&s.path("lazy-upload-pack"), "upload-pack", "exit 1");
    config(s, &repo, "core.repositoryformatversion", "1");
    config(s, &repo, "extensions.partialClone", "origin");
    config(s, &repo, "remote.origin.url", repo.to_str().unwrap());
    config(s, &repo, "remote.origin.promisor", "true");
    config(s, &repo, "remote.origin.uploadpack", &upload);
    config(s, &repo, "protocol.file.allow", "always");
    write(&repo, "f.txt", "f changed\n");
    repo
}

/// A repository whose own config defines the filter its `.gitattributes` selects, with a
/// stat-dirty file: `git status` would run the clean filter.
pub fn filtered(s: &Scratch, t: &Traps) -> PathBuf {
    let repo = s.init("filtered");
    write(&repo, "a.txt", "a\n");
    write(&repo, ".gitattributes", "* filter=x\n");
    s.commit(&repo, "first");
    let bin = s.path("filtered-bin");
    fs::create_dir(&bin).unwrap();
    let spy = |name: &str, then: &str| t.spy(&bin.join(name), name, then);
    config(s, &repo, "filter.x.clean", &spy("clean", "cat"));
    config(s, &repo, "filter.x.smudge", &spy("smudge", "cat"));
    config(s, &repo, "filter.x.process", &spy("process", "exit 1"));
    config(s, &repo, "filter.x.required", "true");
    stat_dirty(&repo.join("a.txt"));
    repo
}

/// A repository whose own config defines a hook in config (git 2.54 and later run
/// `hook.<name>.command` for `hook.<name>.event`, whatever `core.hooksPath` says).
pub fn config_hooked(s: &Scratch, t: &Traps) -> PathBuf {
    let repo = s.init("config-hooked");
    write(&repo, "a.txt", "a\n");
    s.commit(&repo, "first");
    let spy = t.spy(&s.path("config-hook"), "config-hook", "exit 1");
    config(s, &repo, "hook.spy.command", &spy);
    config(s, &repo, "hook.spy.event", "post-index-change");
    stat_dirty(&repo.join("a.txt"));
    repo
}
