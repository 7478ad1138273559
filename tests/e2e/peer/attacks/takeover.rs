//! A peer's correctly signed requests that try to take over an issue, leave the side's
//! project or walk a path: each is refused, and nothing changes in either Jira.

use serde_json::{Value, json};
use twinsync::peer::protocol::{ACK_PATH, REPLICA_PATH};
use twinsync::store::{EventState, ItemKind};
use twinsync_e2e::pair::{Org, pair, paired};
use twinsync_e2e::wait::{Wait, wait_for};
use twinsync_jira_sim::SimHandle;

use super::{
    all_events, assert_jiras_unchanged, capture_logs, jira_state, logged, post_signed,
    replica_from_b,
};

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
async fn a_refused_ack_holds_up_nothing_behind_it() {
    capture_logs();
    let (a, b) = paired().await;
    let key_a = a.create_synced("Deleted on B, then edited on A").await;
    let key_b = wait_for("the twin acked back to A", || async { a.twin_of(&key_a) }).await;
    b.settle().await;

    // An ack A will refuse sits at the head of B's outbox: it must not hold up what follows.
    let forged = json!({"connection": "ab", "origin_key": key_a, "twin_key": "DEV-1",
                        "replaces": "DEV-999"});
    b.node()
        .store
        .push_outbox("ab", ACK_PATH, &forged.to_string())
        .expect("outbox");
    // What follows it: B's twin is deleted, and the deletion crosses to A, whose stock rule
    // unlinks its issue (contract 0.3: the other side decides what a deletion means).
    let deleted = b.client.delete(&format!("/issue/{key_b}")).await;
    assert!(deleted.status < 300, "{}", deleted.body);
    Wait::new("A to hear of the deletion behind the refused ack")
        .until(|| async {
            let queue = a.queue();
            if queue.contains(&format!("{key_b} was deleted")) {
                Ok(())
            } else {
                Err(format!("A's queue:\n{queue}\nB's queue:\n{}", b.queue()))
            }
        })
        .await;
    assert!(
        a.client.get(&format!("/issue/{key_a}")).await.status < 300,
        "unlink keeps A's issue"
    );
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
