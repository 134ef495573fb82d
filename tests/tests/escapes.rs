//! Text from another machine reaches this terminal inert. A shared folder holds files
//! whose names are escape sequences (an OSC 52 that fills the clipboard, an OSC 0 that
//! retitles the window, a C1 CSI, a DEL, a bidi override); sessions carry such titles
//! and commands; a joining peer picks such a name. `vibemesh ls-files`, `ls`, `git`,
//! `peers` and the errors a peer sends print them as visible escapes, never as the
//! control characters, and `--json` keeps them exact.

use std::{path::Path, process::Command, time::Instant};

use tempfile::TempDir;
use vibemesh_core::ticket::Ticket;
use vibemesh_tests::{InProcPeer, TestAgent, pair};

/// Puts `echo pwned\n` into the paste buffer of the terminal that prints it.
const OSC52: &str = "clip\x1b]52;c;ZWNobyBwd25lZAo=\x07";
/// Retitles the window.
const OSC0: &str = "title\x1b]0;pwned\x07";
/// `CSI 2 J` as one C1 character: clears the screen on terminals that take C1.
const C1: &str = "csi\u{9b}2J";
const DEL: &str = "del\x7f";
/// Shows as `invoiceexe.pdf`.
const BIDI: &str = "invoice\u{202e}fdp.exe";

/// The names as the CLI must print them.
const SHOWN: [(&str, &str); 5] = [
    (OSC52, "clip\\e]52;c;ZWNobyBwd25lZAo=\\x07"),
    (OSC0, "title\\e]0;pwned\\x07"),
    (C1, "csi\\u{9b}2J"),
    (DEL, "del\\x7f"),
    (BIDI, "invoice\\u{202e}fdp.exe"),
];

