//! Scratch repositories made with the real `git`, with fixed identities and dates.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use tempfile::TempDir;

/// The first commit's time (2024-01-02T03:04:05Z); each later one is an hour on.
pub const T0: u64 = 1_704_164_645;

/// Folders for one test, and a counter that keeps commit times fixed but distinct.
pub struct Scratch {
    /// The scratch folder.
    pub tmp: TempDir,
    commits: std::cell::Cell<u64>,
}

impl Scratch {
    /// A fresh scratch folder.
    pub fn new() -> Self {
        let tmp = tempfile::Builder::new()
            .prefix("vm-git-")
            .tempdir()
            .unwrap();
        Self {
            tmp,
            commits: std::cell::Cell::new(0),
        }
    }

    /// The (canonical) path of `name` in the scratch folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().canonicalize().unwrap().join(name)
    }

    /// Runs git in `dir` with a clean configuration and fixed identity and dates.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let n = self.commits.get();
        let date = format!("{} +0000", T0 + n * 3600);
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=Tess Ter",
                "-c",
                "user.email=tess@example.org",
            ])
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "advice.detachedHead=false",
            ])
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .expect("run git");
        if args.first() == Some(&"commit") {
            self.commits.set(n + 1);
        }
        let ok = out.status.success() || args.first() == Some(&"merge");
        assert!(ok, "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `git init` of a new repository `name`.
    pub fn init(&self, name: &str) -> PathBuf {
        let dir = self.path(name);
        std::fs::create_dir_all(&dir).unwrap();
        self.git(&dir, &["init", "-q"]);
        dir
    }

    /// Commits everything.
    pub fn commit(&self, dir: &Path, msg: &str) {
        self.git(dir, &["add", "-A"]);
        self.git(dir, &["commit", "-q", "-m", msg]);
    }
}

/// Writes `text` to `file` under `dir`, making folders.
pub fn write(dir: &Path, file: &str, text: &str) {
    let p = dir.join(file);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A repository with every kind of change, 2 commits ahead of and 1 behind its upstream:
/// staged, unstaged, staged-then-modified, deleted, renamed, untracked, conflicted, ignored.
pub fn busy_repo(s: &Scratch) -> PathBuf {
    let remote = s.path("remote.git");
    s.git(
        s.tmp.path(),
        &["init", "-q", "--bare", remote.to_str().unwrap()],
    );
    let work = s.path("work");
    s.git(
        s.tmp.path(),
        &["clone", "-q", remote.to_str().unwrap(), "work"],
    );
    for f in [
        "a.txt",
        "b.txt",
        "c.txt",
        "d.txt",
        "old.txt",
        "conflict.txt",
    ] {
        write(&work, f, &format!("{f}\n"));
    }
    write(&work, "sub/deep.txt", "deep\n");
    write(&work, "clean/kept.txt", "kept\n");
    write(&work, ".gitignore", "*.log\nbuild/\n");
    s.commit(&work, "first");
    s.git(&work, &["push", "-q", "-u", "origin", "main"]);

    let other = s.path("other");
    s.git(
        s.tmp.path(),
        &["clone", "-q", remote.to_str().unwrap(), "other"],
    );
    write(&other, "theirs.txt", "theirs\n");
    s.commit(&other, "theirs");
    s.git(&other, &["push", "-q", "origin", "main"]);

    s.git(&work, &["checkout", "-q", "-b", "feature"]);
    write(&work, "conflict.txt", "feature side\n");
    s.commit(&work, "feature side");
    s.git(&work, &["checkout", "-q", "main"]);
    write(&work, "conflict.txt", "main side\n");
    s.commit(&work, "main side");
    write(&work, "more.txt", "more\n");
    s.commit(&work, "more");
    s.git(&work, &["fetch", "-q"]);
    s.git(&work, &["merge", "-q", "feature"]);

    write(&work, "a.txt", "a staged\n");
    s.git(&work, &["add", "a.txt"]);
    write(&work, "b.txt", "b changed\n");
    write(&work, "c.txt", "c staged\n");
    s.git(&work, &["add", "c.txt"]);
    write(&work, "c.txt", "c changed again\n");
    std::fs::remove_file(work.join("d.txt")).unwrap();
    s.git(&work, &["mv", "old.txt", "renamed.txt"]);
    write(&work, "new.txt", "new\n");
    write(&work, "sub/untracked.txt", "untracked\n");
    write(&work, "x.log", "log\n");
    write(&work, "build/out.bin", "out\n");
    work
}
