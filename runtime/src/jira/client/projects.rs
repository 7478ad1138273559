//! Calls an admin needs while setting up a sync: the projects the account can see, and how
//! many issues a JQL query matches.

use reqwest::Method;
use serde::Deserialize;

use super::super::error::JiraError;
use super::super::flavour::Flavour;
use super::JiraClient;
use super::transport::Req;

/// A project as the site lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProjectInfo {
    /// Its key, e.g. `SUP`.
    pub key: String,
    /// Its name.
    pub name: String,
}

/// Cloud's `PageBeanProject` from `GET project/search`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProjectPage {
    values: Vec<ProjectInfo>,
    #[serde(default)]
    is_last: Option<bool>,
    #[serde(default)]
    total: Option<u64>,
}

/// DC's search answer, read for its `total` only.
#[derive(Deserialize)]
struct Total {
    total: u64,
}

/// Cloud's `JQLCountResultsBean`.
#[derive(Deserialize)]
struct Count {
    count: u64,
}

/// Most projects listed: a site with more asks the admin to type the key.
const MAX_PROJECTS: usize = 5000;

impl JiraClient {
    /// The projects the account can browse, by key (Cloud pages through `project/search`;
    /// DC answers `project` whole).
    pub async fn projects(&self) -> Result<Vec<ProjectInfo>, JiraError> {
        let mut out = match self.flavour() {
            Flavour::DataCenter => {
                self.answer::<Vec<ProjectInfo>>(Req::new(Method::GET, "project"), "projects")
                    .await?
            }
            Flavour::Cloud => {
                let mut out = Vec::new();
                loop {
                    let r = Req::new(Method::GET, "project/search")
                        .query("startAt", out.len().to_string())
                        .query("maxResults", "100");
                    let page: ProjectPage = self.answer(r, "projects").await?;
                    let got = page.values.len();
                    out.extend(page.values);
                    let last = page.is_last.unwrap_or(got == 0)
                        || page.total.is_some_and(|t| out.len() as u64 >= t);
                    if last || got == 0 || out.len() >= MAX_PROJECTS {
                        break;
                    }
                }
                out
            }
        };
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// How many issues `jql` matches: Cloud's approximate count, DC's search total.
    pub async fn count_jql(&self, jql: &str) -> Result<u64, JiraError> {
        match self.flavour() {
            Flavour::Cloud => {
                let r = Req::new(Method::POST, "search/approximate-count")
                    .json(serde_json::json!({ "jql": jql }));
                let c: Count = self.answer(r, "the count of matching issues").await?;
                Ok(c.count)
            }
            Flavour::DataCenter => {
                let r = Req::new(Method::GET, "search")
                    .query("jql", jql)
                    .query("maxResults", "0")
                    .query("fields", "key");
                let t: Total = self.answer(r, "the count of matching issues").await?;
                Ok(t.total)
            }
        }
    }
}
