//! The admin API that changes the node's setup on a running node: Jira instances (sites),
//! connections with their sides, invitations to another organisation's node, triggers with
//! bulk sync, and syncing one issue. Each change is checked as a whole config, written to
//! the store, and applied at once ([`Node::apply`]); secrets typed in are kept in 0600 files
//! and never returned or logged.

// A refusal is the handler's answer itself; boxing it would buy nothing on this path.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::error;
use crate::config::{ConnectionConfig, Flavour, InstanceConfig, SideConfig, SideMode, SyncMethod};
use crate::jira::{self, Auth, ClientConfig, JiraClient};
use crate::setup::{self, SetupError, Stored};
use crate::store::{SetupKind, SetupOrigin, TriggerEdit};
use crate::sync::node::{Node, NodeError};

/// The JSON body of a request, refused with a clear 400 when it does not parse.
pub(super) struct Body<T>(pub(super) T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Response> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                error(
                    StatusCode::BAD_REQUEST,
                    format!("cannot read the body: {e}"),
                )
            })?;
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|e| error(StatusCode::BAD_REQUEST, format!("bad body: {e}")))
    }
}

/// How a setup failure answers.
pub(super) fn refused(e: SetupError) -> Response {
    let status = match &e {
        SetupError::Exists { .. } => StatusCode::CONFLICT,
        SetupError::Unknown { .. } => StatusCode::NOT_FOUND,
        SetupError::Invalid(_) | SetupError::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
        SetupError::Store(_) | SetupError::Corrupt { .. } | SetupError::Io { .. } => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    error(status, e.to_string())
}

/// Applies the store's setup to the running node; a failure says the change is stored.
#[allow(clippy::result_large_err)] // the error is the answer itself, built once per request
fn applied(node: &Node) -> Result<(), Response> {
    node.apply().map_err(|e| {
        tracing::error!(error = %e, "the setup changed but the node cannot run it");
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the change is stored, but the node cannot run it: {e}"),
        )
    })
}

pub(super) fn stored(node: &Node) -> Result<Stored, Response> {
    node.stored()
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// Checks `next` as a whole config, then writes the one row that changed and applies it.
pub(super) fn commit<B: serde::Serialize>(
    node: &Node,
    next: &Stored,
    kind: SetupKind,
    name: &str,
    body: Option<&B>,
) -> Result<(), Response> {
    setup::check(&node.config, next).map_err(refused)?;
    match body {
        Some(body) => {
            let origin = match kind {
                SetupKind::Instance => next.instances.get(name).map(|(_, o)| *o),
                SetupKind::Connection => next.connections.get(name).map(|(_, o)| *o),
            };
            // The file's hash stays with an entry the page edits, so its edit stands at restart.
            let hash = node
                .store
                .setup_row(kind, name)
                .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
                .and_then(|r| r.config_hash);
            setup::put(
                &node.store,
                kind,
                name,
                body,
                origin.unwrap_or(SetupOrigin::Page),
                hash,
            )
            .map_err(refused)?;
        }
        None => {
            node.store
                .remove_setup_row(kind, name)
                .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        }
    }
    applied(node)
}

fn instance_json(name: &str, inst: &InstanceConfig, origin: SetupOrigin) -> serde_json::Value {
    json!({
        "name": name,
        "url": inst.url,
        "flavour": inst.flavour,
        "user": inst.user,
        "origin": origin,
    })
}

/// `GET /api/instances`: every Jira site, never its token.
pub(super) async fn instances(State(node): State<Arc<Node>>) -> Response {
    let stored = match stored(&node) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let list: Vec<_> = stored
        .instances
        .iter()
        .map(|(name, (inst, origin))| instance_json(name, inst, *origin))
        .collect();
    axum::Json(json!({ "instances": list })).into_response()
}

/// `POST /api/instances` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewInstance {
    name: String,
    url: String,
    #[serde(default)]
    user: Option<String>,
    token: String,
}

