//! The node's HTTP surface, on three listeners: the public one (`listen`: Jira webhooks and
//! the health check, nothing else), the admin one (`admin_listen`, loopback by default: the
//! admin API, its page and `/metrics`, behind the token and `Host` checks) and the peer one
//! (`peer_listen`, see `peer`).
//!
//! `admin` holds the admin API (`admin_rules` its rule versions: publish, history,
//! rollback), `metrics` the Prometheus text, `webhook` Jira's webhooks, `tls` the public
//! listener's certificate files and `peer` the node-to-node protocol.

mod admin;
mod admin_connect;
mod admin_issue;
mod admin_meta;
mod admin_rules;
pub(crate) mod admin_setup;
mod admin_visual;
mod host;
mod metrics;
pub(crate) mod peer;
pub(crate) mod tls;
mod webhook;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::sync::node::Node;

pub use admin::status_json;
pub(crate) use host::AdminHosts;

/// Candidate rule modules may be large (an interpreted-language rule is tens of MB).
const MAX_CANDIDATE_BYTES: usize = 128 << 20;

/// What the admin check needs: the node (its token) and the hosts it answers to.
#[derive(Clone)]
struct AdminGuard {
    node: Arc<Node>,
    hosts: Arc<AdminHosts>,
}

/// The public listener's router: what must reach a node from the internet, and only that.
/// Any other path, the admin API's included, is 404 here.
pub(crate) fn public_router(node: Arc<Node>) -> Router {
    Router::new()
        .route("/webhooks/jira/{instance}", post(webhook::webhook))
        .route("/healthz", get(healthz))
        .with_state(node)
}

/// The documented health check: the one route that answers without a token, on both listeners.
async fn healthz() -> &'static str {
    "ok"
}

/// The admin listener's router; its API answers only to `hosts` and the admin token.
pub(crate) fn admin_router(node: Arc<Node>, hosts: AdminHosts) -> Router {
    let admin = Router::new()
        .route("/api/status", get(admin::status))
        .route("/api/events", get(admin::events))
        .route("/api/events/{id}/retry", post(admin::retry))
        .route("/api/connections/{name}/pause", post(admin::pause))
        .route("/api/connections/{name}/resume", post(admin::resume))
        .route("/api/rules", get(admin::rules))
        .route(
            "/api/rules/try",
            post(admin::try_rule).layer(DefaultBodyLimit::max(MAX_CANDIDATE_BYTES)),
        )
        .route(
            "/api/connections/{name}/sides/{side}/rule",
            post(admin_rules::publish).layer(DefaultBodyLimit::max(MAX_CANDIDATE_BYTES)),
        )
        .route(
            "/api/connections/{name}/sides/{side}/rule/versions",
            get(admin_rules::versions),
        )
        .route(
            "/api/connections/{name}/sides/{side}/rule/rollback",
            post(admin_rules::rollback),
        )
        .route("/api/twins", get(admin::twins))
        .route("/api/triggers", get(admin::triggers))
        .route(
            "/api/instances",
            get(admin_setup::instances).post(admin_setup::add_instance),
        )
        .route(
            "/api/instances/{name}",
            delete(admin_setup::remove_instance),
        )
        .route("/api/instances/{name}/projects", get(admin_setup::projects))
        .route("/api/instances/{name}/meta/{kind}", get(admin_meta::meta))
        .route(
            "/api/connections/{name}/mapping",
            get(admin_visual::mapping),
        )
        .route(
            "/api/connections/{name}/mapping/draft",
            put(admin_visual::save_draft).delete(admin_visual::discard_draft),
        )
        .route(
            "/api/connections/{name}/mapping/publish",
            post(admin_visual::publish),
        )
        .route(
            "/api/connections/{name}/mapping/preview",
            post(admin_visual::preview),
        )
        .route(
            "/api/connections",
            get(admin_setup::connections).post(admin_setup::add_connection),
        )
        .route(
            "/api/connections/{name}",
            delete(admin_setup::remove_connection),
        )
        .route(
            "/api/connections/{name}/sides/{side}",
            patch(admin_setup::edit_side),
        )
        .route(
            "/api/connections/{name}/sides/{side}/catch-up",
            post(admin_setup::catch_up),
        )
        .route(
            "/api/connections/{name}/invitation",
            post(admin_setup::invitation),
        )
        .route("/api/invitations/accept", post(admin_setup::accept))
        .route(
            "/api/connections/{name}/triggers",
            post(admin_setup::add_trigger),
        )
        .route(
            "/api/triggers/{id}",
            patch(admin_setup::edit_trigger).delete(admin_setup::remove_trigger),
        )
        .route("/api/triggers/{id}/bulk", post(admin_setup::bulk))
        .route(
            "/api/connections/{name}/sync",
            post(admin_setup::sync_issue),
        )
        .route(
            "/api/connections/{name}/connect/propose",
            post(admin_connect::propose),
        )
        .route(
            "/api/connections/{name}/connect/approve",
            post(admin_connect::approve),
        )
        .route("/api/bulk", get(admin::bulk_runs))
        .route("/api/issues/{connection}/{key}", get(admin_issue::issue))
        .route("/api/openapi.json", get(openapi))
        .route("/metrics", get(metrics::metrics))
        .route_layer(axum::middleware::from_fn_with_state(
            node.clone(),
            one_change_at_a_time,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            AdminGuard {
                node: node.clone(),
                hosts: Arc::new(hosts),
            },
            require_admin,
        ));
    Router::new()
        // The page itself holds nothing secret; the API calls it makes carry the admin token.
        .route("/", get(ui))
        .route("/ui.js", get(|| async { ui_script(include_str!("ui.js")) }))
        .route(
            "/ui-setup.js",
            get(|| async { ui_script(include_str!("ui-setup.js")) }),
        )
        .route(
            "/ui-connection.js",
            get(|| async { ui_script(include_str!("ui-connection.js")) }),
        )
        .route(
            "/ui-visual.js",
            get(|| async { ui_script(include_str!("ui-visual.js")) }),
        )
        .route(
            "/ui-issue.js",
            get(|| async { ui_script(include_str!("ui-issue.js")) }),
        )
        .route("/healthz", get(healthz))
        .merge(admin)
        .with_state(node)
}

