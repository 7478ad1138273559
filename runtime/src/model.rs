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
    /// The plain text, always present.
    pub text: String,
    /// The same text as ADF JSON, when it came from Jira Cloud.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adf: Option<String>,
    /// The same text as wiki markup, when it came from Jira Data Center.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wiki: Option<String>,
}

impl RichText {
    /// Plain text with no formatted form beside it.
    pub fn plain(text: impl Into<String>) -> Self {
        RichText {
            text: text.into(),
            adf: None,
            wiki: None,
        }
    }
}

/// A Jira user as each flavour names them; any field may be unknown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct User {
    /// The Cloud account id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The Data Center user name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The name Jira shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The email address, when Jira reveals it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// How the host should find a local user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserRef {
    /// By email address.
    Email(String),
    /// By Cloud account id.
    AccountId(String),
    /// By Data Center user name.
    Name(String),
}

/// A comment on an issue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Comment {
    /// The comment's id on its own side.
    pub id: String,
    /// Who wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<User>,
    /// The comment's text.
    pub body: RichText,
    /// A Jira Service Management internal note, or a comment restricted by visibility.
    pub internal: bool,
    /// When it was written, as Jira gives it.
    pub created: String,
    /// When it was last edited, as Jira gives it.
    pub updated: String,
}

/// An attachment's metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Attachment {
    /// The attachment's id on its own side.
    pub id: String,
    /// The file's name.
    pub filename: String,
    /// The file's media type.
    pub mime_type: String,
    /// The file's size in bytes.
    pub size: u64,
    /// Who attached it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<User>,
    /// When it was attached, as Jira gives it.
    pub created: String,
}

/// Time logged on an issue (contract 0.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Worklog {
    /// The worklog's id on its own side.
    pub id: String,
    /// Who logged the work.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<User>,
    /// When the work started, as Jira gives it.
    pub started: String,
    /// The time spent, in seconds.
    pub time_spent_seconds: u64,
    /// The worklog's comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<RichText>,
    /// When it was logged, as Jira gives it.
    pub created: String,
    /// When it was last edited, as Jira gives it.
    pub updated: String,
}

/// Which end of a link an issue is.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum LinkDirection {
    /// This issue is the outward end ("this blocks the other").
    #[default]
    Outward,
    /// This issue is the inward end ("this is blocked by the other").
    Inward,
}

/// A link from an issue to another one (contract 0.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IssueLink {
    /// The link's id on its own side.
    pub id: String,
    /// The link type's name, e.g. `Blocks`.
    pub link_type: String,
    /// Which end of the link this issue is.
    pub direction: LinkDirection,
    /// The other issue's key on the link's own side.
    pub other_key: String,
    /// The other issue's twin on the side reading the record, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_twin: Option<String>,
}

/// A custom field's value, tagged by its kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    /// A single-line or multi-line text.
    Text(String),
    /// A number.
    Number(f64),
    /// A yes/no value.
    Flag(bool),
    /// A date (`YYYY-MM-DD`).
    Date(String),
    /// A date and time, as Jira gives it.
    Datetime(String),
    /// A single select or radio option, by its value.
    Choice(String),
    /// A multi-select, checkbox or labels-like field.
    Choices(Vec<String>),
    /// One user.
    User(User),
    /// Several users.
    Users(Vec<User>),
    /// Rich text.
    Rich(RichText),
    /// Anything else, as the JSON Jira gave.
    Json(String),
}

/// A custom field and its value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomField {
    /// Jira's field id, e.g. `customfield_10010`.
    pub id: String,
    /// The field's display name on its instance, e.g. `Team`.
    pub name: String,
    /// Its value; `None` when the field is empty.
    pub value: Option<Value>,
}

/// A local issue, as the host read it from Jira.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Issue {
    /// The issue key (`SUP-1`).
    pub key: String,
    /// Jira's numeric id of the issue.
    pub id: String,
    /// The project key.
    pub project: String,
    /// The issue type's name.
    pub issue_type: String,
    /// The one-line summary.
    pub summary: String,
    /// The description, if any.
    pub description: Option<RichText>,
    /// The workflow status's name.
    pub status: String,
    /// The priority's name, if set.
    pub priority: Option<String>,
    /// The labels.
    pub labels: Vec<String>,
    /// The components' names.
    pub components: Vec<String>,
    /// Who the issue is assigned to.
    pub assignee: Option<User>,
    /// Who reported it.
    pub reporter: Option<User>,
    /// The due date (`YYYY-MM-DD`).
    pub due_date: Option<String>,
    /// The parent issue's key (sub-tasks, or children of an epic).
    pub parent: Option<String>,
    /// The comments, oldest first.
    pub comments: Vec<Comment>,
    /// The attachments' metadata; their bytes are fetched only when synced.
    pub attachments: Vec<Attachment>,
    /// The custom fields that have a value.
    pub custom_fields: Vec<CustomField>,
    /// When it was created, as Jira gives it.
    pub created: String,
    /// When it was last updated, as Jira gives it.
    pub updated: String,
    /// The security level's name; rules built against contract 0.1 never see it.
    pub security_level: Option<String>,
    /// Logged work, oldest first; rules built against 0.1 or 0.2 never see it.
    pub worklogs: Vec<Worklog>,
    /// Links to other issues (contract 0.3).
    pub links: Vec<IssueLink>,
    /// Fix versions' names (contract 0.3).
    pub fix_versions: Vec<String>,
    /// Affected versions' names (contract 0.3).
    pub affected_versions: Vec<String>,
}

