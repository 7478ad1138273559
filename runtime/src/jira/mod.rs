//! The Jira client: everything the host says to a Jira instance, Cloud (REST v3, ADF) or Data Center (REST v2, wiki markup).
//!
//! `flavour` holds every difference between the two in one place; `client`
//! makes typed calls through `budget` (request pacing) and `retry` (transient
//! faults); `wire` holds Jira's answers as serde types; `mapping` turns them
//! into [`crate::model`] and model changes into request bodies, so that
//! nothing above this module touches raw JSON; `richtext` converts formatting
//! between ADF, wiki markup and plain text; `webhook` reads webhook payloads.

#[cfg(test)]
pub(crate) mod arbitrary_json;
pub mod budget;
pub mod client;
pub mod error;
pub mod flavour;
pub mod mapping;
pub mod retry;
pub mod richtext;
pub mod webhook;
pub mod wire;

pub use budget::{Budget, BudgetConfig};
pub use client::{
    ClientConfig, CreatedIssue, Download, FieldInfo, FieldMeta, IssueTypeInfo, JiraClient,
    JiraUser, PageCursor, SearchPage, ServerInfo, StatsSnapshot, Transition, UploadSource,
};
pub use error::{CallSite, JiraError, JiraMessages, TransportKind};
pub use flavour::{Auth, BodyFormat, Flavour, Pagination, UserKey};
pub use mapping::{FieldCatalog, MappingError, ResolvedUsers, WriteContext};
pub use retry::RetryPolicy;
pub use richtext::{NoUserMapping, UserMap, UserMapper};
pub use webhook::{WebhookEvent, WebhookKind};
pub use wire::ShapeError;
