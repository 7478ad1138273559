//! Webhook registration: Cloud's dynamic `/rest/api/{2,3}/webhook` and the admin-style
//! `/rest/webhooks/1.0/webhook` that both flavours serve.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use chrono::{Duration, Utc};
use serde_json::{Value, json};

use super::error::ApiError;
use super::jql;
use super::model::{WebhookKind, WebhookReg};
use super::server::{App, Body, Ctx, Params, json, no_content};
use super::state::State;

const EVENTS: &[&str] = &[
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
];

/// Dynamic webhooks live 30 days unless refreshed.
fn lifetime() -> Duration {
    Duration::days(30)
}

pub fn dynamic_routes(_v3: bool) -> Router<App> {
    Router::new()
        .route(
            "/webhook",
            get(dyn_list).post(dyn_register).delete(dyn_delete),
        )
        .route("/webhook/refresh", put(dyn_refresh))
}

pub fn admin_routes() -> Router<App> {
    Router::new()
        .route(
            "/rest/webhooks/1.0/webhook",
            get(admin_list).post(admin_create),
        )
        .route(
            "/rest/webhooks/1.0/webhook/{id}",
            get(admin_get).put(admin_update).delete(admin_delete),
        )
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

async fn dyn_register(c: Ctx, Body(body): Body) -> Result<Response, ApiError> {
    let url = body
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        .ok_or_else(|| ApiError::bad_request("The webhook URL is missing or invalid."))?
        .to_string();
    let list = body
        .get("webhooks")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request("The 'webhooks' list is required."))?
        .clone();
    let results = c.app.mutate(|st| {
        let mut out = Vec::new();
        for w in &list {
            let events = strings(w.get("events"));
            let jql_text = w
                .get("jqlFilter")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let mut errors = Vec::new();
            if events.is_empty() {
                errors.push("The webhook must have at least one event.".to_string());
            }
            for e in &events {
                if !EVENTS.contains(&e.as_str()) {
                    errors.push(format!("Event '{e}' is not supported."));
                }
            }
            if jql_text.trim().is_empty() {
                errors.push("The JQL filter is required.".to_string());
            } else if let Err(e) = jql::compile(&jql_text, st, Some(c.user)) {
                errors.push(format!("Invalid JQL: {e}"));
            }
            if !errors.is_empty() {
                out.push(json!({"errors": errors}));
                continue;
            }
            let now = Utc::now();
            let id = st.add_webhook(WebhookReg {
                id: 0,
                kind: WebhookKind::Dynamic,
                name: String::new(),
                url: url.clone(),
                events,
                jql: Some(jql_text),
                exclude_body: false,
                enabled: true,
                field_ids_filter: strings(w.get("fieldIdsFilter")),
                created: now,
                expiration: now + lifetime(),
                owner: c.user,
            });
            out.push(json!({"createdWebhookId": id}));
        }
        Ok(out)
    })?;
    Ok(json(
        StatusCode::OK,
        json!({"webhookRegistrationResult": results}),
    ))
}

async fn dyn_list(c: Ctx, q: Params) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let start = q.num("startAt", 0)?;
    let max = q.num("maxResults", 100)?.clamp(1, 100);
    let all: Vec<&WebhookReg> = st
        .webhooks
        .values()
        .filter(|w| w.kind == WebhookKind::Dynamic)
        .collect();
    let total = all.len();
    let values: Vec<Value> = all
        .iter()
        .skip(start)
        .take(max)
        .map(|w| {
            let mut v = json!({
                "id": w.id, "jqlFilter": w.jql.clone().unwrap_or_default(), "events": w.events,
                "expirationDate": w.expiration.timestamp_millis(), "url": w.url,
            });
            if !w.field_ids_filter.is_empty() {
                v["fieldIdsFilter"] = json!(w.field_ids_filter);
            }
            v
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        json!({"maxResults": max, "startAt": start, "total": total, "isLast": start + max >= total, "values": values}),
    ))
}

fn ids(body: &Value) -> Result<Vec<u64>, ApiError> {
    body.get("webhookIds")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .ok_or_else(|| ApiError::bad_request("The 'webhookIds' list is required."))
}

async fn dyn_delete(c: Ctx, Body(body): Body) -> Result<Response, ApiError> {
    let ids = ids(&body)?;
    c.app.mutate(|st| {
        st.webhooks
            .retain(|id, w| !(w.kind == WebhookKind::Dynamic && ids.contains(id)));
        Ok(())
    })?;
    Ok(StatusCode::ACCEPTED.into_response())
}

async fn dyn_refresh(c: Ctx, Body(body): Body) -> Result<Response, ApiError> {
    let ids = ids(&body)?;
    let exp = Utc::now() + lifetime();
    c.app.mutate(|st| {
        for (id, w) in st.webhooks.iter_mut() {
            if w.kind == WebhookKind::Dynamic && ids.contains(id) {
                w.expiration = exp;
            }
        }
        Ok(())
    })?;
    Ok(json(
        StatusCode::OK,
        json!({"expirationDate": exp.timestamp_millis()}),
    ))
}

