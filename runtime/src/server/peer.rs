//! The peer API, served over HTTPS with the node's pinned certificate: invitation acceptance,
//! replicas, acks, and attachment bytes. Every request must be signed by the connection's
//! peer key and addressed to this node; a refused request is answered 401/403 (429 for too
//! many acceptances) with a log line naming the peer and the reason, and nothing is applied.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, Extension, FromRequest, FromRequestParts, Path, Query, Request,
    State,
};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::peer::invite::secret_hash;
use crate::peer::protocol::{
    self, ACCEPT_PATH, ACK_PATH, Acceptance, Accepted, AckMessage, MAX_BODY_BYTES, REPLICA_PATH,
    ReplicaMessage,
};
use crate::peer::sign::{self, AuthError, Check};
use crate::peer::tls::PeerAddr;
use crate::store::{Peer, Redeemed, now_ms};
use crate::sync::envelope::Envelope;
use crate::sync::node::Node;
use crate::sync::side::Side;
use crate::sync::transport::AckError;

/// The router for the peer listener; serve it with `into_make_service_with_connect_info`.
pub(crate) fn router(node: Arc<Node>) -> Router {
    Router::new()
        .route(ACCEPT_PATH, post(accept))
        .route(REPLICA_PATH, post(replica))
        .route(ACK_PATH, post(ack))
        .route("/peer/v1/attachment/{id}", get(attachment))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(Extension(Arc::new(AcceptLimiter::default())))
        .with_state(node)
}

/// How many acceptances one address, and the whole node, may try per window: pairing is
/// rare, guessing a secret or filling the store is not.
const ACCEPT_WINDOW: Duration = Duration::from_secs(60);
const ACCEPTS_PER_ADDRESS: u32 = 10;
const ACCEPTS_PER_NODE: u32 = 60;

/// A fixed-window limit on `POST /peer/v1/accept`, per address and for the node.
#[derive(Default)]
struct AcceptLimiter {
    window: Mutex<Option<Window>>,
}

/// The current window: when it began, how many tried in all and from each address.
struct Window {
    start: Instant,
    total: u32,
    per_address: HashMap<IpAddr, u32>,
}

impl AcceptLimiter {
    fn allow(&self, ip: IpAddr, now: Instant) -> bool {
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        let w = window.get_or_insert_with(|| Window {
            start: now,
            total: 0,
            per_address: HashMap::new(),
        });
        if now.duration_since(w.start) >= ACCEPT_WINDOW {
            *w = Window {
                start: now,
                total: 0,
                per_address: HashMap::new(),
            };
        }
        let mine = w.per_address.entry(ip).or_insert(0);
        if w.total >= ACCEPTS_PER_NODE || *mine >= ACCEPTS_PER_ADDRESS {
            return false;
        }
        *mine += 1;
        w.total += 1;
        true
    }
}

/// Who sent a request, for log lines: the address, and the key it presents (not yet proven).
fn caller(addr: &SocketAddr, headers: &HeaderMap) -> String {
    let key = headers
        .get(sign::H_KEY)
        .and_then(|v| v.to_str().ok())
        .map_or("none".to_string(), |k| k.chars().take(64).collect());
    format!("{addr} key {key}")
}

fn refuse(status: StatusCode, path: &str, peer: &str, reason: impl std::fmt::Display) -> Response {
    tracing::warn!(path, peer, status = status.as_u16(), reason = %reason, "peer request refused");
    (status, axum::Json(json!({ "error": reason.to_string() }))).into_response()
}

/// Checks the signature, window and nonce; `known` says which keys may sign.
fn authenticate(
    node: &Node,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    known: &dyn Fn(&str) -> bool,
    who: &str,
) -> Result<String, Box<Response>> {
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let remember = |key: &str, nonce: &str, forget_before: i64| {
        node.store
            .remember_nonce(key, nonce, forget_before)
            .map_err(|e| e.to_string())
    };
    let me = node
        .peers
        .as_ref()
        .map_or(String::new(), |p| p.identity.public_key().to_string());
    let check = Check {
        now_ms: now_ms(),
        me: &me,
        skew_ms: (node.config.node.peer_skew_secs as i64).saturating_mul(1000),
        known,
        remember: &remember,
    };
    sign::verify(&check, method.as_str(), path, headers, body).map_err(|e: AuthError| {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
        Box::new(refuse(status, uri.path(), who, e))
    })
}

