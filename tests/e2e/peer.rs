//! Remote connections end to end: two nodes, each with its own simulated Jira, its own store,
//! rules and credentials, paired through an invitation and talking signed HTTPS on loopback.
//! Also the refusals: every request that is not what the pinned peer signed is answered
//! 401/403 (or 413 for an oversize body) and nothing is applied.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use twinsync::config::NodeConfig;
use twinsync::peer::Identity;
use twinsync::peer::enroll;
use twinsync::peer::protocol::{ACK_PATH, MAX_BODY_BYTES, REPLICA_PATH};
use twinsync::peer::sign;
use twinsync::store::now_ms;
use twinsync_e2e::adf::{adf, text_of};
use twinsync_e2e::node_process::{cli, cli_with_input};
use twinsync_e2e::pair::{Org, paired};
use twinsync_e2e::ports::free_port;
use twinsync_e2e::rest::new_issue;
use twinsync_e2e::rule;
use twinsync_e2e::wait::wait_for;

mod attacks;
mod crash_points;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_paired_by_invitation_sync_fields_status_comments_and_attachments_both_ways() {
    let (a, b) = paired().await;
    let more = json!({
        "description": adf("Room 4."),
        "priority": {"name": "High"},
        "labels": ["sync"],
    });
    let key_a = a
        .client
        .create(new_issue("SUP", "Bug", "Printer on fire", more))
        .await;

    // The twin appears on B, and A learns its key only through B's ack.
    let key_b = wait_for("the twin's key acked back to A", || async {
        a.twin_of(&key_a)
    })
    .await;
    assert!(key_b.starts_with("DEV-"), "{key_b}");
    assert_eq!(
        b.client.field(&key_b, &["summary"]).await,
        "Printer on fire"
    );
    assert_eq!(b.client.field(&key_b, &["priority", "name"]).await, "High");

    // A field change on B crosses back to A.
    let edit = b
        .client
        .edit(&key_b, json!({"summary": "Printer extinguished"}))
        .await;
    assert!(edit.status < 300, "{}", edit.body);
    wait_for("B's summary on A", || async {
        (a.client.field(&key_a, &["summary"]).await == "Printer extinguished").then_some(())
    })
    .await;

    // Status both ways, each walking the other side's workflow.
    let t = a.client.transition(&key_a, "11").await;
    assert_eq!(t.status, 204, "{}", t.body);
    wait_for("B in progress", || async {
        (b.client.field(&key_b, &["status", "name"]).await == "In Progress").then_some(())
    })
    .await;
    let t = b.client.transition(&key_b, "21").await;
    assert_eq!(t.status, 204, "{}", t.body);
    let status_b = b.client.field(&key_b, &["status", "name"]).await;
    assert_ne!(status_b, "In Progress");
    wait_for("B's status on A", || async {
        (a.client.field(&key_a, &["status", "name"]).await == status_b).then_some(())
    })
    .await;

    // Comments both ways, each once.
    a.client.comment(&key_a, adf("from A")).await;
    wait_for("A's comment on B", || async {
        let cs = b.client.list(&key_b, &["comment", "comments"]).await;
        (cs.len() == 1 && text_of(&cs[0]["body"]) == "from A").then_some(())
    })
    .await;
    b.client.comment(&key_b, json!("from B")).await;
    wait_for("B's comment on A", || async {
        let cs = a.client.list(&key_a, &["comment", "comments"]).await;
        (cs.len() == 2).then_some(())
    })
    .await;

    // An attachment's bytes are fetched from A's node by B's node, signed, over pinned TLS.
    let bytes: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
    let on_b = attach_on_a((&a, &b), (&key_a, &key_b), "trace.bin", &bytes).await;
    assert_eq!(on_b["filename"], "trace.bin");
    let content = on_b["content"].as_str().expect("content url");
    let got = b.client.download(content).await;
    assert_eq!(got.as_slice(), bytes.as_slice(), "the same bytes arrive");

    // An edit and a delete of A's comment cross too.
    let cs = a.client.list(&key_a, &["comment", "comments"]).await;
    let mine = cs
        .iter()
        .find(|c| text_of(&c["body"]) == "from A")
        .and_then(|c| c["id"].as_str())
        .expect("A's comment")
        .to_string();
    a.client
        .put(
            &format!("/issue/{key_a}/comment/{mine}"),
            json!({"body": adf("from A, edited")}),
        )
        .await;
    wait_for("the edit on B", || async {
        let cs = b.client.list(&key_b, &["comment", "comments"]).await;
        cs.iter()
            .any(|c| text_of(&c["body"]) == "from A, edited")
            .then_some(())
    })
    .await;
    a.client
        .delete(&format!("/issue/{key_a}/comment/{mine}"))
        .await;
    wait_for("the delete on B", || async {
        (b.client.list(&key_b, &["comment", "comments"]).await.len() == 1).then_some(())
    })
    .await;

