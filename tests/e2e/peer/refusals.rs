//! Every request that is not what the pinned peer signed is answered 401/403 (or 413 for an
//! oversize body), and nothing is applied.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use twinsync::config::NodeConfig;
use twinsync::peer::Identity;
use twinsync::peer::enroll;
use twinsync::peer::protocol::{ACK_PATH, MAX_BODY_BYTES, REPLICA_PATH};
use twinsync::peer::sign;
use twinsync::store::now_ms;
use twinsync_e2e::pair::paired;

use super::raw;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_replayed_stale_and_unlisted_requests_are_refused_and_nothing_is_applied() {
    let (a, b) = paired().await;
    let peer = b.identity();
    let stranger_dir = tempfile::tempdir().expect("tempdir");
    let stranger = Identity::load_or_create(stranger_dir.path()).expect("identity");
    let replica = serde_json::to_vec(&json!({
        "connection": "ab",
        "envelope": {
            "origin_side": "b", "origin_key": "DEV-999", "seq": 1, "ack": 0, "updated": "",
            "replica": {"summary": "Forged", "issue_type": "Task"}
        }
    }))
    .expect("json");
    let before = a.event_count();
    let now = now_ms();
    let post = |body: Vec<u8>, ts: i64, nonce: &'static str| {
        let (a, peer) = (&a, &peer);
        async move {
            raw(
                a,
                peer,
                Method::POST,
                REPLICA_PATH,
                body,
                (ts, nonce),
                |_, _| {},
            )
            .await
        }
    };

    // Tampered body: signed one body, sent another.
    let (s, _) = raw(
        &a,
        &peer,
        Method::POST,
        REPLICA_PATH,
        replica.clone(),
        (now, "n-tamper"),
        |_, body| {
            body.extend_from_slice(b" ");
        },
    )
    .await;
    assert_eq!(s, 401, "tampered body");
    // Bad signature: another message's signature.
    let other_sig = sign::sign(
        &peer,
        a.identity().public_key(),
        "POST",
        ACK_PATH,
        &replica,
        now,
        "n-bad",
    )[4]
    .1
    .clone();
    let (s, _) = raw(
        &a,
        &peer,
        Method::POST,
        REPLICA_PATH,
        replica.clone(),
        (now, "n-bad"),
        |h, _| {
            h[4].1 = other_sig;
        },
    )
    .await;
    assert_eq!(s, 401, "bad signature");
    // Unknown key.
    let (s, _) = raw(
        &a,
        &stranger,
        Method::POST,
        REPLICA_PATH,
        replica.clone(),
        (now, "n-x"),
        |_, _| {},
    )
    .await;
    assert_eq!(s, 403, "unknown key");
    // Stale and future timestamps (the default window is five minutes).
    assert_eq!(
        post(replica.clone(), now - 10 * 60_000, "n-old").await.0,
        401,
        "stale"
    );
    assert_eq!(
        post(replica.clone(), now + 10 * 60_000, "n-new").await.0,
        401,
        "future"
    );
    // Oversize body.
    let (s, _) = post(vec![b' '; MAX_BODY_BYTES + 1], now, "n-big").await;
    assert_eq!(s, 413, "oversize body");
    // Correctly signed, but for a connection this peer is not part of, or posing as A's side.
    for (from, to, nonce, why) in [
        (
            "\"connection\":\"ab\"",
            "\"connection\":\"zz\"",
            "n-conn",
            "another connection",
        ),
        (
            "\"origin_side\":\"b\"",
            "\"origin_side\":\"a\"",
            "n-pose",
            "posing as A's side",
        ),
    ] {
        let changed = String::from_utf8(replica.clone())
            .expect("utf8")
            .replace(from, to);
        assert_eq!(post(changed.into_bytes(), now, nonce).await.0, 403, "{why}");
    }
    assert_eq!(a.event_count(), before, "nothing refused was applied");
    // The same replica, honestly signed, is queued: the refusals above were not about its shape.
    assert_eq!(post(replica.clone(), now, "n-good").await.0, 200);
    assert_eq!(a.event_count(), before + 1, "the honest replica is queued");
    let before = a.event_count();

    // A correctly signed request passes once; its replay is refused.
    let again = String::from_utf8(replica.clone())
        .expect("utf8")
        .replace("DEV-999", "DEV-998")
        .into_bytes();
    assert_eq!(
        post(again.clone(), now, "n-once").await.0,
        200,
        "a signed replica passes"
    );
    assert_eq!(post(again, now, "n-once").await.0, 401, "replayed nonce");
    let before = before + 1;

    // Attachments: only ids a replica sent to this peer listed; no path tricks.
    let get = |path: String, nonce: &'static str| {
        let (a, peer) = (&a, &peer);
        async move {
            raw(
                a,
                peer,
                Method::GET,
                &path,
                Vec::new(),
                (now, nonce),
                |_, _| {},
            )
            .await
        }
    };
    let (s, body) = get("/peer/v1/attachment/10000?connection=ab".into(), "n-att").await;
    assert_eq!(s, 403, "unlisted attachment: {body}");
    let (s, _) = get(
        "/peer/v1/attachment/..%2F..%2Ftwinsync.db?connection=ab".into(),
        "n-trav",
    )
    .await;
    assert_eq!(s, 403, "path traversal id");

    // A client pinned to another certificate never completes the handshake.
    let wrong =
        twinsync::peer::tls::pinned_client(&stranger.cert_fingerprint(), Duration::from_secs(5))
            .expect("client");
    assert!(
        wrong
            .get(format!("{}/peer/v1/ack", a.peer_url()))
            .send()
            .await
            .is_err()
    );

    // Invitations: a code works once; an expired one is refused before anything is sent.
    let code = enroll::invite(&a.parsed(), &a.node().store, "ab", Duration::from_secs(600))
        .expect("invite");
    enroll::accept(&b.parsed(), &b.node().store, &code)
        .await
        .expect("first use");
    // The same acceptor asking again (a lost answer) is answered alike; another node is not.
    enroll::accept(&b.parsed(), &b.node().store, &code)
        .await
        .expect("the same acceptor again");
    let other_dir = tempfile::tempdir().expect("tempdir");
    let other_config = b.config.replace(
        &b.dir.path().join("data").display().to_string(),
        &other_dir.path().join("data").display().to_string(),
    );
    let other =
        NodeConfig::parse(&other_config, Path::new("c.toml"), PathBuf::from(".")).expect("config");
    let other_store = twinsync::store::Store::in_memory().expect("store");
    let again = enroll::accept(&other, &other_store, &code)
        .await
        .unwrap_err()
        .to_string();
    assert!(again.contains("already used"), "{again}");
    assert_eq!(
        a.pinned_peer_key(),
        peer.public_key(),
        "the peer stays the first acceptor"
    );
    let expired =
        enroll::invite(&a.parsed(), &a.node().store, "ab", Duration::ZERO).expect("invite");
    let e = enroll::accept(&b.parsed(), &b.node().store, &expired)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("expired"), "{e}");
    let mut tampered = code.clone().into_bytes();
    tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
    let e = enroll::accept(
        &b.parsed(),
        &b.node().store,
        &String::from_utf8(tampered).expect("ascii"),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("changed after it was made"), "{e}");
    assert_eq!(a.event_count(), before, "nothing refused was applied");
}
