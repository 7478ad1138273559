//! Calls on one issue: read, create, edit, delete, its properties and its transitions.

use reqwest::Method;
use serde_json::{Value, json};

use super::super::error::JiraError;
use super::super::mapping;
use super::transport::{Req, enc};
use super::{CreatedIssue, JiraClient, Transition};
use crate::model::Issue;

impl JiraClient {
    /// The raw issue JSON, with `names` and `schema` expanded for the mapping.
    pub async fn get_issue_json(
        &self,
        key: &str,
        fields: Option<&str>,
    ) -> Result<Value, JiraError> {
        let mut r =
            Req::new(Method::GET, format!("issue/{}", enc(key))).query("expand", "names,schema");
        if let Some(f) = fields {
            r = r.query("fields", f);
        }
        self.json(r).await
    }

    /// An issue with all its comments (fetching further comment pages when Jira cut the embedded list short).
    pub async fn get_issue(&self, key: &str) -> Result<Issue, JiraError> {
        let v = self.get_issue_json(key, None).await?;
        let mut issue = mapping::issue_from_json(&v);
        let c = &v["fields"]["comment"];
        let total = c["total"].as_u64().unwrap_or(0) as usize;
        if total > issue.comments.len() {
            issue.comments = self.comments(key).await?;
        }
        Ok(issue)
    }

    pub async fn create_issue(&self, body: Value) -> Result<CreatedIssue, JiraError> {
        let v = self
            .json(Req::new(Method::POST, "issue").json(body))
            .await?;
        match (v["id"].as_str(), v["key"].as_str()) {
            (Some(id), Some(key)) => Ok(CreatedIssue {
                id: id.to_string(),
                key: key.to_string(),
            }),
            _ => Err(self.decode_err(&Method::POST, "issue", "no id/key in the answer")),
        }
    }

    /// `PUT issue/{key}` with a body from [`mapping::edit_request`].
    pub async fn edit_issue(&self, key: &str, body: Value) -> Result<(), JiraError> {
        let r = Req::new(Method::PUT, format!("issue/{}", enc(key)))
            .json(body)
            .issue(key);
        self.send(r).await.map(drop)
    }

    /// An issue entity property's value, or `None` if the issue has no such property.
    pub async fn issue_property(
        &self,
        key: &str,
        property: &str,
    ) -> Result<Option<Value>, JiraError> {
        let r = Req::new(
            Method::GET,
            format!("issue/{}/properties/{}", enc(key), enc(property)),
        );
        match self.json(r).await {
            Ok(v) => Ok(Some(v["value"].clone())),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn delete_issue(&self, key: &str) -> Result<(), JiraError> {
        let r = Req::new(Method::DELETE, format!("issue/{}", enc(key))).issue(key);
        self.send(r).await.map(drop)
    }

    pub async fn transitions(&self, key: &str) -> Result<Vec<Transition>, JiraError> {
        let v = self
            .json(Req::new(
                Method::GET,
                format!("issue/{}/transitions", enc(key)),
            ))
            .await?;
        Ok(v["transitions"]
            .as_array()
            .map(|ts| {
                ts.iter()
                    .map(|t| Transition {
                        id: t["id"].as_str().unwrap_or_default().to_string(),
                        name: t["name"].as_str().unwrap_or_default().to_string(),
                        to_status: t["to"]["name"].as_str().unwrap_or_default().to_string(),
                        to_status_id: t["to"]["id"].as_str().unwrap_or_default().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default())
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
