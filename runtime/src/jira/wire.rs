//! Jira's answers as serde types, in the shapes Atlassian documents for REST v3 (Cloud) and v2 (Data Center).
//!
//! Ids, keys and names that Jira always sends are required: an answer without
//! them is a [`ShapeError`] naming the resource and the field, never an empty
//! id. Fields a call may leave out (an issue's fields depend on the `fields`
//! asked for; emails depend on the user's privacy) are `Option`s.

use std::collections::BTreeMap;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// An answer that is JSON but not in Jira's documented shape.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {}{source}", path_prefix(.path))]
pub struct ShapeError {
    /// The resource read, e.g. `issue ED-1` or `comment 10001`.
    pub what: String,
    /// Where in the answer, e.g. `fields.project` (`.` for the top level).
    pub path: String,
    /// The decoding error.
    #[source]
    pub source: serde_json::Error,
}

fn path_prefix(path: &str) -> String {
    if path == "." || path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

/// Decodes `v` as `T`; an error names `what` and the path to the bad field.
pub fn decode<T: DeserializeOwned>(what: impl Into<String>, v: &Value) -> Result<T, ShapeError> {
    serde_path_to_error::deserialize(v).map_err(|e| ShapeError {
        what: what.into(),
        path: e.path().to_string(),
        source: e.into_inner(),
    })
}

/// An id Jira sends as a string, or (attachments, in some answers) as a number.
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(D::Error::custom(format!(
            "invalid type: {other}, expected a string or a number"
        ))),
    }
}

fn yes() -> bool {
    true
}

/// `{ "name": ... }`: status, priority, issue type, component, security level.
#[derive(Debug, Deserialize)]
pub struct Named {
    pub name: String,
}

/// `{ "key": ... }`: project, parent.
#[derive(Debug, Deserialize)]
pub struct Keyed {
    pub key: String,
}

/// A person (Cloud: `accountId`; DC: `name`/`key`); all optional, as privacy settings hide parts.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub account_id: Option<String>,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub email_address: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
}

/// `IssueBean`: `fields` holds only what the call asked for, so every field in it is optional.
#[derive(Debug, Deserialize)]
pub struct Issue {
    pub id: String,
    pub key: String,
    #[serde(default)]
    pub fields: Fields,
    /// The `names` expansion: field id to display name.
    pub names: Option<BTreeMap<String, String>>,
    /// The `schema` expansion: field id to its schema.
    pub schema: Option<Map<String, Value>>,
}

/// An issue's system fields; custom fields stay JSON, read by shape in the mapping.
#[derive(Debug, Default, Deserialize)]
pub struct Fields {
    pub project: Option<Keyed>,
    pub issuetype: Option<Named>,
    pub summary: Option<String>,
    pub description: Option<Value>,
    pub status: Option<Named>,
    pub priority: Option<Named>,
    pub labels: Option<Vec<String>>,
    pub components: Option<Vec<Named>>,
    pub assignee: Option<User>,
    pub reporter: Option<User>,
    pub duedate: Option<String>,
    pub parent: Option<Keyed>,
    pub comment: Option<CommentPage>,
    pub attachment: Option<Vec<Attachment>>,
    pub created: Option<String>,
    pub updated: Option<String>,
    pub security: Option<Named>,
    pub worklog: Option<WorklogPage>,
    pub issuelinks: Option<Vec<IssueLink>>,
    #[serde(rename = "fixVersions")]
    pub fix_versions: Option<Vec<Named>>,
    pub versions: Option<Vec<Named>>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `PageOfComments`, embedded in an issue or answered by `GET issue/{key}/comment`.
#[derive(Debug, Deserialize)]
pub struct CommentPage {
    pub comments: Vec<Comment>,
    pub total: u64,
}

/// `PageOfWorklogs`, embedded in an issue or answered by `GET issue/{key}/worklog`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorklogPage {
    pub worklogs: Vec<Worklog>,
    pub total: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Worklog {
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    pub author: Option<User>,
    pub started: String,
    pub time_spent_seconds: u64,
    pub comment: Option<Value>,
    pub created: String,
    pub updated: String,
}

/// One of an issue's `issuelinks`: the other issue is the `inwardIssue` or the `outwardIssue`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueLink {
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    #[serde(rename = "type")]
    pub link_type: Named,
    pub inward_issue: Option<Keyed>,
    pub outward_issue: Option<Keyed>,
}

/// A project's version, as `GET project/{key}/versions` lists it.
#[derive(Debug, Deserialize)]
pub struct Version {
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    pub name: String,
}

/// An entity property, `{ "key": ..., "value": ... }`.
#[derive(Debug, Deserialize)]
pub struct Property {
    pub key: String,
    pub value: Value,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    pub id: String,
    pub author: Option<User>,
    pub body: Option<Value>,
    pub created: String,
    pub updated: String,
    /// Cloud's JSM flag: `false` on an internal comment.
    pub jsd_public: Option<bool>,
    pub properties: Option<Vec<Property>>,
    pub visibility: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    pub filename: String,
    pub mime_type: String,
    pub size: u64,
    pub author: Option<User>,
    pub created: String,
}

/// `GET attachment/{id}`: where DC serves the bytes.
#[derive(Debug, Deserialize)]
pub struct AttachmentMeta {
    pub filename: Option<String>,
    pub content: String,
}