/// How long the checks of a new site may take before the page is told it cannot be reached.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// Finds whether `url` is Jira Cloud or Data Center (`serverInfo`), then checks the
/// credentials (`myself`). Returns the flavour and the account's display name.
async fn probe(
    name: &str,
    url: &str,
    user: Option<&str>,
    token: &str,
) -> Result<(Flavour, String), String> {
    let cloud = ClientConfig::new(
        name,
        url,
        jira::Flavour::Cloud,
        Auth::cloud(user.unwrap_or_default().to_string(), token.to_string()),
    );
    let dc = ClientConfig::new(
        name,
        url,
        jira::Flavour::DataCenter,
        Auth::pat(token.to_string()),
    );
    let client = |c: ClientConfig| JiraClient::new(c).map_err(|e| e.to_string());
    // Cloud serves REST v3; Data Center answers 404 there and serves v2.
    let (flavour, client) = match client(cloud)?.server_info().await {
        Ok(info) if info.deployment_type.eq_ignore_ascii_case("cloud") => (
            Flavour::Cloud,
            client(ClientConfig::new(
                name,
                url,
                jira::Flavour::Cloud,
                Auth::cloud(user.unwrap_or_default().to_string(), token.to_string()),
            ))?,
        ),
        _ => {
            let dc_client = client(dc)?;
            match dc_client.server_info().await {
                Ok(_) => (Flavour::Dc, dc_client),
                Err(e) => {
                    return Err(format!(
                        "{url} does not answer as Jira (serverInfo on REST v3 and v2): {e}"
                    ));
                }
            }
        }
    };
    if flavour == Flavour::Cloud && user.is_none_or(str::is_empty) {
        return Err(
            "this is Jira Cloud: give the account's email as user, with an API token".into(),
        );
    }
    match client.myself().await {
        Ok(me) => Ok((flavour, me.display_name.unwrap_or_default())),
        Err(e) => Err(format!("the credentials do not work on {url}: {e}")),
    }
}

/// `POST /api/instances`: adds a Jira site after checking what it is and that the
/// credentials work; the token goes to a 0600 file and is never shown again.
pub(super) async fn add_instance(
    State(node): State<Arc<Node>>,
    Body(new): Body<NewInstance>,
) -> Response {
    if let Err(e) = setup::check_name("instance", &new.name) {
        return refused(e);
    }
    let url = new.url.trim().trim_end_matches('/').to_string();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("url {url:?} must start with https:// (or http:// for a local test site)"),
        );
    }
    if new.token.trim().is_empty() {
        return error(StatusCode::BAD_REQUEST, "token is empty");
    }
    let mut next = match stored(&node) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if next.instances.contains_key(&new.name) {
        return refused(SetupError::Exists {
            kind: "instance",
            name: new.name,
        });
    }
    let user = new.user.filter(|u| !u.trim().is_empty());
    let probe = tokio::time::timeout(
        PROBE_TIMEOUT,
        probe(&new.name, &url, user.as_deref(), new.token.trim()),
    )
    .await;
    let (flavour, account) = match probe {
        Ok(Ok(found)) => found,
        Ok(Err(reason)) => {
            tracing::warn!(instance = %new.name, url = %url, reason = %reason, "site not added");
            return error(StatusCode::UNPROCESSABLE_ENTITY, reason);
        }
        Err(_) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{url} did not answer within {}s", PROBE_TIMEOUT.as_secs()),
            );
        }
    };
    let token = match setup::keep_secret(
        &node.data_dir,
        &format!("instance-{}-token", new.name),
        new.token.trim(),
    ) {
        Ok(t) => t,
        Err(e) => return refused(e),
    };
    let inst = InstanceConfig {
        url,
        flavour,
        user,
        token,
        webhook_secret: None,
        budget: None,
    };
    next.instances
        .insert(new.name.clone(), (inst.clone(), SetupOrigin::Page));
    if let Err(r) = commit(&node, &next, SetupKind::Instance, &new.name, Some(&inst)) {
        return r;
    }
    tracing::info!(instance = %new.name, flavour = ?flavour, "site added in the admin page");
    let mut out = instance_json(&new.name, &inst, SetupOrigin::Page);
    out["account"] = json!({ "displayName": account });
    (StatusCode::CREATED, axum::Json(out)).into_response()
}

/// The refusal to delete what the config file declares: the file would bring it back.
fn from_config(kind: &str, name: &str) -> Response {
    error(
        StatusCode::CONFLICT,
        format!(
            "{kind} {name:?} is declared in the node's config file; remove it there (the page \
             can edit it, but the file decides whether it exists)"
        ),
    )
}

