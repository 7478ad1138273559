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
pub(crate) mod budget;
pub mod client;
pub(crate) mod error;
pub(crate) mod flavour;
pub mod mapping;
pub(crate) mod retry;
pub mod richtext;
pub mod webhook;
pub(crate) mod wire;

pub use budget::BudgetConfig;
pub use client::{
    ClientConfig, CreatedIssue, Deployment, Download, FieldInfo, FieldMeta, IssueTypeInfo,
    JiraClient, JiraUser, NamedValue, PageCursor, ProjectInfo, RemoteLink, SearchPage, ServerInfo,
    StatsSnapshot, Transition, TypeStatuses, UploadSource, WorklogWrite,
};
pub use error::{CallSite, JiraError, JiraMessages, TransportKind};
pub use flavour::{Auth, Flavour};
pub use mapping::{FieldCatalog, MappingError, ResolvedUsers, WriteContext};
pub use retry::RetryPolicy;
pub use richtext::{NoUserMapping, UserMap, UserMapper};
pub use webhook::{WebhookEvent, WebhookKind};
pub use wire::ShapeError;
