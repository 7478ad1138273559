//! The admin API: connection status, the event queue with retry, pause and resume, rules
//! with their reload results and logs, twins (looked up or paged) and the dry run of a
//! candidate rule on a live issue.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::error;
use crate::store::{ConnectionState, EventState};
use crate::sync::node::Node;

/// Every side's rule: the version serving, the last reload and its reason, recent log lines.
pub(super) async fn rules(State(node): State<Arc<Node>>) -> Response {
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
                // A new version compiling while this one serves: "compiling <version>".
                "loading": slot.loading(),
                "reloads_accepted": slot.accepted.load(std::sync::atomic::Ordering::Relaxed),
                "reloads_rejected": slot.rejected.load(std::sync::atomic::Ordering::Relaxed),
                "logs": slot.recent_logs(),
            })
        })
        .collect();
    axum::Json(json!({ "rules": list })).into_response()
}

#[derive(Deserialize)]
pub(super) struct TwinQuery {
    key: Option<String>,
    connection: Option<String>,
    side: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Twins: `?key=` looks one up by either key; `?connection=` (and `side`) pages through a
/// connection's twins, most recently synced first, without loading them all.
pub(super) async fn twins(State(node): State<Arc<Node>>, Query(q): Query<TwinQuery>) -> Response {
    match (&q.key, &q.connection) {
        (Some(key), _) => twin_by_key(&node, key),
        (None, Some(connection)) => twin_page(&node, connection, &q),
        (None, None) => error(
            StatusCode::BAD_REQUEST,
            "give ?key=ISSUE-KEY to look a twin up, or ?connection=NAME to page through twins",
        ),
    }
}

fn twin_page(node: &Node, connection: &str, q: &TwinQuery) -> Response {
    let live = node.live();
    let Some(conn) = live.connection(connection) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("no connection named {connection:?}"),
        );
    };
    let side = match &q.side {
        Some(s) if conn.sides.iter().any(|x| &x.name == s) => s.clone(),
        Some(s) => {
            return error(
                StatusCode::NOT_FOUND,
                format!("connection {connection:?} has no side {s:?}"),
            );
        }
        None => match conn.sides.first() {
            Some(s) => s.name.clone(),
            None => return error(StatusCode::NOT_FOUND, "the connection has no sides"),
        },
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let offset = q.offset.unwrap_or(0).max(0);
    let page = node.store.twins(connection, &side, limit, offset);
    let total = node.store.twin_count(connection, &side);
    match (page, total) {
        (Ok(list), Ok(total)) => {
            let rows: Vec<_> = list
                .iter()
                .map(|t| {
                    json!({
                        "connection": t.connection,
                        "side": t.side,
                        "local_key": t.local_key,
                        "remote_key": t.remote_key,
                        "sent_seq": t.sent_seq,
                        "applied_seq": t.applied_seq,
                        "updated_at_ms": t.updated_at,
                    })
                })
                .collect();
            axum::Json(json!({
                "twins": rows, "total": total, "limit": limit, "offset": offset, "side": side,
            }))
            .into_response()
        }
        (Err(e), _) | (_, Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn twin_by_key(node: &Node, key: &str) -> Response {
    let mut found = Vec::new();
    for side in node.pipeline.sides() {
        let by_local = node.store.twin_by_local(&side.connection, &side.name, key);
        let by_remote = node.store.twin_by_remote(&side.connection, &side.name, key);
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
            format!("no twin has the key {key:?}"),
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

/// The status of every connection: state, queue, twins, rules.
pub fn status_json(node: &Node) -> Result<serde_json::Value, crate::store::StoreError> {
    let mut connections = Vec::new();
    let live = node.live();
    for conn in &live.connections {
        let sides: Vec<_> = node
            .pipeline
            .sides()
            .into_iter()
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
                        "loading": s.slot.loading(),
                    },
                })
            })
            .collect();
        connections.push(json!({
            "name": conn.name,
            "state": node.store.connection_state(&conn.name)?,
            "last_sync_at_ms": node.store.last_done_at(&conn.name)?,
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

pub(super) async fn status(State(node): State<Arc<Node>>) -> Response {
    match status_json(&node) {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Deserialize)]
pub(super) struct EventsQuery {
    state: Option<String>,
    connection: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

pub(super) async fn events(
    State(node): State<Arc<Node>>,
    Query(q): Query<EventsQuery>,
) -> Response {
    let state = match q.state.as_deref() {
        None => None,
        Some(text) => match EventState::from_text(text) {
            Some(state) => Some(state),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "unknown state {text:?}: use pending, running, failed, done or skipped"
                    ),
                );
            }
        },
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

pub(super) async fn retry(State(node): State<Arc<Node>>, Path(id): Path<i64>) -> Response {
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
    if node.live().connection(name).is_none() {
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

pub(super) async fn pause(State(node): State<Arc<Node>>, Path(name): Path<String>) -> Response {
    set_state(&node, &name, ConnectionState::Paused).await
}

pub(super) async fn resume(State(node): State<Arc<Node>>, Path(name): Path<String>) -> Response {
    set_state(&node, &name, ConnectionState::Active).await
}

#[derive(Deserialize)]
pub(super) struct TryQuery {
    connection: String,
    side: String,
    issue: String,
}

/// A dry run: the candidate module in the body (raw bytes) on a live issue, beside the
/// rule serving the side now. Nothing is synced or recorded.
pub(super) async fn try_rule(
    State(node): State<Arc<Node>>,
    Query(q): Query<TryQuery>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    use crate::sync::trial::{self, TrialError};
    // A browser cannot send this type cross-site without a preflight, which the node refuses.
    let wasm = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/wasm"));
    if !wasm {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the candidate with Content-Type: application/wasm",
        );
    }
    if body.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "send the candidate rule's .wasm file as the request body",
        );
    }
    tracing::info!(connection = %q.connection, side = %q.side, issue = %q.issue, bytes = body.len(), "trying a candidate rule");
    match trial::try_rule(&node, &q.connection, &q.side, &q.issue, body).await {
        Ok(report) => axum::Json(report).into_response(),
        Err(e @ (TrialError::NoSide { .. } | TrialError::NoIssue { .. })) => {
            error(StatusCode::NOT_FOUND, e.to_string())
        }
        Err(e @ TrialError::Candidate(_)) => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        Err(e @ TrialError::Busy) => error(StatusCode::TOO_MANY_REQUESTS, e.to_string()),
        Err(e @ TrialError::Jira { .. }) => error(StatusCode::BAD_GATEWAY, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// Every trigger, with its id, note and switch, checked against its side's Jira by
/// counting the issues it matches there.
pub(super) async fn triggers(State(node): State<Arc<Node>>) -> Response {
    let triggers = match node.store.triggers(None) {
        Ok(t) => t,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let mut list = Vec::new();
    for t in triggers {
        let side = node.pipeline.side(&t.connection, &t.side);
        let (valid, detail) = match &side {
            None => (
                None,
                json!({ "error": "the side is not running (waiting for its peer?)" }),
            ),
            Some(side) => {
                let jql = format!("project = \"{}\" AND ({})", side.project, t.jql);
                match side.jira.count(&jql).await {
                    Ok(total) => (Some(true), json!({ "total": total })),
                    // A transient failure says nothing about the JQL itself.
                    Err(e) if e.is_transient() => (None, json!({ "error": e.to_string() })),
                    Err(e) => (Some(false), json!({ "error": e.to_string() })),
                }
            }
        };
        let mut row = json!(t);
        row["instance"] = json!(side.as_ref().map(|s| s.instance.clone()));
        row["valid"] = json!(valid);
        row["check"] = detail;
        list.push(row);
    }
    axum::Json(json!({ "triggers": list })).into_response()
}

#[derive(Deserialize)]
pub(super) struct BulkQuery {
    connection: Option<String>,
    limit: Option<i64>,
}

/// Bulk runs with their progress: issues queued so far of the total the search reported.
pub(super) async fn bulk_runs(
    State(node): State<Arc<Node>>,
    Query(q): Query<BulkQuery>,
) -> Response {
    let limit = q.limit.unwrap_or(20).clamp(1, 200);
    match node.store.bulk_runs(q.connection.as_deref(), limit) {
        Ok(runs) => {
            let runs: Vec<_> = runs
                .into_iter()
                .map(|(r, started, updated)| {
                    json!({
                        "id": r.id,
                        "connection": r.connection,
                        "side": r.side,
                        "jql": r.jql,
                        "queued": r.queued,
                        "total": r.total,
                        "done": r.done,
                        "started_at_ms": started,
                        "updated_at_ms": updated,
                    })
                })
                .collect();
            axum::Json(json!({ "runs": runs })).into_response()
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
