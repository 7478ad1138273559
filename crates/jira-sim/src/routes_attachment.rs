//! Attachment endpoints: multipart upload (XSRF header required), metadata, content download, delete.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use super::error::ApiError;
use super::model::{Attachment, Flavour};
use super::render;
use super::server::{App, Ctx, bytes, json, no_content};

/// Largest upload accepted, in bytes.
pub const UPLOAD_LIMIT: usize = 50 * 1024 * 1024;

pub fn routes(flavour: Flavour) -> Router<App> {
    let r = Router::new()
        .route(
            "/issue/{key}/attachments",
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/attachment/{id}", get(meta).delete(remove));
    match flavour {
        Flavour::Cloud => r.route("/attachment/content/{id}", get(content)),
        Flavour::DataCenter => r,
    }
}

/// The download URL DC puts in `content` (Cloud serves it too, for old links).
pub fn secure_routes() -> Router<App> {
    Router::new().route("/secure/attachment/{id}/{name}", get(secure_content))
}

fn attachment_id(s: &str) -> Result<u64, ApiError> {
    s.parse()
        .map_err(|_| ApiError::not_found(format!("The attachment with id '{s}' does not exist")))
}

async fn upload(
    c: Ctx,
    Path(key): Path<String>,
    headers: HeaderMap,
    mut mp: Multipart,
) -> Result<Response, ApiError> {
    let xsrf_ok = headers
        .get("X-Atlassian-Token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("no-check") || v.eq_ignore_ascii_case("nocheck"));
    if !xsrf_ok {
        // Jira refuses multipart posts without the XSRF opt-out header.
        return Ok((StatusCode::FORBIDDEN, "XSRF check failed").into_response());
    }
    let issue_id = c.app.lock().issue_ref(&key)?;
    let mut files = Vec::new();
    loop {
        let field = mp
            .next_field()
            .await
            .map_err(|e| ApiError::bad_request(format!("Invalid multipart body: {e}")))?;
        let Some(field) = field else { break };
        if field.name() != Some("file") {
            continue;
        }
        let filename = field.file_name().unwrap_or("attachment").to_string();
        let mime = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_string();
        let data = field
            .bytes()
            .await
            .map_err(|e| ApiError::bad_request(format!("Invalid multipart body: {e}")))?;
        files.push((filename, mime, data));
    }
    if files.is_empty() {
        return Err(ApiError::bad_request(
            "No file was given: the multipart part must be named 'file'.",
        ));
    }
    let ids = c.app.mutate(|st| {
        files
            .into_iter()
            .map(|(f, m, d)| st.add_attachment(issue_id, c.user, f, m, d))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let st = c.app.lock();
    let v: Vec<Value> = ids
        .iter()
        .filter_map(|id| st.attachments.get(id))
        .map(|a| render::attachment(&st, c.api, a))
        .collect();
    Ok(json(StatusCode::OK, Value::from(v)))
}

async fn meta(c: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let n = attachment_id(&id)?;
    let st = c.app.lock();
    let a = st.attachments.get(&n).ok_or_else(|| {
        ApiError::not_found(format!("The attachment with id '{id}' does not exist"))
    })?;
    let mut v = render::attachment(&st, c.api, a);
    if c.api.cloud() {
        // Cloud's attachment metadata carries a numeric id and the full author.
        v["id"] = Value::from(a.id);
        v["author"] = render::user(&st, c.api, a.author);
    }
    Ok(json(StatusCode::OK, v))
}

async fn remove(c: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let n = attachment_id(&id)?;
    c.app.mutate(|st| st.delete_attachment(n, c.user))?;
    Ok(no_content())
}

fn download(a: &Attachment) -> Response {
    bytes(&a.mime_type, &a.filename, a.content.clone())
}

async fn content(c: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let n = attachment_id(&id)?;
    let st = c.app.lock();
    let a = st.attachments.get(&n).ok_or_else(|| {
        ApiError::not_found(format!("The attachment with id '{id}' does not exist"))
    })?;
    Ok(download(a))
}

async fn secure_content(
    c: Ctx,
    Path((id, _name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    content(c, Path(id)).await
}
