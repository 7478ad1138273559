//! Jira's answers to model types: issues, comments, attachments, users and custom field values.

use serde_json::Value;

use super::super::richtext;
use super::super::wire::{self, ShapeError};
use crate::model::{
    Attachment, Comment, CustomField, Issue, IssueLink, LinkDirection, RichText, User,
    Value as FieldValue, Worklog,
};

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn named(v: &Value) -> Option<String> {
    s(v, "name")
        .or_else(|| s(v, "value"))
        .or_else(|| s(v, "key"))
}

/// A person in a custom field or a webhook's `user`, read by shape: `None` unless it is an object.
pub(crate) fn user_from_json(v: &Value) -> Option<User> {
    if !v.is_object() {
        return None;
    }
    Some(User {
        account_id: s(v, "accountId"),
        name: s(v, "name"),
        display_name: s(v, "displayName"),
        email: s(v, "emailAddress"),
    })
}

/// A rich-text field as Jira returns it: ADF object (Cloud) or wiki string (DC).
pub(crate) fn rich_from_json(v: &Value) -> Option<RichText> {
    match v {
        Value::Null => None,
        Value::String(w) => Some(RichText {
            text: richtext::wiki_to_plain(w).value,
            adf: None,
            wiki: Some(w.clone()),
        }),
        Value::Object(_) => Some(RichText {
            text: richtext::adf_to_plain(v).value,
            adf: Some(v.to_string()),
            wiki: None,
        }),
        _ => None,
    }
}

/// A person as Jira shows one (Cloud: accountId; DC: name/key).
fn user(u: wire::User) -> User {
    User {
        account_id: u.account_id,
        name: u.name,
        display_name: u.display_name,
        email: u.email_address,
    }
}

/// Whether a comment is internal: JSM's `sd.public.comment` property, Cloud's `jsdPublic`, or a visibility restriction.
fn comment_internal(c: &wire::Comment) -> bool {
    if c.jsd_public == Some(false) {
        return true;
    }
    let prop = c
        .properties
        .iter()
        .flatten()
        .find(|p| p.key == "sd.public.comment");
    if let Some(p) = prop {
        return p.value["internal"].as_bool().unwrap_or(false);
    }
    c.visibility.as_ref().is_some_and(Value::is_object)
}

pub(crate) fn comment(c: wire::Comment) -> Comment {
    Comment {
        internal: comment_internal(&c),
        id: c.id,
        author: c.author.map(user),
        // A comment with no body has empty text.
        body: c.body.as_ref().and_then(rich_from_json).unwrap_or_default(),
        created: c.created,
        updated: c.updated,
    }
}

pub(crate) fn attachment(a: wire::Attachment) -> Attachment {
    Attachment {
        id: a.id,
        filename: a.filename,
        mime_type: a.mime_type,
        size: a.size,
        author: a.author.map(user),
        created: a.created,
    }
}

pub(crate) fn worklog(w: wire::Worklog) -> Worklog {
    Worklog {
        id: w.id,
        author: w.author.map(user),
        started: w.started,
        time_spent_seconds: w.time_spent_seconds,
        comment: w.comment.as_ref().and_then(rich_from_json),
        created: w.created,
        updated: w.updated,
    }
}

/// One entry of `issuelinks`, or `None` when it names no other issue.
pub(crate) fn issue_link(l: wire::IssueLink) -> Option<IssueLink> {
    // The entry names the other end: an `outwardIssue` makes this issue the outward end.
    let (direction, other) = match (l.outward_issue, l.inward_issue) {
        (Some(o), _) => (LinkDirection::Outward, o),
        (None, Some(i)) => (LinkDirection::Inward, i),
        (None, None) => return None,
    };
    Some(IssueLink {
        id: l.id,
        link_type: l.link_type.name,
        direction,
        other_key: other.key,
        other_twin: None,
    })
}

/// What a resource is called in errors: its key, else its id, else its kind alone.
fn label(kind: &str, v: &Value) -> String {
    match v.get("key").or_else(|| v.get("id")).and_then(Value::as_str) {
        Some(k) => format!("{kind} {k}"),
        None => kind.to_string(),
    }
}

/// One comment JSON (a webhook's `comment`, an add or update answer) to the model.
pub(crate) fn comment_from_json(v: &Value) -> Result<Comment, ShapeError> {
    wire::decode(label("comment", v), v).map(comment)
}

/// Maps one issue JSON (`GET issue`, a search hit, a webhook's `issue`) to the model.
pub fn issue_from_json(v: &Value) -> Result<Issue, ShapeError> {
    wire::decode(label("issue", v), v).map(issue)
}

