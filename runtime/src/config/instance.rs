//! An `[instances.*]` table: a Jira instance's URL, flavour, credentials, webhook secret
//! and request pacing.

use serde::{Deserialize, Serialize};

use super::SecretRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Flavour {
    /// Jira Cloud: REST v3, ADF, email + API token.
    Cloud,
    /// Jira Data Center: REST v2, wiki markup, personal access token.
    Dc,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstanceConfig {
    pub(crate) url: String,
    pub(crate) flavour: Flavour,
    /// Cloud: the account's email (with the API token). DC: the user name (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<String>,
    /// Cloud: API token. DC: personal access token.
    pub(crate) token: SecretRef,
    /// Shared secret a webhook must carry (`?secret=` in its URL, or an HMAC signature).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) webhook_secret: Option<SecretRef>,
    /// How fast the node may call this instance; the defaults are safe for Jira Cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) budget: Option<BudgetSettings>,
}

/// Request pacing for one instance; unset values keep the client's defaults.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BudgetSettings {
    /// No pacing at all (a simulator, or a Data Center site that allows it).
    #[serde(default)]
    pub(crate) unlimited: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reads_per_sec: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) writes_per_sec: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_in_flight: Option<usize>,
}
