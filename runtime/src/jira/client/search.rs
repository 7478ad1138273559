//! JQL search, one page at a time or all pages up to a limit.

use reqwest::Method;

use super::super::error::JiraError;
use super::super::flavour::Pagination;
use super::super::mapping;
use super::super::wire;
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
        let (raw, next, total) = match fl.pagination() {
            Pagination::Token => {
                let p: wire::TokenPage = self.answer(r, "search page").await?;
                let next = p
                    .next_page_token
                    .filter(|t| !t.is_empty())
                    .map(PageCursor::Token);
                (p.issues, next, None)
            }
            Pagination::Offset => {
                let p: wire::OffsetPage = self.answer(r, "search page").await?;
                let end = p.start_at + p.issues.len() as u64;
                let next =
                    (!p.issues.is_empty() && end < p.total).then_some(PageCursor::Offset(end));
                (p.issues, next, Some(p.total))
            }
        };
        // Each hit is decoded on its own, so an error names the issue.
        let issues = raw
            .iter()
            .map(|v| {
                mapping::issue_from_json(v)
                    .map_err(|e| self.shape_err(&Method::GET, fl.search_path(), e))
            })
            .collect::<Result<Vec<Issue>, _>>()?;
        Ok(SearchPage {
            issues,
            next,
            total,
        })
    }

    /// How many issues a JQL query matches, without reading them: Cloud's
    /// `search/approximate-count` (an estimate, as Jira says), DC's search total with no
    /// issues asked for.
    pub async fn count_jql(&self, jql: &str) -> Result<u64, JiraError> {
        match self.flavour().pagination() {
            Pagination::Token => {
                let r = Req::new(Method::POST, "search/approximate-count")
                    .json(serde_json::json!({ "jql": jql }));
                let c: wire::Count = self.answer(r, "issue count").await?;
                Ok(c.count)
            }
            Pagination::Offset => {
                let r = Req::new(Method::GET, self.flavour().search_path())
                    .query("jql", jql)
                    .query("maxResults", "0")
                    .query("fields", "id");
                let t: wire::Total = self.answer(r, "issue count").await?;
                Ok(t.total)
            }
        }
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