    // And an attachment from B to A: A's node fetches it from B's node.
    b.client
        .upload(&key_b, "from-dc.txt", b"hello from data center")
        .await;
    b.client
        .edit(&key_b, json!({"summary": "Logs from both sides"}))
        .await;
    wait_for("B's attachment on A", || async {
        let l = a.client.list(&key_a, &["attachment"]).await;
        l.iter()
            .any(|x| x["filename"] == "from-dc.txt")
            .then_some(())
    })
    .await;

    // Settled: nothing duplicated on either side, and no echo.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (client, key) in [(&a.client, &key_a), (&b.client, &key_b)] {
        let comments = client.list(key, &["comment", "comments"]).await;
        assert_eq!(comments.len(), 1, "only B's comment is left on {key}");
        assert_eq!(text_of(&comments[0]["body"]), "from B");
        assert_eq!(client.list(key, &["attachment"]).await.len(), 2, "{key}");
    }
    assert_eq!(
        b.sim
            .state()
            .issues
            .values()
            .filter(|i| i.summary == "Logs from both sides")
            .count(),
        1
    );
}

/// Uploads `name` to A's `key_a` and edits its summary to say so (an upload raises no
/// webhook: the next change carries it); returns the attachment once it is the only one on B's `key_b`.
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
    let other_conn = String::from_utf8(replica.clone())
        .expect("utf8")
        .replace("\"connection\":\"ab\"", "\"connection\":\"zz\"");
    assert_eq!(
        post(other_conn.into_bytes(), now, "n-conn").await.0,
        403,
        "another connection"
    );
    let posing = String::from_utf8(replica.clone())
        .expect("utf8")
        .replace("\"origin_side\":\"b\"", "\"origin_side\":\"a\"");
    assert_eq!(
        post(posing.into_bytes(), now, "n-pose").await.0,
        403,
        "posing as A's side"
    );
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_peer_misses_nothing_and_gets_nothing_twice() {
    let (a, mut b) = paired().await;
    let first = a.create_synced("Before the outage").await;
    wait_for("the first twin", || async { a.twin_of(&first) }).await;

    // B's node goes down: A's deliveries wait in its outbox, retried with backoff.
    b.stop_node().await;
    let during: Vec<String> = create_many(&a, 5).await;
    wait_for("deliveries queued in A's outbox", || async {
        (a.node().store.outbox_len("ab").unwrap_or(0) >= 5).then_some(())
    })
    .await;
    a.client
        .comment(&first, adf("said during the outage"))
        .await;
    // /metrics tells the on-call engineer: the link is down and messages wait.
    wait_for("the link reported down", || async {
        let m = peer_metrics(&a).await;
        (m.contains("twinsync_peer_link_up{connection=\"ab\"} 0")
            && !m.contains("twinsync_peer_outbox{connection=\"ab\"} 0"))
        .then_some(())
    })
    .await;

    // B comes back with the same store: everything arrives, in order, once.
    b.start_node("b").await;
    for key in &during {
        wait_for("a twin made after the outage", || async { a.twin_of(key) }).await;
    }
    let first_b = a.twin_of(&first).expect("twin");
    wait_for("the outage comment on B", || async {
        (b.client
            .list(&first_b, &["comment", "comments"])
            .await
            .len()
            == 1)
            .then_some(())
    })
    .await;
    wait_for("A's outbox drained", || async {
        (a.node().store.outbox_len("ab").unwrap_or(1) == 0).then_some(())
    })
    .await;
    let m = peer_metrics(&a).await;
    assert!(
        m.contains("twinsync_peer_link_up{connection=\"ab\"} 1")
            && m.contains("twinsync_peer_outbox{connection=\"ab\"} 0"),
        "{m}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let on_b = b
        .sim
        .state()
        .issues
        .values()
        .filter(|i| i.summary.starts_with("During the outage") || i.summary == "Before the outage")
        .count();
    assert_eq!(on_b, 6, "every issue once on B");
    assert_eq!(
        b.client
            .list(&first_b, &["comment", "comments"])
            .await
            .len(),
        1,
        "the comment once"
    );
}

/// A node's `/metrics` text.
async fn peer_metrics(org: &Org) -> String {
    let url = org.node.as_ref().expect("node").admin_url();
    reqwest::get(format!("{url}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body")
}

/// Creates `n` synced issues on A, one after the other.
async fn create_many(a: &Org, n: usize) -> Vec<String> {
    let mut keys = Vec::new();
    for i in 0..n {
        keys.push(a.create_synced(&format!("During the outage {i}")).await);
    }
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_deleted_on_one_node_is_a_clear_state_on_the_other() {
    let (a, mut b) = paired().await;
    // B removes the connection from its config and restarts.
    b.stop_node().await;
    let start = b.config.find("[[connection]]").expect("connection table");
    b.config.truncate(start);
    b.start_node("b").await;

    a.create_synced("After the divorce").await;
    wait_for("A to see the connection deleted by its peer", || async {
        let peer = a.node().store.peer("ab").ok().flatten()?;
        (peer.state == "deleted").then_some(())
    })
    .await;
    let status = twinsync::server::status_json(a.node()).expect("status");
    assert_eq!(
        status["connections"][0]["peer"]["state"], "deleted",
        "{status}"
    );
    // Nothing is lost: the replica waits in the outbox, retried slowly, not as errors forever.
    assert_eq!(a.node().store.outbox_len("ab").expect("outbox"), 1);
    assert!(
        a.node()
            .store
            .events(Some(twinsync::store::EventState::Failed), Some("ab"), 10, 0)
            .expect("events")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_node_processes_pair_through_the_cli_and_sync_an_issue() {
    let a = Org::prepared("a").await;
    let b = Org::prepared("b").await;
    let node_a = a.node_process("a").await;
    let node_b = b.node_process("b").await;
    let (config_a, config_b) = (&node_a.config.path, &node_b.config.path);

    let out = cli(&["connection", "invite", "-C", "ab"], config_a);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
    // The code goes in on standard input: never in argv, where `ps` and the history see it.
    let out = cli_with_input(&["connection", "accept"], config_b, &code);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The secret works once: another node (its own data directory, so its own key) is refused.
    let config_c = b.dir.path().join("other.toml");
    let text_b = std::fs::read_to_string(config_b).expect("config b");
    let data_b = b.dir.path().join("data").display().to_string();
    let data_c = b.dir.path().join("other-data").display().to_string();
    std::fs::write(&config_c, text_b.replace(&data_b, &data_c)).expect("config c");
    let code_file = b.dir.path().join("code.txt");
    std::fs::write(&code_file, format!("{code}\n")).expect("code file");
    let code_file = code_file.display().to_string();
    let again = cli(
        &["connection", "accept", "--code-file", &code_file],
        &config_c,
    );
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already used"), "{stderr}");
    // On the command line it still works, with a warning that says why not to.
    let argv = cli(&["connection", "accept", &code], &config_c);
    let stderr = String::from_utf8_lossy(&argv.stderr);
    assert!(
        stderr.contains("visible to other users") && stderr.contains("already used"),
        "{stderr}"
    );
    let none = cli_with_input(&["connection", "accept"], &config_c, "\n");
    let stderr = String::from_utf8_lossy(&none.stderr);
    assert!(
        !none.status.success() && stderr.contains("no invitation code in standard input"),
        "{stderr}"
    );

    // A forged request to A's node process is refused, and the node says so in its log.
    let stranger_dir = tempfile::tempdir().expect("tempdir");
    let stranger = Identity::load_or_create(stranger_dir.path()).expect("identity");
    let (status, _) = raw(
        &a,
        &stranger,
        Method::POST,
        REPLICA_PATH,
        b"{}".to_vec(),
        (now_ms(), "n-log"),
        |_, _| {},
    )
    .await;
    assert_eq!(status, 403);
    // The node says so in its log.
    node_a.logged(&["peer request refused", "403"]).await;

    a.create_synced("Across two processes").await;
    wait_for("the issue on B's Jira, made by B's node", || async {
        let n = b
            .sim
            .state()
            .issues
            .values()
            .filter(|i| i.summary == "Across two processes")
            .count();
        (n == 1).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_side_swaps_its_outgoing_rule_and_the_other_sees_the_new_shape_with_nothing_restarted() {
    let (a, b) = paired().await;
    let key_a = a.create_synced("Printer on fire").await;
    let key_b = wait_for("the twin", || async { a.twin_of(&key_a) }).await;
    assert_eq!(
        b.client.field(&key_b, &["summary"]).await,
        "Printer on fire"
    );

    // A's admin swaps in `confidential` (its config masks "fire"); B's node is not involved.
    let rule_path = a.dir.path().join("rule.wasm");
    let staged = a.dir.path().join("rule.wasm.new");
    std::fs::copy(rule("confidential"), &staged).expect("stage");
    std::fs::rename(&staged, &rule_path).expect("swap");
    let slot = a.node().registry.slot("ab/a").expect("slot");
    let hash = a
        .node()
        .registry
        .engine()
        .load_file(&rule("confidential"))
        .expect("load")
        .id()
        .hash
        .clone();
    wait_for("confidential serving on A", || async {
        (slot.current().ok()?.id().hash == hash).then_some(())
    })
    .await;
    a.client
        .edit(&key_a, json!({"summary": "Printer on fire again"}))
        .await;
    wait_for("the new shape on B", || async {
        (b.client.field(&key_b, &["summary"]).await == "Printer on [redacted] again").then_some(())
    })
    .await;
}

/// A TCP proxy in front of `target` that cuts each of its first `cuts` connections once
/// `after` bytes have crossed it (either way); later connections pass untouched.
async fn cutting_proxy(target: u16, cuts: usize, after: usize) -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let port = listener.local_addr().expect("addr").port();
    let cut = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(AtomicUsize::new(0));
    let cut_count = cut.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                continue;
            };
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let cut = cut_count.clone();
            tokio::spawn(async move {
                let Ok(mut server) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await
                else {
                    return;
                };
                if n >= cuts {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    return;
                }
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let crossed = AtomicUsize::new(0);
                tokio::select! {
                    _ = pump(&mut cr, &mut cw, &crossed, after) => {}
                    _ = pump(&mut sr, &mut sw, &crossed, after) => {}
                }
                // Both halves drop here: the link is cut mid-transfer.
                cut.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    (port, cut)
}

/// Copies `r` to `w` until `after` bytes have crossed in total (counted in `crossed`).
async fn pump<R, W>(r: &mut R, w: &mut W, crossed: &AtomicUsize, after: usize)
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = [0u8; 512];
    loop {
        let Ok(k) = r.read(&mut buf).await else {
            return;
        };
        if k == 0 {
            return;
        }
        let before = crossed.fetch_add(k, Ordering::SeqCst);
        let allowed = after.saturating_sub(before).min(k);
        if w.write_all(&buf[..allowed]).await.is_err() || allowed < k {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_cut_mid_transfer_resumes_and_the_attachment_arrives_whole() {
    // B reaches A's peer API only through a proxy that cuts the first connections.
    let a_port = free_port();
    let (proxy_port, cuts) = cutting_proxy(a_port, 4, 3000).await;
    let a = Org::with(
        "a",
        a_port,
        &format!("peer_url = \"https://127.0.0.1:{proxy_port}\""),
    )
    .await;
    let b = Org::new("b").await;
    let code = enroll::invite(&a.parsed(), &a.node().store, "ab", Duration::from_secs(600))
        .expect("invite");
    // The acceptance may be cut too: asking again is answered alike, even if the first
    // attempt reached the inviter and only its answer was lost.
    let mut accepted = false;
    for _ in 0..10 {
        if enroll::accept(&b.parsed(), &b.node().store, &code)
            .await
            .is_ok()
        {
            accepted = true;
            break;
        }
    }
    assert!(accepted, "the acceptance went through the cutting link");

    let key_a = a.create_synced("Through a bad link").await;
    let key_b = wait_for("the twin", || async { a.twin_of(&key_a) }).await;
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let on_b = attach_on_a((&a, &b), (&key_a, &key_b), "big.bin", &bytes).await;
    let got = b
        .client
        .download(on_b["content"].as_str().expect("content url"))
        .await;
    assert_eq!(got.as_slice(), bytes.as_slice(), "the whole file, once");
    // B's comment crosses back through the proxy too.
    b.client.comment(&key_b, json!("got it")).await;
    wait_for("B's comment on A", || async {
        (a.client.list(&key_a, &["comment", "comments"]).await.len() == 1).then_some(())
    })
    .await;
    assert!(
        cuts.load(Ordering::SeqCst) >= 1,
        "the proxy really cut the link"
    );
}
