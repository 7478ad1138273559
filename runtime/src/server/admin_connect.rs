//! The admin API of `connect`: propose pairs of issues that already exist on both sides of a
//! connection, and link the pairs an admin approved, creating nothing (see `sync::connect`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::admin_setup::Body;
use super::error;
use crate::sync::connect::{self, ApprovedPair, ConnectError, MatchBy};
use crate::sync::node::Node;

/// How a connect failure answers.
fn refused(e: ConnectError) -> Response {
    let status = match &e {
        ConnectError::UnknownConnection(_) => StatusCode::NOT_FOUND,
        ConnectError::NotLocal(_) | ConnectError::BadMatch(_) | ConnectError::TooMany { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ConnectError::Jira { source, .. } if source.is_transient() => StatusCode::BAD_GATEWAY,
        ConnectError::Jira { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        ConnectError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error(status, e.to_string())
}

/// `POST /api/connections/{name}/connect/propose` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProposeAsk {
    #[serde(default)]
    jql: String,
    /// `key`, `summary` or `property:NAME`.
    #[serde(default = "by_key", rename = "match")]
    match_by: String,
}

fn by_key() -> String {
    "key".into()
}

/// `POST /api/connections/{name}/connect/propose`: the pairs for review; links nothing.
pub(super) async fn propose(
    State(node): State<Arc<Node>>,
    Path(name): Path<String>,
    Body(ask): Body<ProposeAsk>,
) -> Response {
    let by: MatchBy = match ask.match_by.parse() {
        Ok(b) => b,
        Err(e) => return refused(e),
    };
    match connect::propose(&node, &name, &ask.jql, &by).await {
        Ok(p) => axum::Json(p).into_response(),
        Err(e) => refused(e),
    }
}

/// `POST /api/connections/{name}/connect/approve` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ApproveAsk {
    pairs: Vec<ApprovedPair>,
}

/// `POST /api/connections/{name}/connect/approve`: links the approved pairs and queues their
/// first sync; each pair's outcome says whether it was linked, already linked or refused.
pub(super) async fn approve(
    State(node): State<Arc<Node>>,
    Path(name): Path<String>,
    Body(ask): Body<ApproveAsk>,
) -> Response {
    match connect::link(&node, &name, &ask.pairs).await {
        Ok(report) => axum::Json(report).into_response(),
        Err(e) => refused(e),
    }
}
