//! The node's configuration as data: Jira instances, connections (their sides and rules)
//! and triggers live in the store, where the admin page changes them on a running node.
//!
//! The TOML file still works: at start, what it declares is taken into the store marked
//! "from config" (`import`); the node then runs on the store's view (`effective`).
//! Every change is checked as a whole config before it is written, so the store never
//! holds a setup the node could not start from. `export` prints it back as TOML, secrets
//! as references.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{ConfigError, ConnectionConfig, InstanceConfig, NodeConfig, SideMode};
use crate::store::{SetupKind, SetupOrigin, SetupRow, Store, StoreError, Trigger};

mod export;
mod import;
pub mod visual;

pub use export::export;
pub(crate) use import::import;

/// Why the node's setup cannot be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored row is not a valid definition (the store was edited by hand, or is damaged).
    #[error("stored {kind} {name:?} is damaged: {message}")]
    Corrupt {
        /// Instance or connection.
        kind: &'static str,
        /// Its name.
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// The change would leave a config the node cannot run.
    #[error(transparent)]
    Invalid(#[from] Box<ConfigError>),
    /// A name is already taken.
    #[error("{kind} {name:?} already exists")]
    Exists {
        /// Instance, connection or side.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// Nothing has this name.
    #[error("there is no {kind} named {name:?}")]
    Unknown {
        /// Instance, connection, side or trigger.
        kind: &'static str,
        /// The name asked for.
        name: String,
    },
    /// The change is refused for a reason given in full.
    #[error("{0}")]
    Refused(String),
    /// A file the setup keeps (a page-entered secret, a side's rule) cannot be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The store's instances and connections as config types, with where each came from.
#[derive(Debug, Clone, Default)]
pub struct Stored {
    /// Instances by name, with their origin.
    pub(crate) instances: BTreeMap<String, (InstanceConfig, SetupOrigin)>,
    /// Connections by name, with their origin.
    pub(crate) connections: BTreeMap<String, (ConnectionConfig, SetupOrigin)>,
    /// Every trigger.
    pub triggers: Vec<Trigger>,
}

impl Stored {
    /// Reads the store's setup.
    pub fn read(store: &Store) -> Result<Stored, SetupError> {
        let mut out = Stored::default();
        for row in store.setup_rows(SetupKind::Instance)? {
            let inst: InstanceConfig = parse(&row, "instance")?;
            out.instances.insert(row.name.clone(), (inst, row.origin));
        }
        for row in store.setup_rows(SetupKind::Connection)? {
            let conn: ConnectionConfig = parse(&row, "connection")?;
            if conn.name != row.name {
                return Err(SetupError::Corrupt {
                    kind: "connection",
                    name: row.name,
                    message: format!("its body names it {:?}", conn.name),
                });
            }
            out.connections.insert(row.name.clone(), (conn, row.origin));
        }
        out.triggers = store.triggers(None)?;
        Ok(out)
    }

    /// The config a node runs on: `[node]` from `base`, the rest from here, each side's
    /// trigger the union of its active triggers and each stock or uploaded rule at its file.
    pub fn effective(&self, base: &NodeConfig) -> NodeConfig {
        let mut config = base.clone();
        config.instances = self
            .instances
            .iter()
            .map(|(name, (inst, _))| (name.clone(), inst.clone()))
            .collect();
        let data_dir = config.resolve_path(&config.node.data_dir);
        config.connections = self
            .connections
            .values()
            .map(|(conn, _)| {
                let mut conn = conn.clone();
                for side in &mut conn.sides {
                    let jql: Vec<&str> = self
                        .triggers
                        .iter()
                        .filter(|t| t.active && t.connection == conn.name && t.side == side.name)
                        .map(|t| t.jql.as_str())
                        .collect();
                    side.trigger = match jql.as_slice() {
                        [] => None,
                        [one] => Some((*one).to_string()),
                        many => Some(
                            many.iter()
                                .map(|j| format!("({j})"))
                                .collect::<Vec<_>>()
                                .join(" OR "),
                        ),
                    };
                    if side.mode != SideMode::File {
                        side.rule = Some(side_rule_file(&data_dir, &conn.name, &side.name));
                    }
                }
                conn
            })
            .collect();
        config.from_store = true;
        config
    }

    /// Where a connection came from, if it exists.
    pub fn connection(&self, name: &str) -> Option<&(ConnectionConfig, SetupOrigin)> {
        self.connections.get(name)
    }
}

fn parse<T: serde::de::DeserializeOwned>(
    row: &SetupRow,
    kind: &'static str,
) -> Result<T, SetupError> {
    serde_json::from_str(&row.body).map_err(|e| SetupError::Corrupt {
        kind,
        name: row.name.clone(),
        message: e.to_string(),
    })
}

/// `twinsync config export`: the file's declarations taken into the node's store (as the node
/// does at start), and the whole setup printed as TOML.
pub fn export_node(config: &NodeConfig) -> Result<String, SetupError> {
    let store =
        crate::peer::enroll::open_store(config).map_err(|e| SetupError::Refused(e.to_string()))?;
    import(&store, config)?;
    Ok(export(config, &Stored::read(&store)?))
}

/// The file a stock-mode or script-mode side's rule lives in: one per side, so uploading to
/// one side never touches another's.
pub fn side_rule_file(data_dir: &Path, connection: &str, side: &str) -> PathBuf {
    data_dir
        .join("rules")
        .join(file_safe(connection))
        .join(format!("{}.wasm", file_safe(side)))
}

/// A name made safe as one path component (names come from the admin API).
pub(crate) fn file_safe(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            // '.' stays: `check_name` names never start with one, and `a.b` is not `a_b`.
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // A name from the config file is not checked: `..` or `.x` never becomes a path step.
    if safe.is_empty() || safe.starts_with('.') {
        format!("_{safe}")
    } else {
        safe
    }
}

/// A hash of a definition as JSON, to tell when a TOML entry changed.
pub(crate) fn hash_of(value: &impl serde::Serialize) -> String {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_vec(value).unwrap_or_default();
    hex::encode(Sha256::digest(json))
}

/// A config name (instance, connection, side): what the admin API accepts.
pub fn check_name(kind: &'static str, name: &str) -> Result<(), SetupError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(SetupError::Refused(format!(
            "{kind} name {name:?} must be 1 to 64 letters, digits, '-', '_' or '.'"
        )))
    }
}

