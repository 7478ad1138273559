//! Issue endpoints: create, get, edit, delete, edit metadata, changelog, transitions, assignee, links.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::input;
use super::model::Flavour;
use super::render;
use super::request::{Expand, FieldSel};
use super::server::{App, Body, Ctx, Params, json, json_bytes, no_content};

pub fn routes(flavour: Flavour) -> Router<App> {
    let r = Router::new()
        .route("/issue", post(create))
        .route("/issue/{key}", get(get_issue).put(edit).delete(delete))
        .route("/issue/{key}/editmeta", get(editmeta))
        .route(
            "/issue/{key}/transitions",
            get(transitions).post(do_transition),
        )
        .route("/issue/{key}/assignee", put(assign))
        .route("/issue/{key}/properties", get(property_keys))
        .route(
            "/issue/{key}/properties/{prop}",
            get(property).put(set_property).delete(delete_property),
        )
        .route("/issueLink", post(create_link))
        .route("/issueLink/{id}", get(get_link).delete(delete_link));
    match flavour {
        Flavour::Cloud => r.route("/issue/{key}/changelog", get(changelog)),
        Flavour::DataCenter => r,
    }
}

fn obj<'a>(body: &'a Value, k: &str) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match body.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(ApiError::bad_request(format!(
            "Can not deserialize '{k}': an object is expected."
        ))),
    }
}

/// The `transition.id` of a request body; Jira takes it as a string or a number.
fn transition_id(body: &Value) -> Option<String> {
    let id = body.get("transition")?.get("id")?;
    id.as_str()
        .map(str::to_string)
        .or_else(|| id.as_u64().map(|n| n.to_string()))
}

async fn create(c: Ctx, Body(body): Body) -> Result<Response, ApiError> {
    let fields = obj(&body, "fields")?.cloned().unwrap_or_default();
    let update = obj(&body, "update")?.cloned();
    let transition = transition_id(&body);
    let properties = entity_properties(&body)?;
    let (id, key, base) = c.app.mutate(|st| {
        let id = st.create_issue(c.user, c.api, &fields, update.as_ref())?;
        if let Some(issue) = st.issues.get_mut(&id) {
            issue.properties.extend(properties);
        }
        if let Some(t) = &transition {
            st.transition(id, c.user, c.api, t, None, None)?;
        }
        let key = st
            .issues
            .get(&id)
            .map(|i| i.key.clone())
            .unwrap_or_default();
        Ok((id, key, render::api_base(st, c.api)))
    })?;
    tracing::debug!(%key, "issue created");
    Ok(json(
        StatusCode::CREATED,
        json!({"id": id.to_string(), "key": key, "self": format!("{base}/issue/{id}")}),
    ))
}

/// The `properties` of a create body (`EntityProperty[]`: `{key, value}` objects).
fn entity_properties(body: &Value) -> Result<Vec<(String, Value)>, ApiError> {
    match body.get("properties") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(
                |p| match (p.get("key").and_then(Value::as_str), p.get("value")) {
                    (Some(k), Some(v)) if !k.is_empty() => Ok((k.to_string(), v.clone())),
                    _ => Err(ApiError::bad_request(
                        "Each entity property needs a 'key' and a 'value'.",
                    )),
                },
            )
            .collect(),
        Some(_) => Err(ApiError::bad_request(
            "Can not deserialize 'properties': an array is expected.",
        )),
    }
}

fn issue_id(st: &super::state::State, key: &str) -> Result<u64, ApiError> {
    st.find_issue(key).ok_or_else(ApiError::issue_not_found)
}

async fn property_keys(c: Ctx, Path(key): Path<String>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let id = issue_id(&st, &key)?;
    let base = render::api_base(&st, c.api);
    let keys: Vec<Value> = st.issues[&id]
        .properties
        .keys()
        .map(|k| json!({"self": format!("{base}/issue/{id}/properties/{k}"), "key": k}))
        .collect();
    Ok(json(StatusCode::OK, json!({"keys": keys})))
}

