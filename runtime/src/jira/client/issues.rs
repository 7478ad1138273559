//! Calls on one issue: read, create, edit, delete, its properties and its transitions.

use reqwest::Method;
use serde_json::{Value, json};

use super::super::error::JiraError;
use super::super::mapping;
use super::super::wire;
use super::transport::{Req, enc};
use super::{CreatedIssue, JiraClient, Transition};
use crate::model::Issue;

impl JiraClient {
    /// An issue with all its comments and worklogs (fetching further pages when Jira cut an
    /// embedded list short).
    pub async fn get_issue(&self, key: &str) -> Result<Issue, JiraError> {
        let w: wire::Issue = self
            .answer(issue_req(key, None), format!("issue {key}"))
            .await?;
        let total = w.fields.comment.as_ref().map_or(0, |c| c.total) as usize;
        // Embedded comments carry no properties: without Cloud's `jsdPublic` beside them,
        // only the comment list (expanded) tells an internal note from a public comment.
        let unmarked = w.fields.comment.as_ref().is_some_and(|c| {
            c.comments
                .iter()
                .any(|c| c.jsd_public.is_none() && c.properties.is_none())
        });
        // An issue read without its embedded worklogs has them fetched on their own.
        let worklogs = w
            .fields
            .worklog
            .as_ref()
            .map_or(usize::MAX, |p| p.total as usize);
        let mut issue = mapping::issue(w);
        if total > issue.comments.len() || unmarked {
            issue.comments = self.comments(key).await?;
        }
        if worklogs > issue.worklogs.len() {
            issue.worklogs = self.worklogs(key).await?;
        }
        Ok(issue)
    }

    /// Creates an issue from a request body (see `mapping::create_request`).
    pub async fn create_issue(&self, body: Value) -> Result<CreatedIssue, JiraError> {
        let r = Req::new(Method::POST, "issue").json(body);
        let c: wire::Created = self.answer(r, "created issue").await?;
        Ok(CreatedIssue {
            id: c.id,
            key: c.key,
        })
    }

    /// `PUT issue/{key}` with a body from [`mapping::edit_request`].
    pub async fn edit_issue(&self, key: &str, body: Value) -> Result<(), JiraError> {
        let r = Req::new(Method::PUT, format!("issue/{}", enc(key)))
            .json(body)
            .issue(key);
        self.send(r).await.map(drop)
    }

    /// An issue entity property's value, or `None` if the issue has no such property.
    pub(crate) async fn issue_property(
        &self,
        key: &str,
        property: &str,
    ) -> Result<Option<Value>, JiraError> {
        let r = Req::new(
            Method::GET,
            format!("issue/{}/properties/{}", enc(key), enc(property)),
        );
        let what = format!("property {property} of {key}");
        match self.answer::<wire::Property>(r, what).await {
            Ok(p) => Ok(Some(p.value)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The issue's `updated` as Jira writes it, read alone; `None` if Jira left it out.
    pub(crate) async fn issue_updated(&self, key: &str) -> Result<Option<String>, JiraError> {
        let w: wire::Issue = self
            .answer(issue_req(key, Some("updated")), format!("issue {key}"))
            .await?;
        Ok(w.fields.updated)
    }

    /// Whether the credentials can still see project `key`: `false` on a 404, which Jira
    /// answers for a project that is gone or hidden from the caller alike.
    pub async fn project_visible(&self, key: &str) -> Result<bool, JiraError> {
        let r = Req::new(Method::GET, format!("project/{}", enc(key)));
        match self.send(r).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes an issue.
    pub async fn delete_issue(&self, key: &str) -> Result<(), JiraError> {
        let r = Req::new(Method::DELETE, format!("issue/{}", enc(key))).issue(key);
        self.send(r).await.map(drop)
    }

    /// The workflow transitions open to an issue now.
    pub async fn transitions(&self, key: &str) -> Result<Vec<Transition>, JiraError> {
        let r = Req::new(Method::GET, format!("issue/{}/transitions", enc(key)));
        let w: wire::Transitions = self.answer(r, format!("transitions of {key}")).await?;
        Ok(w.transitions
            .into_iter()
            .map(|t| Transition {
                id: t.id,
                name: t.name,
                to_status: t.to.name,
                to_status_id: t.to.id,
            })
            .collect())
    }

    /// Performs a transition; `fields` are the transition screen's fields, if it needs any.
    pub async fn transition(
        &self,
        key: &str,
        transition_id: &str,
        fields: Option<Value>,
    ) -> Result<(), JiraError> {
        let mut body = json!({ "transition": { "id": transition_id } });
        if let Some(f) = fields {
            body["fields"] = f;
        }
        let r = Req::new(Method::POST, format!("issue/{}/transitions", enc(key)))
            .json(body)
            .issue(key);
        self.send(r).await.map(drop)
    }
}

/// `GET issue/{key}`, with `names` and `schema` expanded for the mapping.
fn issue_req(key: &str, fields: Option<&str>) -> Req {
    let r = Req::new(Method::GET, format!("issue/{}", enc(key))).query("expand", "names,schema");
    match fields {
        Some(f) => r.query("fields", f),
        None => r,
    }
}
