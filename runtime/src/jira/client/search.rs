//! JQL search, one page at a time or all pages up to a limit.

use reqwest::Method;

use super::super::error::JiraError;
use super::super::flavour::Pagination;
use super::super::mapping;
use super::transport::Req;
use super::{JiraClient, PageCursor, SearchPage};
use crate::model::Issue;

impl JiraClient {
    /// One page of a JQL search; `fields` as Jira takes them (`*all`, `summary,status`, ...).
    pub async fn search_page(
        &self,
        jql: &str,
        fields: &str,
        cursor: &PageCursor,
        page_size: u32,
    ) -> Result<SearchPage, JiraError> {
        let fl = self.flavour();
        let mut r = Req::new(Method::GET, fl.search_path())
            .query("jql", jql)
            .query("fields", fields)
            .query("maxResults", page_size.to_string());
        match (fl.pagination(), cursor) {
            (Pagination::Token, PageCursor::Token(t)) => r = r.query("nextPageToken", t.clone()),
            (Pagination::Offset, PageCursor::Offset(n)) => r = r.query("startAt", n.to_string()),
            (Pagination::Offset, PageCursor::Start) => r = r.query("startAt", "0"),
            _ => {}
        }
        let v = self.json(r).await?;
        let raw = v["issues"].as_array().cloned().unwrap_or_default();
        let issues: Vec<Issue> = raw.iter().map(mapping::issue_from_json).collect();
        let (next, total) = match fl.pagination() {
            Pagination::Token => {
                // The last page has no token (the key is absent, not null).
                let next = v["nextPageToken"]
                    .as_str()
                    .filter(|t| !t.is_empty())
                    .map(|t| PageCursor::Token(t.to_string()));
                (next, None)
            }
            Pagination::Offset => {
                let start = v["startAt"].as_u64().unwrap_or(0);
                let total = v["total"].as_u64().unwrap_or(0);
                let end = start + raw.len() as u64;
                let next = (!raw.is_empty() && end < total).then_some(PageCursor::Offset(end));
                (next, Some(total))
            }
        };
        Ok(SearchPage {
            issues,
            next,
            total,
        })
    }

    /// Every issue a JQL query matches, up to `limit`.
    pub async fn search_all(
        &self,
        jql: &str,
        fields: &str,
        limit: usize,
    ) -> Result<Vec<Issue>, JiraError> {
        let mut out = Vec::new();
        let mut cursor = PageCursor::Start;
        loop {
            let page = self.search_page(jql, fields, &cursor, 100).await?;
            out.extend(page.issues);
            match page.next {
                Some(c) if out.len() < limit => cursor = c,
                _ => break,
            }
        }
        out.truncate(limit);
        Ok(out)
    }
}
