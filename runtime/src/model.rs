//! The host's own form of the rule contract's types, independent of any one WIT version.
//!
//! A leaf module: `rules` converts every WIT version it loads to and from these
//! types, and `jira` maps Jira's issues onto them, so neither depends on the
//! other and nothing above depends on one WIT version's generated bindings. Their serde form is the JSON that `twinsync rules test`
//! reads and prints: snake_case keys, absent or `null` for `none`, variants
//! tagged by their case name (`{"option": "Blue"}`).

use serde::{Deserialize, Serialize};

/// Text with formatting: plain text always, ADF JSON (Cloud) or wiki markup (Data Center) beside it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RichText {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adf: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wiki: Option<String>,
}

impl RichText {
    pub fn plain(text: impl Into<String>) -> Self {
        RichText {
            text: text.into(),
            adf: None,
            wiki: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct User {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// How the host should find a local user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserRef {
    Email(String),
    AccountId(String),
    Name(String),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Comment {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<User>,
    pub body: RichText,
    pub internal: bool,
    pub created: String,
    pub updated: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Attachment {
    pub id: String,
    pub filename: String,
    pub mime_type: String,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<User>,
    pub created: String,
}

/// A custom field's value, tagged by its kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Text(String),
    Number(f64),
    Flag(bool),
    Date(String),
    Datetime(String),
    Choice(String),
    Choices(Vec<String>),
    User(User),
    Users(Vec<User>),
    Rich(RichText),
    Json(String),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomField {
    pub id: String,
    pub name: String,
    pub value: Option<Value>,
}

/// A local issue, as the host read it from Jira.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Issue {
    pub key: String,
    pub id: String,
    pub project: String,
    pub issue_type: String,
    pub summary: String,
    pub description: Option<RichText>,
    pub status: String,
    pub priority: Option<String>,
    pub labels: Vec<String>,
    pub components: Vec<String>,
    pub assignee: Option<User>,
    pub reporter: Option<User>,
    pub due_date: Option<String>,
    pub parent: Option<String>,
    pub comments: Vec<Comment>,
    pub attachments: Vec<Attachment>,
    pub custom_fields: Vec<CustomField>,
    pub created: String,
    pub updated: String,
    /// The security level's name; rules built against contract 0.1 never see it.
    pub security_level: Option<String>,
}

/// What an outgoing rule lets leave its side.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Replica {
    pub key: Option<String>,
    pub project: Option<String>,
    pub issue_type: Option<String>,
    pub summary: Option<String>,
    pub description: Option<RichText>,
    pub status: Option<String>,
    pub priority: Option<String>,
    pub labels: Vec<String>,
    pub components: Vec<String>,
    pub assignee: Option<User>,
    pub reporter: Option<User>,
    pub due_date: Option<String>,
    pub parent: Option<String>,
    pub comments: Vec<Comment>,
    pub attachments: Vec<Attachment>,
    pub custom_fields: Vec<CustomField>,
    pub created: Option<String>,
    pub updated: Option<String>,
    pub properties: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommentChange {
    pub remote_id: String,
    pub body: RichText,
    pub internal: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AttachmentChange {
    pub remote_id: String,
    pub filename: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomFieldChange {
    pub field: String,
    pub value: Option<Value>,
}

/// The desired state of the local twin; `None` leaves a field alone.
///
/// Double options (`assignee`, `due_date`) tell "leave alone" (`None`, key absent)
/// from "clear" (`Some(None)`, JSON `null`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Changes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<RichText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<String>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    pub assignee: Option<Option<UserRef>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter: Option<UserRef>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    pub due_date: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<Vec<CommentChange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentChange>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomFieldChange>,
}

/// A present key (even `null`) becomes `Some`, so `null` means "clear".
fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// Why a rule gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleRefusal {
    /// Not an error: this change does not sync.
    Skip(String),
    /// The admin must see this; the issue's queue waits.
    Fail(String),
}

/// What caused a rule call (the contract's `sync-event` enum): an issue was created or updated,
/// an admin asked, a bulk run or a trigger matched, or a replica arrived.
///
/// Named "cause" here because a sync event, in this code, is the queued job ([`crate::store::Event`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncCause {
    Created,
    #[default]
    Updated,
    Manual,
    Bulk,
    Trigger,
    Replica,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncContext {
    pub connection: String,
    pub local_side: String,
    pub remote_side: String,
    pub first_sync: bool,
    pub local_key: Option<String>,
    pub remote_key: Option<String>,
    /// Serialised as `event`, the contract's name for it.
    #[serde(rename = "event")]
    pub cause: SyncCause,
}

impl Replica {
    /// Bytes a replica carries, to enforce the output cap without serialising it.
    pub fn approx_size(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        opt(&self.key)
            + opt(&self.project)
            + opt(&self.issue_type)
            + opt(&self.summary)
            + self.description.as_ref().map_or(0, RichText::approx_size)
            + opt(&self.status)
            + opt(&self.priority)
            + strings_size(&self.labels)
            + strings_size(&self.components)
            + self.assignee.as_ref().map_or(0, User::approx_size)
            + self.reporter.as_ref().map_or(0, User::approx_size)
            + opt(&self.due_date)
            + opt(&self.parent)
            + self
                .comments
                .iter()
                .map(Comment::approx_size)
                .sum::<usize>()
            + self
                .attachments
                .iter()
                .map(|a| a.id.len() + a.filename.len() + a.mime_type.len() + a.created.len() + 8)
                .sum::<usize>()
            + self
                .custom_fields
                .iter()
                .map(CustomField::approx_size)
                .sum::<usize>()
            + opt(&self.created)
            + opt(&self.updated)
            + self
                .properties
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }
}

impl Changes {
    /// Bytes the changes carry, to enforce the output cap without serialising them.
    pub fn approx_size(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        let user_ref = |u: &UserRef| match u {
            UserRef::Email(s) | UserRef::AccountId(s) | UserRef::Name(s) => s.len(),
        };
        opt(&self.project)
            + opt(&self.issue_type)
            + opt(&self.summary)
            + self.description.as_ref().map_or(0, RichText::approx_size)
            + opt(&self.status)
            + opt(&self.priority)
            + self.labels.as_deref().map_or(0, strings_size)
            + self.components.as_deref().map_or(0, strings_size)
            + self.assignee.iter().flatten().map(user_ref).sum::<usize>()
            + self.reporter.as_ref().map_or(0, user_ref)
            + self
                .due_date
                .iter()
                .flatten()
                .map(String::len)
                .sum::<usize>()
            + opt(&self.parent)
            + self
                .comments
                .iter()
                .flatten()
                .map(|c| c.remote_id.len() + c.body.approx_size() + 1)
                .sum::<usize>()
            + self
                .attachments
                .iter()
                .flatten()
                .map(|a| a.remote_id.len() + a.filename.len())
                .sum::<usize>()
            + self
                .custom_fields
                .iter()
                .map(|f| f.field.len() + f.value.as_ref().map_or(0, Value::approx_size))
                .sum::<usize>()
    }
}

fn strings_size(list: &[String]) -> usize {
    list.iter().map(String::len).sum()
}

impl RichText {
    fn approx_size(&self) -> usize {
        self.text.len()
            + self.adf.as_ref().map_or(0, String::len)
            + self.wiki.as_ref().map_or(0, String::len)
    }
}

impl User {
    fn approx_size(&self) -> usize {
        [
            &self.account_id,
            &self.name,
            &self.display_name,
            &self.email,
        ]
        .into_iter()
        .map(|s| s.as_ref().map_or(0, String::len))
        .sum()
    }
}

impl Comment {
    fn approx_size(&self) -> usize {
        self.id.len()
            + self.author.as_ref().map_or(0, User::approx_size)
            + self.body.approx_size()
            + self.created.len()
            + self.updated.len()
            + 1
    }
}

impl CustomField {
    fn approx_size(&self) -> usize {
        self.id.len() + self.name.len() + self.value.as_ref().map_or(0, Value::approx_size)
    }
}

impl Value {
    fn approx_size(&self) -> usize {
        match self {
            Value::Text(s)
            | Value::Date(s)
            | Value::Datetime(s)
            | Value::Choice(s)
            | Value::Json(s) => s.len(),
            Value::Number(_) => 8,
            Value::Flag(_) => 1,
            Value::Choices(list) => strings_size(list),
            Value::User(u) => u.approx_size(),
            Value::Users(users) => users.iter().map(User::approx_size).sum(),
            Value::Rich(r) => r.approx_size(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_tell_clear_from_leave_alone() {
        let c: Changes = serde_json::from_str(r#"{"assignee": null, "summary": "x"}"#).unwrap();
        assert_eq!(c.assignee, Some(None));
        assert_eq!(c.due_date, None);
        let round = serde_json::to_string(&c).unwrap();
        assert!(round.contains("\"assignee\":null"), "{round}");
        assert!(!round.contains("due_date"), "{round}");
    }

    #[test]
    fn value_json_is_tagged_by_case() {
        let f: CustomField = serde_json::from_str(
            r#"{"id":"customfield_1","name":"Team","value":{"choice":"Blue"}}"#,
        )
        .unwrap();
        assert_eq!(f.value, Some(Value::Choice("Blue".into())));
    }
}
