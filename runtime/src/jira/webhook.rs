//! Jira webhook payloads of either flavour, read into a typed event.
//!
//! Body: `{timestamp, webhookEvent, issue_event_type_name, user, issue,
//! changelog: {id, items[]}, comment?}`. Webhooks can arrive twice or late, so
//! the event carries what deduplication needs (timestamp, changelog id).

use serde_json::Value;

use super::mapping;
use super::wire::ShapeError;
use crate::model::{Comment, Issue, User};

/// What happened, by `webhookEvent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookKind {
    /// `jira:issue_created`.
    IssueCreated,
    /// `jira:issue_updated`.
    IssueUpdated,
    /// `jira:issue_deleted`.
    IssueDeleted,
    /// `comment_created`.
    CommentCreated,
    /// `comment_updated`.
    CommentUpdated,
    /// `comment_deleted`.
    CommentDeleted,
    /// `attachment_created`.
    AttachmentCreated,
    /// `attachment_deleted`.
    AttachmentDeleted,
    /// Any other event, by its name.
    Other(String),
}

/// One changed field from the changelog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// The field's name, e.g. `status` or `Story Points`.
    pub field: String,
    /// The field's id, e.g. `customfield_10010`, when Jira sends it.
    pub field_id: Option<String>,
    /// The value before, as Jira shows it (`fromString`).
    pub from: Option<String>,
    /// The value after, as Jira shows it (`toString`).
    pub to: Option<String>,
}

/// One webhook delivery, read.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    /// What happened.
    pub kind: WebhookKind,
    /// Milliseconds since the epoch, when Jira raised it.
    pub timestamp: Option<i64>,
    /// `issue_event_type_name` (e.g. `issue_commented`, `issue_generic`).
    pub event_type: Option<String>,
    /// `user`: who did it.
    pub actor: Option<User>,
    /// `issue`: the issue as it is now, when the payload carries it readably.
    pub issue: Option<Issue>,
    /// The issue's key, e.g. `SUP-12`.
    pub issue_key: Option<String>,
    /// `comment`: the comment a comment event is about.
    pub comment: Option<Comment>,
    /// `changelog.id`: identifies one change, for deduplication.
    pub changelog_id: Option<String>,
    /// `changelog.items`: the fields that changed.
    pub changes: Vec<FieldChange>,
}

/// Why a webhook body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The body is not JSON.
    #[error("webhook body is not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    /// The body names no `webhookEvent`.
    #[error("webhook body has no webhookEvent")]
    NoEvent,
}

/// Reads a webhook body.
pub fn parse(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let v: Value = serde_json::from_slice(body)?;
    let name = v["webhookEvent"].as_str().ok_or(WebhookError::NoEvent)?;
    let kind = match name {
        "jira:issue_created" => WebhookKind::IssueCreated,
        "jira:issue_updated" => WebhookKind::IssueUpdated,
        "jira:issue_deleted" => WebhookKind::IssueDeleted,
        "comment_created" => WebhookKind::CommentCreated,
        "comment_updated" => WebhookKind::CommentUpdated,
        "comment_deleted" => WebhookKind::CommentDeleted,
        "attachment_created" => WebhookKind::AttachmentCreated,
        "attachment_deleted" => WebhookKind::AttachmentDeleted,
        other => WebhookKind::Other(other.to_string()),
    };
    // Detection needs only the key (it reads the issue afresh), so a payload issue or comment
    // Jira sent in a shape the mapping refuses is logged and left out, not a refused webhook.
    let issue = v
        .get("issue")
        .filter(|i| i.is_object())
        .and_then(|i| readable(mapping::issue_from_json(i)));
    let issue_key = v["issue"]["key"]
        .as_str()
        .filter(|k| !k.is_empty())
        .map(str::to_string);
    let changes = v["changelog"]["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|it| FieldChange {
                    field: it["field"].as_str().unwrap_or_default().to_string(),
                    field_id: it["fieldId"].as_str().map(str::to_string),
                    from: it["fromString"].as_str().map(str::to_string),
                    to: it["toString"].as_str().map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(WebhookEvent {
        kind,
        timestamp: v["timestamp"].as_i64(),
        event_type: v["issue_event_type_name"].as_str().map(str::to_string),
        actor: mapping::user_from_json(&v["user"]),
        issue,
        issue_key,
        comment: v
            .get("comment")
            .filter(|c| c.is_object())
            .and_then(|c| readable(mapping::comment_from_json(c))),
        changelog_id: match &v["changelog"]["id"] {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        },
        changes,
    })
}

/// A payload part that decoded, or `None` with a warning: the webhook still names its issue.
fn readable<T>(r: Result<T, ShapeError>) -> Option<T> {
    r.map_err(|e| tracing::warn!(error = %e, "webhook payload part not in Jira's shape; left out"))
        .ok()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_json_body_parses_or_is_refused(body in crate::jira::arbitrary_json::json(8)) {
            let _ = parse(body.to_string().as_bytes());
        }

        #[test]
        fn any_issue_event_parses(
            issue in crate::jira::arbitrary_json::json(6),
            kind in prop::sample::select(vec!["jira:issue_updated", "comment_created", "x"]),
        ) {
            let body = serde_json::json!({"webhookEvent": kind, "issue": issue, "comment": issue});
            prop_assert!(parse(body.to_string().as_bytes()).is_ok());
        }

        #[test]
        fn any_bytes_are_refused_without_panicking(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse(&body);
        }
    }

    #[test]
    fn cloud_issue_updated_with_changelog() {
        let body = br#"{"timestamp": 1700000000000, "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_generic",
            "user": {"accountId": "5b10a", "displayName": "Mia"},
            "issue": {"id": "10001", "key": "ED-1", "fields": {"summary": "S", "status": {"name": "Done"},
                "description": {"version": 1, "type": "doc", "content": []}}},
            "changelog": {"id": "10100", "items": [{"field": "status", "fieldId": "status", "fromString": "To Do", "toString": "Done"}]}}"#;
        let e = parse(body).unwrap();
        assert_eq!(e.kind, WebhookKind::IssueUpdated);
        assert_eq!(e.issue_key.as_deref(), Some("ED-1"));
        assert_eq!(e.changelog_id.as_deref(), Some("10100"));
        assert_eq!(e.changes[0].to.as_deref(), Some("Done"));
        assert_eq!(e.actor.unwrap().account_id.as_deref(), Some("5b10a"));
    }

    #[test]
    fn dc_comment_created() {
        let body = br#"{"timestamp": 1700000000000, "webhookEvent": "comment_created",
            "comment": {"id": "7", "body": "*hi*", "author": {"name": "bob", "displayName": "Bob"},
                "created": "2026-01-01T00:00:00.000+0000", "updated": "2026-01-01T00:00:00.000+0000"},
            "issue": {"id": "1", "key": "OPS-1", "fields": {}}}"#;
        let e = parse(body).unwrap();
        assert_eq!(e.kind, WebhookKind::CommentCreated);
        let c = e.comment.unwrap();
        assert_eq!(c.body.wiki.as_deref(), Some("*hi*"));
        assert_eq!(c.body.text, "hi");
        assert!(matches!(parse(b"{}"), Err(WebhookError::NoEvent)));
        assert!(matches!(parse(b"nope"), Err(WebhookError::NotJson(_))));
    }
}
