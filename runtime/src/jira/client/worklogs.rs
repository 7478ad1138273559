//! Calls on an issue's worklogs: list across pages, add, update and delete.

use reqwest::Method;
use serde_json::{Value, json};

use super::super::error::JiraError;
use super::super::flavour::Flavour;
use super::super::mapping;
use super::super::richtext::NoUserMapping;
use super::super::wire;
use super::JiraClient;
use super::transport::{Req, enc};
use crate::model::{RichText, Worklog};

/// What a worklog write sets: when the work started, how long it took, its comment, and
/// (Data Center only, which takes one) its author's user name.
#[derive(Debug, Clone, Copy)]
pub struct WorklogWrite<'a> {
    /// When the work started, as Jira writes timestamps.
    pub started: &'a str,
    /// The time spent, in seconds.
    pub time_spent_seconds: u64,
    /// The worklog's comment.
    pub comment: Option<&'a RichText>,
    /// The author's Data Center user name; Cloud keeps the caller as author.
    pub author: Option<&'a str>,
}

impl WorklogWrite<'_> {
    fn body(&self, flavour: Flavour) -> Value {
        let mut out = json!({
            "started": self.started,
            "timeSpentSeconds": self.time_spent_seconds,
        });
        if let Some(c) = self.comment {
            out["comment"] = mapping::rich_to_json(c, flavour, &NoUserMapping);
        }
        if let (Flavour::DataCenter, Some(name)) = (flavour, self.author) {
            out["author"] = json!({ "name": name });
        }
        out
    }
}

impl JiraClient {
    /// Every worklog of an issue, oldest first, across pages.
    pub async fn worklogs(&self, key: &str) -> Result<Vec<Worklog>, JiraError> {
        let mut out = Vec::new();
        let mut start = 0u64;
        loop {
            let r = Req::new(Method::GET, format!("issue/{}/worklog", enc(key)))
                .query("startAt", start.to_string())
                .query("maxResults", "100");
            let page: wire::WorklogPage = self.answer(r, format!("worklogs of {key}")).await?;
            let n = page.worklogs.len() as u64;
            out.extend(page.worklogs.into_iter().map(mapping::worklog));
            start += n;
            if n == 0 || start >= page.total {
                break;
            }
        }
        out.sort_by(|a, b| a.created.cmp(&b.created));
        Ok(out)
    }

    /// Logs work on an issue, leaving its remaining estimate alone, and returns the worklog
    /// as Jira stored it.
    pub async fn add_worklog(&self, key: &str, w: &WorklogWrite<'_>) -> Result<Worklog, JiraError> {
        let r = Req::new(Method::POST, format!("issue/{}/worklog", enc(key)))
            .query("adjustEstimate", "leave")
            .json(w.body(self.flavour()))
            .issue(key);
        let w: wire::Worklog = self.answer(r, format!("new worklog on {key}")).await?;
        Ok(mapping::worklog(w))
    }

    /// Rewrites one worklog of an issue.
    pub async fn update_worklog(
        &self,
        key: &str,
        id: &str,
        w: &WorklogWrite<'_>,
    ) -> Result<Worklog, JiraError> {
        let r = Req::new(
            Method::PUT,
            format!("issue/{}/worklog/{}", enc(key), enc(id)),
        )
        .query("adjustEstimate", "leave")
        .json(w.body(self.flavour()))
        .issue(key);
        let w: wire::Worklog = self.answer(r, format!("worklog {id} on {key}")).await?;
        Ok(mapping::worklog(w))
    }

    /// Deletes one worklog of an issue, leaving its remaining estimate alone.
    pub async fn delete_worklog(&self, key: &str, id: &str) -> Result<(), JiraError> {
        let r = Req::new(
            Method::DELETE,
            format!("issue/{}/worklog/{}", enc(key), enc(id)),
        )
        .query("adjustEstimate", "leave")
        .issue(key);
        self.send(r).await.map(drop)
    }
}
