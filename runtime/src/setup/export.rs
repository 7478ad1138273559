//! The node's whole configuration as TOML a node can start from: `[node]`, the instances,
//! the connections with their sides, rules, settings and triggers. Secrets appear as
//! references only; one written inline in the original file is replaced by an environment
//! reference named in a comment, never printed.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Stored;
use crate::config::{
    ConnectionConfig, InstanceConfig, NodeConfig, NodeSettings, SecretRef, TriggerConfig,
};

#[derive(Serialize)]
struct Exported<'a> {
    node: &'a NodeSettings,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    instances: BTreeMap<String, InstanceConfig>,
    #[serde(rename = "connection", skip_serializing_if = "Vec::is_empty")]
    connections: Vec<ConnectionConfig>,
}

/// The TOML for `base`'s `[node]` and the store's setup `stored`.
pub fn export(base: &NodeConfig, stored: &Stored) -> String {
    let mut notes = Vec::new();
    let mut hide = |secret: &SecretRef, key: String| -> SecretRef {
        match secret {
            SecretRef::Value(_) => {
                let var = format!(
                    "TWINSYNC_{}",
                    key.to_ascii_uppercase()
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                        .collect::<String>()
                );
                notes.push(format!(
                    "# {key} was written inline; it is not exported: set {var} to its value"
                ));
                SecretRef::Env(var)
            }
            other => other.clone(),
        }
    };
    let mut node = base.node.clone();
    node.admin_token = node
        .admin_token
        .as_ref()
        .map(|t| hide(t, "node.admin_token".into()));
    let instances = stored
        .instances
        .iter()
        .map(|(name, (inst, _))| {
            let mut inst = inst.clone();
            inst.token = hide(&inst.token, format!("instances.{name}.token"));
            inst.webhook_secret = inst
                .webhook_secret
                .as_ref()
                .map(|s| hide(s, format!("instances.{name}.webhook_secret")));
            (name.clone(), inst)
        })
        .collect();
    let connections = stored
        .connections
        .values()
        .map(|(conn, _)| {
            let mut conn = conn.clone();
            for side in &mut conn.sides {
                side.triggers = stored
                    .triggers
                    .iter()
                    .filter(|t| t.connection == conn.name && t.side == side.name)
                    .map(|t| TriggerConfig {
                        jql: t.jql.clone(),
                        note: t.note.clone(),
                        active: t.active,
                    })
                    .collect();
            }
            conn
        })
        .collect();
    let exported = Exported {
        node: &node,
        instances,
        connections,
    };
    let body = toml::to_string_pretty(&exported)
        .unwrap_or_else(|e| format!("# the configuration cannot be written as TOML: {e}\n"));
    let mut out =
        String::from("# twinsync node configuration, exported by `twinsync config export`\n");
    for n in notes {
        out.push_str(&n);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&body);
    out
}