/// `DELETE /api/instances/{name}`: only a site no connection uses.
pub(super) async fn remove_instance(
    State(node): State<Arc<Node>>,
    Path(name): Path<String>,
) -> Response {
    let mut next = match stored(&node) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let removed = match next.instances.remove(&name) {
        None => {
            return refused(SetupError::Unknown {
                kind: "instance",
                name,
            });
        }
        Some((_, SetupOrigin::Config)) => return from_config("instance", &name),
        Some((inst, _)) => inst,
    };
    let users: Vec<&str> = next
        .connections
        .values()
        .filter(|(c, _)| c.sides.iter().any(|s| s.instance == name))
        .map(|(c, _)| c.name.as_str())
        .collect();
    if !users.is_empty() {
        return error(
            StatusCode::CONFLICT,
            format!(
                "instance {name:?} is used by connection(s) {}; delete those first",
                users.join(", ")
            ),
        );
    }
    match commit(
        &node,
        &next,
        SetupKind::Instance,
        &name,
        None::<&InstanceConfig>,
    ) {
        Ok(()) => {
            // The token the page kept for it goes too.
            if let crate::config::SecretRef::File(path) = &removed.token
                && path.starts_with(node.data_dir.join("secrets"))
                && let Err(e) = std::fs::remove_file(path)
            {
                tracing::warn!(instance = %name, error = %e, "cannot remove the site's token file");
            }
            axum::Json(json!({ "removed": name })).into_response()
        }
        Err(r) => r,
    }
}

/// `GET /api/instances/{name}/projects`: the projects the site's account can see.
pub(super) async fn projects(State(node): State<Arc<Node>>, Path(name): Path<String>) -> Response {
    let Some(client) = node.client(&name) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("there is no instance named {name:?}"),
        );
    };
    match client.projects().await {
        Ok(list) => {
            let list: Vec<_> = list
                .iter()
                .map(|p| json!({ "key": p.key, "name": p.name }))
                .collect();
            axum::Json(json!({ "projects": list })).into_response()
        }
        Err(e) => error(
            StatusCode::BAD_GATEWAY,
            format!("instance {name}: cannot list projects: {e}"),
        ),
    }
}

/// Where one side of a new connection is: a site and a project on it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Place {
    instance: String,
    project: String,
}

/// `POST /api/connections` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewConnection {
    name: String,
    mode: SideMode,
    local: Place,
    #[serde(default)]
    remote: Option<Place>,
}

/// A side named after its site, or after site and project when that name is taken.
fn side_name(place: &Place, taken: Option<&str>) -> String {
    let plain = place.instance.clone();
    if taken == Some(plain.as_str()) {
        format!("{}-{}", place.instance, place.project.to_ascii_lowercase())
    } else {
        plain
    }
}

fn side_of(place: &Place, name: String, mode: SideMode) -> SideConfig {
    let project = place.project.trim().to_ascii_uppercase();
    // The stock rules create twins in the project their `project` setting names, and a
    // comment's copy says who wrote it on the other side (stripped again when it crosses back).
    let config = [
        ("project".to_string(), project.clone()),
        (
            "author-header".to_string(),
            "{name} ({site}) wrote:".to_string(),
        ),
    ]
    .into();
    SideConfig {
        name,
        instance: place.instance.clone(),
        project,
        mode,
        rule: None,
        trigger: None,
        triggers: Vec::new(),
        config,
        limits: Default::default(),
        status_link: true,
        sync: SyncMethod::Automatic,
    }
}

/// Checks that the site exists and has the project, so a typo fails here and not later.
async fn check_place(node: &Node, place: &Place) -> Result<(), Response> {
    let Some(client) = node.client(&place.instance) else {
        return Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "there is no instance named {:?}; add the site first",
                place.instance
            ),
        ));
    };
    let key = place.project.trim().to_ascii_uppercase();
    match client.projects().await {
        Ok(list) if list.iter().any(|p| p.key.eq_ignore_ascii_case(&key)) => Ok(()),
        Ok(_) => Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "instance {}: no project {key} is visible to its account",
                place.instance
            ),
        )),
        Err(e) => Err(error(
            StatusCode::BAD_GATEWAY,
            format!("instance {}: cannot list projects: {e}", place.instance),
        )),
    }
}

