//! What the client's calls answer: the few results that are not model types.

use std::path::PathBuf;

use super::super::flavour::Flavour;
use super::super::wire;
use crate::model::Issue;
use bytes::Bytes;

/// Bytes to upload; re-read on every attempt, so an upload can be retried.
#[derive(Debug, Clone)]
pub enum UploadSource {
    Bytes(Bytes),
    /// Streamed from disk, never held in memory whole.
    File(PathBuf),
}

/// Where a JQL search continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageCursor {
    Start,
    Token(String),
    Offset(u64),
}

/// One page of search results.
#[derive(Debug, Clone)]
pub struct SearchPage {
    pub issues: Vec<Issue>,
    /// `None` on the last page.
    pub next: Option<PageCursor>,
    /// DC reports the total; Cloud's token search does not.
    pub total: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerInfo {
    pub base_url: String,
    pub version: String,
    pub deployment_type: String,
    pub title: String,
}

/// A person as this instance knows them.
#[derive(Debug, Clone, PartialEq)]
pub struct JiraUser {
    pub account_id: Option<String>,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
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

#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub id: String,
    pub name: String,
    pub to_status: String,
    pub to_status_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreatedIssue {
    pub id: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldInfo {
    pub id: String,
    pub name: String,
    pub custom: bool,
    /// `schema.type`: string, number, option, array, user, date...
    pub schema_type: Option<String>,
    pub custom_type: Option<String>,
}

/// A field as create/edit metadata describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldMeta {
    pub id: String,
    pub name: String,
    pub required: bool,
    pub schema_type: Option<String>,
    /// Names (or values) of the allowed choices, when the field has a list.
    pub allowed_values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IssueTypeInfo {
    pub id: String,
    pub name: String,
}