/// What an outgoing rule lets leave its side.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Replica {
    /// The source issue's key.
    pub key: Option<String>,
    /// The source issue's project key.
    pub project: Option<String>,
    /// The issue type's name.
    pub issue_type: Option<String>,
    /// The summary.
    pub summary: Option<String>,
    /// The description.
    pub description: Option<RichText>,
    /// The workflow status's name on the source side.
    pub status: Option<String>,
    /// The priority's name.
    pub priority: Option<String>,
    /// The labels.
    pub labels: Vec<String>,
    /// The components' names.
    pub components: Vec<String>,
    /// Who the source issue is assigned to.
    pub assignee: Option<User>,
    /// Who reported it.
    pub reporter: Option<User>,
    /// The due date (`YYYY-MM-DD`).
    pub due_date: Option<String>,
    /// The parent issue's key on the source side.
    pub parent: Option<String>,
    /// The comments the rule lets across.
    pub comments: Vec<Comment>,
    /// The attachments the rule lets across.
    pub attachments: Vec<Attachment>,
    /// The custom fields the rule lets across.
    pub custom_fields: Vec<CustomField>,
    /// When the source issue was created.
    pub created: Option<String>,
    /// When the source issue was last updated.
    pub updated: Option<String>,
    /// Free-form extra data for the other side's incoming rule.
    pub properties: Vec<(String, String)>,
    /// The worklogs the rule lets across (contract 0.3).
    pub worklogs: Vec<Worklog>,
    /// The links the rule lets across (contract 0.3).
    pub links: Vec<IssueLink>,
    /// Fix versions' names (contract 0.3).
    pub fix_versions: Vec<String>,
    /// Affected versions' names (contract 0.3).
    pub affected_versions: Vec<String>,
}

/// One comment of the desired set in [`Changes`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommentChange {
    /// The replica comment's id, which the host maps to a local comment.
    pub remote_id: String,
    /// The text the local comment should have.
    pub body: RichText,
    /// Whether the local comment is internal.
    pub internal: bool,
}

/// One attachment of the desired set in [`Changes`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AttachmentChange {
    /// The replica attachment's id, which the host maps to a local attachment.
    pub remote_id: String,
    /// The name the local copy gets.
    pub filename: String,
}

/// One worklog of the desired set in [`Changes`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorklogChange {
    /// The replica worklog's id, which the host maps to a local worklog.
    pub remote_id: String,
    /// When the work started.
    pub started: String,
    /// The time spent, in seconds.
    pub time_spent_seconds: u64,
    /// The worklog's comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<RichText>,
    /// Who logged it on the replica's side; named in the comment when not found locally.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<User>,
}

/// One link of the desired set in [`Changes`], to another local issue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(default)]
pub struct LinkChange {
    /// The local link type's name.
    pub link_type: String,
    /// Which end of the link the twin is.
    pub direction: LinkDirection,
    /// The other issue's local key, twinned on this connection.
    pub other_key: String,
}

/// What the host does with a version name the local project lacks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingVersion {
    /// Create it in the local project.
    Create,
    /// Leave it out.
    #[default]
    Drop,
    /// Fail the event for the admin.
    Fail,
}

/// What happens to a local twin whose other half was deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDelete {
    /// Delete the local issue as well.
    DeleteIssue,
    /// Keep the issue, end the twin, and say so in a comment and the remote link.
    #[default]
    Unlink,
    /// Keep the issue and the twin as they are.
    Nothing,
}

/// A custom field to set on the local twin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomFieldChange {
    /// A local field id (`customfield_10010`) or display name (`Team`).
    pub field: String,
    /// The value to set; `None` clears the field.
    pub value: Option<Value>,
}

