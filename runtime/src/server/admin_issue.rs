//! The per-issue view: one issue of a connection, which side it is on, its twin, where its
//! sync stands, its recent events with the rule versions that handled them, its errors, and
//! the last replica its side sent and applied. Read only: nothing here writes the store.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error;
use crate::store::{Event, EventKind, EventState, Twin};
use crate::sync::node::Node;
use crate::sync::side::Side;

/// How many of the issue's events the view lists (per side on this node).
const RECENT_EVENTS: i64 = 50;

/// `PROJ-123`, upper-cased: a project key (a letter, then letters, digits or `_`), a dash,
/// a number. `None` for anything else.
fn issue_key(raw: &str) -> Option<String> {
    let key = raw.trim().to_ascii_uppercase();
    let (project, number) = key.rsplit_once('-')?;
    let mut chars = project.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let project_ok = starts_with_letter && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    let number_ok =
        !number.is_empty() && number.len() <= 18 && number.bytes().all(|b| b.is_ascii_digit());
    (project_ok && number_ok && key.len() <= 255).then_some(key)
}

fn project_of(key: &str) -> &str {
    key.rsplit_once('-').map_or(key, |(p, _)| p)
}

fn event_json(e: &Event) -> Value {
    json!({
        "id": e.id,
        "side": e.side,
        "kind": e.kind,
        "queue_key": e.queue_key,
        "cause": e.cause,
        "state": e.state,
        "attempts": e.attempts,
        "error": e.last_error,
        "rule_version": e.rule_version,
        "created_at_ms": e.created_at,
        "updated_at_ms": e.updated_at,
        "not_before_ms": (e.not_before > 0).then_some(e.not_before),
    })
}

/// The last replica a side sent or applied: the envelope's replica as stored, its hash and
/// sequence number, and when the event that handled it finished.
fn replica_json(
    hash: &Option<String>,
    stored: &Option<String>,
    seq: i64,
    at: Option<i64>,
) -> Value {
    let Some(hash) = hash else {
        return Value::Null;
    };
    let envelope = stored
        .as_deref()
        .and_then(|j| serde_json::from_str::<Value>(j).ok());
    json!({
        "hash": hash,
        "seq": seq,
        "at_ms": at,
        "replica": envelope.as_ref().map(|v| v["replica"].clone()),
    })
}

/// When the newest finished event of `kind` on `side` in `events` (newest first) ended.
fn last_done(events: &[Event], side: &str, kind: EventKind) -> Option<i64> {
    events
        .iter()
        .find(|e| e.side == side && e.kind == kind && e.state == EventState::Done)
        .map(|e| e.updated_at)
}