async fn property(c: Ctx, Path((key, prop)): Path<(String, String)>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let id = issue_id(&st, &key)?;
    let v = st.issues[&id].properties.get(&prop).ok_or_else(|| {
        ApiError::not_found(format!("The property with key '{prop}' does not exist."))
    })?;
    Ok(json(StatusCode::OK, json!({"key": prop, "value": v})))
}

async fn set_property(
    c: Ctx,
    Path((key, prop)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let existed = c.app.mutate(|st| {
        let id = issue_id(st, &key)?;
        let issue = st
            .issues
            .get_mut(&id)
            .ok_or_else(ApiError::issue_not_found)?;
        Ok(issue.properties.insert(prop.clone(), body).is_some())
    })?;
    Ok(if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    }
    .into_response())
}

async fn delete_property(
    c: Ctx,
    Path((key, prop)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    c.app.mutate(|st| {
        let id = issue_id(st, &key)?;
        let issue = st
            .issues
            .get_mut(&id)
            .ok_or_else(ApiError::issue_not_found)?;
        issue.properties.remove(&prop).map(drop).ok_or_else(|| {
            ApiError::not_found(format!("The property with key '{prop}' does not exist."))
        })
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn get_issue(
    c: Ctx,
    Path(key): Path<String>,
    q: Params,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    // Unchanged issues are served from the render cache (invalidated by any change).
    let cache_key = (
        format!("{}{}", c.api.version(), uri.path()),
        uri.query().unwrap_or("").to_string(),
    );
    if let Some(body) = c.app.cached(&cache_key) {
        return Ok(json_bytes(body));
    }
    let st = c.app.lock();
    let generation = c.app.generation.load(std::sync::atomic::Ordering::Acquire);
    let id = st.issue_ref(&key)?;
    let issue = st.issues.get(&id).ok_or_else(ApiError::issue_not_found)?;
    let sel = FieldSel::parse(q.all("fields"), "*all");
    let ex = Expand::parse(q.all("expand"));
    let v = render::issue(&st, c.api, issue, &sel, ex);
    drop(st);
    let body = axum::body::Bytes::from(
        serde_json::to_vec(&v)
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?,
    );
    c.app.remember(cache_key, generation, body.clone());
    Ok(json_bytes(body))
}

async fn edit(
    c: Ctx,
    Path(key): Path<String>,
    q: Params,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let fields = obj(&body, "fields")?.cloned();
    let update = obj(&body, "update")?.cloned();
    let id = c.app.mutate(|st| {
        let id = st.issue_ref(&key)?;
        st.edit_issue(id, c.user, c.api, fields.as_ref(), update.as_ref())?;
        Ok(id)
    })?;
    if c.api.cloud() && q.flag("returnIssue") {
        let st = c.app.lock();
        let issue = st.issues.get(&id).ok_or_else(ApiError::issue_not_found)?;
        let v = render::issue(
            &st,
            c.api,
            issue,
            &FieldSel::parse(std::iter::empty(), "*all"),
            Expand::parse(q.all("expand")),
        );
        return Ok(json(StatusCode::OK, v));
    }
    Ok(no_content())
}

async fn delete(c: Ctx, Path(key): Path<String>, q: Params) -> Result<Response, ApiError> {
    c.app.mutate(|st| {
        let id = st.issue_ref(&key)?;
        st.delete_issue(id, c.user, q.flag("deleteSubtasks"))
    })?;
    Ok(no_content())
}

async fn editmeta(c: Ctx, Path(key): Path<String>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let id = st.issue_ref(&key)?;
    let issue = st.issues.get(&id).ok_or_else(ApiError::issue_not_found)?;
    Ok(json(StatusCode::OK, render::editmeta(&st, c.api, issue)))
}

async fn changelog(c: Ctx, Path(key): Path<String>, q: Params) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let id = st.issue_ref(&key)?;
    let issue = st.issues.get(&id).ok_or_else(ApiError::issue_not_found)?;
    let start = q.num("startAt", 0)?;
    let max = q.num("maxResults", 100)?.clamp(1, 100);
    let total = issue.histories.len();
    let values: Vec<Value> = issue
        .histories
        .iter()
        .skip(start)
        .take(max)
        .map(|h| render::history(&st, c.api, h))
        .collect();
    let base = render::api_base(&st, c.api);
    let mut v = json!({
        "self": format!("{base}/issue/{key}/changelog?maxResults={max}&startAt={start}"),
        "maxResults": max, "startAt": start, "total": total, "isLast": start + max >= total, "values": values,
    });
    if start + max < total {
        v["nextPage"] = json!(format!(
            "{base}/issue/{key}/changelog?maxResults={max}&startAt={}",
            start + max
        ));
    }
    Ok(json(StatusCode::OK, v))
}

async fn transitions(c: Ctx, Path(key): Path<String>, q: Params) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let id = st.issue_ref(&key)?;
    let issue = st.issues.get(&id).ok_or_else(ApiError::issue_not_found)?;
    let with_fields = q.all("expand").any(|e| e.contains("transitions.fields"));
    let only = q.get("transitionId");
    let ts: Vec<Value> = st
        .transitions_for(issue)
        .iter()
        .filter(|t| only.is_none_or(|o| o == t.id))
        .map(|t| render::transition(&st, c.api, t, with_fields))
        .collect();
    Ok(json(
        StatusCode::OK,
        json!({"expand": "transitions", "transitions": ts}),
    ))
}

async fn do_transition(
    c: Ctx,
    Path(key): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let tid = transition_id(&body)
        .ok_or_else(|| ApiError::bad_request("Missing 'transition' identifier"))?;
    let fields = obj(&body, "fields")?.cloned();
    let update = obj(&body, "update")?.cloned();
    c.app.mutate(|st| {
        let id = st.issue_ref(&key)?;
        st.transition(id, c.user, c.api, &tid, fields.as_ref(), update.as_ref())
    })?;
    Ok(no_content())
}

async fn assign(c: Ctx, Path(key): Path<String>, Body(body): Body) -> Result<Response, ApiError> {
    c.app.mutate(|st| {
        let id = st.issue_ref(&key)?;
        let who = input::user_in(st, "assignee", &body)?;
        st.assign(id, c.user, who)
    })?;
    Ok(no_content())
}

async fn create_link(c: Ctx, Body(body): Body) -> Result<Response, ApiError> {
    let end = |k: &str| {
        body.get(k)
            .and_then(|o| o.get("key").or_else(|| o.get("id")))
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ApiError::bad_request(format!("The '{k}' must be given.")))
    };
    let (inward, outward) = (end("inwardIssue")?, end("outwardIssue")?);
    let t = body
        .get("type")
        .cloned()
        .ok_or_else(|| ApiError::bad_request("Link type must be given."))?;
    let comment = body.get("comment").cloned();
    c.app.mutate(|st| {
        let i = st
            .find_issue(&inward)
            .ok_or_else(|| ApiError::not_found(format!("Issue Does Not Exist: {inward}")))?;
        let o = st
            .find_issue(&outward)
            .ok_or_else(|| ApiError::not_found(format!("Issue Does Not Exist: {outward}")))?;
        st.add_link(c.user, &t, i, o)?;
        if let Some(cm) = &comment {
            st.add_comment(o, c.user, c.api, cm)?;
        }
        Ok(())
    })?;
    Ok(StatusCode::CREATED.into_response())
}

async fn get_link(c: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let l = id
        .parse::<u64>()
        .ok()
        .and_then(|n| st.links.get(&n))
        .ok_or_else(|| ApiError::not_found(format!("No issue link with id '{id}' exists.")))?;
    Ok(json(StatusCode::OK, render::link(&st, c.api, l)))
}

async fn delete_link(c: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let n = id
        .parse::<u64>()
        .map_err(|_| ApiError::not_found(format!("No issue link with id '{id}' exists.")))?;
    c.app.mutate(|st| st.delete_link(n, c.user))?;
    Ok(no_content())
}