/// Fails if `out` holds anything a terminal would act on (other than line breaks).
#[track_caller]
fn assert_inert(what: &str, out: &[u8]) {
    let text = String::from_utf8_lossy(out);
    for (byte, name) in [(0x1b, "ESC"), (0x07, "BEL"), (0x7f, "DEL"), (b'\r', "CR")] {
        assert!(
            !out.contains(&byte),
            "{what} printed a raw {name}:\n{text:?}"
        );
    }
    let active: Vec<char> = text
        .chars()
        .filter(|&c| {
            matches!(c, '\0'..='\x08' | '\x0b'..='\x1f' | '\u{80}'..='\u{9f}'
                | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    assert!(active.is_empty(), "{what} printed {active:?}:\n{text:?}");
}

/// A server sharing `root` and a laptop paired with it as its owner (`srv`).
fn shared_folder() -> (TempDir, String, TestAgent, TestAgent) {
    let tmp = tempfile::Builder::new().prefix("vme-").tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap().join("shared");
    std::fs::create_dir(&root).unwrap();
    let root = root.to_str().unwrap().to_string();
    let server = TestAgent::start_with("server", &format!("roots = [{root:?}]"));
    let laptop = TestAgent::start("laptop");
    pair(&laptop, &server, "srv", "owner");
    (tmp, root, server, laptop)
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Tess Ter",
            "-c",
            "user.email=tess@example.org",
        ])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

#[test]
fn file_names_git_and_errors_from_a_peer_print_inert() {
    let (_tmp, root, server, laptop) = shared_folder();
    let dir = Path::new(&root);
    // A repository whose last commit's summary is an escape sequence too.
    git(dir, &["init", "-q"]);
    std::fs::write(dir.join("README"), "hi\n").unwrap();
    git(dir, &["add", "README"]);
    git(dir, &["commit", "-q", "-m", &format!("fix {OSC0}")]);
    for (name, _) in SHOWN {
        std::fs::write(dir.join(name), "x").unwrap();
    }

    let out = laptop.cli(&["ls-files", "srv", &root]);
    assert!(out.status.success(), "{out:?}");
    assert_inert("ls-files", &out.stdout);
    let text = String::from_utf8_lossy(&out.stdout);
    for (_, shown) in SHOWN {
        assert!(text.contains(shown), "{shown} missing from:\n{text}");
    }
    // JSON stays exact.
    let listing = laptop.json(&["ls-files", "srv", &root]);
    let names: Vec<&str> = listing["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("a listing: {listing}"))
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    for (name, _) in SHOWN {
        assert!(names.contains(&name), "{name:?} missing from {names:?}");
    }

    // Untracked files in `git status`, the summary in `git log`.
    let out = laptop.cli(&["git", "srv", &root, "status"]);
    assert!(out.status.success(), "{out:?}");
    assert_inert("git status", &out.stdout);
    let text = String::from_utf8_lossy(&out.stdout);
    for (_, shown) in SHOWN {
        assert!(text.contains(shown), "{shown} missing from:\n{text}");
    }
    let out = laptop.cli(&["git", "srv", &root, "log"]);
    assert_inert("git log", &out.stdout);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("fix title\\e]0;pwned\\x07"), "{text}");
    let log = laptop.json(&["git", "srv", &root, "log"]);
    assert_eq!(log[0]["summary"], format!("fix {OSC0}"), "{log}");

    // The peer's error quotes the name it was given: printed inert on stderr.
    let missing = format!("{root}/gone-{OSC52}");
    let err = laptop.fails(&["cat", "srv", &missing]);
    assert_inert("an error from the peer", err.as_bytes());
    assert!(
        err.contains("gone-clip\\e]52;c;ZWNobyBwd25lZAo=\\x07"),
        "{err}"
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_titles_commands_and_peer_names_print_inert() {
    let (_tmp, root, server, laptop) = shared_folder();
    // Titles: one chosen by whoever created the session, one set by its program (OSC 2,
    // holding a C1 CSI, a DEL and a bidi override). The command carries raw escapes too.
    let evil_title = format!("{OSC52}{OSC0}");
    let chosen = laptop.ok(&[
        "open",
        "srv",
        "--path",
        &root,
        "--title",
        &evil_title,
        "--detached",
        "--",
        "sh",
        "-c",
        "exec cat",
        OSC0,
    ]);
    let chosen = chosen.trim();
    let script = "printf '\\033]2;prog\\302\\233J\\177\\342\\200\\256gpj.exe\\007'; exec cat";
    let set = laptop.ok(&[
        "open",
        "srv",
        "--path",
        &root,
        "--detached",
        "--",
        "sh",
        "-c",
        script,
    ]);
    let set = set.trim();
    let program_title = "prog\u{9b}J\x7f\u{202e}gpj.exe";
    let started = Instant::now();
    loop {
        let list = laptop.json(&["ls", "srv"]);
        let title = |id: &str| {
            list.as_array()
                .expect("a list")
                .iter()
                .find(|s| s["id"] == id)
                .map(|s| s["title"].clone())
        };
        // JSON stays exact.
        assert_eq!(title(chosen), Some(evil_title.clone().into()), "{list}");
        if title(set) == Some(program_title.into()) {
            break;
        }
        assert!(
            started.elapsed() < vibemesh_tests::TIMEOUT,
            "the program's title never arrived: {list}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    for agent in [&laptop, &server] {
        let peer = if std::ptr::eq(agent, &laptop) {
            "srv"
        } else {
            "local"
        };
        let out = agent.cli(&["ls", peer]);
        assert!(out.status.success(), "{out:?}");
        assert_inert("ls", &out.stdout);
        let text = String::from_utf8_lossy(&out.stdout);
        for want in [
            "clip\\e]52;c;ZWNobyBwd25lZAo=\\x07title\\e]0;pwned\\x07",
            "sh -c exec cat title\\e]0;pwned\\x07",
            "prog\\u{9b}J\\x7f\\u{202e}gpj.exe",
        ] {
            assert!(text.contains(want), "{want} missing from:\n{text}");
        }
    }

    // A joining peer names itself. The agent drops control characters from the name;
    // a bidi override stays, and is shown escaped.
    let mallory = InProcPeer::bind().await;
    let ticket = Ticket::parse(&server.ticket(&[])).expect("ticket");
    vibemesh_core::client::pair(&mallory.ep, &ticket, "mallory\x1b]0;x\x07\u{202e}gpj.exe")
        .await
        .expect("pair");
    let out = server.cli(&["peers"]);
    assert_inert("peers", &out.stdout);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("mallory]0;x\\u{202e}gpj.exe"), "{text}");
    let peers = server.json(&["peers"]).to_string();
    assert!(peers.contains("mallory]0;x\u{202e}gpj.exe"), "{peers}");
    mallory.ep.close().await;
}
