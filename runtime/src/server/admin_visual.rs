//! A Visual-mode connection's mapping in the admin API: the draft the editor saves (checked
//! against what the mapping rule understands, then against both sites' metadata: values and
//! users that do not exist, statuses outside the project's workflows; the findings come back
//! as warnings with their reason), publishing it into the sides' config
//! through the same check-then-apply path as a side's PATCH, and a preview of the draft on
//! a live issue beside the published mapping.
//!
//! A local connection's document configures both sides; a remote one's only this node's
//! side (`a`): the other organisation edits its own half on its own node.

// Helpers answer with the HTTP response a refusal becomes; it is large, and that is fine here.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::admin_setup::{Body, commit, connection_json, refused, stored};
use super::error;
use crate::config::{ConnectionConfig, SideConfig, SideMode};
use crate::setup::visual::{self, Document, Entry, Half};
use crate::setup::{SetupError, Stored};
use crate::store::{MappingState, SetupKind, SetupOrigin};
use crate::sync::node::Node;

/// The connection, or the answer that it does not exist.
fn connection_of(next: &Stored, name: &str) -> Result<(ConnectionConfig, SetupOrigin), Response> {
    next.connections.get(name).cloned().ok_or_else(|| {
        refused(SetupError::Unknown {
            kind: "connection",
            name: name.to_string(),
        })
    })
}

/// The sides this node edits, each with its half: both of a local connection, this node's
/// one of a remote connection.
fn editable(conn: &ConnectionConfig) -> Vec<(Half, &SideConfig)> {
    let halves = [Half::A, Half::B];
    let n = if conn.is_remote() { 1 } else { 2 };
    conn.sides
        .iter()
        .take(n)
        .zip(halves)
        .map(|(s, h)| (h, s))
        .collect()
}

/// Refuses a connection one of whose editable sides is not in Visual mode.
fn visual_only(conn: &ConnectionConfig) -> Result<(), Response> {
    match editable(conn)
        .into_iter()
        .find(|(_, s)| s.mode != SideMode::Visual)
    {
        Some((_, s)) => Err(error(
            StatusCode::CONFLICT,
            format!(
                "side {:?} is in {} mode; the mapping editor configures Visual-mode sides (switch the side's mode first)",
                s.name,
                s.mode.as_str()
            ),
        )),
        None => Ok(()),
    }
}

fn read_doc(
    node: &Node,
    name: &str,
    state: MappingState,
) -> Result<Option<(Document, i64)>, Response> {
    match node.store.visual_mapping(name, state) {
        Ok(None) => Ok(None),
        Ok(Some((text, at))) => serde_json::from_str(&text)
            .map(|d| Some((d, at)))
            .map_err(|e| {
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("the stored {name} mapping is damaged: {e}"),
                )
            }),
        Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

/// The sides as the page shows them: name, site, project, mode, whether this node edits it.
fn halves_json(conn: &ConnectionConfig) -> serde_json::Value {
    let side = |s: &SideConfig, editable: bool| {
        json!({ "name": s.name, "instance": s.instance, "project": s.project,
                "mode": s.mode.as_str(), "sync": s.sync.as_str(), "editable": editable })
    };
    let a = conn.sides.first().map(|s| side(s, true));
    let b = match (&conn.peer, conn.sides.get(1)) {
        (_, Some(s)) => Some(side(s, true)),
        (Some(peer), None) => Some(json!({ "name": peer, "editable": false, "peer": true })),
        (None, None) => None,
    };
    json!({ "a": a, "b": b })
}

/// What each editable side's config would be with `doc`.
fn compiled(conn: &ConnectionConfig, doc: &Document) -> BTreeMap<String, BTreeMap<String, String>> {
    editable(conn)
        .into_iter()
        .map(|(h, s)| (s.name.clone(), visual::compile(doc, h, &s.config)))
        .collect()
}

/// `GET /api/connections/{name}/mapping`: the published document, the draft if any, and
/// which halves this node edits.
pub(super) async fn mapping(State(node): State<Arc<Node>>, Path(name): Path<String>) -> Response {
    let next = match stored(&node) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (conn, _) = match connection_of(&next, &name) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let published = match read_doc(&node, &name, MappingState::Published) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let draft = match read_doc(&node, &name, MappingState::Draft) {
        Ok(d) => d,
        Err(r) => return r,
    };
    // The sides' config no longer what the published document compiles to: someone edited
    // the keys by hand (the TOML, a PATCH); the page says so rather than hide it.
    let edited_outside = published.as_ref().is_some_and(|(d, _)| {
        editable(&conn)
            .into_iter()
            .any(|(h, s)| visual::compile(d, h, &s.config) != s.config)
    });
    axum::Json(json!({
        "connection": name,
        "remote": conn.is_remote(),
        "sides": halves_json(&conn),
        "published": published.as_ref().map(|(d, _)| d),
        "published_at": published.as_ref().map(|(_, at)| at),
        "draft": draft.as_ref().map(|(d, _)| d),
        "draft_saved_at": draft.as_ref().map(|(_, at)| at),
        "edited_outside": edited_outside,
    }))
    .into_response()
}

/// `PUT /api/connections/{name}/mapping/draft`: saves the editor's document as the draft,
/// if the mapping rule can run it (else 422 with every problem); what both sites' metadata
/// says against it comes back as warnings.
pub(super) async fn save_draft(
    State(node): State<Arc<Node>>,
    Path(name): Path<String>,
    Body(doc): Body<Document>,
) -> Response {
    let next = match stored(&node) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (conn, _) = match connection_of(&next, &name) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Err(r) = visual_only(&conn) {
        return r;
    }
    let problems = visual::problems(&doc);
    if !problems.is_empty() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({
                "error": format!("the mapping cannot run: {}", problems.join("; ")),
                "problems": problems,
            })),
        )
            .into_response();
    }
    let text = match serde_json::to_string(&doc) {
        Ok(t) => t,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    if let Err(e) = node
        .store
        .put_visual_mapping(&name, MappingState::Draft, &text)
    {
        return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    }
    let warnings = warnings(&node, &conn, &doc).await;
    axum::Json(json!({
        "draft": doc,
        "warnings": warnings,
        "compiled": compiled(&conn, &doc),
    }))
    .into_response()
}