pub(super) fn connection_json(
    node: &Node,
    conn: &ConnectionConfig,
    origin: SetupOrigin,
) -> serde_json::Value {
    let state = if conn.awaiting_peer {
        json!("pending")
    } else {
        node.store
            .connection_state(&conn.name)
            .map_or(json!("unknown"), |s| json!(s))
    };
    let peer = node.store.peer(&conn.name).ok().flatten();
    let sides: Vec<_> = conn
        .sides
        .iter()
        .map(|s| {
            // Basic mode sends and receives every field it knows until told otherwise.
            let list = |key: &str| match (s.config.get(key), s.mode) {
                (Some(v), _) => Some(split_fields(v)),
                (None, SideMode::Basic) => {
                    Some(BASIC_FIELDS.iter().map(|f| f.to_string()).collect())
                }
                (None, _) => None,
            };
            json!({
                "name": s.name,
                "instance": s.instance,
                "project": s.project,
                "mode": s.mode.as_str(),
                "sync": s.sync.as_str(),
                "send": list("send"),
                "receive": list("receive"),
                "config": s.config,
            })
        })
        .collect();
    json!({
        "name": conn.name,
        "origin": origin,
        "state": state,
        "remote": conn.is_remote(),
        "peer_side": conn.peer,
        "peer": peer.map(|p| json!({ "url": p.url, "state": p.state })),
        "sides": sides,
    })
}

fn split_fields(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect()
}

/// `GET /api/connections`: every connection with its sides, modes and peer.
pub(super) async fn connections(State(node): State<Arc<Node>>) -> Response {
    let stored = match stored(&node) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let list: Vec<_> = stored
        .connections
        .values()
        .map(|(c, origin)| connection_json(&node, c, *origin))
        .collect();
    axum::Json(json!({ "connections": list })).into_response()
}

/// `POST /api/connections`: a local connection (two projects on this node, active at once)
/// or one with another organisation (waiting for its invitation to be accepted).
pub(super) async fn add_connection(
    State(node): State<Arc<Node>>,
    Body(new): Body<NewConnection>,
) -> Response {
    if let Err(e) = setup::check_name("connection", &new.name) {
        return refused(e);
    }
    let mut next = match stored(&node) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if next.connections.contains_key(&new.name) {
        return refused(SetupError::Exists {
            kind: "connection",
            name: new.name,
        });
    }
    if let Err(r) = check_place(&node, &new.local).await {
        return r;
    }
    let local_name = side_name(&new.local, None);
    let conn = match &new.remote {
        Some(remote) => {
            if let Err(r) = check_place(&node, remote).await {
                return r;
            }
            let remote_name = side_name(remote, Some(&local_name));
            ConnectionConfig {
                name: new.name.clone(),
                sides: vec![
                    side_of(&new.local, local_name, new.mode),
                    side_of(remote, remote_name, new.mode),
                ],
                peer: None,
                awaiting_peer: false,
            }
        }
        None => {
            if node.config.peer_url().is_none() {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "a connection with another organisation needs this node's peer endpoint: \
                     set node.peer_listen (and node.peer_url if peers reach it by another name)",
                );
            }
            ConnectionConfig {
                name: new.name.clone(),
                sides: vec![side_of(&new.local, local_name, new.mode)],
                peer: None,
                awaiting_peer: true,
            }
        }
    };
    next.connections
        .insert(new.name.clone(), (conn.clone(), SetupOrigin::Page));
    if let Err(r) = commit(&node, &next, SetupKind::Connection, &new.name, Some(&conn)) {
        return r;
    }
    tracing::info!(connection = %new.name, mode = new.mode.as_str(), "connection made in the admin page");
    (
        StatusCode::CREATED,
        axum::Json(connection_json(&node, &conn, SetupOrigin::Page)),
    )
        .into_response()
}