/// The desired state of the local twin; `None` leaves a field alone.
///
/// Double options (`assignee`, `due_date`) tell "leave alone" (`None`, key absent)
/// from "clear" (`Some(None)`, JSON `null`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Changes {
    /// The project key; needed to create the twin on first sync.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The issue type's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue_type: Option<String>,
    /// The summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<RichText>,
    /// The status to reach; the host walks the workflow's transitions to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The priority's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// The whole set of labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// The whole set of components.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<String>>,
    /// Who to assign it to; `Some(None)` unassigns.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    pub assignee: Option<Option<UserRef>>,
    /// Who the reporter should be.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter: Option<UserRef>,
    /// The due date; `Some(None)` clears it.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    pub due_date: Option<Option<String>>,
    /// The parent issue's local key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The desired set of synced comments; the host adds, updates and deletes to match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<Vec<CommentChange>>,
    /// The desired set of synced attachments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentChange>>,
    /// Custom fields to set; those not named are left alone.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomFieldChange>,
    /// The desired set of synced worklogs (contract 0.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worklogs: Option<Vec<WorklogChange>>,
    /// The desired set of links between twinned issues (contract 0.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<LinkChange>>,
    /// The whole set of fix versions, by name (contract 0.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_versions: Option<Vec<String>>,
    /// The whole set of affected versions, by name (contract 0.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affected_versions: Option<Vec<String>>,
    /// What to do with version names the local project lacks; `None` drops them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_versions: Option<MissingVersion>,
    /// The answer to a deletion of the other half; `None` unlinks (contract 0.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<OnDelete>,
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
pub(crate) enum RuleRefusal {
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
    /// The local issue was created.
    Created,
    /// The local issue was updated (fields, comments or attachments).
    #[default]
    Updated,
    /// An admin put the issue under sync by hand.
    Manual,
    /// A bulk run put the issue under sync.
    Bulk,
    /// A trigger's JQL matched the issue.
    Trigger,
    /// A replica arrived from the other side.
    Replica,
    /// The other half of the twin was deleted (contract 0.3; older rules are never called for it).
    Deleted,
}

/// What a rule call is about: the connection, the sides, the keys and the cause.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncContext {
    /// The connection's name.
    pub connection: String,
    /// This side's name.
    pub local_side: String,
    /// The other side's name.
    pub remote_side: String,
    /// True when no twin exists yet: the host will create one.
    pub first_sync: bool,
    /// This issue's key on this side, when known.
    pub local_key: Option<String>,
    /// The twin's key on the other side, when known.
    pub remote_key: Option<String>,
    /// Serialised as `event`, the contract's name for it.
    #[serde(rename = "event")]
    pub cause: SyncCause,
}

impl Replica {
    /// Bytes a replica carries, to enforce the output cap without serialising it.
    pub(crate) fn approx_size(&self) -> usize {
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
            + self
                .worklogs
                .iter()
                .map(Worklog::approx_size)
                .sum::<usize>()
            + self.links.iter().map(IssueLink::approx_size).sum::<usize>()
            + strings_size(&self.fix_versions)
            + strings_size(&self.affected_versions)
    }
}

impl Changes {
    /// Bytes the changes carry, to enforce the output cap without serialising them.
    pub(crate) fn approx_size(&self) -> usize {
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
            + self
                .worklogs
                .iter()
                .flatten()
                .map(|w| {
                    w.remote_id.len()
                        + w.started.len()
                        + 8
                        + w.comment.as_ref().map_or(0, RichText::approx_size)
                        + w.author.as_ref().map_or(0, User::approx_size)
                })
                .sum::<usize>()
            + self
                .links
                .iter()
                .flatten()
                .map(|l| l.link_type.len() + l.other_key.len() + 1)
                .sum::<usize>()
            + self.fix_versions.as_deref().map_or(0, strings_size)
            + self.affected_versions.as_deref().map_or(0, strings_size)
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

impl Worklog {
    fn approx_size(&self) -> usize {
        self.id.len()
            + self.author.as_ref().map_or(0, User::approx_size)
            + self.started.len()
            + 8
            + self.comment.as_ref().map_or(0, RichText::approx_size)
            + self.created.len()
            + self.updated.len()
    }
}

impl IssueLink {
    fn approx_size(&self) -> usize {
        self.id.len()
            + self.link_type.len()
            + 1
            + self.other_key.len()
            + self.other_twin.as_ref().map_or(0, String::len)
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
    fn the_0_3_json_reads_as_documented() {
        let c: Changes = serde_json::from_str(
            r#"{"worklogs": [{"remote_id": "30001", "started": "2026-11-25T09:00:00.000+0000",
                 "time_spent_seconds": 5400, "comment": {"text": "pairing"}}],
                "links": [{"link_type": "Blocks", "direction": "outward", "other_key": "DEV-7"}],
                "fix_versions": ["2.0"], "missing_versions": "create", "on_delete": "delete_issue"}"#,
        )
        .unwrap();
        assert_eq!(c.worklogs.as_ref().map(Vec::len), Some(1));
        assert_eq!(
            c.links.as_ref().unwrap()[0].direction,
            LinkDirection::Outward
        );
        assert_eq!(c.missing_versions, Some(MissingVersion::Create));
        assert_eq!(c.on_delete, Some(OnDelete::DeleteIssue));
        assert_eq!(c.affected_versions, None, "absent leaves the field alone");
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
