//! CLI commands that act on a node's store and config without a running node: `sync KEY`,
//! `bulk` and a side's rule config. The store is SQLite in WAL mode, so these work while
//! the node runs; its workers see the change within a second. Status, errors, retry and
//! pause/resume go through the running node's admin API (`admin_client`).

use std::path::Path;
use std::sync::Arc;

use crate::config::NodeConfig;
use crate::store::{BulkRun, Store};
use crate::sync::detect::{self, DetectError};
use crate::sync::node::{Node, NodeError};

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Node(#[from] Box<NodeError>),
    #[error(transparent)]
    Config(#[from] Box<crate::config::ConfigError>),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Detect(#[from] Box<DetectError>),
    #[error("{0}")]
    Usage(String),
}

/// Opens the store named by the config, without loading rules or contacting Jira.
pub fn open_store(config: &NodeConfig) -> Result<Store, CommandError> {
    let data_dir = config.resolve_path(&config.node.data_dir);
    Ok(Store::open(&data_dir.join("twinsync.db"))?)
}

/// `twinsync sync KEY -C NAME`.
pub fn sync_one(
    config_path: &Path,
    connection: &str,
    key: &str,
) -> Result<Option<i64>, CommandError> {
    let node = Node::build(NodeConfig::load(config_path).map_err(Box::new)?).map_err(Box::new)?;
    Ok(detect::sync_one(&node, connection, key).map_err(Box::new)?)
}

/// `twinsync bulk -C NAME [--side S] [--jql Q]`; `progress` sees the run after each page.
pub async fn bulk(
    config_path: &Path,
    connection: &str,
    side: Option<&str>,
    jql: Option<&str>,
    progress: impl FnMut(&BulkRun),
) -> Result<BulkRun, CommandError> {
    let node: Arc<Node> =
        Node::build(NodeConfig::load(config_path).map_err(Box::new)?).map_err(Box::new)?;
    let sides: Vec<_> = node
        .pipeline
        .sides()
        .filter(|s| s.connection == connection)
        .cloned()
        .collect();
    if sides.is_empty() {
        return Err(CommandError::Usage(format!(
            "no connection named {connection:?}"
        )));
    }
    let side = match side {
        Some(name) => sides
            .iter()
            .find(|s| s.name == name)
            .cloned()
            .ok_or_else(|| {
                CommandError::Usage(format!("connection {connection:?} has no side {name:?}"))
            })?,
        // Default: the side with a trigger, else the first.
        None => sides
            .iter()
            .find(|s| s.trigger.is_some())
            .unwrap_or(&sides[0])
            .clone(),
    };
    let jql = match (jql, &side.trigger) {
        (Some(q), _) => q.to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => format!("project = \"{}\"", side.project),
    };
    Ok(detect::bulk(&node, &side, &jql, progress)
        .await
        .map_err(Box::new)?)
}

/// A side's rule config from the node's config, as `key=value` entries for `rules test`.
pub fn side_config(config_path: &Path, side: &str) -> Result<Vec<String>, CommandError> {
    let config = NodeConfig::load(config_path).map_err(|e| match e {
        crate::config::ConfigError::Read { path, source } => CommandError::Usage(format!(
            "--side reads the side's rule config from the node's config, but {} cannot be \
             read ({source}): name it with --node-config FILE (-c; the demo's is \
             <its data dir>/twinsync.toml), or give the entries with --config KEY=VALUE",
            path.display()
        )),
        e => CommandError::Config(Box::new(e)),
    })?;
    let (conn, name) = side.split_once('/').ok_or_else(|| {
        CommandError::Usage(format!("--side takes CONNECTION/SIDE, not {side:?}"))
    })?;
    let connection = config.connection(conn).ok_or_else(|| {
        CommandError::Usage(format!(
            "no connection named {conn:?} in {}",
            config_path.display()
        ))
    })?;
    let s = connection
        .sides
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| CommandError::Usage(format!("connection {conn:?} has no side {name:?}")))?;
    Ok(s.config.iter().map(|(k, v)| format!("{k}={v}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sides_rule_config_comes_from_the_node_config() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("twinsync.toml");
        std::fs::write(
            &path,
            r#"
[instances.x]
url = "http://127.0.0.1:1"
flavour = "dc"
token = { value = "t" }

[[connection]]
name = "c"

[[connection.side]]
name = "a"
instance = "x"
project = "A"
rule = "a.wasm"
config = { project = "A", "map.status.Done" = "Closed" }

[[connection.side]]
name = "b"
instance = "x"
project = "B"
rule = "b.wasm"
"#,
        )
        .expect("write");
        let mut entries = side_config(&path, "c/a").expect("side config");
        entries.sort();
        assert_eq!(entries, ["map.status.Done=Closed", "project=A"]);
        let err = side_config(&path, "c/z")
            .expect_err("no side z")
            .to_string();
        assert!(err.contains("no side \"z\""), "{err}");
        let err = side_config(&path, "c")
            .expect_err("not CONNECTION/SIDE")
            .to_string();
        assert!(err.contains("CONNECTION/SIDE"), "{err}");
        let err = side_config(&dir.path().join("none.toml"), "c/a")
            .expect_err("no config file")
            .to_string();
        assert!(
            err.contains("--node-config") && err.matches("os error 2").count() == 1,
            "{err}"
        );
    }
}