/// `DELETE /api/connections/{name}`: removes it and its triggers; its twins stay recorded.
pub(super) async fn remove_connection(
    State(node): State<Arc<Node>>,
    Path(name): Path<String>,
) -> Response {
    let mut next = match stored(&node) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match next.connections.remove(&name) {
        None => {
            return refused(SetupError::Unknown {
                kind: "connection",
                name,
            });
        }
        Some((_, SetupOrigin::Config)) => return from_config("connection", &name),
        Some(_) => {}
    }
    next.triggers.retain(|t| t.connection != name);
    match commit(
        &node,
        &next,
        SetupKind::Connection,
        &name,
        None::<&ConnectionConfig>,
    ) {
        Ok(()) => {
            // Its Visual mapping documents go with it; the side config they compiled to is gone.
            if let Err(e) = node.store.remove_visual_mapping(&name, None) {
                tracing::warn!(connection = %name, error = %e, "cannot drop the connection's mapping documents");
            }
            // So do its rules and their history: a connection made again under the name starts clean.
            if let Err(e) = node.store.remove_rule_versions(&name) {
                tracing::warn!(connection = %name, error = %e, "cannot drop the connection's rule versions");
            }
            for dir in ["rules", "rule-versions"] {
                let path = node.data_dir.join(dir).join(setup::file_safe(&name));
                if let Err(e) = std::fs::remove_dir_all(&path)
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    tracing::warn!(connection = %name, path = %path.display(), error = %e,
                        "cannot remove the connection's rule files");
                }
            }
            axum::Json(json!({ "removed": name })).into_response()
        }
        Err(r) => r,
    }
}

/// `PATCH /api/connections/{name}/sides/{side}` body: Basic mode's field switches and settings.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SideEdit {
    #[serde(default)]
    send: Option<Vec<String>>,
    #[serde(default)]
    receive: Option<Vec<String>>,
    #[serde(default)]
    config: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    mode: Option<SideMode>,
    /// The sync method of this side's outgoing direction.
    #[serde(default)]
    sync: Option<SyncMethod>,
}

/// The fields Basic mode sends and receives, as the stock `basic` rule names them.
pub(crate) const BASIC_FIELDS: &[&str] = &[
    "summary",
    "description",
    "comments",
    "attachments",
    "issuetype",
    "priority",
    "labels",
    "status",
];

/// `PATCH /api/connections/{name}/sides/{side}`: changes one side only; the other side
/// (and the other organisation) is not asked.
pub(super) async fn edit_side(
    State(node): State<Arc<Node>>,
    Path((name, side)): Path<(String, String)>,
    Body(edit): Body<SideEdit>,
) -> Response {
    let mut next = match stored(&node) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some((conn, _)) = next.connections.get_mut(&name) else {
        return refused(SetupError::Unknown {
            kind: "connection",
            name,
        });
    };
    let Some(s) = conn.sides.iter_mut().find(|s| s.name == side) else {
        return refused(SetupError::Unknown {
            kind: "side",
            name: format!("{name}/{side}"),
        });
    };
    if let Some(config) = edit.config {
        s.config = config;
    }
    for (key, list) in [("send", edit.send), ("receive", edit.receive)] {
        let Some(list) = list else { continue };
        if let Some(bad) = list.iter().find(|f| !BASIC_FIELDS.contains(&f.as_str())) {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "{key}: {bad:?} is not a Basic mode field; they are {}",
                    BASIC_FIELDS.join(", ")
                ),
            );
        }
        s.config.insert(key.to_string(), list.join(","));
    }
    if let Some(method) = edit.sync {
        s.sync = method;
    }
    if let Some(mode) = edit.mode {
        if mode == SideMode::File {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "mode \"file\" is set in the config file, with the rule's path",
            );
        }
        if s.mode != mode {
            s.mode = mode;
            s.rule = None;
            // The side's own rule file is made again from the new mode's stock rule.
            let data_dir = &node.data_dir;
            let file = setup::side_rule_file(data_dir, &name, &side);
            if mode != SideMode::Script
                && let Err(e) = std::fs::remove_file(&file)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("cannot replace {}: {e}", file.display()),
                );
            }
        }
    }
    let conn = conn.clone();
    if let Err(r) = commit(&node, &next, SetupKind::Connection, &name, Some(&conn)) {
        return r;
    }
    let origin = next
        .connections
        .get(&name)
        .map_or(SetupOrigin::Page, |(_, o)| *o);
    tracing::info!(connection = %name, side = %side, "side changed in the admin page");
    axum::Json(connection_json(&node, &conn, origin)).into_response()
}

