//! The node's HTTP surface: Jira webhooks, health, and the admin API (status, events, retry,
//! pause and resume).
//!
//! Webhooks are authenticated by the instance's shared secret, given either in
//! the URL (`?secret=`, what Jira's webhook UI allows) or as an HMAC-SHA256 of
//! the body in `X-Hub-Signature: sha256=<hex>` (Jira Cloud's secret webhooks).
//! Comparisons are constant-time. A bad webhook gets a clear 4xx and changes nothing.

pub mod peer;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hmac::{KeyInit, Mac};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::store::{ConnectionState, EventState};
use crate::sync::detect::{self, DetectError};
use crate::sync::node::Node;

/// The router for a node.
pub fn router(node: Arc<Node>) -> Router {
    let admin = Router::new()
        .route("/api/status", get(status))
        .route("/api/events", get(events))
        .route("/api/events/{id}/retry", post(retry))
        .route("/api/connections/{name}/pause", post(pause))
        .route("/api/connections/{name}/resume", post(resume))
        .route("/api/rules", get(rules))
        .route("/api/twins", get(twins))
        .route("/api/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .route_layer(axum::middleware::from_fn_with_state(
            node.clone(),
            require_admin,
        ));
    Router::new()
        // The page itself holds nothing secret; the API calls it makes carry the admin token.
        .route("/", get(ui))
        .route("/webhooks/jira/{instance}", post(webhook))
        .route("/healthz", get(|| async { "ok" }))
        .merge(admin)
        .with_state(node)
}

/// The admin API and `/metrics` need `Authorization: Bearer <admin token>` when the node
/// has one (it must, unless it listens on loopback only).
async fn require_admin(
    State(node): State<Arc<Node>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if let Some(token) = &node.admin_token {
        let given = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
            tracing::warn!(path = %request.uri().path(), "admin request with a missing or wrong token refused");
            return error(StatusCode::UNAUTHORIZED, "missing or wrong admin token");
        }
    }
    next.run(request).await
}

/// The admin web page, built into the binary (no external CDN); it polls the admin API.
async fn ui() -> Response {
    (
        StatusCode::OK,
        [
            ("content-type", "text/html; charset=utf-8"),
            // Only its own scripts and the node's API: nothing can be injected from issue data.
            (
                "content-security-policy",
                "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'",
            ),
        ],
        include_str!("ui.html"),
    )
        .into_response()
}

/// The admin API's own description, in OpenAPI 3.
async fn openapi() -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        include_str!("admin-api.openapi.json"),
    )
        .into_response()
}

/// Every side's rule: the version serving, the last reload and its reason, recent log lines.
async fn rules(State(node): State<Arc<Node>>) -> Response {
    let list: Vec<_> = node
        .registry
        .slots()
        .into_iter()
        .map(|slot| {
            let (at, outcome) = slot.last_reload();
            let at = at
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let current = slot.current().ok();
            json!({
                "side": slot.side(),
                "file": slot.file().display().to_string(),
                "version": current.as_ref().map(|r| r.id().version().to_string()),
                "hash": current.as_ref().map(|r| r.id().hash.clone()),
                "world_version": current.as_ref().map(|r| r.world_version().to_string()),
                "last_reload": outcome,
                "last_reload_at_ms": at,
                "reloads_accepted": slot.accepted.load(std::sync::atomic::Ordering::Relaxed),
                "reloads_rejected": slot.rejected.load(std::sync::atomic::Ordering::Relaxed),
                "logs": slot.recent_logs(),
            })
        })
        .collect();
    axum::Json(json!({ "rules": list })).into_response()
}

#[derive(Deserialize)]
struct TwinQuery {
    key: String,
}

/// A twin looked up by either of its keys, with the last replica sent and applied on each side.
async fn twins(State(node): State<Arc<Node>>, Query(q): Query<TwinQuery>) -> Response {
    let mut found = Vec::new();
    for side in node.pipeline.sides() {
        let by_local = node
            .store
            .twin_by_local(&side.connection, &side.name, &q.key);
        let by_remote = node
            .store
            .twin_by_remote(&side.connection, &side.name, &q.key);
        match (by_local, by_remote) {
            (Err(e), _) | (_, Err(e)) => {
                return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
            }
            (Ok(a), Ok(b)) => found.extend(a.into_iter().chain(b)),
        }
    }
    if found.is_empty() {
        return error(
            StatusCode::NOT_FOUND,
            format!("no twin has the key {:?}", q.key),
        );
    }
    let parse = |j: &Option<String>| {
        j.as_deref()
            .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
            .map(|v| v["replica"].clone())
    };
    let list: Vec<_> = found
        .iter()
        .map(|t| {
            json!({
                "connection": t.connection,
                "side": t.side,
                "local_key": t.local_key,
                "remote_key": t.remote_key,
                "last_sent": parse(&t.sent_replica),
                "last_applied": parse(&t.applied_replica),
                "updated_at_ms": t.updated_at,
            })
        })
        .collect();
    axum::Json(json!({ "twins": list })).into_response()
}