/// `DELETE /api/connections/{name}/mapping/draft`: drops the draft; the published mapping stays.
pub(super) async fn discard_draft(
    State(node): State<Arc<Node>>,
    Path(name): Path<String>,
) -> Response {
    match node
        .store
        .remove_visual_mapping(&name, Some(MappingState::Draft))
    {
        Ok(true) => axum::Json(json!({ "discarded": name })).into_response(),
        Ok(false) => error(
            StatusCode::NOT_FOUND,
            format!("{name} has no draft mapping"),
        ),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `POST /api/connections/{name}/mapping/publish`: the draft becomes the mapping the sides
/// run: compiled into each editable side's config, checked as a whole setup, stored and
/// applied to the running node at once.
pub(super) async fn publish(State(node): State<Arc<Node>>, Path(name): Path<String>) -> Response {
    let mut next = match stored(&node) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (conn, origin) = match connection_of(&next, &name) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Err(r) = visual_only(&conn) {
        return r;
    }
    let doc = match read_doc(&node, &name, MappingState::Draft) {
        Ok(Some((d, _))) => d,
        Ok(None) => {
            return error(
                StatusCode::NOT_FOUND,
                format!("{name} has no draft mapping to publish"),
            );
        }
        Err(r) => return r,
    };
    let problems = visual::problems(&doc);
    if !problems.is_empty() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the draft cannot run: {}", problems.join("; ")),
        );
    }
    let configs = compiled(&conn, &doc);
    let Some((stored_conn, _)) = next.connections.get_mut(&name) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("there is no connection {name:?}"),
        );
    };
    for s in stored_conn.sides.iter_mut() {
        if let Some(config) = configs.get(&s.name) {
            s.config = config.clone();
        }
    }
    let published = stored_conn.clone();
    if let Err(r) = commit(&node, &next, SetupKind::Connection, &name, Some(&published)) {
        return r;
    }
    let text = serde_json::to_string(&doc).unwrap_or_default();
    let kept = node
        .store
        .put_visual_mapping(&name, MappingState::Published, &text)
        .and_then(|()| {
            node.store
                .remove_visual_mapping(&name, Some(MappingState::Draft))
                .map(|_| ())
        });
    if let Err(e) = kept {
        // The sides already run the new mapping; only the editor's copy is behind.
        tracing::error!(connection = %name, error = %e, "the mapping is published but its document was not kept");
    }
    tracing::info!(connection = %name, entries = doc.entries.len(), "Visual mapping published");
    axum::Json(json!({
        "published": doc,
        "connection": connection_json(&node, &published, origin),
    }))
    .into_response()
}

/// `POST /api/connections/{name}/mapping/preview` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PreviewAsk {
    key: String,
}

