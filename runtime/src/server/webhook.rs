//! Jira webhooks: authenticated by the instance's shared secret, given either in the URL
//! (`?secret=`, what Jira's webhook UI allows) or as an HMAC-SHA256 of the body in
//! `X-Hub-Signature: sha256=<hex>` (Jira Cloud's secret webhooks). Comparisons are
//! constant-time. A bad webhook gets a clear 4xx and changes nothing.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{KeyInit, Mac};
use serde_json::json;
use subtle::ConstantTimeEq;

use super::error;
use crate::sync::detect::{self, DetectError};
use crate::sync::node::Node;

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

pub(super) async fn webhook(
    State(node): State<Arc<Node>>,
    Path(instance): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(secret) = node.webhook_secret(&instance) else {
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_signature_header_is_refused_without_panicking(
            sig in prop_oneof!["[ -~]{0,80}", "sha256=[0-9a-fA-F]{0,70}"],
            secret in "\\PC{0,20}",
            body in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut h = HeaderMap::new();
            if let Ok(v) = sig.parse() {
                h.insert("x-hub-signature", v);
            }
            // A 256-bit MAC that a random header hits is not worth waiting for.
            prop_assert!(!authentic(Some(&secret), &HashMap::new(), &h, &body));
        }
    }

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