/// `POST /api/connections/{name}/invitation` body.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct InvitationAsk {
    #[serde(default)]
    expires_in_minutes: Option<u64>,
}

/// How long an invitation made in the page is valid unless asked otherwise.
const DEFAULT_INVITATION_MINUTES: u64 = 60;

/// `POST /api/connections/{name}/invitation`: a one-time code for the other organisation.
pub(super) async fn invitation(
    State(node): State<Arc<Node>>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let ask: InvitationAsk = if body.is_empty() {
        InvitationAsk::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(a) => a,
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("bad body: {e}")),
        }
    };
    let minutes = ask
        .expires_in_minutes
        .unwrap_or(DEFAULT_INVITATION_MINUTES)
        .clamp(1, 7 * 24 * 60);
    let live = node.live();
    match crate::peer::enroll::invite(&live, &node.store, &name, Duration::from_secs(minutes * 60))
    {
        Ok(code) => {
            let expires_at = crate::store::now_ms() + (minutes as i64) * 60_000;
            axum::Json(json!({ "code": code, "expires_at": expires_at })).into_response()
        }
        Err(e) => {
            let status = if live.connection(&name).is_none() {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            error(status, e.to_string())
        }
    }
}

/// `POST /api/invitations/accept` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Accept {
    code: String,
    #[serde(default)]
    name: Option<String>,
    local: Place,
    #[serde(default)]
    mode: Option<SideMode>,
}

/// `POST /api/invitations/accept`: pairs with the inviting node and makes the connection
/// here, active on both nodes once this returns.
pub(super) async fn accept(State(node): State<Arc<Node>>, Body(ask): Body<Accept>) -> Response {
    use crate::peer::Invitation;
    let invitation = match Invitation::decode(&ask.code) {
        Ok(i) => i,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    if let Err(e) = invitation.check_fresh(crate::store::now_ms()) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string());
    }
    let name = invitation.connection().to_string();
    // The inviter chose these names; they become rows and file paths here.
    if let Err(e) = setup::check_name("connection", &name) {
        return refused(e);
    }
    // The peer protocol names a connection the same on both nodes.
    if let Some(asked) = &ask.name
        && *asked != name
    {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "the invitation is for connection {name:?}; a connection has one name on both \
                 nodes, so it cannot be called {asked:?} here"
            ),
        );
    }
    if let Some(side) = invitation.side()
        && let Err(e) = setup::check_name("side", side)
    {
        return refused(e);
    }
    let Some(peer_side) = invitation.side().map(str::to_string) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "this invitation comes from a connection declared in the inviter's config file; \
             declare the connection in this node's config and accept with \
             `twinsync connection accept`",
        );
    };
    let mut next = match stored(&node) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if next.connections.contains_key(&name) {
        return refused(SetupError::Exists {
            kind: "connection",
            name,
        });
    }
    if let Err(r) = check_place(&node, &ask.local).await {
        return r;
    }
    let local_name = side_name(&ask.local, Some(&peer_side));
    let conn = ConnectionConfig {
        name: name.clone(),
        sides: vec![side_of(
            &ask.local,
            local_name.clone(),
            ask.mode.unwrap_or(SideMode::Basic),
        )],
        peer: Some(peer_side),
        awaiting_peer: false,
    };
    next.connections
        .insert(name.clone(), (conn.clone(), SetupOrigin::Page));
    if let Err(e) = setup::check(&node.config, &next) {
        return refused(e);
    }
    let live = next.effective(&node.config);
    let peer = match crate::peer::enroll::accept_invitation(
        &live,
        &node.store,
        &invitation,
        Some(&local_name),
    )
    .await
    {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_GATEWAY, e.to_string()),
    };
    if let Err(r) = commit(&node, &next, SetupKind::Connection, &name, Some(&conn)) {
        return r;
    }
    tracing::info!(connection = %name, peer = %peer.url, "invitation accepted in the admin page");
    (
        StatusCode::CREATED,
        axum::Json(json!({ "name": name, "peer_url": peer.url, "side": local_name })),
    )
        .into_response()
}