/// Any key that is the peer of some connection here.
fn known_key(node: &Node) -> impl Fn(&str) -> bool + '_ {
    |key: &str| {
        node.store
            .peers_by_key(key)
            .is_ok_and(|peers| !peers.is_empty())
    }
}

/// The local side of `connection`, if `key` is its peer and the connection is live, and how
/// log lines name that peer.
fn side_for(
    node: &Node,
    key: &str,
    connection: &str,
    path: &str,
    who: &str,
) -> Result<(Arc<Side>, String), Box<Response>> {
    let peer = match node.store.peer(connection) {
        Ok(p) => p,
        Err(e) => {
            return Err(Box::new(refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                path,
                who,
                e,
            )));
        }
    };
    let Some(peer) = peer.filter(|p| p.public_key == key) else {
        return Err(Box::new(refuse(
            StatusCode::FORBIDDEN,
            path,
            who,
            format!("the signing key is not the peer of connection {connection:?}"),
        )));
    };
    let who = format!("{} of connection {connection} ({who})", peer.url);
    let remote = node
        .live()
        .connection(connection)
        .is_some_and(|c| c.peer.is_some());
    let side = remote
        .then(|| {
            node.pipeline
                .sides()
                .into_iter()
                .find(|s| s.connection == connection)
        })
        .flatten();
    let deleted_here = node
        .store
        .connection_state(connection)
        .is_ok_and(|s| s == crate::store::ConnectionState::Deleted);
    match side {
        Some(side) if peer.state != "deleted" && !deleted_here => Ok((side, who)),
        // Deleted here: the peer gets a clear, final answer instead of errors forever.
        _ => Err(Box::new(refuse(
            StatusCode::GONE,
            path,
            &who,
            format!("connection {connection:?} is deleted on this node"),
        ))),
    }
}

/// A signed message for one connection, checked: its body, the local side it is for, the
/// request's path, and how log lines name the peer.
struct Received<M> {
    message: M,
    side: Arc<Side>,
    path: String,
    who: String,
}

/// A message that a peer sends about one connection.
trait ConnectionMessage: for<'de> Deserialize<'de> {
    /// What refusals call it.
    const WHAT: &'static str;
    fn connection(&self) -> &str;
}

impl ConnectionMessage for ReplicaMessage {
    const WHAT: &'static str = "replica";
    fn connection(&self) -> &str {
        &self.connection
    }
}

impl ConnectionMessage for AckMessage {
    const WHAT: &'static str = "ack";
    fn connection(&self) -> &str {
        &self.connection
    }
}

/// What every connection message goes through first: the signature, a body that decodes,
/// and a signing key that is the peer of the live connection the body names.
fn receive<M: ConnectionMessage>(
    node: &Node,
    addr: &SocketAddr,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Received<M>, Box<Response>> {
    let path = uri.path().to_string();
    let who = caller(addr, headers);
    let key = authenticate(node, method, uri, headers, body, &known_key(node), &who)?;
    let message: M = protocol::decode(body).map_err(|e| {
        Box::new(refuse(
            StatusCode::BAD_REQUEST,
            &path,
            &who,
            format!("bad {}: {e}", M::WHAT),
        ))
    })?;
    let (side, who) = side_for(node, &key, message.connection(), &path, &who)?;
    Ok(Received {
        message,
        side,
        path,
        who,
    })
}

/// As an extractor, the handler runs only for a message that passed [`receive`].
impl<M: ConnectionMessage + Send> FromRequest<Arc<Node>> for Received<M> {
    type Rejection = Response;

    async fn from_request(req: Request, node: &Arc<Node>) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let ConnectInfo(PeerAddr(addr)) =
            ConnectInfo::<PeerAddr>::from_request_parts(&mut parts, node)
                .await
                .map_err(IntoResponse::into_response)?;
        let (method, uri, headers) = (
            parts.method.clone(),
            parts.uri.clone(),
            parts.headers.clone(),
        );
        let body = Bytes::from_request(Request::from_parts(parts, body), node)
            .await
            .map_err(IntoResponse::into_response)?;
        receive(node, &addr, &method, &uri, &headers, &body).map_err(|r| *r)
    }
}