fn admin_json(st: &State, w: &WebhookReg) -> Value {
    let who = st.users.get(w.owner);
    json!({
        "name": w.name,
        "url": w.url,
        "excludeBody": w.exclude_body,
        "filters": {"issue-related-events-section": w.jql.clone().unwrap_or_default()},
        "events": w.events,
        "enabled": w.enabled,
        "self": format!("{}/rest/webhooks/1.0/webhook/{}", st.base_url, w.id),
        "lastUpdatedUser": who.map(|u| st.user_ref_id(u)),
        "lastUpdatedDisplayName": who.map(|u| u.display_name.clone()),
        "lastUpdated": w.created.timestamp_millis(),
    })
}

fn require_admin(st: &State, user: usize) -> Result<(), ApiError> {
    let admin = st
        .users
        .get(user)
        .is_some_and(|u| u.groups.iter().any(|g| g == "jira-administrators"));
    if admin {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "You do not have permission to manage webhooks.",
        ))
    }
}

/// Reads an admin registration body into `w`.
fn admin_fields(st: &State, user: usize, body: &Value, w: &mut WebhookReg) -> Result<(), ApiError> {
    if let Some(n) = body.get("name").and_then(Value::as_str) {
        w.name = n.to_string();
    }
    if let Some(u) = body.get("url").and_then(Value::as_str) {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err(ApiError::field(
                "url",
                "The URL must be an http or https URL.",
            ));
        }
        w.url = u.to_string();
    }
    if body.get("events").is_some() {
        let events = strings(body.get("events"));
        if let Some(bad) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
            return Err(ApiError::field(
                "events",
                format!("Event '{bad}' is not supported."),
            ));
        }
        w.events = events;
    }
    let filter = body
        .get("filters")
        .and_then(|f| f.get("issue-related-events-section"))
        .or_else(|| body.get("jqlFilter"))
        .and_then(Value::as_str);
    if let Some(f) = filter {
        if f.trim().is_empty() {
            w.jql = None;
        } else {
            jql::compile(f, st, Some(user)).map_err(|e| ApiError::field("filters", e.0))?;
            w.jql = Some(f.to_string());
        }
    }
    if let Some(b) = body
        .get("excludeBody")
        .or_else(|| body.get("excludeIssueDetails"))
        .and_then(Value::as_bool)
    {
        w.exclude_body = b;
    }
    if let Some(b) = body.get("enabled").and_then(Value::as_bool) {
        w.enabled = b;
    }
    if w.name.is_empty() || w.url.is_empty() {
        return Err(ApiError::bad_request("A webhook needs a name and a URL."));
    }
    Ok(())
}

async fn admin_create(c: Ctx, Body(body): Body) -> Result<Response, ApiError> {
    let v = c.app.mutate(|st| {
        require_admin(st, c.user)?;
        let now = Utc::now();
        let mut w = WebhookReg {
            id: 0,
            kind: WebhookKind::Admin,
            name: String::new(),
            url: String::new(),
            events: Vec::new(),
            jql: None,
            exclude_body: false,
            enabled: true,
            field_ids_filter: Vec::new(),
            created: now,
            expiration: now + Duration::days(36500),
            owner: c.user,
        };
        admin_fields(st, c.user, &body, &mut w)?;
        let id = st.add_webhook(w);
        st.webhooks
            .get(&id)
            .map(|w| admin_json(st, w))
            .ok_or_else(|| ApiError::not_found("Webhook vanished."))
    })?;
    Ok(json(StatusCode::CREATED, v))
}

async fn admin_list(c: Ctx) -> Result<Response, ApiError> {
    let st = c.app.lock();
    require_admin(&st, c.user)?;
    let v: Vec<Value> = st
        .webhooks
        .values()
        .filter(|w| w.kind == WebhookKind::Admin)
        .map(|w| admin_json(&st, w))
        .collect();
    Ok(json(StatusCode::OK, Value::from(v)))
}

fn admin_id(st: &State, id: &str) -> Result<u64, ApiError> {
    id.parse::<u64>()
        .ok()
        .filter(|n| {
            st.webhooks
                .get(n)
                .is_some_and(|w| w.kind == WebhookKind::Admin)
        })
        .ok_or_else(|| ApiError::not_found(format!("Webhook with id {id} does not exist.")))
}

async fn admin_get(c: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    require_admin(&st, c.user)?;
    let n = admin_id(&st, &id)?;
    let w = st
        .webhooks
        .get(&n)
        .ok_or_else(|| ApiError::not_found("Webhook not found."))?;
    Ok(json(StatusCode::OK, admin_json(&st, w)))
}

async fn admin_update(
    c: Ctx,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let v = c.app.mutate(|st| {
        require_admin(st, c.user)?;
        let n = admin_id(st, &id)?;
        let mut w = st
            .webhooks
            .get(&n)
            .cloned()
            .ok_or_else(|| ApiError::not_found("Webhook not found."))?;
        admin_fields(st, c.user, &body, &mut w)?;
        w.created = Utc::now();
        let v = admin_json(st, &w);
        st.webhooks.insert(n, w);
        Ok(v)
    })?;
    Ok(json(StatusCode::OK, v))
}

async fn admin_delete(c: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    c.app.mutate(|st| {
        require_admin(st, c.user)?;
        let n = admin_id(st, &id)?;
        st.webhooks.remove(&n);
        Ok(())
    })?;
    Ok(no_content())
}
