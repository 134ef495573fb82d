//! The machines this phone paired with, kept in `machines.json` in the app's folder and
//! written atomically (temporary file, then rename) so a crash never loses the list.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use iroh::EndpointAddr;
use serde::{Deserialize, Serialize};
use vibemesh_core::{EndpointId, identity::write_private, proto::Role};

use crate::MeshError;

/// A paired machine as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Known {
    /// Its display name (the agent's own, made unique among ours).
    pub name: String,
    /// Its id, the agent's public key.
    pub id: EndpointId,
    /// Direct addresses from the ticket.
    pub addrs: Vec<SocketAddr>,
    /// Its relay, from the ticket.
    pub relay: Option<String>,
    /// Its other relays, from the ticket: where it goes when its relay fails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_relays: Vec<String>,
    /// What this phone may do there.
    pub role: Role,
    /// When it was paired, in milliseconds since the Unix epoch.
    pub added_ms: u64,
}

impl Known {
    /// Where to dial it.
    pub fn addr(&self) -> EndpointAddr {
        let relays = self.relay.iter().chain(&self.other_relays);
        vibemesh_core::client::dial_addr(self.id, &self.addrs, relays)
    }
}

/// The list, backed by its file.
#[derive(Debug)]
pub(crate) struct Store {
    path: PathBuf,
    machines: Vec<Known>,
}

impl Store {
    /// Loads `folder/machines.json`; a missing file is an empty list.
    pub fn load(folder: &Path) -> Result<Self, MeshError> {
        let path = folder.join("machines.json");
        let machines = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| MeshError::io(format!("{} is damaged: {e}", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(MeshError::io(format!("{}: {e}", path.display()))),
        };
        Ok(Self { path, machines })
    }

    /// Every machine, in the order they were paired.
    pub fn all(&self) -> &[Known] {
        &self.machines
    }

    /// The machine a name, an id or an id prefix (at least 4 characters) names.
    pub fn find(&self, what: &str) -> Result<Known, MeshError> {
        let what = what.trim();
        if let Some(m) = self.machines.iter().find(|m| m.name == what) {
            return Ok(m.clone());
        }
        let by_id: Vec<&Known> = self
            .machines
            .iter()
            .filter(|m| what.len() >= 4 && m.id.to_string().starts_with(what))
            .collect();
        match by_id.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(MeshError::not_found(format!(
                "no paired machine is called {what:?}"
            ))),
            _ => Err(MeshError::bad_request(format!(
                "{what:?} matches more than one machine"
            ))),
        }
    }

    /// Adds (or replaces, by id) a machine, giving it a name no other machine has, and
    /// saves the list.
    pub fn add(&mut self, mut m: Known) -> Result<Known, MeshError> {
        let taken = |name: &str, machines: &[Known]| {
            machines.iter().any(|k| k.name == name && k.id != m.id)
        };
        if taken(&m.name, &self.machines) {
            let short: String = m.id.to_string().chars().take(6).collect();
            m.name = format!("{}-{short}", m.name);
        }
        let mut next = self.machines.clone();
        match next.iter_mut().find(|k| k.id == m.id) {
            Some(k) => *k = m.clone(),
            None => next.push(m.clone()),
        }
        self.save(next)?;
        Ok(m)
    }

    /// Removes a machine and saves the list.
    pub fn remove(&mut self, id: &EndpointId) -> Result<(), MeshError> {
        let next = self
            .machines
            .iter()
            .filter(|k| k.id != *id)
            .cloned()
            .collect();
        self.save(next)
    }

    fn save(&mut self, next: Vec<Known>) -> Result<(), MeshError> {
        let bytes = serde_json::to_vec_pretty(&next)
            .map_err(|e| MeshError::other(format!("cannot encode the machine list: {e}")))?;
        write_private(&self.path, &bytes)
            .map_err(|e| MeshError::io(format!("{}: {e}", self.path.display())))?;
        self.machines = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(seed: u8, name: &str) -> Known {
        Known {
            name: name.into(),
            id: vibemesh_core::SecretKey::from_bytes(&[seed; 32]).public(),
            addrs: vec!["127.0.0.1:4000".parse().unwrap()],
            relay: None,
            other_relays: Vec::new(),
            role: Role::Owner,
            added_ms: 1,
        }
    }

    #[test]
    fn saves_reloads_renames_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::load(dir.path()).unwrap();
        assert!(s.all().is_empty());
        let a = s.add(known(1, "box")).unwrap();
        let b = s.add(known(2, "box")).unwrap();
        assert_eq!(a.name, "box");
        assert!(b.name.starts_with("box-"), "{}", b.name);
        let s2 = Store::load(dir.path()).unwrap();
        assert_eq!(s2.all(), s.all());
        assert_eq!(s2.find("box").unwrap().id, a.id);
        assert_eq!(s2.find(&b.id.to_string()[..8]).unwrap().id, b.id);
        assert!(matches!(s2.find("nope"), Err(MeshError::NotFound { .. })));
        s.remove(&a.id).unwrap();
        assert_eq!(Store::load(dir.path()).unwrap().all().len(), 1);
    }
}