/// Checks the setup `next` would make, as a whole config on top of `base`, before it is written.
pub(crate) fn check(base: &NodeConfig, next: &Stored) -> Result<(), SetupError> {
    let config = next.effective(base);
    config
        .validate(Path::new("the node's setup"))
        .map_err(|e| SetupError::Invalid(Box::new(e)))
}

/// Writes an instance or connection row from the page (or replaces the page's own edit).
pub(crate) fn put(
    store: &Store,
    kind: SetupKind,
    name: &str,
    body: &impl serde::Serialize,
    origin: SetupOrigin,
    config_hash: Option<String>,
) -> Result<(), SetupError> {
    let body = serde_json::to_string(body).map_err(|e| SetupError::Refused(e.to_string()))?;
    store.put_setup_row(&SetupRow {
        kind,
        name: name.to_string(),
        body,
        origin,
        config_hash,
    })?;
    Ok(())
}

/// Keeps a secret typed into the page in a 0600 file of its own and returns its reference.
pub(crate) fn keep_secret(
    data_dir: &Path,
    what: &str,
    value: &str,
) -> Result<crate::config::SecretRef, SetupError> {
    use std::io::Write as _;
    let dir = data_dir.join("secrets");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SetupError::Io { path, source }
    };
    crate::private_fs::create_dir(&dir).map_err(io(&dir))?;
    let path = dir.join(format!("{}.secret", file_safe(what)));
    let tmp = dir.join(format!(".{}.secret.tmp", file_safe(what)));
    let mut file = crate::private_fs::create_file(&tmp).map_err(io(&tmp))?;
    file.write_all(value.as_bytes()).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    Ok(crate::config::SecretRef::File(path))
}
