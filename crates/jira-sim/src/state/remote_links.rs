//! Remote issue links: an issue's links to items in other systems, keyed by id and by the
//! caller's `globalId`.
//!
//! Creating or deleting one records a `RemoteIssueLink` change on the issue (and so an update
//! webhook), as Jira does; updating one in place records nothing.

use serde_json::Value;

use crate::error::ApiError;
use crate::model::*;

use super::State;

/// The longest `globalId` Jira accepts.
const MAX_GLOBAL_ID: usize = 255;

/// A checked create/update body.
struct LinkInput {
    global_id: Option<String>,
    application: Option<Value>,
    relationship: Option<String>,
    object: Value,
}

fn input(body: &Value) -> Result<LinkInput, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "The request body must be a JSON object.",
        ));
    }
    let object = match body.get("object") {
        Some(o @ Value::Object(_)) => o.clone(),
        None | Some(Value::Null) => {
            return Err(ApiError::field("object", "'object' is required."));
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "Can not deserialize 'object': an object is expected.",
            ));
        }
    };
    for k in ["title", "url"] {
        match object.get(k) {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            _ => return Err(ApiError::field(k, format!("'{k}' is required."))),
        }
    }
    let global_id = match body.get("globalId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() > MAX_GLOBAL_ID => {
            return Err(ApiError::field(
                "globalId",
                format!("The global ID must be {MAX_GLOBAL_ID} characters or less."),
            ));
        }
        Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.is_empty()),
        Some(_) => {
            return Err(ApiError::bad_request(
                "Can not deserialize 'globalId': a string is expected.",
            ));
        }
    };
    let application = match body.get("application") {
        None | Some(Value::Null) => None,
        Some(a @ Value::Object(_)) => Some(a.clone()),
        Some(_) => {
            return Err(ApiError::bad_request(
                "Can not deserialize 'application': an object is expected.",
            ));
        }
    };
    let relationship = body
        .get("relationship")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(LinkInput {
        global_id,
        application,
        relationship,
        object,
    })
}

fn not_found(id: impl std::fmt::Display) -> ApiError {
    ApiError::not_found(format!("No remote issue link with id '{id}' exists."))
}

impl State {
    /// Remote links of an issue, oldest first; only the one with `global_id` when given.
    pub fn remote_links_of(&self, issue_id: u64, global_id: Option<&str>) -> Vec<&RemoteLink> {
        self.remote_links
            .values()
            .filter(|l| l.issue_id == issue_id)
            .filter(|l| global_id.is_none_or(|g| l.global_id.as_deref() == Some(g)))
            .collect()
    }

    /// A remote link of an issue by its id text: 404 when there is none, 400 when it belongs to
    /// another issue.
    pub fn remote_link_of(&self, issue_id: u64, link_id: &str) -> Result<&RemoteLink, ApiError> {
        let l = link_id
            .parse::<u64>()
            .ok()
            .and_then(|n| self.remote_links.get(&n))
            .ok_or_else(|| not_found(link_id))?;
        if l.issue_id != issue_id {
            return Err(ApiError::bad_request(format!(
                "The remote issue link with id '{link_id}' does not belong to this issue."
            )));
        }
        Ok(l)
    }

    /// `POST /issue/{key}/remotelink`: updates the issue's link with the body's `globalId` when
    /// there is one (fields the body leaves out become empty), else creates a link.
    /// Returns the link id and whether it was created.
    pub fn upsert_remote_link(
        &mut self,
        issue_id: u64,
        actor: UserId,
        body: &Value,
    ) -> Result<(u64, bool), ApiError> {
        if !self.issues.contains_key(&issue_id) {
            return Err(ApiError::issue_not_found());
        }
        let i = input(body)?;
        if let Some(g) = &i.global_id
            && let Some(id) = self
                .remote_links_of(issue_id, Some(g))
                .first()
                .map(|l| l.id)
        {
            self.replace_remote_link(id, i);
            return Ok((id, false));
        }
        let id = self.next_remote_link;
        self.next_remote_link += 1;
        let title = i.object["title"].as_str().unwrap_or_default().to_string();
        self.remote_links.insert(
            id,
            RemoteLink {
                id,
                issue_id,
                global_id: i.global_id,
                application: i.application,
                relationship: i.relationship,
                object: i.object,
            },
        );
        self.record_remote_link_change(
            issue_id,
            actor,
            None,
            Some((id, format!("This issue links to \"{title}\""))),
        );
        Ok((id, true))
    }

    /// `PUT /issue/{key}/remotelink/{linkId}`: replaces the link's fields with the body's.
    pub fn update_remote_link(
        &mut self,
        issue_id: u64,
        link_id: &str,
        body: &Value,
    ) -> Result<(), ApiError> {
        let id = self.remote_link_of(issue_id, link_id)?.id;
        let i = input(body)?;
        if let Some(g) = &i.global_id
            && self
                .remote_links_of(issue_id, Some(g))
                .iter()
                .any(|l| l.id != id)
        {
            return Err(ApiError::field(
                "globalId",
                "A remote issue link with this global ID already exists on the issue.",
            ));
        }
        self.replace_remote_link(id, i);
        Ok(())
    }

    fn replace_remote_link(&mut self, id: u64, i: LinkInput) {
        if let Some(l) = self.remote_links.get_mut(&id) {
            l.global_id = i.global_id;
            l.application = i.application;
            l.relationship = i.relationship;
            l.object = i.object;
        }
    }

    /// Deletes a link by id (`DELETE .../remotelink/{linkId}`).
    pub fn delete_remote_link(
        &mut self,
        issue_id: u64,
        link_id: &str,
        actor: UserId,
    ) -> Result<(), ApiError> {
        let id = self.remote_link_of(issue_id, link_id)?.id;
        self.remove_remote_link(id, actor);
        Ok(())
    }

    /// Deletes the issue's link with `global_id` (`DELETE .../remotelink?globalId=`).
    pub fn delete_remote_link_by_global_id(
        &mut self,
        issue_id: u64,
        global_id: &str,
        actor: UserId,
    ) -> Result<(), ApiError> {
        let ids: Vec<u64> = self
            .remote_links_of(issue_id, Some(global_id))
            .iter()
            .map(|l| l.id)
            .collect();
        if ids.is_empty() {
            return Err(ApiError::not_found(format!(
                "No remote issue link with global ID '{global_id}' exists on this issue."
            )));
        }
        for id in ids {
            self.remove_remote_link(id, actor);
        }
        Ok(())
    }

    fn remove_remote_link(&mut self, id: u64, actor: UserId) {
        if let Some(l) = self.remote_links.remove(&id) {
            let title = l.object["title"].as_str().unwrap_or_default().to_string();
            self.record_remote_link_change(
                l.issue_id,
                actor,
                Some((id, format!("This issue links to \"{title}\""))),
                None,
            );
        }
    }

    fn record_remote_link_change(
        &mut self,
        issue_id: u64,
        actor: UserId,
        from: Option<(u64, String)>,
        to: Option<(u64, String)>,
    ) {
        let Some(new) = self.issues.get(&issue_id).cloned() else {
            return;
        };
        let (from, from_string) =
            from.map_or((None, None), |(i, s)| (Some(i.to_string()), Some(s)));
        let (to, to_string) = to.map_or((None, None), |(i, s)| (Some(i.to_string()), Some(s)));
        let item = ChangeItem {
            field: "RemoteIssueLink".into(),
            fieldtype: "jira".into(),
            field_id: "RemoteIssueLink".into(),
            from,
            from_string,
            to,
            to_string,
        };
        self.commit_change(issue_id, actor, new, "issue_updated", Some(item));
    }
}