/// `GET /api/issues/{connection}/{key}`.
pub(super) async fn issue(
    State(node): State<Arc<Node>>,
    Path((connection, raw_key)): Path<(String, String)>,
) -> Response {
    let Some(key) = issue_key(&raw_key) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("{raw_key:?} is not an issue key: give one like ACME-42"),
        );
    };
    let all = node.pipeline.sides();
    let sides: Vec<&Arc<Side>> = all.iter().filter(|s| s.connection == connection).collect();
    if sides.is_empty() && node.live().connection(&connection).is_none() {
        return error(
            StatusCode::NOT_FOUND,
            format!("no connection named {connection:?}"),
        );
    }
    match view(&node, &connection, &sides, &key) {
        Ok(Some(body)) => axum::Json(body).into_response(),
        Ok(None) => {
            let projects: Vec<_> = sides.iter().map(|s| s.project.as_str()).collect();
            error(
                StatusCode::NOT_FOUND,
                format!(
                    "{key} is not an issue of connection {connection:?}: its sides sync \
                     project {}",
                    projects.join(" and ")
                ),
            )
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn view(
    node: &Node,
    connection: &str,
    sides: &[&Arc<Side>],
    key: &str,
) -> Result<Option<Value>, crate::store::StoreError> {
    let project = project_of(key);
    let candidates: Vec<&Arc<Side>> = sides
        .iter()
        .copied()
        .filter(|s| s.project.eq_ignore_ascii_case(project))
        .collect();
    // Two sides may sync projects with the same key on two sites: the one that knows the
    // issue as its own is the issue's side.
    let mut chosen = None;
    for s in &candidates {
        if let Some(t) = node.store.twin_by_local(connection, &s.name, key)? {
            chosen = Some((*s, Some(t)));
            break;
        }
    }
    let Some((side, twin)) = chosen.or_else(|| candidates.first().map(|s| (*s, None))) else {
        return Ok(None);
    };
    let twin: Option<Twin> = twin;
    let twin_key = twin.as_ref().and_then(|t| t.remote_key.clone());
    let other = sides.iter().copied().find(|s| s.name != side.name);
    let peer_side = node
        .config
        .connection(connection)
        .and_then(|c| c.peer.clone());

    // This side's events: under the issue's key, and under `remote:<twin>` while this side's
    // copy was being made from the twin.
    let remote_queue = twin_key.as_ref().map(|k| format!("remote:{k}"));
    let mut keys = vec![key];
    if let Some(k) = &remote_queue {
        keys.push(k);
    }
    let mut events = node
        .store
        .issue_events(connection, &side.name, &keys, RECENT_EVENTS)?;
    // On a local connection the twin's side runs here too: its events for this issue.
    if let Some(o) = other {
        let made_from_this = format!("remote:{key}");
        let mut other_keys = vec![made_from_this.as_str()];
        if let Some(k) = &twin_key {
            other_keys.push(k);
        }
        events.extend(
            node.store
                .issue_events(connection, &o.name, &other_keys, RECENT_EVENTS)?,
        );
        events.sort_by_key(|e| std::cmp::Reverse(e.id));
    }

    let open = |state: EventState| events.iter().any(|e| e.state == state);
    let state = if open(EventState::Failed) {
        "error"
    } else if open(EventState::Running) {
        "running"
    } else if open(EventState::Pending) {
        "queued"
    } else if twin_key.is_some() {
        "synced"
    } else {
        "pending"
    };

    let mut versions: BTreeMap<(String, String), (i64, i64, i64)> = BTreeMap::new();
    for e in &events {
        if let Some(v) = &e.rule_version {
            let entry = versions
                .entry((e.side.clone(), v.clone()))
                .or_insert((0, i64::MAX, 0));
            entry.0 += 1;
            entry.1 = entry.1.min(e.updated_at);
            entry.2 = entry.2.max(e.updated_at);
        }
    }
    let serving = |name: &str| {
        sides
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.slot.current().ok())
            .map(|r| r.id().version().to_string())
    };
    let rule_versions: Vec<_> = versions
        .iter()
        .map(|((s, v), (n, first, last))| {
            json!({
                "side": s,
                "version": v,
                "events": n,
                "first_at_ms": first,
                "last_at_ms": last,
                "serving": serving(s).as_deref() == Some(v.as_str()),
            })
        })
        .collect();
    let errors: Vec<_> = events
        .iter()
        .filter(|e| e.last_error.is_some() && e.state != EventState::Done)
        .map(|e| {
            json!({
                "event": e.id,
                "side": e.side,
                "state": e.state,
                "error": e.last_error,
                "rule_version": e.rule_version,
                "attempts": e.attempts,
                "at_ms": e.updated_at,
                // A failed event waits for a retry; a pending one is retried by itself.
                "retryable": e.state == EventState::Failed,
            })
        })
        .collect();

    let side_json =
        |s: &Side| json!({ "name": s.name, "instance": s.instance, "project": s.project });
    let twin_json = match (&twin_key, other, &peer_side) {
        (None, _, _) => Value::Null,
        (Some(k), Some(o), _) => json!({
            "key": k, "side": o.name, "instance": o.instance, "project": o.project,
            "on": "this node",
        }),
        (Some(k), None, peer) => json!({
            "key": k, "side": peer, "instance": null, "project": project_of(k), "on": "peer",
        }),
    };
    let (last_sent, last_applied, updated) = match &twin {
        Some(t) => (
            replica_json(
                &t.sent_hash,
                &t.sent_replica,
                t.sent_seq,
                last_done(&events, &side.name, EventKind::Outgoing),
            ),
            replica_json(
                &t.applied_hash,
                &t.applied_replica,
                t.applied_seq,
                last_done(&events, &side.name, EventKind::Incoming),
            ),
            Some(t.updated_at),
        ),
        None => (Value::Null, Value::Null, None),
    };
    Ok(Some(json!({
        "connection": connection,
        "key": key,
        "side": side_json(side),
        "twin": twin_json,
        "state": state,
        "under_sync": twin.is_some() || !events.is_empty(),
        "updated_at_ms": updated,
        "events": events.iter().map(event_json).collect::<Vec<_>>(),
        "rule_versions": rule_versions,
        "errors": errors,
        "last_sent": last_sent,
        "last_applied": last_applied,
    })))
}

#[cfg(test)]
mod tests {
    use super::issue_key;

    #[test]
    fn issue_keys() {
        assert_eq!(issue_key("SUP-12").as_deref(), Some("SUP-12"));
        assert_eq!(issue_key(" sup-12 ").as_deref(), Some("SUP-12"));
        assert_eq!(issue_key("A_B2-1").as_deref(), Some("A_B2-1"));
        for bad in [
            "", "SUP", "SUP-", "-12", "1SUP-2", "SUP-1a", "S P-1", "SUP-1-2", "<b>-1",
        ] {
            assert_eq!(issue_key(bad), None, "{bad}");
        }
    }
}
