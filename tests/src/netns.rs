//! Test hosts in network namespaces this test creates (needs root and `ip`): an agent
//! behind a veth link the test takes down and brings back, or two hosts alone on a link
//! of their own (a LAN with nothing else on it).

use std::{path::Path, process::Command};

use crate::TestAgent;

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A namespace with one veth link to ours (or to another namespace); deleted on drop.
pub struct Netns {
    /// The namespace's name.
    pub name: String,
    /// Its interface on the link.
    peer_if: String,
    /// Our end of the link, when it is linked to us.
    host_if: Option<String>,
    /// The address of its side of the link.
    pub ns_ip: String,
}

impl Netns {
    /// A fresh namespace, or `None` where this process may not make one (not root).
    pub fn create(tag: &str) -> Option<Self> {
        let id = std::process::id();
        let salt = tag
            .bytes()
            .fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(b.into()));
        let net = format!("10.{}.{}", 100 + (id >> 8) % 100, (id + salt) % 250);
        let host_if = format!("vh{tag}{id}");
        let peer_if = format!("vn{tag}{id}");
        let ns = Self {
            name: format!("vm{tag}-{id}"),
            peer_if: peer_if.clone(),
            host_if: Some(host_if.clone()),
            ns_ip: format!("{net}.2"),
        };
        let ok = ip(&["netns", "add", &ns.name])
            && ip(&["-n", &ns.name, "link", "set", "lo", "up"])
            && ip(&[
                "link", "add", &host_if, "type", "veth", "peer", "name", &peer_if,
            ])
            && ip(&["link", "set", &peer_if, "netns", &ns.name])
            && ip(&["addr", "add", &format!("{net}.1/24"), "dev", &host_if])
            && ip(&["link", "set", &host_if, "up"])
            && ip(&[
                "-n",
                &ns.name,
                "addr",
                "add",
                &format!("{net}.2/24"),
                "dev",
                &peer_if,
            ])
            && ip(&["-n", &ns.name, "link", "set", &peer_if, "up"]);
        // Dropped (and cleaned up) if any step failed.
        ok.then_some(ns)
    }

    /// Two namespaces alone on one link (10.x.y.2 and 10.x.y.3 on a /24) whose default
    /// route points at a router (10.x.y.1) that is not there: a LAN whose internet is
    /// down. `None` where this process may not make them.
    pub fn lan_pair(tag: &str) -> Option<(Self, Self)> {
        let id = std::process::id();
        let net = format!("10.{}.{}", 200 + (id >> 8) % 50, id % 250);
        let make = |side: &str, host: u8| Self {
            name: format!("vm{tag}{side}-{id}"),
            peer_if: format!("v{tag}{side}{id}"),
            host_if: None,
            ns_ip: format!("{net}.{host}"),
        };
        let (a, b) = (make("a", 2), make("b", 3));
        let up = |ns: &Self| {
            ip(&["-n", &ns.name, "link", "set", "lo", "up"])
                && ip(&[
                    "-n",
                    &ns.name,
                    "addr",
                    "add",
                    &format!("{}/24", ns.ns_ip),
                    "dev",
                    &ns.peer_if,
                ])
                && ip(&["-n", &ns.name, "link", "set", &ns.peer_if, "up"])
                // mDNS is sent by the default route's interface, as on any LAN host.
                && ip(&["-n", &ns.name, "route", "add", "default", "via", &format!("{net}.1")])
        };
        let ok = ip(&["netns", "add", &a.name])
            && ip(&["netns", "add", &b.name])
            && ip(&[
                "link", "add", &a.peer_if, "netns", &a.name, "type", "veth", "peer", "name",
                &b.peer_if, "netns", &b.name,
            ])
            && up(&a)
            && up(&b);
        ok.then_some((a, b))
    }

    /// Moves this namespace's side of the link to another address on the same /24 (as a
    /// DHCP lease change would): the old address is gone.
    pub fn change_ip(&mut self, host: u8) {
        let (net, _) = self.ns_ip.rsplit_once('.').expect("an IPv4 address");
        let new = format!("{net}.{host}");
        let ns = self.name.clone();
        let addr = |verb: &str, a: &str| {
            ip(&[
                "-n",
                &ns,
                "addr",
                verb,
                &format!("{a}/24"),
                "dev",
                &self.peer_if,
            ])
        };
        // In this order: deleting a subnet's first address deletes the others too (and
        // the default route through it, which comes back with the new address).
        let router = format!("{net}.1");
        assert!(
            addr("del", &self.ns_ip)
                && addr("add", &new)
                && ip(&["-n", &ns, "route", "add", "default", "via", &router]),
            "change the address of {ns}"
        );
        self.ns_ip = new;
    }

    /// Makes this namespace's link slow: UDP in and out of it waits `each_way` in each
    /// direction (see [`crate::delay`]).
    pub fn delay_udp(&self, each_way: std::time::Duration) -> Result<crate::delay::Delay, String> {
        crate::delay::Delay::udp(&self.name, &self.peer_if, each_way)
    }

    /// Takes the link down or brings it back.
    pub fn link(&self, up: bool) {
        let state = if up { "up" } else { "down" };
        let host_if = self.host_if.as_deref().expect("a link to this namespace");
        assert!(ip(&["link", "set", host_if, state]), "link {state}");
    }

    /// An agent named `name` started inside the namespace on a fresh home, listening on
    /// its side of the link at `port` (0: any), with `extra` config lines.
    pub fn agent(&self, name: &str, port: u16, extra: &str) -> TestAgent {
        let home = tempfile::Builder::new().prefix("vm-").tempdir().unwrap();
        self.agent_on(home, name, port, extra)
    }

    /// Starts an agent on `home` (a fresh one, or a restart), with its config rewritten to
    /// listen on this namespace's current address at `port`, with `extra` config lines.
    pub fn agent_on(
        &self,
        home: tempfile::TempDir,
        name: &str,
        port: u16,
        extra: &str,
    ) -> TestAgent {
        std::fs::write(
            home.path().join("config.toml"),
            format!(
                "name = \"{name}\"\nrelay = \"none\"\nlisten = [\"{}:{port}\"]\n{extra}\n",
                self.ns_ip
            ),
        )
        .unwrap();
        self.spawn(home, name)
    }

    /// An agent in the namespace that reaches the world through `relays` only (a
    /// `relay = [...]` list), listening on its side of the link.
    pub fn agent_relayed(&self, name: &str, relays: &[String]) -> TestAgent {
        let home = tempfile::Builder::new().prefix("vm-").tempdir().unwrap();
        let list: Vec<String> = relays.iter().map(|r| format!("\"{r}\"")).collect();
        std::fs::write(
            home.path().join("config.toml"),
            format!(
                "name = \"{name}\"\nrelay = [{}]\nlisten = [\"{}:0\"]\nlan_discovery = false\n",
                list.join(", "),
                self.ns_ip
            ),
        )
        .unwrap();
        self.spawn(home, name)
    }

    /// Our side's address on the link to this namespace.
    pub fn host_ip(&self) -> String {
        let (net, _) = self.ns_ip.rsplit_once('.').expect("an IPv4 address");
        format!("{net}.1")
    }

    /// Runs `iptables args` inside the namespace.
    pub fn iptables(&self, args: &[&str]) -> bool {
        Command::new("ip")
            .args(["netns", "exec", &self.name, "iptables"])
            .args(args)
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Starts the agent on an existing home inside the namespace (a restart). Its
    /// holders stay in there with it.
    pub fn spawn(&self, home: tempfile::TempDir, name: &str) -> TestAgent {
        let wrapper = home.path().join("in-netns.sh");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nexec ip netns exec {} {} \"$@\"\n",
                self.name,
                crate::vibemesh_bin().display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
        TestAgent::spawn_bin(home, name, Path::new(&wrapper), &[])
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Some(host_if) = &self.host_if {
            ip(&["link", "del", host_if]);
        }
        ip(&["netns", "del", &self.name]);
    }
}
