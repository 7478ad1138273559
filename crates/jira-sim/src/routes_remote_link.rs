//! Remote issue links: `/issue/{key}/remotelink`, by id and by the caller's `globalId`.
//!
//! A POST whose `globalId` names an existing link of the issue updates it. Cloud answers 201 for a
//! new link and 200 for an update, as its spec declares; the Data Center spec declares only 200,
//! so DC answers 200 for both.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::error::ApiError;
use super::model::Flavour;
use super::render;
use super::server::{App, Body, Ctx, Params, json, no_content};

pub fn routes() -> Router<App> {
    Router::new()
        .route(
            "/issue/{key}/remotelink",
            get(list).post(upsert).delete(delete_by_global_id),
        )
        .route(
            "/issue/{key}/remotelink/{link}",
            get(one).put(update).delete(delete),
        )
}

async fn list(c: Ctx, Path(key): Path<String>, q: Params) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let id = st.issue_ref(&key)?;
    let issue_key = st.issues[&id].key.clone();
    if let Some(g) = q.get("globalId") {
        // With a globalId Jira answers that one link, not a list.
        let l = st
            .remote_links_of(id, Some(g))
            .first()
            .map(|l| render::remote_link(&st, c.api, &issue_key, l))
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "No remote issue link with global ID '{g}' exists on this issue."
                ))
            })?;
        return Ok(json(StatusCode::OK, l));
    }
    let all: Vec<Value> = st
        .remote_links_of(id, None)
        .into_iter()
        .map(|l| render::remote_link(&st, c.api, &issue_key, l))
        .collect();
    Ok(json(StatusCode::OK, Value::from(all)))
}

async fn one(c: Ctx, Path((key, link)): Path<(String, String)>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let id = st.issue_ref(&key)?;
    let l = st.remote_link_of(id, &link)?;
    let v = render::remote_link(&st, c.api, &st.issues[&id].key, l);
    Ok(json(StatusCode::OK, v))
}

async fn upsert(c: Ctx, Path(key): Path<String>, Body(body): Body) -> Result<Response, ApiError> {
    let (link, created, base, issue_key) = c.app.mutate(|st| {
        let id = st.issue_ref(&key)?;
        let (link, created) = st.upsert_remote_link(id, c.user, &body)?;
        let issue_key = st.issues[&id].key.clone();
        Ok((link, created, render::api_base(st, c.api), issue_key))
    })?;
    let status = if created && c.app.flavour == Flavour::Cloud {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json(
        status,
        json!({"id": link, "self": format!("{base}/issue/{issue_key}/remotelink/{link}")}),
    ))
}

async fn update(
    c: Ctx,
    Path((key, link)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    c.app.mutate(|st| {
        let id = st.issue_ref(&key)?;
        st.update_remote_link(id, &link, &body)
    })?;
    Ok(no_content())
}

async fn delete(c: Ctx, Path((key, link)): Path<(String, String)>) -> Result<Response, ApiError> {
    c.app.mutate(|st| {
        let id = st.issue_ref(&key)?;
        st.delete_remote_link(id, &link, c.user)
    })?;
    Ok(no_content())
}

async fn delete_by_global_id(
    c: Ctx,
    Path(key): Path<String>,
    q: Params,
) -> Result<Response, ApiError> {
    let g = q
        .get("globalId")
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .ok_or_else(|| ApiError::bad_request("The 'globalId' parameter must be given."))?;
    c.app.mutate(|st| {
        let id = st.issue_ref(&key)?;
        st.delete_remote_link_by_global_id(id, &g, c.user)
    })?;
    Ok(no_content())
}