/// `/metrics` in Prometheus text format.
async fn metrics(State(node): State<Arc<Node>>) -> Response {
    match render_metrics(&node) {
        Ok(text) => (
            StatusCode::OK,
            [("content-type", "text/plain; version=0.0.4")],
            text,
        )
            .into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn render_metrics(node: &Node) -> Result<String, crate::store::StoreError> {
    use crate::metrics::{header, label};
    use std::fmt::Write as _;
    use std::sync::atomic::Ordering::Relaxed;
    let mut out = String::new();
    header(
        &mut out,
        "twinsync_events",
        "gauge",
        "Sync events in the store, by connection and state.",
    );
    header(
        &mut out,
        "twinsync_queue_depth",
        "gauge",
        "Events pending or running, by connection.",
    );
    let mut depth = String::new();
    for c in &node.config.connections {
        let q = node.store.queue_stats(Some(&c.name))?;
        let n = label(&c.name);
        for (state, v) in [
            ("pending", q.pending),
            ("running", q.running),
            ("failed", q.failed),
            ("done", q.done),
            ("skipped", q.skipped),
        ] {
            let _ = writeln!(
                out,
                "twinsync_events{{connection=\"{n}\",state=\"{state}\"}} {v}"
            );
        }
        let _ = writeln!(
            depth,
            "twinsync_queue_depth{{connection=\"{n}\"}} {}",
            q.pending + q.running
        );
    }
    out.push_str(&depth);
    let stats = node.registry.engine().stats();
    stats.call_seconds.render(
        &mut out,
        "twinsync_rule_call_seconds",
        "Rule call duration, instantiation included.",
    );
    header(
        &mut out,
        "twinsync_rule_compilations_total",
        "counter",
        "Rule modules compiled (not loaded from the cache).",
    );
    let _ = writeln!(
        out,
        "twinsync_rule_compilations_total {}",
        stats.compilations.load(Relaxed)
    );
    header(
        &mut out,
        "twinsync_rule_reloads_total",
        "counter",
        "Rule reloads by connection side and outcome.",
    );
    for slot in node.registry.slots() {
        let side = label(slot.side());
        let _ = writeln!(
            out,
            "twinsync_rule_reloads_total{{side=\"{side}\",outcome=\"accepted\"}} {}",
            slot.accepted.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "twinsync_rule_reloads_total{{side=\"{side}\",outcome=\"rejected\"}} {}",
            slot.rejected.load(Relaxed)
        );
    }
    header(
        &mut out,
        "twinsync_jira_requests_total",
        "counter",
        "Requests sent to each Jira instance.",
    );
    header(
        &mut out,
        "twinsync_jira_retries_total",
        "counter",
        "Requests retried after a transient fault.",
    );
    header(
        &mut out,
        "twinsync_jira_throttled_total",
        "counter",
        "Answers 429 (rate limited) from each instance.",
    );
    for (name, client) in &node.clients {
        let s = client.stats();
        let i = label(name);
        let _ = writeln!(
            out,
            "twinsync_jira_requests_total{{instance=\"{i}\"}} {}",
            s.requests
        );
        let _ = writeln!(
            out,
            "twinsync_jira_retries_total{{instance=\"{i}\"}} {}",
            s.retries
        );
        let _ = writeln!(
            out,
            "twinsync_jira_throttled_total{{instance=\"{i}\"}} {}",
            s.throttled
        );
    }
    Ok(out)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

/// Whether the webhook carries the instance's secret (or the instance has none).
fn authentic(
    secret: Option<&str>,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
) -> bool {
    let Some(secret) = secret else { return true };
    if let Some(given) = query.get("secret") {
        return bool::from(given.as_bytes().ct_eq(secret.as_bytes()));
    }
    let Some(sig) = headers
        .get("x-hub-signature")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("sha256="))
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

async fn webhook(
    State(node): State<Arc<Node>>,
    Path(instance): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(secret) = node.webhook_secrets.get(&instance) else {
        tracing::warn!(instance = %instance, "webhook for an unknown instance refused");
        return error(
            StatusCode::NOT_FOUND,
            format!("no instance named {instance:?}"),
        );
    };
    if !authentic(secret.as_deref(), &query, &headers, &body) {
        tracing::warn!(instance = %instance, "webhook with a missing or wrong secret refused");
        return error(StatusCode::UNAUTHORIZED, "missing or wrong webhook secret");
    }
    match detect::on_webhook(&node, &instance, &body).await {
        Ok(queued) => (StatusCode::OK, axum::Json(json!({ "queued": queued }))).into_response(),
        Err(e @ DetectError::BadWebhook { .. }) => {
            tracing::warn!(error = %e, "malformed webhook refused");
            error(StatusCode::BAD_REQUEST, e.to_string())
        }
        Err(e) => {
            // Jira retries failed deliveries, and the poller backs them up: nothing is lost.
            tracing::warn!(error = %e, "webhook not handled; Jira's retry or the poller will catch it");
            error(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
        }
    }
}

/// The status of every connection: state, queue, twins, rules.
pub fn status_json(node: &Node) -> Result<serde_json::Value, crate::store::StoreError> {
    let mut connections = Vec::new();
    for conn in &node.config.connections {
        let sides: Vec<_> = node
            .pipeline
            .sides()
            .filter(|s| s.connection == conn.name)
            .map(|s| {
                let (at, outcome) = s.slot.last_reload();
                let at = at
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as u64)
                    .unwrap_or(0);
                json!({
                    "name": s.name,
                    "instance": s.instance,
                    "project": s.project,
                    "trigger": s.trigger,
                    "rule": {
                        "file": s.slot.file().display().to_string(),
                        "version": s.slot.current().ok().map(|r| r.id().version().to_string()),
                        "last_reload": outcome,
                        "last_reload_at_ms": at,
                    },
                })
            })
            .collect();
        connections.push(json!({
            "name": conn.name,
            "state": node.store.connection_state(&conn.name)?,
            "queue": node.store.queue_stats(Some(&conn.name))?,
            "twins": match conn.sides.first() {
                Some(side) => node.store.twin_count(&conn.name, &side.name)?,
                None => 0,
            },
            "sides": sides,
            // A remote connection's peer node, and whether either side deleted the connection.
            "peer": node.store.peer(&conn.name)?,
        }));
    }
    Ok(json!({ "connections": connections }))
}

async fn status(State(node): State<Arc<Node>>) -> Response {
    match status_json(&node) {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Deserialize)]
struct EventsQuery {
    state: Option<String>,
    connection: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn events(State(node): State<Arc<Node>>, Query(q): Query<EventsQuery>) -> Response {
    let state = match q.state.as_deref() {
        None => None,
        Some("pending") => Some(EventState::Pending),
        Some("running") => Some(EventState::Running),
        Some("failed") => Some(EventState::Failed),
        Some("done") => Some(EventState::Done),
        Some("skipped") => Some(EventState::Skipped),
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("unknown state {other:?}: use pending, running, failed, done or skipped"),
            );
        }
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    match node.store.events(
        state,
        q.connection.as_deref(),
        limit,
        q.offset.unwrap_or(0).max(0),
    ) {
        Ok(list) => axum::Json(json!({ "events": list })).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn retry(State(node): State<Arc<Node>>, Path(id): Path<i64>) -> Response {
    match node.store.retry(id) {
        Ok(()) => {
            node.pipeline.wake.notify_waiters();
            axum::Json(json!({ "retried": id })).into_response()
        }
        Err(e @ crate::store::StoreError::NoEvent(_)) => {
            error(StatusCode::NOT_FOUND, e.to_string())
        }
        Err(e @ crate::store::StoreError::NotRetryable { .. }) => {
            error(StatusCode::CONFLICT, e.to_string())
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn set_state(node: &Node, name: &str, state: ConnectionState) -> Response {
    if node.config.connection(name).is_none() {
        return error(
            StatusCode::NOT_FOUND,
            format!("no connection named {name:?}"),
        );
    }
    match node.store.set_connection_state(name, state) {
        Ok(()) => {
            node.pipeline.wake.notify_waiters();
            tracing::info!(
                connection = name,
                state = state.as_str(),
                "connection state changed"
            );
            axum::Json(json!({ "connection": name, "state": state })).into_response()
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn pause(State(node): State<Arc<Node>>, Path(name): Path<String>) -> Response {
    set_state(&node, &name, ConnectionState::Paused).await
}

async fn resume(State(node): State<Arc<Node>>, Path(name): Path<String>) -> Response {
    set_state(&node, &name, ConnectionState::Active).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_by_query_or_hmac() {
        let headers = HeaderMap::new();
        let mut q = HashMap::new();
        assert!(authentic(None, &q, &headers, b"x"));
        assert!(!authentic(Some("s3"), &q, &headers, b"x"));
        q.insert("secret".into(), "s3".into());
        assert!(authentic(Some("s3"), &q, &headers, b"x"));
        q.insert("secret".into(), "nope".into());
        assert!(!authentic(Some("s3"), &q, &headers, b"x"));

        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"s3").unwrap();
        mac.update(b"body");
        let sig = hex::encode(mac.finalize().into_bytes());
        let mut h = HeaderMap::new();
        h.insert("x-hub-signature", format!("sha256={sig}").parse().unwrap());
        assert!(authentic(Some("s3"), &HashMap::new(), &h, b"body"));
        assert!(!authentic(Some("s3"), &HashMap::new(), &h, b"tampered"));
    }
}
