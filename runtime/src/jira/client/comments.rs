//! Calls on an issue's comments: list across pages, add, update and delete.

use reqwest::Method;

use super::super::error::JiraError;
use super::super::mapping;
use super::super::richtext::UserMapper;
use super::super::wire;
use super::JiraClient;
use super::transport::{Req, enc};
use crate::model::{Comment, RichText};

impl JiraClient {
    /// Every comment of an issue, oldest first, across pages.
    pub async fn comments(&self, key: &str) -> Result<Vec<Comment>, JiraError> {
        let mut out = Vec::new();
        let mut start = 0u64;
        loop {
            let r = Req::new(Method::GET, format!("issue/{}/comment", enc(key)))
                .query("startAt", start.to_string())
                .query("maxResults", "100")
                .query("expand", "properties");
            let page: wire::CommentPage = self.answer(r, format!("comments of {key}")).await?;
            let n = page.comments.len() as u64;
            out.extend(page.comments.into_iter().map(mapping::comment));
            start += n;
            if n == 0 || start >= page.total {
                break;
            }
        }
        Ok(out)
    }

    /// Adds a comment to an issue and returns it as Jira stored it.
    pub async fn add_comment(
        &self,
        key: &str,
        body: &RichText,
        internal: bool,
        users: &dyn UserMapper,
    ) -> Result<Comment, JiraError> {
        let b = mapping::comment_body(body, internal, self.flavour(), users);
        let r = Req::new(Method::POST, format!("issue/{}/comment", enc(key)))
            .query("expand", "properties")
            .json(b)
            .issue(key);
        let c: wire::Comment = self.answer(r, format!("new comment on {key}")).await?;
        Ok(mapping::comment(c))
    }

    /// Updates a comment's body; an `internal` flag is set through the comment property JSM reads.
    pub async fn update_comment(
        &self,
        key: &str,
        id: &str,
        body: &RichText,
        internal: bool,
        users: &dyn UserMapper,
    ) -> Result<Comment, JiraError> {
        let b = mapping::comment_body(body, internal, self.flavour(), users);
        let r = Req::new(
            Method::PUT,
            format!("issue/{}/comment/{}", enc(key), enc(id)),
        )
        .query("expand", "properties")
        .json(b)
        .issue(key);
        let c: wire::Comment = self.answer(r, format!("comment {id} on {key}")).await?;
        Ok(mapping::comment(c))
    }

    /// Deletes one comment of an issue.
    pub async fn delete_comment(&self, key: &str, id: &str) -> Result<(), JiraError> {
        let r = Req::new(
            Method::DELETE,
            format!("issue/{}/comment/{}", enc(key), enc(id)),
        )
        .issue(key);
        self.send(r).await.map(drop)
    }
}
