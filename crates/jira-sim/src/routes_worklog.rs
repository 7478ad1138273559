//! Worklogs: `/issue/{key}/worklog`, listed page by page, and one by id.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::error::ApiError;
use super::render;
use super::server::{App, Body, Ctx, Params, json, no_content};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/issue/{key}/worklog", get(list).post(add))
        .route(
            "/issue/{key}/worklog/{id}",
            get(one).put(update).delete(delete),
        )
}

async fn list(c: Ctx, Path(key): Path<String>, q: Params) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let id = st.issue_ref(&key)?;
    let all = st.worklogs_of(id);
    let start = q.num("startAt", 0)?;
    let max = q.num("maxResults", 5000)?.clamp(1, 5000);
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(max)
        .map(|w| render::worklog(&st, c.api, w))
        .collect();
    Ok(json(
        StatusCode::OK,
        json!({"startAt": start, "maxResults": max, "total": all.len(), "worklogs": page}),
    ))
}

async fn one(c: Ctx, Path((key, wid)): Path<(String, String)>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let id = st.issue_ref(&key)?;
    let w = st.worklog_of(id, &wid)?;
    Ok(json(StatusCode::OK, render::worklog(&st, c.api, w)))
}

async fn add(c: Ctx, Path(key): Path<String>, Body(body): Body) -> Result<Response, ApiError> {
    let v = c.app.mutate(|st| {
        let id = st.issue_ref(&key)?;
        let wid = st.add_worklog(id, c.user, c.api, &body)?;
        Ok(render::worklog(st, c.api, &st.worklogs[&wid]))
    })?;
    Ok(json(StatusCode::CREATED, v))
}

async fn update(
    c: Ctx,
    Path((key, wid)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let v = c.app.mutate(|st| {
        let id = st.issue_ref(&key)?;
        let wid = st.update_worklog(id, &wid, c.user, c.api, &body)?;
        Ok(render::worklog(st, c.api, &st.worklogs[&wid]))
    })?;
    Ok(json(StatusCode::OK, v))
}

async fn delete(c: Ctx, Path((key, wid)): Path<(String, String)>) -> Result<Response, ApiError> {
    c.app.mutate(|st| {
        let id = st.issue_ref(&key)?;
        st.delete_worklog(id, &wid, c.user)
    })?;
    Ok(no_content())
}
