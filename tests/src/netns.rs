//! Test hosts in network namespaces this test creates (needs root and `ip`): an agent
//! behind a veth link the test takes down and brings back.

use std::{path::Path, process::Command};

use crate::TestAgent;

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A namespace with one veth link to ours; deleted on drop.
pub struct Netns {
    /// The namespace's name.
    pub name: String,
    host_if: String,
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
        let ns = Self {
            name: format!("vm{tag}-{id}"),
            host_if: format!("vh{tag}{id}"),
            ns_ip: format!("{net}.2"),
        };
        let peer_if = format!("vn{tag}{id}");
        let ok = ip(&["netns", "add", &ns.name])
            && ip(&["-n", &ns.name, "link", "set", "lo", "up"])
            && ip(&[
                "link",
                "add",
                &ns.host_if,
                "type",
                "veth",
                "peer",
                "name",
                &peer_if,
            ])
            && ip(&["link", "set", &peer_if, "netns", &ns.name])
            && ip(&["addr", "add", &format!("{net}.1/24"), "dev", &ns.host_if])
            && ip(&["link", "set", &ns.host_if, "up"])
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

    /// Takes the link down or brings it back.
    pub fn link(&self, up: bool) {
        let state = if up { "up" } else { "down" };
        assert!(ip(&["link", "set", &self.host_if, state]), "link {state}");
    }

    /// An agent named `name` started inside the namespace on a fresh home, listening on
    /// its side of the link at `port` (0: any), with `extra` config lines.
    pub fn agent(&self, name: &str, port: u16, extra: &str) -> TestAgent {
        let home = tempfile::Builder::new().prefix("vm-").tempdir().unwrap();
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
        ip(&["link", "del", &self.host_if]);
        ip(&["netns", "del", &self.name]);
    }
}
