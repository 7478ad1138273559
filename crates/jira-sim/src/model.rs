//! The simulator's in-memory data model: users, projects, workflows, issues and their parts.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which Jira product the simulator pretends to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    /// Jira Cloud: REST v3 (and v2), ADF, accountId users, Basic email:token.
    Cloud,
    /// Jira Data Center: REST v2, wiki markup, users by name/key, Bearer PAT.
    // Spelled `dc` on the command line and in JSON, as before the variant was named in full.
    #[serde(rename = "dc")]
    #[value(name = "dc")]
    DataCenter,
}

/// Index of a user in [`crate::state::State::users`]; users are never removed.
pub type UserId = usize;

/// A Jira user account.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    /// Cloud account id.
    pub account_id: String,
    /// DC user name (login).
    pub name: String,
    /// DC user key.
    pub key: String,
    /// Email address (the Cloud login).
    pub email: String,
    /// The name shown in the UI and in rendered users.
    pub display_name: String,
    /// Inactive users cannot log in or be assigned.
    #[serde(default = "yes")]
    pub active: bool,
    /// API token (Cloud) or personal access token / password (DC); `None` = cannot log in.
    #[serde(default)]
    pub token: Option<String>,
    /// Group names.
    #[serde(default)]
    pub groups: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Component {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct Project {
    pub id: String,
    pub key: String,
    pub name: String,
    pub lead: UserId,
    pub issue_types: Vec<String>,
    pub workflow: String,
    pub components: Vec<Component>,
    pub next_number: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IssueType {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub subtask: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusCategory {
    New,
    Indeterminate,
    Done,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Status {
    pub id: String,
    pub name: String,
    pub category: StatusCategory,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Priority {
    pub id: String,
    pub name: String,
}

/// An issue security level. Real Jira scopes levels to a project's security
/// scheme; the simulator offers one instance-wide set.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SecurityLevel {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Resolution {
    pub id: String,
    pub name: String,
}

/// One workflow transition; `from` empty means "from any status" (a global transition).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Transition {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub from: Vec<String>,
    pub to: String,
    /// Resolution name set by this transition (e.g. "Done"); cleared when the target is not done.
    #[serde(default)]
    pub resolution: Option<String>,
    /// Fields that must have a value (on the issue or in the transition request).
    #[serde(default)]
    pub requires: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Workflow {
    pub name: String,
    pub initial: String,
    pub transitions: Vec<Transition>,
}

/// Kinds of custom field the simulator understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomKind {
    /// A single-line text field.
    Text,
    /// A rich-text field (ADF on Cloud v3, wiki markup elsewhere).
    Textarea,
    /// A number field.
    Number,
    /// A single select from the field's options.
    Select,
    /// A labels field.
    Labels,
    /// A date picker (`YYYY-MM-DD`).
    Date,
    /// A single user picker.
    User,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CustomField {
    pub id: String,
    pub name: String,
    pub kind: CustomKind,
    #[serde(default)]
    pub options: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LinkType {
    pub id: String,
    pub name: String,
    pub inward: String,
    pub outward: String,
}

/// A comment's visibility restriction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Visibility {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

#[derive(Clone, Debug)]
pub struct Comment {
    pub id: u64,
    pub author: UserId,
    pub update_author: UserId,
    /// Native body: ADF document on Cloud, wiki string on DC.
    pub body: Value,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub visibility: Option<Visibility>,
    pub properties: BTreeMap<String, Value>,
}

impl Comment {
    /// JSM marks internal comments with the `sd.public.comment` property.
    pub fn is_internal(&self) -> bool {
        self.properties
            .get("sd.public.comment")
            .and_then(|v| v.get("internal"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

#[derive(Clone, Debug)]
pub struct Attachment {
    pub id: u64,
    pub issue_id: u64,
    pub filename: String,
    pub mime_type: String,
    pub author: UserId,
    pub created: DateTime<Utc>,
    pub content: axum::body::Bytes,
}

#[derive(Clone, Debug)]
pub struct ChangeItem {
    pub field: String,
    pub fieldtype: String,
    pub field_id: String,
    pub from: Option<String>,
    pub from_string: Option<String>,
    pub to: Option<String>,
    pub to_string: Option<String>,
}

#[derive(Clone, Debug)]
pub struct History {
    pub id: u64,
    pub author: UserId,
    pub created: DateTime<Utc>,
    pub items: Vec<ChangeItem>,
}

#[derive(Clone, Debug)]
pub struct IssueLink {
    pub id: u64,
    pub type_id: String,
    pub inward: u64,
    pub outward: u64,
}

/// A project version (release), named by issues' `fixVersions` and `versions`.
#[derive(Clone, Debug)]
pub struct Version {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: Option<String>,
    pub released: bool,
    pub archived: bool,
    pub release_date: Option<NaiveDate>,
}

/// Time logged on an issue.
#[derive(Clone, Debug)]
pub struct Worklog {
    pub id: u64,
    pub issue_id: u64,
    pub author: UserId,
    pub update_author: UserId,
    /// Native rich text: ADF on Cloud, wiki on DC; `None` when empty.
    pub comment: Option<Value>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub started: DateTime<Utc>,
    pub time_spent_seconds: u64,
    pub visibility: Option<Visibility>,
}

/// A remote issue link: an issue's link to an item in another system.
#[derive(Clone, Debug)]
pub struct RemoteLink {
    pub id: u64,
    pub issue_id: u64,
    /// The caller's identifier of the remote item; unique per issue.
    pub global_id: Option<String>,
    /// `application` as given (`{type, name}`); `None` = not given.
    pub application: Option<Value>,
    pub relationship: Option<String>,
    /// `object` as given: `url`, `title` (both required), `summary`, `icon`, `status`.
    pub object: Value,
}

/// An issue as the simulator stores it; ids refer into the instance's lists.
#[derive(Clone, Debug)]
pub struct Issue {
    /// Numeric issue id.
    pub id: u64,
    /// Issue key, e.g. `SUP-1`.
    pub key: String,
    /// Project id.
    pub project: String,
    /// Issue type id.
    pub issue_type: String,
    /// Summary.
    pub summary: String,
    /// Native rich text: ADF document on Cloud, wiki string on DC; `None` when empty.
    pub description: Option<Value>,
    /// Status id.
    pub status: String,
    /// Priority id.
    pub priority: Option<String>,
    /// Resolution id; `None` while unresolved.
    pub resolution: Option<String>,
    /// When the issue was resolved.
    pub resolution_date: Option<DateTime<Utc>>,
    /// Issue security level id.
    pub security: Option<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Component ids.
    pub components: Vec<String>,
    /// Version ids of `fixVersions`.
    pub fix_versions: Vec<String>,
    /// Version ids of `versions` (affects versions).
    pub versions: Vec<String>,
    /// Assignee.
    pub assignee: Option<UserId>,
    /// Reporter.
    pub reporter: Option<UserId>,
    /// The user who created the issue.
    pub creator: UserId,
    /// Creation time.
    pub created: DateTime<Utc>,
    /// Last update time.
    pub updated: DateTime<Utc>,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Parent issue id (sub-tasks).
    pub parent: Option<u64>,
    /// Custom field values in their REST (v2-style) JSON form, keyed by field id.
    pub custom: BTreeMap<String, Value>,
    /// Comments, oldest first.
    pub comments: Vec<Comment>,
    /// Attachment ids.
    pub attachments: Vec<u64>,
    /// The changelog, oldest first.
    pub histories: Vec<History>,
    /// Issue properties by key.
    pub properties: BTreeMap<String, Value>,
}

/// Where a webhook registration came from; it decides the body's extras.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookKind {
    /// `/rest/webhooks/1.0/webhook` (admin): optional JQL filter, URL variables.
    Admin,
    /// `/rest/api/3/webhook` (dynamic, Cloud apps): JQL filter required, `matchedWebhookIds` in bodies.
    Dynamic,
}

#[derive(Clone, Debug)]
pub struct WebhookReg {
    pub id: u64,
    pub kind: WebhookKind,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub jql: Option<String>,
    pub exclude_body: bool,
    pub enabled: bool,
    pub field_ids_filter: Vec<String>,
    pub created: DateTime<Utc>,
    pub expiration: DateTime<Utc>,
    pub owner: UserId,
}

/// Which REST dialect a request speaks: the flavour and, on Cloud, v2 or v3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Api {
    pub flavour: Flavour,
    /// REST v3 (ADF bodies); only Cloud serves it.
    pub v3: bool,
}

impl Api {
    pub fn version(self) -> u8 {
        if self.v3 { 3 } else { 2 }
    }
    pub fn cloud(self) -> bool {
        self.flavour == Flavour::Cloud
    }
    /// Rich text travels as ADF (Cloud v3) rather than a wiki string.
    pub fn adf(self) -> bool {
        self.cloud() && self.v3
    }
}