/// Why an acceptance is refused, given what its secret redeems to; `None` lets it through.
fn invitation_refusal(
    node: &Node,
    acceptance: &Acceptance,
    redeemed: Redeemed,
) -> Option<(StatusCode, String)> {
    let forbidden = |e: crate::peer::InviteError| Some((StatusCode::FORBIDDEN, e.to_string()));
    match redeemed {
        Redeemed::Ok { connection } if connection == acceptance.connection => None,
        Redeemed::Ok { .. } | Redeemed::Unknown => forbidden(crate::peer::InviteError::Unknown),
        Redeemed::AlreadyUsed => {
            // The same acceptor asking again (its first answer was lost) gets the same answer;
            // anyone else is refused: the secret worked once.
            let same = node
                .store
                .peer(&acceptance.connection)
                .ok()
                .flatten()
                .is_some_and(|p| {
                    p.public_key == acceptance.public_key
                        && p.cert_fingerprint == acceptance.cert_fingerprint.to_ascii_lowercase()
                });
            if same {
                None
            } else {
                forbidden(crate::peer::InviteError::Reused)
            }
        }
        Redeemed::Expired => forbidden(crate::peer::InviteError::Expired),
    }
}

async fn accept(
    State(node): State<Arc<Node>>,
    Extension(limiter): Extension<Arc<AcceptLimiter>>,
    ConnectInfo(PeerAddr(addr)): ConnectInfo<PeerAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let who = caller(&addr, &headers);
    if !limiter.allow(addr.ip(), Instant::now()) {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            &path,
            &who,
            "too many invitation acceptances; try again in a minute",
        );
    }
    let acceptance: Acceptance = match protocol::decode(&body) {
        Ok(a) => a,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                &path,
                &who,
                format!("bad acceptance: {e}"),
            );
        }
    };
    if !acceptance.url.starts_with("https://") {
        return refuse(
            StatusCode::BAD_REQUEST,
            &path,
            &who,
            "the acceptor's URL is not https",
        );
    }
    // The secret first: without a valid code, a request spends no nonce and writes nothing.
    let hash = secret_hash(&acceptance.secret);
    let peeked = match node.store.peek_invitation(&hash, now_ms()) {
        Ok(r) => r,
        Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, &path, &who, e),
    };
    if let Some((status, reason)) = invitation_refusal(&node, &acceptance, peeked) {
        return refuse(status, &path, &who, reason);
    }
    // The acceptor is not a peer yet: it proves it holds the key it presents.
    let presented = acceptance.public_key.clone();
    let known = move |k: &str| k == presented;
    if let Err(r) = authenticate(&node, &method, &uri, &headers, &body, &known, &who) {
        return *r;
    }
    let redeemed = match node.store.redeem_invitation(&hash, now_ms()) {
        Ok(r) => r,
        Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, &path, &who, e),
    };
    if let Some((status, reason)) = invitation_refusal(&node, &acceptance, redeemed) {
        return refuse(status, &path, &who, reason);
    }
    let peer = Peer {
        connection: acceptance.connection.clone(),
        url: acceptance.url.trim_end_matches('/').to_string(),
        public_key: acceptance.public_key.clone(),
        cert_fingerprint: acceptance.cert_fingerprint.to_ascii_lowercase(),
        state: "active".into(),
    };
    if let Err(e) = node.store.put_peer(&peer) {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, &path, &who, e);
    }
    tracing::info!(connection = %peer.connection, peer = %peer.url, "invitation accepted; peer linked");
    // A connection made in the admin page learns the acceptor's side now, and starts.
    if let Some(side) = &acceptance.side
        && let Err(e) = super::admin_setup::peer_joined(&node, &peer.connection, side).await
    {
        tracing::error!(connection = %peer.connection, error = %e, "peer linked, but the connection cannot start");
        return refuse(StatusCode::SERVICE_UNAVAILABLE, &path, &who, e);
    }
    if let Some(p) = &node.peers {
        p.wake.notify_waiters();
    }
    axum::Json(Accepted {
        connection: peer.connection,
    })
    .into_response()
}

async fn replica(
    State(node): State<Arc<Node>>,
    Received {
        message,
        side,
        path,
        who,
    }: Received<ReplicaMessage>,
) -> Response {
    let envelope: Envelope = match serde_json::from_value(message.envelope) {
        Ok(e) => e,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                &path,
                &who,
                format!("bad envelope: {e}"),
            );
        }
    };
    // Item ids name spool files and Jira URLs later: checked here, as on serving.
    if let Some(bad) = envelope
        .replica
        .attachments
        .iter()
        .map(|a| &a.id)
        .chain(envelope.replica.comments.iter().map(|c| &c.id))
        .find(|id| !protocol::valid_item_id(id))
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            &path,
            &who,
            format!(
                "the replica lists item id {bad:?}, which is not a plain id (letters, digits, - and _)"
            ),
        );
    }
    if envelope.origin_side != side.other {
        return refuse(
            StatusCode::FORBIDDEN,
            &path,
            &who,
            format!(
                "the replica says it comes from side {:?}; the peer's side is {:?}",
                envelope.origin_side, side.other
            ),
        );
    }
    match node.pipeline.receive(&side, &envelope) {
        Ok(()) => {
            crate::failpoint!("peer-replica-received");
            axum::Json(json!({ "queued": true })).into_response()
        }
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, &path, &who, e),
    }
}

