//! Requests that do not belong where they arrive: signed for another node, with a wrong
//! invitation secret, answered with redirects, or sent by a peer written elsewhere.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use twinsync::peer::protocol::{ACCEPT_PATH, ACK_PATH, REPLICA_PATH};
use twinsync::peer::{Identity, enroll, sign};
use twinsync::store::{EventState, now_ms};
use twinsync_e2e::pair::{Org, paired};
use twinsync_e2e::wait::wait_for;

use super::{
    all_events, assert_jiras_unchanged, capture_logs, jira_state, logged, post_signed,
    replica_from_b,
};
use crate::peer::raw;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_signed_for_another_node_is_refused() {
    capture_logs();
    let (a, b) = paired().await;
    let peer = b.identity();
    let other_dir = tempfile::tempdir().expect("tempdir");
    // Another node that also trusts B's key: a request B signed for it, replayed to A.
    let other = Identity::load_or_create(other_dir.path()).expect("identity");
    let body = serde_json::to_vec(&replica_from_b(
        "DEV-61",
        "Meant for another node",
        json!([]),
    ))
    .expect("json");
    let events = all_events(&a);
    let jira = jira_state(&a.sim, &[]);
    let headers = sign::sign(
        &peer,
        other.public_key(),
        "POST",
        REPLICA_PATH,
        &body,
        now_ms(),
        "n-elsewhere",
    );
    let (status, answer) = raw(
        &a,
        &peer,
        Method::POST,
        REPLICA_PATH,
        body.clone(),
        (now_ms(), "unused"),
        |h, _| *h = headers.clone(),
    )
    .await;
    assert_eq!(status, 401, "{answer}");
    assert!(answer.contains("addressed to another node"), "{answer}");
    let line = logged(&[
        "peer request refused",
        "addressed to another node",
        other.public_key(),
    ])
    .await;
    assert!(
        line.contains(peer.public_key()),
        "the line names the signing key: {line}"
    );
    // Rewriting the recipient header to A does not help: the signature covers it.
    let mut rewritten = headers.clone();
    for h in &mut rewritten {
        if h.0 == sign::H_RECIPIENT {
            h.1 = a.identity().public_key().to_string();
        }
    }
    let (status, answer) = raw(
        &a,
        &peer,
        Method::POST,
        REPLICA_PATH,
        body,
        (now_ms(), "unused"),
        |h, _| *h = rewritten,
    )
    .await;
    assert_eq!(status, 401, "{answer}");
    assert!(answer.contains("signature"), "{answer}");
    assert_eq!(all_events(&a), events, "nothing was applied");
    assert_eq!(jira_state(&a.sim, &[]), jira, "nothing changed in A's Jira");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_invitation_secret_spends_no_nonce_and_acceptances_are_rate_limited() {
    capture_logs();
    let (a, b) = paired().await;
    let stranger_dir = tempfile::tempdir().expect("tempdir");
    let stranger = Identity::load_or_create(stranger_dir.path()).expect("identity");
    let acceptance = json!({
        "connection": "ab",
        "secret": "bm90LXRoZS1zZWNyZXQ",
        "url": "https://127.0.0.1:9",
        "public_key": stranger.public_key(),
        "cert_fingerprint": stranger.cert_fingerprint(),
    });
    // The same correctly signed request twice: both refused for the secret, neither as a
    // replay, so the first spent no nonce.
    for _ in 0..2 {
        let (status, body) =
            post_signed(&a, &stranger, ACCEPT_PATH, acceptance.clone(), "n-same").await;
        assert_eq!(status, 403, "{body}");
        assert!(!body.contains("replayed"), "{body}");
    }
    logged(&[
        "peer request refused",
        ACCEPT_PATH,
        stranger.public_key(),
        "127.0.0.1",
    ])
    .await;
    // One address may try a few times a minute; then it is told to wait.
    let mut statuses = Vec::new();
    for i in 0..12 {
        let (status, _) = post_signed(
            &a,
            &stranger,
            ACCEPT_PATH,
            acceptance.clone(),
            &format!("n-{i}"),
        )
        .await;
        statuses.push(status);
        if status == 429 {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&429), "statuses: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 403 || *s == 429),
        "{statuses:?}"
    );
    logged(&[
        "peer request refused",
        "too many invitation acceptances",
        "127.0.0.1",
        stranger.public_key(),
    ])
    .await;
    assert_eq!(
        a.pinned_peer_key(),
        b.identity().public_key(),
        "the peer is still B"
    );
}

/// A plain-http listener that counts every request it gets: where a redirect would lead.
async fn trap() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            "trapped bytes"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_answering_with_redirects_is_never_followed() {
    capture_logs();
    let a = Org::new("a").await;
    let b = Org::prepared("b").await;
    let code = enroll::invite(&a.parsed(), &a.node().store, "ab", Duration::from_secs(600))
        .expect("invite");
    let store_b = twinsync::store::Store::in_memory().expect("store");
    enroll::accept(&b.parsed(), &store_b, &code)
        .await
        .expect("accept");

    // B's address now answers with B's own certificate, as a hostile B would.
    let (trap_url, hits) = trap().await;
    let admin = a.node.as_ref().expect("node").admin_url();
    let bytes_to = format!("{trap_url}/bytes");
    let ack_to = format!("{admin}/api/connections/ab/pause");
    let hostile = axum::Router::new()
        .route(
            ACK_PATH,
            axum::routing::post(move || {
                let to = ack_to.clone();
                async move {
                    (
                        axum::http::StatusCode::TEMPORARY_REDIRECT,
                        [("location", to)],
                    )
                }
            }),
        )
        .route(
            "/peer/v1/attachment/{id}",
            axum::routing::get(move || {
                let to = bytes_to.clone();
                async move { (axum::http::StatusCode::FOUND, [("location", to)]) }
            }),
        )
        .fallback(|| async { axum::Json(json!({"queued": true})) });
    let identity = b.identity();
    let listen = b.peer_url().trim_start_matches("https://").to_string();
    // B's stopped node may hold its port a moment longer.
    let tcp = wait_for("B's address to be free", || async {
        tokio::net::TcpListener::bind(&listen).await.ok()
    })
    .await;
    let tls = twinsync::peer::tls::TlsListener::new(
        tcp,
        twinsync::peer::tls::server_config(&identity).expect("tls"),
    )
    .expect("tls listener");
    tokio::spawn(async move { axum::serve(tls, hostile).await });

    // B offers an issue with an attachment: A creates the twin, fetches the bytes, acks.
    let attachments = a.sim.state().attachments.len();
    let replica = replica_from_b(
        "DEV-70",
        "Bytes elsewhere",
        json!([{"id": "10070", "filename": "x.txt", "mime_type": "text/plain", "size": 13, "created": ""}]),
    );
    let (status, body) = post_signed(&a, &identity, REPLICA_PATH, replica, "n-redirect").await;
    assert_eq!(status, 200, "{body}");
    let error = wait_for("A's event failing on the redirect", || async {
        a.node()
            .store
            .events(Some(EventState::Failed), Some("ab"), 100, 0)
            .ok()?
            .into_iter()
            .find_map(|e| e.last_error.filter(|m| m.contains("redirect")))
    })
    .await;
    assert!(error.contains("10070") && error.contains("302"), "{error}");
    logged(&["redirect", &b.peer_url(), "not followed"]).await;
    let line = logged(&["peer delivery failed", "307", "follow no redirect"]).await;
    assert!(
        line.contains(&b.peer_url()),
        "the line names the peer: {line}"
    );

    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the plain-http target got nothing"
    );
    assert_eq!(
        a.node().store.connection_state("ab").expect("state"),
        twinsync::store::ConnectionState::Active,
        "the redirect to A's admin API paused nothing"
    );
    assert_eq!(
        a.sim.state().attachments.len(),
        attachments,
        "no bytes were uploaded into A's Jira"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_peer_written_in_python_is_refused_and_its_honest_ack_accepted() {
    capture_logs();
    let (a, b) = paired().await;
    let key_a = a.create_synced("Checked by a second implementation").await;
    let key_b = wait_for("the twin acked back to A", || async { a.twin_of(&key_a) }).await;
    let (jira_a, jira_b) = (jira_state(&a.sim, &[&key_a]), jira_state(&b.sim, &[&key_b]));
    let events_b = all_events(&b);

    let scenario = json!({
        "node": {
            "url": a.peer_url(),
            "cert_fingerprint": a.identity().cert_fingerprint(),
            "public_key": a.identity().public_key(),
        },
        "peer_key_file": b.dir.path().join("data/peer/identity.pk8"),
        "peer_public_key": b.identity().public_key(),
        "honest_ack": {"connection": "ab", "origin_key": key_a, "twin_key": key_b},
        "forged_acks": [
            {"ack": {"connection": "ab", "origin_key": "SUP-2", "twin_key": "DEV-9"},
             "reason": "this side never sent SUP-2"},
            {"ack": {"connection": "ab", "origin_key": key_a, "twin_key": "DEV-1"},
             "reason": "already the twin of"},
        ],
    });
    let file = a.dir.path().join("hostile-scenario.json");
    std::fs::write(&file, scenario.to_string()).expect("scenario");
    let script = twinsync_e2e::fixtures::root().join("tests/hostile-peer/hostile_peer.py");
    let python = crate::sim_client::venv_python();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .arg(file)
            .output()
            .expect("python runs")
    })
    .await
    .expect("join");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "the Python peer saw:\n{stdout}\n{stderr}"
    );
    assert_eq!(stdout.lines().count(), 8, "every case ran:\n{stdout}");

    let peer_named = format!("{} of connection ab", b.peer_url());
    logged(&[
        "peer request refused",
        &peer_named,
        "this side never sent SUP-2",
    ])
    .await;
    logged(&[
        "peer request refused",
        "addressed to another node",
        b.identity().public_key(),
    ])
    .await;
    assert_eq!(a.twin_of(&key_a).as_deref(), Some(key_b.as_str()));
    assert_eq!(
        a.node()
            .store
            .twin_by_local("ab", "a", "SUP-2")
            .expect("store"),
        None
    );
    assert_jiras_unchanged((&a, &b), (&key_a, &key_b), (&jira_a, &jira_b));
    assert_eq!(all_events(&b), events_b, "nothing reached B");
}