/// Records the acceptor's side on a connection that waited for its peer, and applies it.
pub(crate) async fn peer_joined(
    node: &Node,
    connection: &str,
    side: &str,
) -> Result<(), NodeError> {
    // The peer names the side: it becomes part of file paths here, so it is a name first.
    setup::check_name("side", side)?;
    let _one = node.setup_lock.lock().await;
    let mut next = node.stored()?;
    let Some((conn, _)) = next.connections.get_mut(connection) else {
        return Ok(());
    };
    if !conn.awaiting_peer {
        return Ok(());
    }
    conn.awaiting_peer = false;
    conn.peer = Some(side.to_string());
    let conn = conn.clone();
    setup::check(&node.config, &next)?;
    let origin = next
        .connections
        .get(connection)
        .map_or(SetupOrigin::Page, |(_, o)| *o);
    setup::put(
        &node.store,
        SetupKind::Connection,
        connection,
        &conn,
        origin,
        None,
    )?;
    node.apply()
}

/// `POST /api/connections/{name}/triggers` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewTrigger {
    side: String,
    jql: String,
    #[serde(default)]
    note: String,
    #[serde(default = "active_default")]
    active: bool,
}

fn active_default() -> bool {
    true
}

/// A trigger's JQL as it runs: within its side's project, never unbounded.
fn scoped(project: &str, jql: &str) -> String {
    format!("project = \"{project}\" AND ({jql})")
}

/// Refuses JQL with no restriction (empty, or only `ORDER BY`), then asks Jira how many
/// issues of the side's project match; Jira's own reason comes back for bad JQL.
async fn count_matches(
    node: &Node,
    connection: &str,
    side: &str,
    jql: &str,
) -> Result<u64, Response> {
    let restriction = jql
        .to_ascii_lowercase()
        .split("order by")
        .next()
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    if restriction.is_empty() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "the JQL has no search restriction; say which issues, e.g. `labels = sync`",
        ));
    }
    let Some(s) = node.pipeline.side(connection, side) else {
        return Err(error(
            StatusCode::NOT_FOUND,
            format!("connection {connection:?} has no running side {side:?}"),
        ));
    };
    let query = scoped(&s.project, jql.trim());
    match s.jira.count(&query).await {
        Ok(n) => Ok(n),
        Err(e) if e.is_transient() => Err(error(
            StatusCode::BAD_GATEWAY,
            format!("instance {} did not answer: {e}", s.instance),
        )),
        Err(e) => Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("instance {} refuses the JQL: {e}", s.instance),
        )),
    }
}

