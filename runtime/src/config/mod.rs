//! The node's TOML configuration: instances, connections and their sides, rules, limits, triggers, workers.
//!
//! Credentials are never written in the file itself by default: they are read
//! from environment variables or files named there, and never logged (their
//! `Debug` is redacted). A bad file gets an error naming the key and the line.
//!
//! This file holds the whole config, its errors and its loading; `node` the `[node]`
//! table, `instance` the Jira instances, `connection` the connections and their sides,
//! `secret` secrets given by reference, `check` what makes a parsed file valid.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod check;
mod connection;
mod instance;
mod node;
mod secret;
#[cfg(test)]
mod tests;

pub use connection::{ConnectionConfig, SideConfig, SideMode, SyncMethod, TriggerConfig};
pub(crate) use instance::{Flavour, InstanceConfig};
pub(crate) use node::TlsFiles;
pub use node::{DEFAULT_ADMIN_PORT, NodeSettings};
pub(crate) use secret::MIN_SECRET_CHARS;
pub use secret::SecretRef;

/// Why a node config cannot be used: unreadable, unparsable, invalid, or a secret missing or weak.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The file is not valid TOML for a node config.
    #[error("config {path}: {message}")]
    Parse {
        /// The config file.
        path: PathBuf,
        /// The parser's complaint, with its position.
        message: String,
    },
    /// The file parses but says something a node cannot do.
    #[error("config {path}: {message}")]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// What is wrong and where.
        message: String,
    },
    /// A secret names an environment variable that is not set.
    #[error("secret for {what}: environment variable {var} is not set")]
    MissingEnv {
        /// Which secret (e.g. an instance's token).
        what: String,
        /// The variable's name.
        var: String,
    },
    /// A secret names a file that cannot be read.
    #[error("secret for {what}: cannot read {path}: {source}")]
    SecretFile {
        /// Which secret.
        what: String,
        /// The file it names.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// An admin token or webhook secret is empty or too short.
    #[error(
        "{key} {problem}: it must be at least {min} characters; make one with \
         `openssl rand -hex 32`",
        min = MIN_SECRET_CHARS
    )]
    WeakSecret {
        /// The setting that holds it.
        key: String,
        /// Empty, or how short.
        problem: String,
    },
}

/// The whole node configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// The `[node]` table: listeners, data directory, workers, tokens.
    #[serde(default)]
    pub node: NodeSettings,
    #[serde(default)]
    pub(crate) instances: BTreeMap<String, InstanceConfig>,
    #[serde(default, rename = "connection")]
    pub(crate) connections: Vec<ConnectionConfig>,
    /// Where this file was read from; relative paths in it are relative to its directory.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// Whether the instances and connections are the store's (`setup::Stored::effective`)
    /// rather than the file's: then a connection may wait for its peer.
    #[serde(skip)]
    pub(crate) from_store: bool,
}

impl NodeConfig {
    /// A node's config with every default and nothing declared: what `twinsync node` runs
    /// without a file, its data directory relative to the working directory.
    pub fn defaults() -> Self {
        NodeConfig {
            node: NodeSettings::default(),
            instances: BTreeMap::new(),
            connections: Vec::new(),
            base_dir: PathBuf::from("."),
            from_store: false,
        }
    }

    /// Reads and checks the config file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base_dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Self::parse(&text, path, base_dir)
    }

    /// Parses and validates; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path, base_dir: PathBuf) -> Result<Self, ConfigError> {
        let mut config: NodeConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        config.base_dir = base_dir;
        config.validate(path)?;
        Ok(config)
    }

    /// The URL peers reach this node's peer endpoint at, if it has one.
    pub(crate) fn peer_url(&self) -> Option<String> {
        self.node
            .peer_url
            .clone()
            .or_else(|| self.node.peer_listen.map(|a| format!("https://{a}")))
    }

    /// The connection named `name`, if the config has one.
    pub fn connection(&self, name: &str) -> Option<&ConnectionConfig> {
        self.connections.iter().find(|c| c.name == name)
    }

    /// A path from the file, made relative to the file's directory.
    pub fn resolve_path(&self, p: &Path) -> PathBuf {
        self.base_dir.join(p)
    }
}
