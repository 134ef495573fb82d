//! The command line follows the conventions of its ecosystem where a real agent is needed
//! to see it: plain-text logs off a terminal, and a `~` the local shell expanded explained.

use std::process::Command;

use vibemesh_tests::{TestAgent, free_port, pair, vibemesh_bin};

#[test]
fn agent_logs_are_plain_text_when_stderr_is_not_a_terminal() {
    // The test harness reads the agent's stderr through a pipe, as journald does.
    let agent = TestAgent::start("plain");
    let log = agent.log();
    assert!(log.contains("agent started"), "{log}");
    assert!(!log.contains('\x1b'), "colour codes in a log: {log:?}");
}

#[test]
fn a_home_the_local_shell_expanded_is_explained() {
    let laptop = TestAgent::start("laptop");
    let server = TestAgent::start("server");
    pair(&laptop, &server, "box", "owner");
    // This machine's home, as the shell would have expanded `~/src/app`; the peer's home
    // (the test's own) has no such folder.
    let home = tempfile::tempdir().unwrap();
    let expanded = home.path().join("src/app");
    let run = |args: &[&str]| {
        let out = Command::new(vibemesh_bin())
            .args(args)
            .env("VIBEMESH_HOME", laptop.path())
            .env("HOME", home.path())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let path = expanded.to_str().unwrap();
    for args in [
        &["ls-files", "box", path][..],
        &["cat", "box", path],
        &["open", "box", "--path", path, "--detached"],
    ] {
        let err = run(args);
        assert!(
            err.contains("quote it: '~/src/app'") && err.contains("box's home"),
            "{args:?}: {err}"
        );
    }
    // The same path on this machine is what the user meant: no hint.
    let err = run(&["ls-files", "local", path]);
    assert!(!err.contains("hint:"), "{err}");
}

/// `--json` spells values as the CLI's own words (`--role owner`, `--provider claude`,
/// `running` in `ls`), and `--version` names the JSON schema (docs/JSON.md).
#[test]
fn json_output_uses_the_cli_s_lower_case_words() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let laptop = TestAgent::start("laptop");
    let server = TestAgent::start_with("server", &format!("roots = [{:?}]", dir.path()));
    pair(&laptop, &server, "box", "viewer");
    let peers = laptop.json(&["peers"]);
    assert_eq!(peers[0]["our_role"], "viewer", "{peers}");
    let allowed = server.json(&["peers"]);
    assert_eq!(allowed[0]["allowed"], "viewer", "{allowed}");

    let id = server.open_titled("json", &["sleep", "600"]);
    let ls = laptop.json(&["ls", "box"]);
    assert_eq!(ls[0]["id"], id.as_str(), "{ls}");
    assert_eq!(ls[0]["status"], "running", "{ls}");
    assert_eq!(ls[0]["provider"], "shell", "{ls}");

    let providers = laptop.json(&["providers", "box"]);
    let names: Vec<&str> = providers
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|p| p["provider"].as_str())
        .collect();
    assert_eq!(names, ["claude", "codex"], "{providers}");
    for p in providers.as_array().expect("a list") {
        let why = &p["unavailable"];
        assert!(
            why.is_null()
                || ["not_installed", "not_logged_in"].contains(&why.as_str().unwrap_or("")),
            "{providers}"
        );
    }

    let listing = server.json(&["ls-files", "local", dir.path().to_str().unwrap()]);
    assert_eq!(listing["entries"][0]["kind"], "dir", "{listing}");

    server.ok(&["kill", "local", &id]);
    let mut t = server.term(&["open", "local", "--", "sh", "-c", "exit 3"], 24, 80);
    assert_eq!(t.wait_exit(), 3);
    let ended = server.json(&["ls", "local"]);
    assert_eq!(ended[0]["status"]["exited"]["code"], 3, "{ended}");

    let version = server.ok(&["--version"]);
    assert!(version.ends_with("\njson schema 1\n"), "{version:?}");
}

/// An upgrade keeps its pairings: `peers.json` as earlier versions wrote it (`"Owner"`)
/// is read, and written back in the new spelling.
#[test]
fn pairings_written_by_an_earlier_version_still_let_peers_in() {
    let laptop = TestAgent::start("laptop");
    // A fixed port: relays are off, so the laptop finds the restarted server only at
    // the address its ticket named.
    let listen = format!("127.0.0.1:{}", free_port());
    let server = TestAgent::start_at("server", &listen);
    pair(&laptop, &server, "box", "owner");
    let home = server.stop();
    let file = home.path().join("peers.json");
    let now = std::fs::read_to_string(&file).unwrap();
    assert!(now.contains("\"role\": \"owner\""), "{now}");
    std::fs::write(
        &file,
        now.replace("\"role\": \"owner\"", "\"role\": \"Owner\""),
    )
    .unwrap();
    let server = TestAgent::spawn(home, "server");
    let allowed = server.json(&["peers"]);
    assert_eq!(allowed[0]["allowed"], "owner", "{allowed}");
    let id = laptop.open_detached("box", std::path::Path::new("/tmp"), &["sleep", "600"]);
    server.ok(&["kill", "local", &id]);
}

/// Words and durations are parsed as clap and humantime parse them: a wrong word lists the
/// right ones, and a lifetime may be written `1h30m`.
#[test]
fn choices_are_listed_and_durations_read_as_people_write_them() {
    let agent = TestAgent::start("words");
    let role = agent.fails(&["pair", "--role", "admin"]);
    assert!(role.contains("[possible values: owner, viewer]"), "{role}");
    let provider = agent.fails(&["open", "local", "--provider", "zsh"]);
    assert!(
        provider.contains("[possible values: shell, claude, codex]"),
        "{provider}"
    );
    let unit = agent.fails(&["pair", "--ttl", "5x"]);
    assert!(unit.contains("unknown time unit \"x\""), "{unit}");

    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let ticket = agent.json(&["pair", "--ttl", "1h30m"]);
    let left = ticket["expires_ms"].as_u64().expect("expires_ms") - before;
    assert!((5_400_000..5_410_000).contains(&left), "{ticket}");
}

/// The relay logs plain text off a terminal too (journald, `docker logs`).
#[test]
fn relay_logs_are_plain_text_when_stderr_is_not_a_terminal() {
    use std::io::{BufRead, BufReader};
    let mut relay = Command::new(vibemesh_bin().with_file_name("vibemesh-relay"))
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "vibemesh_relay=info")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start vibemesh-relay");
    let stderr = relay.stderr.take().expect("stderr");
    let mut log = String::new();
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        log.push_str(&line);
        log.push('\n');
        if line.contains("is running") {
            break;
        }
    }
    let _ = relay.kill();
    let _ = relay.wait();
    assert!(log.contains("relay listening"), "{log}");
    assert!(!log.contains('\x1b'), "colour codes in a log: {log:?}");
}