async fn ack(
    State(node): State<Arc<Node>>,
    Received {
        message,
        side,
        path,
        who,
    }: Received<AckMessage>,
) -> Response {
    match crate::sync::transport::apply_ack(&node.store, &side, &message) {
        Ok(()) => {
            crate::failpoint!("peer-ack-applied");
            // The status link is written off the request: Jira's answer time is not the peer's.
            if let Some(twin_key) = message.twin_key.clone() {
                let (node, side, origin) = (node.clone(), side.clone(), message.origin_key.clone());
                tokio::spawn(async move {
                    node.pipeline.acked(&side, &origin, &twin_key).await;
                });
            }
            axum::Json(json!({ "applied": true })).into_response()
        }
        Err(e @ AckError::Refused(_)) => refuse(StatusCode::FORBIDDEN, &path, &who, e),
        Err(e @ AckError::Store(_)) => refuse(StatusCode::SERVICE_UNAVAILABLE, &path, &who, e),
    }
}

#[derive(Deserialize)]
struct AttachmentQuery {
    connection: String,
}

async fn attachment(
    State(node): State<Arc<Node>>,
    ConnectInfo(PeerAddr(addr)): ConnectInfo<PeerAddr>,
    Path(id): Path<String>,
    Query(q): Query<AttachmentQuery>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path().to_string();
    let who = caller(&addr, &headers);
    let key = match authenticate(&node, &method, &uri, &headers, b"", &known_key(&node), &who) {
        Ok(k) => k,
        Err(r) => return *r,
    };
    if !protocol::valid_item_id(&id) {
        return refuse(
            StatusCode::FORBIDDEN,
            &path,
            &who,
            "not a valid attachment id",
        );
    }
    let (side, who) = match side_for(&node, &key, &q.connection, &path, &who) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let cap = node.config.node.peer_max_attachment_bytes;
    match node.store.offered_attachment(&q.connection, &id) {
        Ok(Some(size)) if size > cap => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                &path,
                &who,
                format!("attachment {id} is over the {cap} byte cap"),
            );
        }
        Ok(Some(_)) => {}
        Ok(None) => {
            return refuse(
                StatusCode::FORBIDDEN,
                &path,
                &who,
                format!("attachment {id} was not listed in any replica sent to this peer"),
            );
        }
        Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, &path, &who, e),
    }
    let download = match side.jira.client().download_attachment(&id).await {
        Ok(d) => d,
        Err(e) => return refuse(StatusCode::BAD_GATEWAY, &path, &who, e),
    };
    let mime = download
        .mime_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".into());
    // Streamed chunk by chunk; past the cap the stream fails and the peer sees a cut body.
    let stream = futures_util::stream::unfold(Some((download, 0u64)), move |state| async move {
        let (mut d, sent) = state?;
        match d.chunk().await {
            Ok(Some(chunk)) => {
                let sent = sent + chunk.len() as u64;
                if sent > cap {
                    let e = std::io::Error::other("attachment over the peer link's cap");
                    return Some((Err(e), None));
                }
                Some((Ok::<_, std::io::Error>(chunk), Some((d, sent))))
            }
            Ok(None) => None,
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
        }
    });
    (
        StatusCode::OK,
        [("content-type", mime)],
        Body::from_stream(stream),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acceptances_are_limited_per_address_and_per_node_within_a_window() {
        let limiter = AcceptLimiter::default();
        let t0 = Instant::now();
        let ip = |n: u8| IpAddr::from([10, 0, 0, n]);
        for _ in 0..ACCEPTS_PER_ADDRESS {
            assert!(limiter.allow(ip(1), t0));
        }
        assert!(!limiter.allow(ip(1), t0), "one address over its share");
        assert!(limiter.allow(ip(2), t0), "another address still may");
        let mut n = 3;
        while limiter.allow(ip(n), t0) {
            n += 1;
        }
        assert!(!limiter.allow(ip(250), t0), "the node over its share");
        assert!(
            limiter.allow(ip(1), t0 + ACCEPT_WINDOW),
            "a new window starts afresh"
        );
    }
}
