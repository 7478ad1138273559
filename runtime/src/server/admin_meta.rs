//! The values a Visual-mode editor picks from, read from a site's own Jira: statuses per
//! project and issue type, priorities, issue types, resolutions, custom fields, the options
//! of a select field, and users found by search. Every list answers one page that matches
//! `query` (`?query=&startAt=&maxResults=`), never the whole list, so a site with hundreds
//! of statuses or thousands of users stays quick to pick from.

// Helpers answer with the HTTP response a refusal becomes; it is large, and that is fine here.
#![allow(clippy::result_large_err)]

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error;
use crate::jira::{JiraClient, JiraError};
use crate::sync::node::Node;

/// The most a page holds; the default is smaller.
const MAX_PAGE: usize = 100;
const DEFAULT_PAGE: usize = 25;

/// `GET /api/instances/{name}/meta/{kind}` parameters.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct MetaQuery {
    #[serde(default)]
    query: String,
    #[serde(default)]
    start_at: usize,
    #[serde(default)]
    max_results: Option<usize>,
    /// The project (statuses, issue types, options).
    #[serde(default)]
    project: Option<String>,
    /// An issue type's name (statuses, options).
    #[serde(default)]
    issuetype: Option<String>,
    /// A custom field id (options).
    #[serde(default)]
    field: Option<String>,
}

/// One page of `(id, name, extra)` rows whose name or id holds `query` (any case).
fn page(rows: Vec<Value>, q: &MetaQuery) -> Response {
    let needle = q.query.trim().to_lowercase();
    let matching: Vec<Value> = rows
        .into_iter()
        .filter(|r| {
            needle.is_empty()
                || ["name", "id"].iter().any(|k| {
                    r[*k]
                        .as_str()
                        .is_some_and(|v| v.to_lowercase().contains(&needle))
                })
        })
        .collect();
    let max = q.max_results.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let total = matching.len();
    let values: Vec<Value> = matching.into_iter().skip(q.start_at).take(max).collect();
    let is_last = q.start_at + values.len() >= total;
    axum::Json(json!({
        "values": values,
        "startAt": q.start_at,
        "maxResults": max,
        "total": total,
        "isLast": is_last,
    }))
    .into_response()
}

fn named(id: &str, name: &str) -> Value {
    json!({ "id": id, "name": name })
}

fn need<'a>(v: &'a Option<String>, what: &str, kind: &str) -> Result<&'a str, Response> {
    v.as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                format!("{kind} needs the `{what}` parameter"),
            )
        })
}

fn jira_failed(name: &str, kind: &str, e: JiraError) -> Response {
    let status = if e.is_not_found() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::BAD_GATEWAY
    };
    error(status, format!("instance {name}: cannot read {kind}: {e}"))
}

/// `GET /api/instances/{name}/meta/{kind}`: `statuses`, `priorities`, `issuetypes`,
/// `resolutions`, `fields`, `options` or `users`, one page at a time.
pub(super) async fn meta(
    State(node): State<Arc<Node>>,
    Path((name, kind)): Path<(String, String)>,
    Query(q): Query<MetaQuery>,
) -> Response {
    let Some(client) = node.client(&name) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("there is no instance named {name:?}"),
        );
    };
    match rows(&client, &kind, &q).await {
        Ok(Rows::Listed(rows)) => page(rows, &q),
        Ok(Rows::Paged(values)) => {
            let max = q.max_results.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
            let is_last = values.len() < max;
            axum::Json(json!({
                "values": values,
                "startAt": q.start_at,
                "maxResults": max,
                "isLast": is_last,
            }))
            .into_response()
        }
        Err(Failure::Bad(r)) => r,
        Err(Failure::Jira(e)) => jira_failed(&name, &kind, e),
    }
}

/// A list the node filters and pages, or one page Jira already paged (users).
enum Rows {
    Listed(Vec<Value>),
    Paged(Vec<Value>),
}

enum Failure {
    Bad(Response),
    Jira(JiraError),
}

impl From<JiraError> for Failure {
    fn from(e: JiraError) -> Self {
        Failure::Jira(e)
    }
}

async fn rows(client: &JiraClient, kind: &str, q: &MetaQuery) -> Result<Rows, Failure> {
    let listed = match kind {
        "statuses" => {
            let project = need(&q.project, "project", kind).map_err(Failure::Bad)?;
            let types = client.project_statuses(project).await?;
            let mut seen = BTreeSet::new();
            types
                .iter()
                .filter(|t| {
                    q.issuetype
                        .as_deref()
                        .is_none_or(|it| t.issue_type.eq_ignore_ascii_case(it))
                })
                .flat_map(|t| t.statuses.iter())
                .filter(|s| seen.insert(s.name.to_lowercase()))
                .map(|s| named(&s.id, &s.name))
                .collect()
        }
        "priorities" => client
            .priorities()
            .await?
            .iter()
            .map(|p| named(&p.id, &p.name))
            .collect(),
        "resolutions" => client
            .resolutions()
            .await?
            .iter()
            .map(|p| named(&p.id, &p.name))
            .collect(),
        "issuetypes" => {
            let project = need(&q.project, "project", kind).map_err(Failure::Bad)?;
            client
                .create_meta_issue_types(project)
                .await?
                .iter()
                .map(|t| named(&t.id, &t.name))
                .collect()
        }
        "fields" => client
            .fields()
            .await?
            .into_iter()
            .filter(|f| f.custom)
            .map(|f| json!({ "id": f.id, "name": f.name, "type": f.custom_type }))
            .collect(),
        "options" => {
            let project = need(&q.project, "project", kind).map_err(Failure::Bad)?;
            let issue_type = need(&q.issuetype, "issuetype", kind).map_err(Failure::Bad)?;
            let field = need(&q.field, "field", kind).map_err(Failure::Bad)?;
            let types = client.create_meta_issue_types(project).await?;
            let Some(t) = types
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(issue_type))
            else {
                return Err(Failure::Bad(error(
                    StatusCode::NOT_FOUND,
                    format!("project {project} has no issue type {issue_type:?}"),
                )));
            };
            client
                .create_meta(project, &t.id)
                .await?
                .into_iter()
                .filter(|f| f.id == field || f.name.eq_ignore_ascii_case(field))
                .flat_map(|f| f.allowed_values)
                .map(|v| named(&v, &v))
                .collect()
        }
        "users" => {
            let max = q.max_results.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
            let users = client.search_users(&q.query, q.start_at, max).await?;
            return Ok(Rows::Paged(
                users
                    .into_iter()
                    .map(|u| {
                        // Cloud names a user by account id, DC by user name.
                        let id = u.account_id.clone().or(u.name.clone()).unwrap_or_default();
                        json!({
                            "id": id,
                            "name": u.display_name.clone().unwrap_or_else(|| id.clone()),
                            "email": u.email,
                            "ref": match (&u.email, &u.account_id, &u.name) {
                                (Some(e), _, _) if !e.is_empty() => e.clone(),
                                (_, Some(a), _) => format!("accountid:{a}"),
                                (_, _, Some(n)) => format!("name:{n}"),
                                _ => String::new(),
                            },
                        })
                    })
                    .collect(),
            ));
        }
        other => {
            return Err(Failure::Bad(error(
                StatusCode::NOT_FOUND,
                format!(
                    "no metadata {other:?}: statuses, priorities, issuetypes, resolutions, fields, options or users"
                ),
            )));
        }
    };
    Ok(Rows::Listed(listed))
}
