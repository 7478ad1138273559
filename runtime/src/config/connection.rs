//! A `[[connection]]` and its `[[connection.side]]` tables: which instance's project each
//! side syncs, the rule that serves it, its trigger, its rule settings and limits.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::rules::RuleLimits;

/// A `[[connection]]`: a named pairing of two sides, or of one side with a peer node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionConfig {
    pub(crate) name: String,
    /// Its sides (`[[connection.side]]`): two for a local connection, one for a remote one.
    #[serde(rename = "side")]
    pub sides: Vec<SideConfig>,
    /// A remote connection: the name of the side on the peer node; this node has one side.
    #[serde(default)]
    pub(crate) peer: Option<String>,
}

/// A `[[connection.side]]`: an instance's project and the rule that serves it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SideConfig {
    /// The side's name, unique within its connection.
    pub name: String,
    /// The key of an `[instances.*]` table.
    pub(crate) instance: String,
    /// The Jira project this side syncs.
    pub(crate) project: String,
    /// The rule component (hot-reloaded when the file changes).
    pub(crate) rule: PathBuf,
    /// JQL that puts matching issues under sync automatically.
    #[serde(default)]
    pub(crate) trigger: Option<String>,
    /// What `config(key)` answers inside the rule.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) limits: RuleLimits,
}
