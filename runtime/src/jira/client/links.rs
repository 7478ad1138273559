//! Remote issue links: links from an issue to an item elsewhere, written by `globalId` so that a
//! second write updates the same link.

use reqwest::Method;
use serde_json::{Value, json};

use super::super::error::JiraError;
use super::super::wire;
use super::transport::{Req, enc};
use super::{JiraClient, RemoteLink};

impl JiraClient {
    /// Creates the issue's remote link with `link.global_id`, or updates it if it exists
    /// (`POST issue/{key}/remotelink`); returns the link's id.
    pub async fn upsert_remote_link(&self, key: &str, link: &RemoteLink) -> Result<u64, JiraError> {
        let r = Req::new(Method::POST, format!("issue/{}/remotelink", enc(key)))
            .json(remote_link_body(link))
            .issue(key);
        let ids: wire::RemoteLinkIds = self.answer(r, format!("remote link of {key}")).await?;
        Ok(ids.id)
    }

    /// Deletes the issue's remote link with `global_id`; `false` when there was none.
    pub async fn delete_remote_link_by_global_id(
        &self,
        key: &str,
        global_id: &str,
    ) -> Result<bool, JiraError> {
        let r = Req::new(Method::DELETE, format!("issue/{}/remotelink", enc(key)))
            .query("globalId", global_id)
            .issue(key);
        match self.send(r).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Sets an issue entity property (`PUT issue/{key}/properties/{property}`), creating it if
    /// needed.
    pub async fn set_issue_property(
        &self,
        key: &str,
        property: &str,
        value: &Value,
    ) -> Result<(), JiraError> {
        let r = Req::new(
            Method::PUT,
            format!("issue/{}/properties/{}", enc(key), enc(property)),
        )
        .json(value.clone())
        .issue(key);
        self.send(r).await.map(drop)
    }
}

/// `RemoteIssueLinkRequest` for a link.
fn remote_link_body(l: &RemoteLink) -> Value {
    let mut object = json!({
        "url": l.url,
        "title": l.title,
        "status": { "resolved": l.status_resolved },
    });
    if let Some(s) = &l.summary {
        object["summary"] = json!(s);
    }
    if let Some(t) = &l.icon_title {
        object["icon"] = json!({ "title": t });
    }
    json!({
        "globalId": l.global_id,
        "application": { "type": "twinsync", "name": "Twinsync" },
        "object": object,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_jiras_request_shape() {
        let b = remote_link_body(&RemoteLink {
            global_id: "twinsync:c:b".into(),
            url: "http://x/browse/B-1".into(),
            title: "B-1 (c)".into(),
            summary: Some("synced".into()),
            status_resolved: false,
            icon_title: None,
        });
        assert_eq!(
            b,
            json!({"globalId": "twinsync:c:b", "application": {"type": "twinsync", "name": "Twinsync"},
                "object": {"url": "http://x/browse/B-1", "title": "B-1 (c)", "summary": "synced", "status": {"resolved": false}}})
        );
    }
}
