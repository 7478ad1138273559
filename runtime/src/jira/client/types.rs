//! What the client's calls answer: the few results that are not model types.

use std::path::PathBuf;

use super::super::flavour::Flavour;
use super::super::wire;
use crate::model::Issue;
use bytes::Bytes;

/// Bytes to upload; re-read on every attempt, so an upload can be retried.
#[derive(Debug, Clone)]
pub enum UploadSource {
    /// Held in memory.
    Bytes(Bytes),
    /// Streamed from disk, never held in memory whole.
    File(PathBuf),
}

/// Where a JQL search continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageCursor {
    /// The first page.
    Start,
    /// Cloud: the `nextPageToken` of the previous page.
    Token(String),
    /// DC: the `startAt` of the next page.
    Offset(u64),
}

/// One page of search results.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// The issues on this page.
    pub issues: Vec<Issue>,
    /// `None` on the last page.
    pub next: Option<PageCursor>,
    /// DC reports the total; Cloud's token search does not.
    pub total: Option<u64>,
}

/// What `GET serverInfo` says about the instance.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerInfo {
    /// The instance's own base URL, e.g. `https://acme.atlassian.net`.
    pub base_url: String,
    /// The Jira version, e.g. `9.12.2` or `1001.0.0-SNAPSHOT` on Cloud.
    pub version: String,
    /// `Cloud`, `Server` or `DataCenter`.
    pub deployment_type: String,
    /// The instance's title as set by its administrators.
    pub title: String,
}

impl ServerInfo {
    /// The deployment type as a value; `None` for one Jira does not document.
    pub fn deployment(&self) -> Option<Deployment> {
        match self.deployment_type.to_ascii_lowercase().as_str() {
            "cloud" => Some(Deployment::Cloud),
            "server" => Some(Deployment::Server),
            "datacenter" => Some(Deployment::DataCenter),
            _ => None,
        }
    }
}

/// How a Jira is deployed, as `serverInfo.deploymentType` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    /// Jira Cloud (`Cloud`).
    Cloud,
    /// Jira Server (`Server`); Data Center sites report this too.
    Server,
    /// `DataCenter`, which some Data Center versions report.
    DataCenter,
}

/// A project the credentials can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectInfo {
    /// The project id, e.g. `10000`.
    pub id: String,
    /// The project key, e.g. `SUP`.
    pub key: String,
    /// The project's name.
    pub name: String,
}

/// A remote issue link as the node writes it: a link from an issue to an item elsewhere
/// (Jira's `RemoteIssueLinkRequest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteLink {
    /// The caller's identifier of the item; a second write with it updates the same link.
    pub global_id: String,
    /// Where the item is (`object.url`, required by Jira).
    pub url: String,
    /// The link's text (`object.title`).
    pub title: String,
    /// Shown beside the title (`object.summary`).
    pub summary: Option<String>,
    /// `object.status.resolved`: Jira strikes a resolved link through.
    pub status_resolved: bool,
    /// The icon's tooltip (`object.icon.title`).
    pub icon_title: Option<String>,
}

/// A person as this instance knows them.
#[derive(Debug, Clone, PartialEq)]
pub struct JiraUser {
    /// The Cloud account id, e.g. `5b10a2844c20165700ede21g`; none on DC.
    pub account_id: Option<String>,
    /// The DC username, e.g. `jsmith`; none on Cloud.
    pub name: Option<String>,
    /// The name shown in the UI, e.g. `Jane Smith`.
    pub display_name: Option<String>,
    /// The email address, when the user lets it be seen.
    pub email: Option<String>,
    /// Whether the account is active.
    pub active: bool,
}

impl From<wire::User> for JiraUser {
    fn from(u: wire::User) -> Self {
        JiraUser {
            account_id: u.account_id,
            name: u.name,
            display_name: u.display_name,
            email: u.email_address,
            active: u.active,
        }
    }
}

impl JiraUser {
    /// The identity this flavour uses in requests.
    pub fn ident(&self, flavour: Flavour) -> Option<&str> {
        match flavour {
            Flavour::Cloud => self.account_id.as_deref(),
            Flavour::DataCenter => self.name.as_deref(),
        }
    }
}

/// A workflow transition open to an issue, from `GET issue/{key}/transitions`.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The transition's id, e.g. `31`, to send when transitioning.
    pub id: String,
    /// The transition's name, e.g. `Done`.
    pub name: String,
    /// The name of the status it leads to.
    pub to_status: String,
    /// The id of the status it leads to.
    pub to_status_id: String,
}

/// What Jira answers to creating an issue.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedIssue {
    /// The new issue's id, e.g. `10042`.
    pub id: String,
    /// The new issue's key, e.g. `SUP-12`.
    pub key: String,
}

/// A field as `GET field` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldInfo {
    /// The field's id, e.g. `summary` or `customfield_10010`.
    pub id: String,
    /// The field's display name, e.g. `Story Points`.
    pub name: String,
    /// Whether it is a custom field.
    pub custom: bool,
    /// `schema.type`: string, number, option, array, user, date...
    pub schema_type: Option<String>,
    /// `schema.custom` for a custom field, e.g. `com.atlassian.jira.plugin.system.customfieldtypes:select`.
    pub custom_type: Option<String>,
}

/// A field as create/edit metadata describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldMeta {
    /// The field's id, e.g. `priority` or `customfield_10010`.
    pub id: String,
    /// The field's display name.
    pub name: String,
    /// Whether the call must set it.
    pub required: bool,
    /// `schema.type`: string, number, option, array, user, date...
    pub schema_type: Option<String>,
    /// Names (or values) of the allowed choices, when the field has a list.
    pub allowed_values: Vec<String>,
}

/// A named value an instance defines: a status, a priority, a resolution.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NamedValue {
    /// Its id.
    pub id: String,
    /// Its name, as issues show it.
    pub name: String,
}

impl From<wire::IdNamed> for NamedValue {
    fn from(n: wire::IdNamed) -> Self {
        NamedValue {
            id: n.id,
            name: n.name,
        }
    }
}

/// The statuses an issue type of a project can be in (its workflow's).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TypeStatuses {
    /// The issue type's name.
    pub issue_type: String,
    /// Its statuses.
    pub statuses: Vec<NamedValue>,
}

/// An issue type of a project.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueTypeInfo {
    /// The issue type's id, e.g. `10001`.
    pub id: String,
    /// The issue type's name, e.g. `Bug`.
    pub name: String,
}
