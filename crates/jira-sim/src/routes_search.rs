//! Search: Cloud's `search/jql` (token paging, ids only unless fields are named) and
//! DC's `search` (startAt/maxResults/total).

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::fields;
use super::jql;
use super::model::{Api, Flavour, Issue};
use super::render;
use super::request::{Expand, FieldSel};
use super::server::{App, Body, Ctx, Params, json};
use super::state::State;

pub fn routes(flavour: Flavour) -> Router<App> {
    match flavour {
        Flavour::Cloud => Router::new()
            .route("/search/jql", get(cloud_get).post(cloud_post))
            .route("/search/approximate-count", post(approximate_count))
            .route("/search", get(removed).post(removed)),
        Flavour::DataCenter => Router::new().route("/search", get(dc_get).post(dc_post)),
    }
}

/// Search inputs, from query parameters or a POST body.
struct SearchReq {
    jql: String,
    fields: Vec<String>,
    expand: Vec<String>,
    max: Option<usize>,
    start: usize,
    token: Option<String>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn from_params(q: &Params) -> Result<SearchReq, ApiError> {
    Ok(SearchReq {
        jql: q.get("jql").unwrap_or("").to_string(),
        fields: q.all("fields").map(str::to_string).collect(),
        expand: q.all("expand").map(str::to_string).collect(),
        max: q
            .get("maxResults")
            .map(|_| q.num("maxResults", 50))
            .transpose()?,
        start: q.num("startAt", 0)?,
        token: q.get("nextPageToken").map(str::to_string),
    })
}

fn from_body(b: &Value) -> Result<SearchReq, ApiError> {
    if !b.is_object() && !b.is_null() {
        return Err(ApiError::bad_request(
            "The request body must be a JSON object.",
        ));
    }
    let num = |k: &str| -> Result<Option<usize>, ApiError> {
        match b.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(|n| Some(n as usize))
                .ok_or_else(|| ApiError::bad_request(format!("The '{k}' value must be a number."))),
        }
    };
    Ok(SearchReq {
        jql: b
            .get("jql")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        fields: strings(b.get("fields")),
        expand: strings(b.get("expand")),
        max: num("maxResults")?,
        start: num("startAt")?.unwrap_or(0),
        token: b
            .get("nextPageToken")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// Matching issues, sorted, for the caller.
fn run<'a>(st: &'a State, jql_text: &str, actor: usize) -> Result<Vec<&'a Issue>, ApiError> {
    let q = jql::compile(jql_text, st, Some(actor))?;
    let mut hits: Vec<&Issue> = st.issues.values().filter(|i| q.matches(i, st)).collect();
    q.sort(&mut hits, st);
    Ok(hits)
}

fn fnv(s: &str) -> u32 {
    s.bytes().fold(0x811c9dc5u32, |h, b| {
        (h ^ b as u32).wrapping_mul(0x01000193)
    })
}

/// Opaque page token: the offset, bound to the query it came from.
fn token(offset: usize, jql_text: &str) -> String {
    format!("{offset:012x}{:08x}", fnv(jql_text))
}

fn untoken(t: &str, jql_text: &str) -> Result<usize, ApiError> {
    let bad = || ApiError::bad_request("The provided next page token is invalid or expired.");
    if t.len() != 20 || !t.is_char_boundary(12) {
        return Err(bad());
    }
    let (off, h) = t.split_at(12);
    if u32::from_str_radix(h, 16).map_err(|_| bad())? != fnv(jql_text) {
        return Err(bad());
    }
    usize::from_str_radix(off, 16).map_err(|_| bad())
}

fn names_and_schema(st: &State, out: &mut Map<String, Value>, ex: Expand, issues: &[Value]) {
    if !ex.names && !ex.schema {
        return;
    }
    let present: std::collections::BTreeSet<&str> = issues
        .iter()
        .filter_map(|i| i.get("fields").and_then(Value::as_object))
        .flat_map(|f| f.keys().map(String::as_str))
        .collect();
    let defs = fields::field_defs(st);
    if ex.names {
        let m: Map<String, Value> = defs
            .iter()
            .filter(|d| present.contains(d.id.as_str()))
            .map(|d| (d.id.clone(), json!(d.name)))
            .collect();
        out.insert("names".into(), Value::Object(m));
    }
    if ex.schema {
        let m: Map<String, Value> = defs
            .iter()
            .filter(|d| present.contains(d.id.as_str()))
            .map(|d| (d.id.clone(), d.schema.clone()))
            .collect();
        out.insert("schema".into(), Value::Object(m));
    }
}

/// One issue of a result page; names and schema are given once for the page, not per issue.
fn hit(st: &State, api: Api, i: &Issue, sel: &FieldSel, ex: Expand) -> Value {
    let ex = Expand {
        names: false,
        schema: false,
        ..ex
    };
    render::issue(st, api, i, sel, ex)
}

fn cloud(c: &Ctx, r: SearchReq) -> Result<Response, ApiError> {
    let st = c.app.lock();
    if jql::compile(&r.jql, &st, Some(c.user))?.is_unbounded() {
        return Err(ApiError::bad_request(
            "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
        ));
    }
    let hits = run(&st, &r.jql, c.user)?;
    let sel = FieldSel::parse(r.fields.iter().map(String::as_str), "id");
    let ex = Expand::parse(r.expand.iter().map(String::as_str));
    // Jira pages id-only searches up to 5000 and full ones up to 100.
    let cap = if sel.is_empty() { 5000 } else { 100 };
    let max = r.max.unwrap_or(50).clamp(1, cap);
    let start = match &r.token {
        Some(t) => untoken(t, &r.jql)?,
        None => 0,
    };
    let issues: Vec<Value> = hits
        .iter()
        .skip(start)
        .take(max)
        .map(|i| {
            if sel.is_empty() && !ex.changelog && !ex.rendered && !ex.transitions {
                // Only ids unless fields are named; `key` when asked for by name.
                if r.fields
                    .iter()
                    .any(|f| f.split(',').any(|x| x.trim() == "key"))
                {
                    json!({"id": i.id.to_string(), "key": i.key})
                } else {
                    json!({"id": i.id.to_string()})
                }
            } else {
                let mut v = hit(&st, c.api, i, &sel, ex);
                if let Some(o) = v.as_object_mut() {
                    o.insert("expand".into(), json!(""));
                }
                v
            }
        })
        .collect();
    let mut out = Map::new();
    let last = start + max >= hits.len();
    names_and_schema(&st, &mut out, ex, &issues);
    out.insert("issues".into(), Value::from(issues));
    if !last {
        out.insert("nextPageToken".into(), json!(token(start + max, &r.jql)));
    }
    out.insert("isLast".into(), json!(last));
    Ok(json(StatusCode::OK, Value::Object(out)))
}

async fn cloud_get(c: Ctx, q: Params) -> Result<Response, ApiError> {
    cloud(&c, from_params(&q)?)
}

async fn cloud_post(c: Ctx, Body(b): Body) -> Result<Response, ApiError> {
    cloud(&c, from_body(&b)?)
}

async fn approximate_count(c: Ctx, Body(b): Body) -> Result<Response, ApiError> {
    let r = from_body(&b)?;
    let st = c.app.lock();
    let n = run(&st, &r.jql, c.user)?.len();
    Ok(json(StatusCode::OK, json!({"count": n})))
}

async fn removed(_c: Ctx, m: Method) -> ApiError {
    let _ = m;
    ApiError::new(
        StatusCode::GONE,
        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.",
    )
}

fn dc(c: &Ctx, r: SearchReq) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let hits = run(&st, &r.jql, c.user)?;
    let sel = FieldSel::parse(r.fields.iter().map(String::as_str), "*navigable");
    let ex = Expand::parse(r.expand.iter().map(String::as_str));
    let max = r.max.unwrap_or(50).min(1000);
    let issues: Vec<Value> = hits
        .iter()
        .skip(r.start)
        .take(max)
        .map(|i| hit(&st, c.api, i, &sel, ex))
        .collect();
    let mut out = Map::new();
    out.insert("expand".into(), json!("schema,names"));
    out.insert("startAt".into(), json!(r.start));
    out.insert("maxResults".into(), json!(max));
    out.insert("total".into(), json!(hits.len()));
    names_and_schema(&st, &mut out, ex, &issues);
    out.insert("issues".into(), Value::from(issues));
    Ok(json(StatusCode::OK, Value::Object(out)))
}

async fn dc_get(c: Ctx, q: Params) -> Result<Response, ApiError> {
    dc(&c, from_params(&q)?)
}

async fn dc_post(c: Ctx, Body(b): Body) -> Result<Response, ApiError> {
    dc(&c, from_body(&b)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_bind_to_query() {
        let t = token(150, "project = A");
        assert_eq!(untoken(&t, "project = A").ok(), Some(150));
        assert!(untoken(&t, "project = B").is_err());
        assert!(untoken("junk", "project = A").is_err());
    }
}
