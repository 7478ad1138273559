//! Comments: add, edit, delete, and their properties and visibility.

use std::collections::BTreeMap;

use chrono::Utc;
use serde_json::Value;

use crate::error::ApiError;
use crate::input;
use crate::model::*;

use super::{Event, State};

impl State {
    pub(super) fn visibility_in(v: &Value) -> Result<Option<Visibility>, ApiError> {
        match v.get("visibility") {
            None | Some(Value::Null) => Ok(None),
            Some(vis) => {
                let kind = vis.get("type").and_then(Value::as_str).unwrap_or("");
                let value = vis
                    .get("value")
                    .or_else(|| vis.get("identifier"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !matches!(kind, "role" | "group") || value.is_empty() {
                    return Err(ApiError::field(
                        "commentLevel",
                        "You are currently not a member of the project role or group specified.",
                    ));
                }
                Ok(Some(Visibility {
                    kind: kind.into(),
                    value: value.into(),
                }))
            }
        }
    }

    fn properties_in(v: &Value) -> BTreeMap<String, Value> {
        v.get("properties")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|p| {
                        Some((p.get("key")?.as_str()?.to_string(), p.get("value")?.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Adds a comment from a request body `{body, visibility?, properties?}`.
    pub fn add_comment(
        &mut self,
        issue_id: u64,
        actor: UserId,
        api: Api,
        req: &Value,
    ) -> Result<u64, ApiError> {
        if !self.issues.contains_key(&issue_id) {
            return Err(ApiError::issue_not_found());
        }
        let body = req.get("body").cloned().unwrap_or(Value::Null);
        let body = input::rich_in(api, "comment", &body)?
            .ok_or_else(|| ApiError::field("comment", "Comment body can not be empty!"))?;
        let visibility = Self::visibility_in(req)?;
        let now = Utc::now();
        let comment = Comment {
            id: self.next_comment,
            author: actor,
            update_author: actor,
            body,
            created: now,
            updated: now,
            visibility,
            properties: Self::properties_in(req),
        };
        self.next_comment += 1;
        let cid = comment.id;
        self.comment_index.insert(cid, issue_id);
        if let Some(issue) = self.issues.get_mut(&issue_id) {
            issue.comments.push(comment.clone());
            issue.updated = now;
        }
        self.comment_events(CommentChange::Created, issue_id, actor, comment);
        Ok(cid)
    }

    /// A comment of an issue, or Jira's 404.
    pub fn comment(&self, issue_id: u64, comment_id: u64) -> Result<&Comment, ApiError> {
        self.issues
            .get(&issue_id)
            .ok_or_else(ApiError::issue_not_found)?
            .comments
            .iter()
            .find(|c| c.id == comment_id)
            .ok_or_else(|| {
                ApiError::not_found(format!("Can not find a comment for the id: {comment_id}."))
            })
    }

    /// Edits a comment from a request body `{body?, visibility?, properties?}`.
    pub fn update_comment(
        &mut self,
        issue_id: u64,
        comment_id: u64,
        actor: UserId,
        api: Api,
        req: &Value,
    ) -> Result<(), ApiError> {
        self.comment(issue_id, comment_id)?;
        let body = match req.get("body") {
            Some(b) => Some(
                input::rich_in(api, "comment", b)?
                    .ok_or_else(|| ApiError::field("comment", "Comment body can not be empty!"))?,
            ),
            None => None,
        };
        let visibility = if req.get("visibility").is_some() {
            Some(Self::visibility_in(req)?)
        } else {
            None
        };
        let props = Self::properties_in(req);
        let now = Utc::now();
        let Some(issue) = self.issues.get_mut(&issue_id) else {
            return Err(ApiError::issue_not_found());
        };
        let Some(c) = issue.comments.iter_mut().find(|c| c.id == comment_id) else {
            return Err(ApiError::issue_not_found());
        };
        if let Some(b) = body {
            c.body = b;
        }
        if let Some(v) = visibility {
            c.visibility = v;
        }
        c.properties.extend(props);
        c.updated = now;
        c.update_author = actor;
        let comment = c.clone();
        issue.updated = now;
        self.comment_events(CommentChange::Updated, issue_id, actor, comment);
        Ok(())
    }

    /// Deletes a comment.
    pub fn delete_comment(
        &mut self,
        issue_id: u64,
        comment_id: u64,
        actor: UserId,
    ) -> Result<(), ApiError> {
        self.comment(issue_id, comment_id)?;
        let Some(issue) = self.issues.get_mut(&issue_id) else {
            return Err(ApiError::issue_not_found());
        };
        let Some(pos) = issue.comments.iter().position(|c| c.id == comment_id) else {
            return Err(ApiError::issue_not_found());
        };
        let comment = issue.comments.remove(pos);
        issue.updated = Utc::now();
        self.comment_index.remove(&comment_id);
        self.comment_events(CommentChange::Deleted, issue_id, actor, comment);
        Ok(())
    }

    /// Sets a comment property (how JSM marks a comment internal).
    pub fn set_comment_property(
        &mut self,
        comment_id: u64,
        key: &str,
        value: Value,
    ) -> Result<(), ApiError> {
        let issue_id = *self.comment_index.get(&comment_id).ok_or_else(|| {
            ApiError::not_found(format!("Can not find a comment for the id: {comment_id}."))
        })?;
        let Some(c) = self
            .issues
            .get_mut(&issue_id)
            .and_then(|i| i.comments.iter_mut().find(|c| c.id == comment_id))
        else {
            return Err(ApiError::not_found("Comment not found."));
        };
        c.properties.insert(key.to_string(), value);
        Ok(())
    }

    /// Raises a comment's own event and the issue update Jira sends with it.
    fn comment_events(
        &mut self,
        change: CommentChange,
        issue: u64,
        actor: UserId,
        comment: Comment,
    ) {
        let (own, type_name) = match change {
            CommentChange::Created => (
                Event::CommentCreated {
                    issue,
                    actor,
                    comment: comment.clone(),
                },
                "issue_commented",
            ),
            CommentChange::Updated => (
                Event::CommentUpdated {
                    issue,
                    actor,
                    comment: comment.clone(),
                },
                "issue_comment_edited",
            ),
            CommentChange::Deleted => (
                Event::CommentDeleted {
                    issue,
                    actor,
                    comment: comment.clone(),
                },
                "issue_comment_deleted",
            ),
        };
        self.events.push(own);
        self.events.push(Event::IssueUpdated {
            issue,
            actor,
            history: None,
            type_name,
            comment: Some(comment),
        });
    }
}

/// What happened to a comment, for the webhook events it raises.
#[derive(Clone, Copy)]
enum CommentChange {
    Created,
    Updated,
    Deleted,
}
