//! Attachments: adding and deleting an issue's files.

use chrono::Utc;

use crate::error::ApiError;
use crate::model::*;

use super::State;

impl State {
    /// Attaches a file to an issue; returns the attachment id.
    pub fn add_attachment(
        &mut self,
        issue_id: u64,
        actor: UserId,
        filename: String,
        mime_type: String,
        content: axum::body::Bytes,
    ) -> Result<u64, ApiError> {
        if !self.issues.contains_key(&issue_id) {
            return Err(ApiError::issue_not_found());
        }
        let id = self.next_attachment;
        self.next_attachment += 1;
        let now = Utc::now();
        self.attachments.insert(
            id,
            Attachment {
                id,
                issue_id,
                filename: filename.clone(),
                mime_type,
                author: actor,
                created: now,
                content,
            },
        );
        let Some(mut new) = self.issues.get(&issue_id).cloned() else {
            return Err(ApiError::issue_not_found());
        };
        new.attachments.push(id);
        let item = ChangeItem {
            field: "Attachment".into(),
            fieldtype: "jira".into(),
            field_id: "attachment".into(),
            from: None,
            from_string: None,
            to: Some(id.to_string()),
            to_string: Some(filename),
        };
        self.commit_change(issue_id, actor, new, "issue_updated", Some(item));
        Ok(id)
    }

    /// Deletes an attachment.
    pub fn delete_attachment(&mut self, id: u64, actor: UserId) -> Result<(), ApiError> {
        let a = self.attachments.remove(&id).ok_or_else(|| {
            ApiError::not_found(format!("The attachment with id '{id}' does not exist"))
        })?;
        if let Some(mut new) = self.issues.get(&a.issue_id).cloned() {
            new.attachments.retain(|x| *x != id);
            let item = ChangeItem {
                field: "Attachment".into(),
                fieldtype: "jira".into(),
                field_id: "attachment".into(),
                from: Some(id.to_string()),
                from_string: Some(a.filename.clone()),
                to: None,
                to_string: None,
            };
            self.commit_change(a.issue_id, actor, new, "issue_updated", Some(item));
        }
        Ok(())
    }
}
