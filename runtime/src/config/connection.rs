//! A `[[connection]]` and its `[[connection.side]]` tables: which instance's project each
//! side syncs, the rule that serves it, its trigger, its rule settings and limits.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::rules::RuleLimits;

/// A `[[connection]]`: a named pairing of two sides, or of one side with a peer node.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionConfig {
    pub(crate) name: String,
    /// Its sides (`[[connection.side]]`): two for a local connection, one for a remote one.
    #[serde(rename = "side")]
    pub sides: Vec<SideConfig>,
    /// A remote connection: the name of the side on the peer node; this node has one side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) peer: Option<String>,
    /// A remote connection made in the admin page, waiting for its invitation to be accepted
    /// (it has one side and no `peer` yet). Never written by hand.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) awaiting_peer: bool,
}

impl ConnectionConfig {
    /// The connection's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the other side lives on a peer node (paired, or waiting for its invitation).
    pub(crate) fn is_remote(&self) -> bool {
        self.peer.is_some() || self.awaiting_peer
    }
}

/// Where a side's rule comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SideMode {
    /// The component file named by `rule`, hot-reloaded when it changes.
    #[default]
    File,
    /// The stock `basic` rule, its fields switched with the `send` and `receive` settings.
    Basic,
    /// The stock `mapping` rule, configured by its settings.
    Visual,
    /// A component the admin uploads in the page (the stock `basic` rule until the first).
    Script,
}

impl SideMode {
    /// The stock rule this mode starts from, if any: Script mode starts from `basic` (the
    /// starting point `twinsync rules export basic` gives) until a component is uploaded.
    pub(crate) fn stock_rule(self) -> Option<&'static str> {
        match self {
            SideMode::Basic | SideMode::Script => Some("basic"),
            SideMode::Visual => Some("mapping"),
            SideMode::File => None,
        }
    }

    /// Its name as the config and the admin API write it.
    pub fn as_str(self) -> &'static str {
        match self {
            SideMode::File => "file",
            SideMode::Basic => "basic",
            SideMode::Visual => "visual",
            SideMode::Script => "script",
        }
    }
}

/// How this side's changes cross to the other side: the sync method of its outgoing direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncMethod {
    /// Webhooks, the poller and triggers send changes as they happen.
    #[default]
    Automatic,
    /// Only an admin's request sends: "sync this issue" and bulk.
    Manual,
    /// Nothing crosses this way; changes made meanwhile cross when the admin asks after
    /// enabling it again (catch-up).
    Disabled,
}

impl SyncMethod {
    /// Its name as the config and the admin API write it.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncMethod::Automatic => "automatic",
            SyncMethod::Manual => "manual",
            SyncMethod::Disabled => "disabled",
        }
    }

    /// Whether an outgoing event with this cause may send under this method.
    pub(crate) fn sends(self, cause: crate::model::SyncCause) -> bool {
        use crate::model::SyncCause;
        match self {
            SyncMethod::Automatic => true,
            SyncMethod::Manual => matches!(cause, SyncCause::Manual | SyncCause::Bulk),
            SyncMethod::Disabled => false,
        }
    }
}

/// A `[[connection.side]]`: an instance's project and the rule that serves it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SideConfig {
    /// The side's name, unique within its connection.
    pub name: String,
    /// The key of an `[instances.*]` table.
    pub(crate) instance: String,
    /// The Jira project this side syncs.
    pub(crate) project: String,
    /// Where the rule comes from: a file (the default), a stock rule, or uploads.
    #[serde(default, skip_serializing_if = "is_file_mode")]
    pub(crate) mode: SideMode,
    /// The rule component (hot-reloaded when the file changes); `mode = "file"` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rule: Option<PathBuf>,
    /// JQL that puts matching issues under sync automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) trigger: Option<String>,
    /// More triggers, each with a note and an on/off switch (what `config export` writes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) triggers: Vec<TriggerConfig>,
    /// What `config(key)` answers inside the rule.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "is_default_limits")]
    pub(crate) limits: RuleLimits,
    /// Whether each twin on this side carries its sync status in Jira (a remote link to its
    /// other half and the `twinsync.sync` issue property).
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub(crate) status_link: bool,
    /// How this side's changes cross to the other side (automatic unless said).
    #[serde(default, skip_serializing_if = "is_automatic")]
    pub(crate) sync: SyncMethod,
}

fn is_automatic(method: &SyncMethod) -> bool {
    *method == SyncMethod::Automatic
}

fn is_file_mode(mode: &SideMode) -> bool {
    *mode == SideMode::File
}

fn is_default_limits(limits: &RuleLimits) -> bool {
    *limits == RuleLimits::default()
}

/// A `[[connection.side.triggers]]` entry: JQL with a note, on or off.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerConfig {
    /// The JQL.
    pub jql: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Whether it puts issues under sync.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

fn is_yes(b: &bool) -> bool {
    *b
}