/// Maps a decoded issue to the model.
///
/// Field names come from the `names` expansion when present; custom field
/// kinds from the `schema` expansion, else from the value's shape. A system
/// field the call did not ask for reads as empty.
pub(crate) fn issue(w: wire::Issue) -> Issue {
    let f = w.fields;
    let names = w.names.as_ref();
    let schema = w.schema.as_ref();
    let mut comments: Vec<Comment> = f
        .comment
        .into_iter()
        .flat_map(|p| p.comments)
        .map(comment)
        .collect();
    comments.sort_by(|a, b| a.created.cmp(&b.created));
    let mut custom_fields: Vec<CustomField> = f
        .other
        .iter()
        .filter(|(k, val)| k.starts_with("customfield_") && !val.is_null())
        .map(|(k, val)| CustomField {
            id: k.clone(),
            name: names.and_then(|n| n.get(k)).unwrap_or(k).clone(),
            value: field_value(val, schema.and_then(|sc| sc.get(k))),
        })
        .collect();
    custom_fields.sort_by(|a, b| a.id.cmp(&b.id));
    let mut worklogs: Vec<Worklog> = f
        .worklog
        .into_iter()
        .flat_map(|p| p.worklogs)
        .map(worklog)
        .collect();
    worklogs.sort_by(|a, b| a.created.cmp(&b.created));
    let names_of = |v: Option<Vec<wire::Named>>| -> Vec<String> {
        v.into_iter().flatten().map(|n| n.name).collect()
    };
    let name = |n: Option<wire::Named>| n.map(|n| n.name);
    Issue {
        key: w.key,
        id: w.id,
        project: f.project.map(|p| p.key).unwrap_or_default(),
        issue_type: name(f.issuetype).unwrap_or_default(),
        summary: f.summary.unwrap_or_default(),
        description: f.description.as_ref().and_then(rich_from_json),
        status: name(f.status).unwrap_or_default(),
        priority: name(f.priority),
        labels: f.labels.into_iter().flatten().collect(),
        components: f.components.into_iter().flatten().map(|c| c.name).collect(),
        assignee: f.assignee.map(user),
        reporter: f.reporter.map(user),
        due_date: f.duedate,
        parent: f.parent.map(|p| p.key),
        comments,
        attachments: f.attachment.into_iter().flatten().map(attachment).collect(),
        custom_fields,
        created: f.created.unwrap_or_default(),
        updated: f.updated.unwrap_or_default(),
        security_level: name(f.security),
        worklogs,
        links: f
            .issuelinks
            .into_iter()
            .flatten()
            .filter_map(issue_link)
            .collect(),
        fix_versions: names_of(f.fix_versions),
        affected_versions: names_of(f.versions),
    }
}

fn is_user(v: &Value) -> bool {
    v.get("accountId").is_some() || (v.get("name").is_some() && v.get("displayName").is_some())
}

/// A custom field value: by schema type where known, else by shape.
pub(crate) fn field_value(v: &Value, schema: Option<&Value>) -> Option<FieldValue> {
    let ty = schema.and_then(|s| s["type"].as_str());
    let items = schema.and_then(|s| s["items"].as_str());
    Some(match (ty, v) {
        (_, Value::Null) => return None,
        (Some("date"), Value::String(x)) => FieldValue::Date(x.clone()),
        (Some("datetime"), Value::String(x)) => FieldValue::Datetime(x.clone()),
        (Some("number"), Value::Number(n)) | (None, Value::Number(n)) => {
            FieldValue::Number(n.as_f64().unwrap_or_default())
        }
        (_, Value::Bool(b)) => FieldValue::Flag(*b),
        (Some("user"), o) | (None, o @ Value::Object(_)) if is_user(o) => {
            FieldValue::User(user_from_json(o)?)
        }
        (_, o @ Value::Object(m)) if m.get("type").and_then(Value::as_str) == Some("doc") => {
            FieldValue::Rich(rich_from_json(o)?)
        }
        (Some("option"), o @ Value::Object(_)) | (None, o @ Value::Object(_))
            if o.get("value").is_some() =>
        {
            FieldValue::Choice(o["value"].as_str().unwrap_or_default().to_string())
        }
        (_, Value::Array(list)) if items == Some("user") || list.first().is_some_and(is_user) => {
            FieldValue::Users(list.iter().filter_map(user_from_json).collect())
        }
        (_, Value::Array(list))
            if list
                .iter()
                .all(|x| x.is_string() || x.get("value").is_some() || x.get("name").is_some()) =>
        {
            FieldValue::Choices(
                list.iter()
                    .filter_map(|x| x.as_str().map(str::to_string).or_else(|| named(x)))
                    .collect(),
            )
        }
        (Some("string"), Value::String(x)) if x.contains('\n') || x.contains('{') => {
            FieldValue::Rich(rich_from_json(v)?)
        }
        (_, Value::String(x)) => FieldValue::Text(x.clone()),
        (_, other) => FieldValue::Json(other.to_string()),
    })
}
