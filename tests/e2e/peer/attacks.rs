//! A hostile peer, replayed as an outside party would: correctly signed requests over the
//! pinned HTTPS link that try to take over issues, walk paths, replay to another node, fill
//! the nonce store or bounce the node elsewhere with redirects. Each is refused, nothing
//! changes in either Jira, nothing is sent, and the node's log names the peer and the reason.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use twinsync::peer::protocol::{ACCEPT_PATH, ACK_PATH, REPLICA_PATH};
use twinsync::peer::{Identity, enroll, sign};
use twinsync::sim::SimHandle;
use twinsync::store::{EventState, ItemKind, now_ms};

use twinsync_e2e::pair::{Org, pair, paired};
use twinsync_e2e::wait::{Wait, wait_for};

use super::raw;

/// Every log line of the in-process nodes of this test binary.
static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber once; call before starting the nodes whose log a test reads.
fn capture_logs() {
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = Sink(buf.clone());
        let _ = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
            .with_writer(move || sink.clone())
            .try_init();
        buf
    });
}

fn log_lines() -> Vec<String> {
    let Some(buf) = LOG.get() else {
        return Vec::new();
    };
    let bytes = buf.lock().unwrap_or_else(|p| p.into_inner()).clone();
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits for a log line holding every one of `parts`; on giving up, prints the refusals seen.
async fn logged(parts: &[&str]) -> String {
    Wait::new(&format!("a log line with all of {parts:?}"))
        .until(|| async {
            let lines = log_lines();
            if let Some(l) = lines.iter().find(|l| parts.iter().all(|p| l.contains(p))) {
                return Ok(l.clone());
            }
            let seen: Vec<&String> = lines
                .iter()
                .filter(|l| l.contains("refused") || l.contains("redirect"))
                .collect();
            Err(format!("refusals logged:\n{seen:#?}"))
        })
        .await
}

/// Every issue of a simulated Jira but `except`, as text: what must not change.
fn jira_state(sim: &SimHandle, except: &[&str]) -> String {
    let st = sim.state();
    let issues: Vec<_> = st
        .issues
        .values()
        .filter(|i| !except.contains(&i.key.as_str()))
        .collect();
    format!("{issues:?} {:?}", st.attachments)
}

/// Neither Jira changed but for the twins `keys`: each is as its `before` state says.
fn assert_jiras_unchanged((a, b): (&Org, &Org), keys: (&str, &str), before: (&str, &str)) {
    assert_eq!(
        jira_state(&a.sim, &[keys.0]),
        before.0,
        "nothing changed in A's Jira"
    );
    assert_eq!(
        jira_state(&b.sim, &[keys.1]),
        before.1,
        "nothing changed in B's Jira"
    );
}

fn all_events(org: &Org) -> usize {
    org.node()
        .store
        .events(None, Some("ab"), 10_000, 0)
        .expect("events")
        .len()
}

async fn post_signed(
    to: &Org,
    from: &Identity,
    path: &str,
    body: Value,
    nonce: &str,
) -> (u16, String) {
    raw(
        to,
        from,
        Method::POST,
        path,
        serde_json::to_vec(&body).expect("json"),
        (now_ms(), nonce),
        |_, _| {},
    )
    .await
}

/// A replica from B's side for B's issue `key`, as B's node would send it.
fn replica_from_b(key: &str, summary: &str, attachments: Value) -> Value {
    json!({
        "connection": "ab",
        "envelope": {
            "origin_side": "b", "origin_key": key, "seq": 1, "ack": 0, "updated": "",
            "replica": {"summary": summary, "issue_type": "Task", "attachments": attachments}
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_ack_takes_over_no_issue_and_nothing_is_applied_or_sent() {
    capture_logs();
    let (a, b) = paired().await;
    let peer = b.identity();
    let key_a = a.create_synced("Synced on purpose").await;
    let key_b = wait_for("the twin acked back to A", || async { a.twin_of(&key_a) }).await;

    let (jira_a, jira_b) = (jira_state(&a.sim, &[&key_a]), jira_state(&b.sim, &[&key_b]));
    let (events_a, events_b) = (all_events(&a), all_events(&b));
    let outbox_a = a.node().store.outbox_len("ab").expect("outbox");

    // A row for an issue this side never sent (as when the outgoing rule skips it).
    a.node().store.ensure_twin("ab", "a", "SUP-2").expect("row");
    // Each forged ack is correctly signed by the paired peer's own key: the peer is the attacker.
    let forged = [
        (
            json!({"connection": "ab", "origin_key": "SUP-2", "twin_key": "DEV-2"}),
            "this side never sent SUP-2",
        ),
        (
            json!({"connection": "ab", "origin_key": "SUP-1", "twin_key": "DEV-1"}),
            "this side never sent SUP-1",
        ),
        (
            json!({"connection": "ab", "origin_key": "DEV-2", "twin_key": "EVIL-1"}),
            "this side never sent DEV-2",
        ),
        (
            json!({"connection": "ab", "origin_key": key_a, "twin_key": "DEV-2"}),
            "already the twin of",
        ),
        (
            json!({"connection": "ab", "origin_key": key_a, "twin_key": key_b, "items": [
                {"kind": "comment", "origin_id": "10999", "copy_id": "10001"}]}),
            "never sent comment 10999",
        ),
        (
            json!({"connection": "ab", "origin_key": key_a, "twin_key": key_b, "items": [
                {"kind": "attachment", "origin_id": "../../twinsync.db", "copy_id": "1"}]}),
            "not plain ids",
        ),
    ];
    for (i, (ack, reason)) in forged.iter().enumerate() {
        let (status, body) =
            post_signed(&a, &peer, ACK_PATH, ack.clone(), &format!("n-forged-{i}")).await;
        assert_eq!(status, 403, "forged ack {ack}: {body}");
        assert!(body.contains(reason), "{ack}: {body}");
        // Lines of every test in this binary are captured: the peer's own URL picks ours.
        let peer_named = format!("{} of connection ab", b.peer_url());
        logged(&["peer request refused", ACK_PATH, &peer_named, reason]).await;
    }
    // The honest ack, sent again, is still accepted: the refusals were about what they claimed.
    let honest = json!({"connection": "ab", "origin_key": key_a, "twin_key": key_b});
    assert_eq!(
        post_signed(&a, &peer, ACK_PATH, honest, "n-honest").await.0,
        200
    );

    let store = &a.node().store;
    for key in ["SUP-1", "DEV-2"] {
        assert_eq!(
            store.twin_by_local("ab", "a", key).expect("store"),
            None,
            "{key} is no twin"
        );
    }
    let unsent = store.twin_by_local("ab", "a", "SUP-2").expect("store");
    assert_eq!(
        unsent.and_then(|t| t.remote_key),
        None,
        "SUP-2 stays unlinked"
    );
    assert_eq!(a.twin_of(&key_a).as_deref(), Some(key_b.as_str()));
    assert!(
        store
            .item_mappings("ab", "a", ItemKind::Comment, &key_a)
            .expect("mappings")
            .is_empty(),
        "no comment pairing was forged"
    );
    assert_jiras_unchanged((&a, &b), (&key_a, &key_b), (&jira_a, &jira_b));
    assert_eq!(all_events(&a), events_a, "no sync event was queued on A");
    assert_eq!(all_events(&b), events_b, "nothing reached B");
    assert_eq!(
        store.outbox_len("ab").expect("outbox"),
        outbox_a,
        "nothing was sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_side_never_leaves_its_project_whatever_a_rule_or_a_stored_row_says() {
    capture_logs();
    let a = Org::new("a").await;
    let mut b = Org::prepared("b").await;
    // B's rule asks for its twins in SUP: a project B's Jira has, but not B's side's project.
    b.config = b.config.replace(
        "config = { project = \"DEV\"",
        "config = { project = \"SUP\"",
    );
    b.start_node("b").await;
    pair(&a, &b).await;
    let sup_on_b = |sim: &SimHandle| {
        sim.state()
            .issues
            .values()
            .filter(|i| i.project == "SUP")
            .count()
    };
    let before = sup_on_b(&b.sim);

    let key_a = a.create_synced("Must not land in SUP on B").await;
    let failed = wait_for("B's event failing at the project boundary", || async {
        b.node()
            .store
            .events(Some(EventState::Failed), Some("ab"), 100, 0)
            .ok()?
            .into_iter()
            .find_map(|e| {
                e.last_error
                    .filter(|m| m.contains("outside this side's project"))
            })
    })
    .await;
    assert!(failed.contains("project SUP"), "{failed}");
    assert_eq!(sup_on_b(&b.sim), before, "no issue was created in SUP on B");
    assert_eq!(a.twin_of(&key_a), None, "nothing was acked back");

    // A stored row pointing outside A's project: a replica for it touches nothing.
    let store = &a.node().store;
    store.link_twin("ab", "a", "DEV-1", "DEV-77").expect("row");
    let dev1 = jira_state(&a.sim, &[]);
    let outbox = store.outbox_len("ab").expect("outbox");
    let (status, body) = post_signed(
        &a,
        &b.identity(),
        REPLICA_PATH,
        replica_from_b("DEV-77", "Overwritten", json!([])),
        "n-row",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let error = wait_for("A's event failing at the project boundary", || async {
        store
            .events(Some(EventState::Failed), Some("ab"), 100, 0)
            .ok()?
            .into_iter()
            .find_map(|e| e.last_error.filter(|m| m.contains("DEV-1")))
    })
    .await;
    assert!(error.contains("outside this side's project SUP"), "{error}");
    logged(&["DEV-1", "outside this side's project SUP"]).await;
    assert_eq!(
        jira_state(&a.sim, &[]),
        dev1,
        "DEV-1 and everything else unchanged"
    );
    assert_eq!(
        store.outbox_len("ab").expect("outbox"),
        outbox,
        "nothing was sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_id_that_walks_a_path_is_refused_on_receipt() {
    capture_logs();
    let (a, b) = paired().await;
    let jira = jira_state(&a.sim, &[]);
    let events = all_events(&a);
    for (i, bad) in ["../../twinsync.db", "10000/../../admin", "..", "a%2F.."]
        .iter()
        .enumerate()
    {
        let replica = replica_from_b(
            "DEV-60",
            "Carries a path",
            json!([{"id": bad, "filename": "x.txt", "mime_type": "text/plain", "size": 3, "created": ""}]),
        );
        let (status, body) = post_signed(
            &a,
            &b.identity(),
            REPLICA_PATH,
            replica,
            &format!("n-path-{i}"),
        )
        .await;
        assert_eq!(status, 400, "{bad}: {body}");
        let error: Value = serde_json::from_str(&body).expect("json answer");
        let error = error["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(&format!("{bad:?}")),
            "the answer names the id: {body}"
        );
        logged(&[
            "peer request refused",
            REPLICA_PATH,
            &b.peer_url(),
            &format!("{bad:?}"),
        ])
        .await;
    }
    assert_eq!(all_events(&a), events, "no event was queued");
    assert_eq!(jira_state(&a.sim, &[]), jira, "nothing changed in A's Jira");
    let spool = std::fs::read_dir(a.dir.path().join("data"))
        .expect("data dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".part"))
        .collect::<Vec<_>>();
    assert!(spool.is_empty(), "no spool file was made: {spool:?}");
}

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
    let script = twinsync_e2e::root().join("tests/hostile-peer/hostile_peer.py");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twin_made_again_is_relinked_and_a_refused_ack_holds_up_nothing() {
    capture_logs();
    let (a, b) = paired().await;
    let key_a = a.create_synced("Deleted on B, then edited on A").await;
    let key_b = wait_for("the twin acked back to A", || async { a.twin_of(&key_a) }).await;

    // An ack A will refuse sits at the head of B's outbox: it must not hold up what follows.
    let forged = json!({"connection": "ab", "origin_key": key_a, "twin_key": "DEV-1",
                        "replaces": "DEV-999"});
    b.node()
        .store
        .push_outbox("ab", ACK_PATH, &forged.to_string())
        .expect("outbox");
    let deleted = b.client.delete(&format!("/issue/{key_b}")).await;
    assert!(deleted.status < 300, "{}", deleted.body);
    let edit = a
        .client
        .edit(&key_a, json!({"summary": "Edited after the delete"}))
        .await;
    assert!(edit.status < 300, "{}", edit.body);

    // B makes the twin again and says which key it replaces; A re-links.
    let again = wait_for("A re-linked to B's new twin", || async {
        a.twin_of(&key_a).filter(|k| *k != key_b)
    })
    .await;
    let summary = b
        .sim
        .state()
        .issues
        .values()
        .find(|i| i.key == again)
        .map(|i| i.summary.clone());
    assert_eq!(summary.as_deref(), Some("Edited after the delete"));
    logged(&[
        "peer request refused",
        &key_a,
        "already the twin of",
        "DEV-1",
    ])
    .await;
    logged(&[
        "the peer refused an ack; dropped from the outbox",
        &a.peer_url(),
    ])
    .await;
    wait_for("B's outbox drained", || async {
        (b.node().store.outbox_len("ab").ok()? == 0).then_some(())
    })
    .await;
}