/// `POST issue`'s answer.
#[derive(Debug, Deserialize)]
pub struct Created {
    pub id: String,
    pub key: String,
}

#[derive(Debug, Deserialize)]
pub struct Transitions {
    pub transitions: Vec<Transition>,
}

#[derive(Debug, Deserialize)]
pub struct Transition {
    pub id: String,
    pub name: String,
    pub to: Status,
}

#[derive(Debug, Deserialize)]
pub struct Status {
    pub id: String,
    pub name: String,
}

/// A page of Cloud's token search (`search/jql`); the last page has no `nextPageToken`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenPage {
    pub issues: Vec<Value>,
    pub next_page_token: Option<String>,
}

/// A page of DC's offset search (`search`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OffsetPage {
    pub issues: Vec<Value>,
    pub start_at: u64,
    pub total: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    pub base_url: String,
    pub version: String,
    pub deployment_type: String,
    pub server_title: String,
}

/// `RemoteIssueLinkIdentifies`: the answer to creating or updating a remote issue link.
#[derive(Debug, Deserialize)]
pub struct RemoteLinkIds {
    pub id: u64,
}

/// A project as `GET project` (DC) and `GET project/search` (Cloud) list it.
#[derive(Debug, Deserialize)]
pub struct Project {
    pub id: String,
    pub key: String,
    pub name: String,
}

/// Cloud's `PageBeanProject` from `GET project/search`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectPage {
    pub values: Vec<Project>,
    #[serde(default)]
    pub is_last: Option<bool>,
    #[serde(default)]
    pub total: Option<u64>,
}

/// Cloud's `JQLCountResultsBean` from `POST search/approximate-count`.
#[derive(Debug, Deserialize)]
pub struct Count {
    pub count: u64,
}

/// DC's search answer when only the total is wanted (`maxResults=0`).
#[derive(Debug, Deserialize)]
pub struct Total {
    pub total: u64,
}

/// `FieldDetails` from `GET field`.
#[derive(Debug, Deserialize)]
pub struct Field {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub custom: bool,
    pub schema: Option<FieldSchema>,
}

#[derive(Debug, Deserialize)]
pub struct FieldSchema {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub custom: Option<String>,
}

/// Create metadata's issue types: Cloud answers `issueTypes`, DC `values`.
#[derive(Debug, Deserialize)]
pub struct IssueTypes {
    #[serde(rename = "issueTypes", alias = "values")]
    pub issue_types: Vec<IssueType>,
}

#[derive(Debug, Deserialize)]
pub struct IssueType {
    pub id: String,
    pub name: String,
}

/// A status, priority or resolution: an id and a name (other members are not needed).
#[derive(Debug, Deserialize)]
pub struct IdNamed {
    pub id: String,
    pub name: String,
}

/// One issue type's statuses in `project/{key}/statuses`.
#[derive(Debug, Deserialize)]
pub struct TypeStatuses {
    pub name: String,
    #[serde(default)]
    pub statuses: Vec<IdNamed>,
}

/// Create metadata's fields: Cloud answers `fields`, DC `values`.
#[derive(Debug, Deserialize)]
pub struct CreateFields {
    #[serde(alias = "values")]
    pub fields: Vec<FieldMeta>,
}

/// Edit metadata: fields by id.
#[derive(Debug, Deserialize)]
pub struct EditFields {
    pub fields: BTreeMap<String, FieldMeta>,
}

/// `FieldCreateMetadata` / `FieldMetadata`: Cloud's create screen adds `fieldId` beside `key`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldMeta {
    pub field_id: Option<String>,
    pub key: String,
    pub name: String,
    pub required: bool,
    pub schema: Option<FieldSchema>,
    pub allowed_values: Option<Vec<Value>>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_missing_id_names_the_resource_and_the_field() {
        let e = decode::<Comment>("comment on ED-1", &json!({"created": "t", "updated": "t"}))
            .unwrap_err();
        assert_eq!(e.to_string(), "comment on ED-1: missing field `id`");
    }

    #[test]
    fn a_nested_missing_field_names_its_path() {
        let e = decode::<Issue>(
            "issue ED-1",
            &json!({"id": "1", "key": "ED-1", "fields": {"project": {"id": "10"}}}),
        )
        .unwrap_err();
        assert_eq!(e.path, "fields.project");
        assert!(
            e.to_string()
                .contains("issue ED-1: fields.project: missing field `key`")
        );
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        let e = decode::<Transitions>(
            "transitions of ED-1",
            &json!({"transitions": [{"id": 11, "name": "Done", "to": {"id": "3", "name": "Done"}}]}),
        )
        .unwrap_err();
        assert_eq!(e.path, "transitions[0].id");
        assert!(e.to_string().contains("invalid type: integer `11`"), "{e}");
    }

    #[test]
    fn attachment_ids_may_be_numbers_but_not_absent() {
        let a: Attachment = decode(
            "attachment",
            &json!({"id": 10000, "filename": "a", "mimeType": "text/plain", "size": 1, "created": "t"}),
        )
        .unwrap();
        assert_eq!(a.id, "10000");
        let e =
            decode::<Attachment>("attachment", &json!({"id": null, "filename": "a"})).unwrap_err();
        assert_eq!(e.path, "id");
    }
}