/// Admin requests that change something run one at a time: each reads the setup, checks
/// it whole and writes it, and two at once could each undo the other's change.
async fn one_change_at_a_time(
    State(node): State<Arc<Node>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = request.method().clone();
    if method == axum::http::Method::GET || method == axum::http::Method::HEAD {
        return next.run(request).await;
    }
    let _one = node.setup_lock.lock().await;
    next.run(request).await
}

/// The admin API and `/metrics` answer only to the node's own hosts, and need
/// `Authorization: Bearer <admin token>` when the node has one (it must, unless it listens
/// on loopback only).
async fn require_admin(
    State(AdminGuard { node, hosts }): State<AdminGuard>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let host = request
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .unwrap_or("");
    if !hosts.allows(host) {
        tracing::warn!(host = %host.escape_debug(), path = %request.uri().path(),
            "admin request refused: its Host is not an address this node listens on nor a name \
             in node.admin_hosts (DNS rebinding?)");
        return error(
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this node's admin API does not answer to Host {host:?}; an operator can add \
                 the name to node.admin_hosts"
            ),
        );
    }
    if request.method() != axum::http::Method::GET && cross_site(request.headers()) {
        tracing::warn!(path = %request.uri().path(), "cross-site admin request refused");
        return error(
            StatusCode::FORBIDDEN,
            "admin changes are not accepted from another site's page",
        );
    }
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

/// Whether a browser sent this request from another site's page: a node on loopback without
/// a token must not let any web page pause connections or retry events.
fn cross_site(headers: &axum::http::HeaderMap) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return !matches!(site, "same-origin" | "none");
    }
    match (get("origin"), get("host")) {
        (Some(origin), Some(host)) => origin.split_once("://").map(|(_, h)| h) != Some(host),
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// What the admin page may load and do: its own script and the node's API, nothing else;
/// no framing (its buttons pause connections), no inline script.
const UI_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'unsafe-inline'; \
                      connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The admin web page, built into the binary (no external CDN); it polls the admin API.
async fn ui() -> Response {
    (
        StatusCode::OK,
        [
            ("content-type", "text/html; charset=utf-8"),
            ("content-security-policy", UI_CSP),
            ("x-frame-options", "DENY"),
        ],
        include_str!("ui.html"),
    )
        .into_response()
}

/// One of the admin page's scripts (`ui.js` first: the others build on it).
fn ui_script(source: &'static str) -> Response {
    (
        StatusCode::OK,
        [
            ("content-type", "text/javascript; charset=utf-8"),
            ("content-security-policy", UI_CSP),
        ],
        source,
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

pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}
