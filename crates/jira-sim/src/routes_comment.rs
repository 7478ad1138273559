//! Comment endpoints: list (paged), add, get, update, delete, and comment properties (JSM's internal flag).

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::error::ApiError;
use super::render;
use super::server::{App, Body, Ctx, Params, json, no_content};
use super::state::State;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/issue/{key}/comment", get(list).post(add))
        .route(
            "/issue/{key}/comment/{id}",
            get(one).put(update).delete(remove),
        )
        .route("/comment/{id}/properties", get(property_keys))
        .route(
            "/comment/{id}/properties/{prop}",
            get(property).put(set_property),
        )
}

fn comment_id(s: &str) -> Result<u64, ApiError> {
    s.parse()
        .map_err(|_| ApiError::not_found(format!("Can not find a comment for the id: {s}.")))
}

struct Wants {
    rendered: bool,
    props: bool,
}

fn wants(q: &Params) -> Wants {
    let ex: Vec<&str> = q.all("expand").flat_map(|e| e.split(',')).collect();
    Wants {
        rendered: ex.contains(&"renderedBody"),
        props: ex.contains(&"properties"),
    }
}

async fn list(c: Ctx, Path(key): Path<String>, q: Params) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let id = st.issue_ref(&key)?;
    let issue = st.issues.get(&id).ok_or_else(ApiError::issue_not_found)?;
    let start = q.num("startAt", 0)?;
    let max = q.num("maxResults", 5000)?.min(5000);
    let w = wants(&q);
    let mut list: Vec<_> = issue.comments.iter().collect();
    match q.get("orderBy") {
        Some("-created") => list.reverse(),
        Some("created") | Some("+created") | None => {}
        Some(o) => {
            return Err(ApiError::bad_request(format!(
                "Invalid orderBy value '{o}'"
            )));
        }
    }
    let total = list.len();
    let page: Vec<Value> = list
        .into_iter()
        .skip(start)
        .take(max)
        .map(|cm| render::comment(&st, c.api, issue, cm, w.rendered, w.props))
        .collect();
    Ok(json(
        StatusCode::OK,
        json!({"startAt": start, "maxResults": max, "total": total, "comments": page}),
    ))
}

fn answer(
    st: &State,
    c: &Ctx,
    issue_id: u64,
    comment_id: u64,
    w: &Wants,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let issue = st
        .issues
        .get(&issue_id)
        .ok_or_else(ApiError::issue_not_found)?;
    let cm = st.comment(issue_id, comment_id)?;
    Ok(json(
        status,
        render::comment(st, c.api, issue, cm, w.rendered, w.props),
    ))
}

async fn add(
    c: Ctx,
    Path(key): Path<String>,
    q: Params,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let (issue_id, cid) = c.app.mutate(|st| {
        let id = st.issue_ref(&key)?;
        Ok((id, st.add_comment(id, c.user, c.api, &body)?))
    })?;
    let st = c.app.lock();
    answer(&st, &c, issue_id, cid, &wants(&q), StatusCode::CREATED)
}

async fn one(
    c: Ctx,
    Path((key, id)): Path<(String, String)>,
    q: Params,
) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let issue_id = st.issue_ref(&key)?;
    answer(
        &st,
        &c,
        issue_id,
        comment_id(&id)?,
        &wants(&q),
        StatusCode::OK,
    )
}

async fn update(
    c: Ctx,
    Path((key, id)): Path<(String, String)>,
    q: Params,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let cid = comment_id(&id)?;
    let issue_id = c.app.mutate(|st| {
        let issue_id = st.issue_ref(&key)?;
        st.update_comment(issue_id, cid, c.user, c.api, &body)?;
        Ok(issue_id)
    })?;
    let st = c.app.lock();
    answer(&st, &c, issue_id, cid, &wants(&q), StatusCode::OK)
}

async fn remove(c: Ctx, Path((key, id)): Path<(String, String)>) -> Result<Response, ApiError> {
    let cid = comment_id(&id)?;
    c.app.mutate(|st| {
        let issue_id = st.issue_ref(&key)?;
        st.delete_comment(issue_id, cid, c.user)
    })?;
    Ok(no_content())
}

fn find<'a>(st: &'a State, id: &str) -> Result<&'a super::model::Comment, ApiError> {
    let cid = comment_id(id)?;
    let issue_id = *st
        .comment_index
        .get(&cid)
        .ok_or_else(|| ApiError::not_found(format!("Can not find a comment for the id: {cid}.")))?;
    st.comment(issue_id, cid)
}

async fn property_keys(c: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let cm = find(&st, &id)?;
    let base = render::api_base(&st, c.api);
    let keys: Vec<Value> = cm
        .properties
        .keys()
        .map(|k| json!({"self": format!("{base}/comment/{id}/properties/{k}"), "key": k}))
        .collect();
    Ok(json(StatusCode::OK, json!({"keys": keys})))
}

async fn property(c: Ctx, Path((id, prop)): Path<(String, String)>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let cm = find(&st, &id)?;
    let v = cm.properties.get(&prop).ok_or_else(|| {
        ApiError::not_found(format!("The property with key '{prop}' does not exist."))
    })?;
    Ok(json(StatusCode::OK, json!({"key": prop, "value": v})))
}

async fn set_property(
    c: Ctx,
    Path((id, prop)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let cid = comment_id(&id)?;
    let existed = {
        let st = c.app.lock();
        find(&st, &id)?.properties.contains_key(&prop)
    };
    c.app
        .mutate(|st| st.set_comment_property(cid, &prop, body))?;
    Ok(if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    }
    .into_response())
}
