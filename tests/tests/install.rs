//! The packages, as a newcomer installs them: `scripts/install-test.sh` builds the .debs
//! (`scripts/package.sh`), unpacks them into an empty root with `dpkg -x`, and runs
//! these tests with `VIBEMESH_INSTALL_ROOT` set to that root and `VIBEMESH_BIN` to its
//! `usr/bin/vibemesh`. Two agents from the installed files pair, join and open a
//! session; the installed relay serves the installed web client.
//!
//! Ignored in the plain `cargo test` run: there is no package to test there.

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use vibemesh_tests::{TIMEOUT, TestAgent, pair, stderr::StderrLog, vibemesh_bin};

/// The root the packages were unpacked into.
fn root() -> PathBuf {
    let root = std::env::var_os("VIBEMESH_INSTALL_ROOT")
        .expect("VIBEMESH_INSTALL_ROOT: run these through scripts/install-test.sh");
    PathBuf::from(root)
}

fn read(root: &Path, path: &str) -> String {
    std::fs::read_to_string(root.join(path))
        .unwrap_or_else(|e| panic!("the packages install {path}: {e}"))
}

#[test]
#[ignore = "needs the packages: scripts/install-test.sh"]
fn the_packages_install_what_a_user_runs_and_reads() {
    let root = root();
    for bin in [
        "vibemesh",
        "vibemesh-holder",
        "vibemesh-desktop",
        "vibemesh-relay",
    ] {
        let path = root.join("usr/bin").join(bin);
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o755, "{bin} is installed executable");
    }
    let version = Command::new(root.join("usr/bin/vibemesh"))
        .arg("--version")
        .output()
        .expect("run the installed vibemesh");
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(
        version.contains("(commit "),
        "--version names the commit: {version}"
    );

    let unit = read(&root, "usr/lib/systemd/user/vibemesh-agent.service");
    assert!(
        unit.contains("\nExecStart=/usr/bin/vibemesh agent\n"),
        "{unit}"
    );
    assert!(
        unit.contains("\nKillMode=process\n"),
        "upgrades keep sessions: {unit}"
    );
    let relay_unit = read(&root, "usr/lib/systemd/system/vibemesh-relay.service");
    assert!(
        relay_unit.contains("ExecStart=/usr/bin/vibemesh-relay"),
        "{relay_unit}"
    );
    assert!(
        relay_unit.contains("--web-dir /usr/share/vibemesh/web"),
        "{relay_unit}"
    );

    assert!(read(&root, "usr/share/man/man1/vibemesh.1").contains(".TH vibemesh 1"));
    assert!(read(&root, "usr/share/man/man1/vibemesh-open.1").contains("vibemesh\\-open"));
    let bash = read(&root, "usr/share/bash-completion/completions/vibemesh");
    assert!(bash.contains("complete -F _vibemesh"), "{bash}");
    assert!(
        read(&root, "usr/share/zsh/vendor-completions/_vibemesh").contains("#compdef vibemesh")
    );
    assert!(
        read(&root, "usr/share/fish/vendor_completions.d/vibemesh.fish")
            .contains("complete -c vibemesh")
    );

    let desktop = read(&root, "usr/share/applications/vibemesh.desktop");
    assert!(desktop.contains("\nExec=vibemesh-desktop\n"), "{desktop}");
    assert!(desktop.contains("\nIcon=vibemesh\n"), "{desktop}");
    assert!(read(&root, "usr/share/icons/hicolor/scalable/apps/vibemesh.svg").contains("<svg"));
}

#[test]
#[ignore = "needs the packages: scripts/install-test.sh"]
fn two_installed_agents_pair_join_and_open_a_session() {
    let root = root();
    let bin = vibemesh_bin();
    assert!(
        bin.starts_with(&root),
        "VIBEMESH_BIN ({}) is the installed vibemesh, under {}",
        bin.display(),
        root.display()
    );
    let laptop = TestAgent::start("laptop");
    let server = TestAgent::start("server");
    pair(&laptop, &server, "box", "owner");

    let id = laptop.open_detached(
        "box",
        Path::new("/tmp"),
        &["sh", "-c", "echo installed-and-running; exec sleep 600"],
    );
    // The session runs in the installed holder, not in-process or in a build's.
    let holder = server
        .holder_pid(&id)
        .expect("the session has a holder process");
    let exe = std::fs::read_link(format!("/proc/{holder}/exe")).expect("holder exe");
    assert_eq!(exe, root.join("usr/bin/vibemesh-holder"));

    let mut term = laptop.term(&["attach", "box", &id], 24, 80);
    term.wait_text("installed-and-running");
    laptop.ok(&["kill", "box", &id]);
    term.wait_exit();
}

#[test]
#[ignore = "needs the packages: scripts/install-test.sh"]
fn the_installed_relay_serves_the_installed_web_client() {
    let root = root();
    let mut relay = Command::new(root.join("usr/bin/vibemesh-relay"))
        .args(["--listen", "127.0.0.1:0", "--web-dir"])
        .arg(root.join("usr/share/vibemesh/web"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the installed relay");
    let log = StderrLog::follow(relay.stderr.take().expect("stderr"));
    let url = log
        .wait_for(TIMEOUT, |t| {
            let (_, rest) = t.split_once("vibemesh-relay is running at ")?;
            Some(rest.lines().next()?.trim().to_string())
        })
        .expect("the relay says where it runs");
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut conn = TcpStream::connect(&addr).expect("connect to the relay");
    write!(conn, "GET / HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("request");
    let mut page = String::new();
    conn.read_to_string(&mut page).expect("response");
    let _ = relay.kill();
    let _ = relay.wait();
    assert!(
        page.starts_with("HTTP/1.0 200") || page.starts_with("HTTP/1.1 200"),
        "{page}"
    );
    assert!(page.contains("<title>VibeMesh"), "{page}");
}
