//! NAT traversal, proved in network namespaces this test creates and removes: two
//! private networks behind separate NATs and a "public" network holding
//! `vibemesh-relay` (HTTPS + QUIC address discovery). An agent behind one NAT and a
//! client agent behind the other pair through the relay, open a session, and the
//! connection becomes direct. When direct UDP is then blocked on both NATs, the relay
//! takes over the live session (the test prints how long that took), and a second pair
//! works through the relay alone.
//!
//! The NATs are MASQUERADE plus a home router's filter: unsolicited WAN packets are
//! dropped in INPUT (without that rule MASQUERADE changes the port and hole punching
//! fails; see shared/research/iroh.md §4). Needs root and `ip`/`iptables`; elsewhere it
//! prints why it did not run.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
};

use vibemesh_tests::{SHELL, Term, TestAgent, stderr::StderrLog};

const RELAY_IP: &str = "198.51.100.10";

fn sh(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The namespaces, removed again on drop.
struct Net {
    p: String,
}

impl Net {
    fn ns(&self, n: &str) -> String {
        format!("{}-{n}", self.p)
    }

    fn x(&self, n: &str, args: &[&str]) -> Result<(), String> {
        let ns = self.ns(n);
        let mut full = vec!["ip", "netns", "exec", ns.as_str()];
        full.extend_from_slice(args);
        sh(&full)
    }

    fn build() -> Result<Self, String> {
        let net = Net {
            p: format!("vm{}", std::process::id()),
        };
        for n in ["inet", "relay", "natA", "natB", "lanA", "lanB"] {
            sh(&["ip", "netns", "add", &net.ns(n)])?;
            net.x(n, &["ip", "link", "set", "lo", "up"])?;
            net.x(n, &["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])?;
        }
        let inet = net.ns("inet");
        sh(&["ip", "-n", &inet, "link", "add", "br0", "type", "bridge"])?;
        sh(&[
            "ip",
            "-n",
            &inet,
            "addr",
            "add",
            "198.51.100.254/24",
            "dev",
            "br0",
        ])?;
        sh(&["ip", "-n", &inet, "link", "set", "br0", "up"])?;
        for (n, ifname, ip) in [
            ("relay", "r-wan", RELAY_IP),
            ("natA", "a-wan", "198.51.100.1"),
            ("natB", "b-wan", "198.51.100.2"),
        ] {
            let ns = net.ns(n);
            let peer = format!("{ifname}-p");
            sh(&[
                "ip", "link", "add", ifname, "netns", &ns, "type", "veth", "peer", "name", &peer,
                "netns", &inet,
            ])?;
            sh(&[
                "ip", "-n", &inet, "link", "set", &peer, "master", "br0", "up",
            ])?;
            sh(&[
                "ip",
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{ip}/24"),
                "dev",
                ifname,
            ])?;
            sh(&["ip", "-n", &ns, "link", "set", ifname, "up"])?;
            sh(&[
                "ip",
                "-n",
                &ns,
                "route",
                "add",
                "default",
                "via",
                "198.51.100.254",
            ])?;
        }
        for (nat, lan, prefix, wan) in [
            ("natA", "lanA", "10.0.1", "a-wan"),
            ("natB", "lanB", "10.0.2", "b-wan"),
        ] {
            let (nns, lns) = (net.ns(nat), net.ns(lan));
            sh(&[
                "ip", "link", "add", "eth0", "netns", &lns, "type", "veth", "peer", "name", "lan",
                "netns", &nns,
            ])?;
            sh(&[
                "ip",
                "-n",
                &nns,
                "addr",
                "add",
                &format!("{prefix}.1/24"),
                "dev",
                "lan",
            ])?;
            sh(&["ip", "-n", &nns, "link", "set", "lan", "up"])?;
            sh(&[
                "ip",
                "-n",
                &lns,
                "addr",
                "add",
                &format!("{prefix}.2/24"),
                "dev",
                "eth0",
            ])?;
            sh(&["ip", "-n", &lns, "link", "set", "eth0", "up"])?;
            sh(&[
                "ip",
                "-n",
                &lns,
                "route",
                "add",
                "default",
                "via",
                &format!("{prefix}.1"),
            ])?;
            net.x(nat, &["sysctl", "-qw", "net.ipv4.ip_forward=1"])?;
            net.x(
                nat,
                &[
                    "iptables",
                    "-t",
                    "nat",
                    "-A",
                    "POSTROUTING",
                    "-o",
                    wan,
                    "-j",
                    "MASQUERADE",
                ],
            )?;
            for chain in ["FORWARD", "INPUT"] {
                net.x(
                    nat,
                    &[
                        "iptables",
                        "-A",
                        chain,
                        "-i",
                        wan,
                        "-m",
                        "conntrack",
                        "--ctstate",
                        "ESTABLISHED,RELATED",
                        "-j",
                        "ACCEPT",
                    ],
                )?;
                net.x(nat, &["iptables", "-A", chain, "-i", wan, "-j", "DROP"])?;
            }
        }
        Ok(net)
    }

    /// Drops UDP leaving each NAT for anything but the relay: only the relay path is left.
    fn block_direct_udp(&self) -> Result<(), String> {
        for (nat, wan) in [("natA", "a-wan"), ("natB", "b-wan")] {
            self.x(
                nat,
                &[
                    "iptables", "-I", "FORWARD", "-o", wan, "-p", "udp", "!", "-d", RELAY_IP, "-j",
                    "DROP",
                ],
            )?;
        }
        Ok(())
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for n in ["lanA", "lanB", "natA", "natB", "relay", "inet"] {
            let _ = sh(&["ip", "netns", "del", &self.ns(n)]);
        }
    }
}

/// The relay process in its namespace; killed on drop.
struct RelayProc(Child);

impl Drop for RelayProc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_relay(net: &Net, dir: &Path) -> RelayProc {
    let cert = rcgen::generate_simple_self_signed(vec![RELAY_IP.to_string()]).expect("cert");
    std::fs::write(dir.join("cert.pem"), cert.cert.pem()).expect("write cert");
    std::fs::write(dir.join("key.pem"), cert.signing_key.serialize_pem()).expect("write key");
    let bin = vibemesh_tests::vibemesh_bin().with_file_name("vibemesh-relay");
    let mut child = Command::new("ip")
        .args(["netns", "exec", &net.ns("relay")])
        .arg(bin)
        .args([
            "--listen",
            &format!("{RELAY_IP}:443"),
            "--quic",
            &format!("{RELAY_IP}:7842"),
        ])
        .arg("--cert")
        .arg(dir.join("cert.pem"))
        .arg("--key")
        .arg(dir.join("key.pem"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start vibemesh-relay");
    let log = StderrLog::follow(child.stderr.take().expect("stderr"));
    assert!(
        log.wait_line(vibemesh_tests::TIMEOUT, "is running"),
        "the relay did not start:\n{}",
        log.text()
    );
    RelayProc(child)
}

fn agent(net: &Net, lan: &str, name: &str, ca: &Path) -> TestAgent {
    let home = tempfile::Builder::new()
        .prefix("vm-nat-")
        .tempdir()
        .expect("tempdir");
    std::fs::write(
        home.path().join("config.toml"),
        format!("name = \"{name}\"\nrelay = \"https://{RELAY_IP}/\"\n"),
    )
    .expect("config");
    let ca = ca.to_str().expect("utf-8 path");
    TestAgent::spawn_in_netns(home, name, &net.ns(lan), &[("VIBEMESH_RELAY_CA", ca)])
}

/// Waits for `client`'s connection to `peer` to be carried by `path` (pushed path
/// changes, not polling); returns the CLI's line, which says how long it took.
fn wait_path(client: &TestAgent, peer: &str, path: &str) -> String {
    let out = client.cli(&["wait-path", peer, path, "--timeout", "30"]);
    assert!(
        out.status.success(),
        "{peer} never went {path}: {}\n--- client ---\n{}",
        String::from_utf8_lossy(&out.stderr),
        client.log()
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// How `client` reaches its peer `peer` now: `direct` or `relay`.
fn path_to(client: &TestAgent, peer: &str) -> String {
    let status = client.json(&["status"]);
    status["peers"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == peer))
        .and_then(|p| p["path"].as_str())
        .unwrap_or("none")
        .to_string()
}

/// Pairs `client` with `server` through the relay, opens a shell there, types a command
/// and sees its output: what a user does. Returns the open terminal.
fn pair_and_use(client: &TestAgent, server: &TestAgent, name: &str) -> Term {
    let ticket = server.ticket(&[]);
    client.ok(&["join", &ticket, "--name", name]);
    let mut args = vec!["open", name, "--"];
    args.extend_from_slice(SHELL);
    let mut term = client.term(&args, 24, 80);
    term.line("echo through$((40+2))nat");
    term.wait_text("through42nat");
    term
}

#[test]
fn agents_behind_two_nats_go_direct_and_fall_back_to_the_relay() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("SKIPPED the NAT test: it needs root to create network namespaces");
        return;
    }
    let net = match Net::build() {
        Ok(n) => n,
        Err(e) => {
            eprintln!("SKIPPED the NAT test: network namespaces are not allowed here ({e})");
            return;
        }
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let _relay = start_relay(&net, dir.path());
    let ca = dir.path().join("cert.pem");

    // Case 1: hole punching through both NATs.
    let server = agent(&net, "lanA", "nat-srv", &ca);
    let client = agent(&net, "lanB", "nat-client", &ca);
    let mut term = pair_and_use(&client, &server, "srv");
    eprintln!("two NATs: {}", wait_path(&client, "srv", "direct"));

    // Case 2: the direct path dies under a live session (a NAT forgets the mapping, a
    // firewall changes): the relay takes over and the same terminal goes on.
    net.block_direct_udp().expect("block direct UDP");
    eprintln!("direct path lost: {}", wait_path(&client, "srv", "relay"));
    term.line("echo after$((1+1))failover");
    term.wait_text("after2failover");

    // Case 3: no direct UDP between the NATs; a new pair works through the relay.
    let server2 = agent(&net, "lanA", "nat-srv2", &ca);
    let client2 = agent(&net, "lanB", "nat-client2", &ca);
    pair_and_use(&client2, &server2, "srv2");
    let path = path_to(&client2, "srv2");
    assert_eq!(
        path, "relay",
        "direct UDP is blocked, so only the relay can carry it"
    );
    eprintln!("direct UDP blocked: the session works, path {path}");
}
