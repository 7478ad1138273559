//! Links between two issues of one site: made by `POST issueLink`, removed by id.

use reqwest::Method;
use serde_json::json;

use super::super::error::JiraError;
use super::JiraClient;
use super::transport::{Req, enc};
use crate::model::LinkDirection;

impl JiraClient {
    /// Links `key` to `other` with the link type named `link_type`, so that `key` reads the
    /// link back with `direction` (an outward end names the other issue as `outwardIssue`).
    pub async fn add_issue_link(
        &self,
        key: &str,
        link_type: &str,
        direction: LinkDirection,
        other: &str,
    ) -> Result<(), JiraError> {
        // Jira shows a link on each end naming the other end as the request named it.
        let (inward, outward) = match direction {
            LinkDirection::Outward => (key, other),
            LinkDirection::Inward => (other, key),
        };
        let body = json!({
            "type": {"name": link_type},
            "inwardIssue": {"key": inward},
            "outwardIssue": {"key": outward},
        });
        let r = Req::new(Method::POST, "issueLink").json(body).issue(key);
        self.send(r).await.map(drop)
    }

    /// Removes one issue link, from both of its ends.
    pub async fn delete_issue_link(&self, id: &str) -> Result<(), JiraError> {
        let r = Req::new(Method::DELETE, format!("issueLink/{}", enc(id)));
        self.send(r).await.map(drop)
    }
}
