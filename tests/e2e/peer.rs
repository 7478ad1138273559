//! Remote connections end to end: two nodes, each with its own simulated Jira, its own store,
//! rules and credentials, paired through an invitation and talking signed HTTPS on loopback.
//! One module a concern: syncing both ways, refused requests, outages and cut links, node
//! processes paired through the CLI, a hostile peer, and the peer path's crash points.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use twinsync::peer::Identity;
use twinsync::peer::sign;
use twinsync_e2e::pair::Org;
use twinsync_e2e::wait::wait_for;

mod attacks;
mod both_ways;
mod crash_points;
mod items;
mod outages;
mod processes;
mod refusals;

/// Uploads `name` to A's `key_a` and edits its summary to say so (an upload raises no
/// webhook: the next change carries it); returns the attachment once it is the only one on
/// B's `key_b`.
async fn attach_on_a(
    (a, b): (&Org, &Org),
    (key_a, key_b): (&str, &str),
    name: &str,
    bytes: &[u8],
) -> Value {
    a.client.upload(key_a, name, bytes).await;
    let summary = format!("{name} attached");
    a.client.edit(key_a, json!({ "summary": summary })).await;
    wait_for("the attachment on B", || async {
        let l = b.client.list(key_b, &["attachment"]).await;
        (l.len() == 1).then(|| l[0].clone())
    })
    .await
}

/// A raw signed request from `identity` to `org`'s peer API; `tweak` may change headers and body.
async fn raw(
    org: &Org,
    identity: &Identity,
    method: Method,
    path: &str,
    body: Vec<u8>,
    (timestamp, nonce): (i64, &str),
    tweak: impl FnOnce(&mut Vec<(&'static str, String)>, &mut Vec<u8>),
) -> (u16, String) {
    let recipient = org.identity().public_key().to_string();
    let mut headers = sign::sign(
        identity,
        &recipient,
        method.as_str(),
        path,
        &body,
        timestamp,
        nonce,
    );
    let mut body = body;
    tweak(&mut headers, &mut body);
    let fingerprint = org.identity().cert_fingerprint();
    let http =
        twinsync::peer::tls::pinned_client(&fingerprint, Duration::from_secs(10)).expect("client");
    let mut req = http.request(method, format!("{}{path}", org.peer_url()));
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req.body(body).send().await.expect("peer API answers");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}