/// `POST /api/connections/{name}/triggers`: checked against Jira before it is saved.
pub(super) async fn add_trigger(
    State(node): State<Arc<Node>>,
    Path(name): Path<String>,
    Body(new): Body<NewTrigger>,
) -> Response {
    let matches = match count_matches(&node, &name, &new.side, &new.jql).await {
        Ok(n) => n,
        Err(r) => return r,
    };
    let id = match node.store.add_trigger(&crate::store::NewTrigger {
        connection: &name,
        side: &new.side,
        jql: new.jql.trim(),
        note: &new.note,
        active: new.active,
        origin: SetupOrigin::Page,
        config_hash: None,
    }) {
        Ok(id) => id,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    if let Err(r) = applied(&node) {
        return r;
    }
    match node.store.trigger(id) {
        Ok(Some(t)) => {
            let mut out = json!(t);
            out["matches"] = json!(matches);
            (StatusCode::CREATED, axum::Json(out)).into_response()
        }
        Ok(None) => error(StatusCode::INTERNAL_SERVER_ERROR, "the trigger vanished"),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `PATCH /api/triggers/{id}`: new JQL is checked against Jira first.
pub(super) async fn edit_trigger(
    State(node): State<Arc<Node>>,
    Path(id): Path<i64>,
    Body(edit): Body<TriggerEdit>,
) -> Response {
    let Ok(Some(t)) = node.store.trigger(id) else {
        return error(StatusCode::NOT_FOUND, format!("there is no trigger {id}"));
    };
    let mut matches = None;
    if let Some(jql) = &edit.jql {
        match count_matches(&node, &t.connection, &t.side, jql).await {
            Ok(n) => matches = Some(n),
            Err(r) => return r,
        }
    }
    let edited = match node.store.edit_trigger(id, &edit) {
        Ok(Some(t)) => t,
        Ok(None) => return error(StatusCode::NOT_FOUND, format!("there is no trigger {id}")),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    if let Err(r) = applied(&node) {
        return r;
    }
    let mut out = json!(edited);
    out["matches"] = json!(matches);
    axum::Json(out).into_response()
}

/// `DELETE /api/triggers/{id}`.
pub(super) async fn remove_trigger(State(node): State<Arc<Node>>, Path(id): Path<i64>) -> Response {
    if let Ok(Some(t)) = node.store.trigger(id)
        && t.origin == SetupOrigin::Config
    {
        return error(
            StatusCode::CONFLICT,
            format!(
                "trigger {id} is declared in the node's config file; remove it there, or \
                 switch it off here (PATCH active = false)"
            ),
        );
    }
    match node.store.remove_trigger(id) {
        Ok(true) => match applied(&node) {
            Ok(()) => axum::Json(json!({ "removed": id })).into_response(),
            Err(r) => r,
        },
        Ok(false) => error(StatusCode::NOT_FOUND, format!("there is no trigger {id}")),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `POST /api/triggers/{id}/bulk`: queues every issue the trigger matches, in the
/// background; `GET /api/bulk` shows its progress, and a restart resumes it.
pub(super) async fn bulk(State(node): State<Arc<Node>>, Path(id): Path<i64>) -> Response {
    let Ok(Some(t)) = node.store.trigger(id) else {
        return error(StatusCode::NOT_FOUND, format!("there is no trigger {id}"));
    };
    let Some(side) = node.pipeline.side(&t.connection, &t.side) else {
        return error(
            StatusCode::CONFLICT,
            format!(
                "connection {:?} has no running side {:?} (is it waiting for its peer?)",
                t.connection, t.side
            ),
        );
    };
    if side.sync == SyncMethod::Disabled {
        return error(
            StatusCode::CONFLICT,
            format!(
                "the sync method of side {:?} is disabled; enable it before a bulk sync",
                side.name
            ),
        );
    }
    let jql = scoped(&side.project, &t.jql);
    let run = match node.store.bulk_run(&side.connection, &side.name, &jql) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    crate::sync::detect::spawn_bulk(node.clone(), side, jql);
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({ "run": run.id, "trigger": id })),
    )
        .into_response()
}

/// `POST /api/connections/{name}/sync` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SyncAsk {
    key: String,
}

/// `POST /api/connections/{name}/sync`: puts one issue under sync now.
pub(super) async fn sync_issue(
    State(node): State<Arc<Node>>,
    Path(name): Path<String>,
    Body(ask): Body<SyncAsk>,
) -> Response {
    let key = ask.key.trim().to_ascii_uppercase();
    let well_formed = key.rsplit_once('-').is_some_and(|(p, n)| {
        !p.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    });
    if !well_formed {
        return error(
            StatusCode::BAD_REQUEST,
            format!("{key:?} is not an issue key like ABC-123"),
        );
    }
    let side = match node.side_for_key(&name, &key) {
        Ok(s) => s,
        Err(e) => return error(StatusCode::NOT_FOUND, e.to_string()),
    };
    match crate::sync::detect::sync_one(&node, &name, &key) {
        Ok(event) => (
            StatusCode::ACCEPTED,
            axum::Json(json!({ "event": event, "key": key, "side": side.name })),
        )
            .into_response(),
        Err(e @ crate::sync::detect::DetectError::Disabled { .. }) => {
            error(StatusCode::CONFLICT, e.to_string())
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `POST /api/connections/{name}/sides/{side}/catch-up`: after a disabled direction is
/// enabled again, sends what changed on the side while it was disabled.
pub(super) async fn catch_up(
    State(node): State<Arc<Node>>,
    Path((name, side)): Path<(String, String)>,
) -> Response {
    let Some(running) = node.pipeline.side(&name, &side) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("connection {name:?} has no running side {side:?}"),
        );
    };
    match crate::sync::detect::catch_up(&node, &running).await {
        Ok(queued) => (
            StatusCode::ACCEPTED,
            axum::Json(json!({ "queued": queued, "side": side })),
        )
            .into_response(),
        Err(e @ crate::sync::detect::DetectError::Disabled { .. }) => {
            error(StatusCode::CONFLICT, e.to_string())
        }
        Err(e) => error(StatusCode::BAD_GATEWAY, e.to_string()),
    }
}