/// `POST /api/connections/{name}/mapping/preview`: the draft on a live issue (of either
/// side on this node) beside the published mapping, through the dry run: the replica each
/// would send, the changes each would make, and what differs. Nothing is synced.
pub(super) async fn preview(
    State(node): State<Arc<Node>>,
    Path(name): Path<String>,
    Body(ask): Body<PreviewAsk>,
) -> Response {
    let key = ask.key.trim().to_ascii_uppercase();
    let next = match stored(&node) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (conn, _) = match connection_of(&next, &name) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let doc = match read_doc(&node, &name, MappingState::Draft) {
        Ok(Some((d, _))) => d,
        Ok(None) => {
            return error(
                StatusCode::NOT_FOUND,
                format!("{name} has no draft mapping to preview"),
            );
        }
        Err(r) => return r,
    };
    let side = match node.side_for_key(&name, &key) {
        Ok(s) => s,
        Err(e) => return error(StatusCode::NOT_FOUND, e.to_string()),
    };
    let drafts = compiled(&conn, &doc)
        .into_iter()
        .map(|(s, c)| (s, Arc::new(c.into_iter().collect())))
        .collect();
    match crate::sync::trial::preview_settings(&node, &name, &side.name, &key, &drafts).await {
        Ok(report) => axum::Json(report).into_response(),
        Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}

/// What both sites' metadata says against `doc`: values that do not exist (any more), and
/// status targets outside the project's workflows, which no transition can reach.
async fn warnings(node: &Node, conn: &ConnectionConfig, doc: &Document) -> Vec<String> {
    let mut out = Vec::new();
    let mut known: BTreeMap<(Half, &'static str), Option<SiteValues>> = BTreeMap::new();
    for (n, entry) in doc.entries.iter().enumerate() {
        let Entry::Field {
            a,
            b,
            direction,
            values,
            unmapped_a,
            unmapped_b,
        } = entry
        else {
            continue;
        };
        let (Some(fa), Some(fb)) = (visual::canonical(a), visual::canonical(b)) else {
            continue;
        };
        for (half, field, policy) in [(Half::A, &fa, unmapped_a), (Half::B, &fb, unmapped_b)] {
            if matches!(field.as_str(), "assignee" | "reporter")
                && let Some(side) = side_of(conn, half)
            {
                for pair in values {
                    let v = if half == Half::A { &pair.a } else { &pair.b };
                    if let Some(w) = missing_user(node, side, v.trim()).await {
                        out.push(format!("entry {}: {w}", n + 1));
                    }
                }
            }
            let Some(kind) = checked_kind(field) else {
                continue;
            };
            let Some(side) = side_of(conn, half) else {
                continue;
            };
            let names = match known.get(&(half, kind)) {
                Some(v) => v.clone(),
                None => {
                    let v = site_values(node, side, kind, &mut out).await;
                    known.insert((half, kind), v.clone());
                    v
                }
            };
            let Some(names) = names else { continue };
            let mut check = |value: &str, what: &str, lands: bool| {
                if let Some(reason) = finding(&names, kind, side, value, lands) {
                    out.push(format!(
                        "entry {}: {what} {value:?} on side {}: {reason}",
                        n + 1,
                        side.name
                    ));
                }
            };
            for pair in values {
                let v = if half == Half::A { &pair.a } else { &pair.b };
                let lands = direction.lands_on(half) && pair.direction.lands_on(half);
                check(v.trim(), kind, lands);
            }
            if direction.lands_on(half)
                && let Some(d) = policy.trim().strip_prefix("default:")
            {
                check(d.trim(), "default", true);
            }
        }
    }
    out
}

/// Why user `reference` (an email, `accountid:<id>` or `name:<user name>`) names nobody on
/// `side`'s site, or `None` when it names someone (or the site cannot say).
async fn missing_user(node: &Node, side: &SideConfig, reference: &str) -> Option<String> {
    let client = node.client(&side.instance)?;
    let user = if let Some(id) = reference.strip_prefix("accountid:") {
        crate::model::UserRef::AccountId(id.trim().to_owned())
    } else if let Some(name) = reference.strip_prefix("name:") {
        crate::model::UserRef::Name(name.trim().to_owned())
    } else {
        crate::model::UserRef::Email(reference.to_owned())
    };
    match client.find_user(&user).await {
        Ok(Some(u)) if u.active => None,
        Ok(Some(_)) => Some(format!(
            "user {reference:?} on side {} is inactive, so it cannot be set",
            side.name
        )),
        Ok(None) => Some(format!(
            "{} has no user {reference:?} (side {})",
            side.instance, side.name
        )),
        Err(e) => Some(format!(
            "user {reference:?} on side {} was not checked: {e}",
            side.name
        )),
    }
}

/// The metadata a field's values are checked against.
fn checked_kind(field: &str) -> Option<&'static str> {
    match field {
        "status" => Some("status"),
        "priority" => Some("priority"),
        "issue-type" => Some("issue type"),
        _ => None,
    }
}

fn side_of(conn: &ConnectionConfig, half: Half) -> Option<&SideConfig> {
    match half {
        Half::A => conn.sides.first(),
        Half::B => conn.sides.get(1),
    }
}

/// Why `value` (of `kind`, on `side`) is a problem, if it is: the site lacks it, or, for a
/// status the pair lands on, some issue types' workflows lack it and cannot reach it.
fn finding(
    site: &SiteValues,
    kind: &str,
    side: &SideConfig,
    value: &str,
    lands: bool,
) -> Option<String> {
    let Some(types) = site.values.get(&value.to_lowercase()) else {
        return Some(if kind == "status" {
            format!(
                "no workflow of project {} has it, so no transition can reach it",
                side.project
            )
        } else {
            format!("{} ({}) has no such {kind}", side.instance, side.project)
        });
    };
    (kind == "status" && lands && types.len() < site.types).then(|| {
        format!(
            "only the workflows of {} have it, so an issue of another type cannot reach it",
            types.iter().cloned().collect::<Vec<_>>().join(", ")
        )
    })
}

/// What a site has for one kind of value.
#[derive(Clone)]
struct SiteValues {
    /// Each name (lower-cased) with the issue types whose workflow has it (statuses only).
    values: BTreeMap<String, BTreeSet<String>>,
    /// How many issue types the project has (statuses only).
    types: usize,
}

/// The values a site has for `kind`; `None` (with a warning) when it cannot say.
async fn site_values(
    node: &Node,
    side: &SideConfig,
    kind: &str,
    out: &mut Vec<String>,
) -> Option<SiteValues> {
    let client = node.client(&side.instance)?;
    let plain = |names: Vec<String>| SiteValues {
        values: names
            .into_iter()
            .map(|n| (n.to_lowercase(), BTreeSet::new()))
            .collect(),
        types: 0,
    };
    let found: Result<SiteValues, _> = match kind {
        "status" => client.project_statuses(&side.project).await.map(|types| {
            let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for t in &types {
                for s in &t.statuses {
                    values
                        .entry(s.name.to_lowercase())
                        .or_default()
                        .insert(t.issue_type.clone());
                }
            }
            SiteValues {
                values,
                types: types.len(),
            }
        }),
        "priority" => client
            .priorities()
            .await
            .map(|l| plain(l.into_iter().map(|p| p.name).collect())),
        _ => client
            .create_meta_issue_types(&side.project)
            .await
            .map(|l| plain(l.into_iter().map(|t| t.name).collect())),
    };
    match found {
        Ok(v) => Some(v),
        Err(e) => {
            out.push(format!(
                "the {kind} values of side {} were not checked: {e}",
                side.name
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_outside_some_workflows_is_unreachable_for_those_issue_types() {
        let side: SideConfig = serde_json::from_value(json!({
            "name": "dc", "instance": "dc", "project": "DEV"
        }))
        .expect("side");
        let site = SiteValues {
            values: BTreeMap::from([
                ("open".into(), BTreeSet::from(["Bug".into(), "Task".into()])),
                ("verified".into(), BTreeSet::from(["Bug".into()])),
            ]),
            types: 2,
        };
        assert_eq!(finding(&site, "status", &side, "Open", true), None);
        let partial = finding(&site, "status", &side, "Verified", true).expect("partial");
        assert!(partial.contains("only the workflows of Bug"), "{partial}");
        assert_eq!(
            finding(&site, "status", &side, "Verified", false),
            None,
            "a value that only leaves this side need not be reachable here"
        );
        let gone = finding(&site, "status", &side, "Closed", false).expect("gone");
        assert!(gone.contains("no transition can reach it"), "{gone}");
        let plain = SiteValues {
            values: BTreeMap::from([("major".into(), BTreeSet::new())]),
            types: 0,
        };
        assert_eq!(finding(&plain, "priority", &side, "MAJOR", true), None);
        assert!(finding(&plain, "priority", &side, "Blocker", true).is_some());
    }
}
