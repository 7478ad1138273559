//! What makes a parsed config valid: names unique and known, sides that fit their
//! connection, listeners that do not clash, limits within bounds.

use std::net::SocketAddr;
use std::path::Path;

use super::secret::check_strong;
use super::{ConfigError, NodeConfig, SecretRef};

impl NodeConfig {
    pub(crate) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        if self.node.workers == 0 {
            return Err(invalid("node.workers must be at least 1".into()));
        }
        // Secrets written inline are checked here; those in files or the environment when
        // the node resolves them at start.
        let inline = std::iter::once(("node.admin_token".to_string(), &self.node.admin_token))
            .chain(self.instances.iter().map(|(name, inst)| {
                (
                    format!("instances.{name}.webhook_secret"),
                    &inst.webhook_secret,
                )
            }));
        for (key, secret) in inline {
            if let Some(SecretRef::Value(v)) = secret {
                check_strong(&key, v).map_err(|e| invalid(e.to_string()))?;
            }
        }
        for host in &self.node.admin_hosts {
            if host.is_empty() || host.contains(['/', ':', ' ']) {
                return Err(invalid(format!(
                    "node.admin_hosts: {host:?} is not a host name (give names without scheme or port)"
                )));
            }
        }
        let (public, admin) = (self.node.listen, self.node.admin_listen());
        if clash(admin, public) {
            return Err(invalid(format!(
                "node.admin_listen ({admin}) and node.listen ({public}) are one address: the \
                 admin API needs a listener of its own, away from the public one"
            )));
        }
        if let Some(peer) = self.node.peer_listen
            && (clash(peer, public) || clash(peer, admin))
        {
            return Err(invalid(format!(
                "node.peer_listen ({peer}) shares a port with node.listen or node.admin_listen"
            )));
        }
        let mut names = std::collections::BTreeSet::new();
        for c in &self.connections {
            if !names.insert(c.name.as_str()) {
                return Err(invalid(format!("connection {:?} is defined twice", c.name)));
            }
            if let Some(peer) = &c.peer {
                if c.sides.len() != 1 || c.sides[0].name == *peer {
                    return Err(invalid(format!(
                        "connection {:?} is remote (peer = {peer:?}): it needs exactly 1 [[connection.side]], not named like the peer's side",
                        c.name
                    )));
                }
                if self.node.peer_listen.is_none() {
                    return Err(invalid(format!(
                        "connection {:?} is remote: node.peer_listen must say where peers reach this node",
                        c.name
                    )));
                }
            } else if c.awaiting_peer {
                if c.sides.len() != 1 {
                    return Err(invalid(format!(
                        "connection {:?} waits for its peer: it needs exactly 1 side",
                        c.name
                    )));
                }
                if self.node.peer_listen.is_none() {
                    return Err(invalid(format!(
                        "connection {:?} is with another organisation: node.peer_listen must say where peers reach this node",
                        c.name
                    )));
                }
            } else if c.sides.len() != 2 {
                return Err(invalid(format!(
                    "connection {:?} has {} [[connection.side]] tables; a local connection needs exactly 2",
                    c.name,
                    c.sides.len()
                )));
            }
            if !c.is_remote() && c.sides[0].name == c.sides[1].name {
                return Err(invalid(format!(
                    "connection {:?}: both sides are named {:?}",
                    c.name, c.sides[0].name
                )));
            }
            if c.awaiting_peer && !self.from_store {
                return Err(invalid(format!(
                    "connection {:?}: awaiting_peer is the admin page's own mark; pair with `peer = \"<side>\"` instead",
                    c.name
                )));
            }
            for s in &c.sides {
                match (s.mode, &s.rule) {
                    (super::SideMode::File, None) => {
                        return Err(invalid(format!(
                            "connection {:?}, side {:?}: give the rule component (`rule = \"path.wasm\"`) or a stock mode (`mode = \"basic\"`)",
                            c.name, s.name
                        )));
                    }
                    // The store's view puts each stock or uploaded rule at its own file.
                    (mode, Some(_)) if mode != super::SideMode::File && !self.from_store => {
                        return Err(invalid(format!(
                            "connection {:?}, side {:?}: `rule` is only for mode \"file\"; mode {:?} brings its own rule",
                            c.name,
                            s.name,
                            mode.as_str()
                        )));
                    }
                    _ => {}
                }
                if !self.instances.contains_key(&s.instance) {
                    return Err(invalid(format!(
                        "connection {:?}, side {:?}: instance {:?} is not defined under [instances]",
                        c.name, s.name, s.instance
                    )));
                }
                if s.limits.memory_bytes == 0 || s.limits.fuel == 0 {
                    return Err(invalid(format!(
                        "connection {:?}, side {:?}: limits must be above zero",
                        c.name, s.name
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Whether two listeners would want the same socket (port 0 always gets a fresh one).
fn clash(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() != 0
        && a.port() == b.port()
        && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}
