//! What the node does when things go wrong: a pause and a restart lose nothing, a failing rule
//! blocks only its issue until retried, bulk and the poller catch what webhooks missed, bad
//! webhooks change nothing, and a twin deleted while it is written sends its deletion across.

use std::time::Duration;

use serde_json::{Value, json};
use twinsync::store::EventState;
use twinsync_e2e::rest::new_issue;
use twinsync_e2e::wait::{Wait, wait_for};
use twinsync_e2e::world::{World, linked_twin, swap_rule};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_connection_queues_and_loses_nothing_even_across_a_restart() {
    let mut w = World::new().await;
    let (key_a, key_b) = w.synced("Before the pause").await;

    w.set_paused(true).await;
    w.ca.edit(&key_a, json!({"summary": "During the pause"}))
        .await;
    wait_for("the change queued", || async {
        let q = w.node().store.queue_stats(Some("ab")).expect("stats");
        (q.pending > 0).then_some(())
    })
    .await;
    assert_eq!(w.cb.field(&key_b, &["summary"]).await, "Before the pause");

    // The node stops with the event still queued, and starts again from its store.
    w.stop_node().await;
    w.start_node().await;
    assert_eq!(
        w.cb.field(&key_b, &["summary"]).await,
        "Before the pause",
        "still paused after a restart"
    );
    w.set_paused(false).await;
    wait_for("the queued change on B", || async {
        (w.cb.field(&key_b, &["summary"]).await == "During the pause").then_some(())
    })
    .await;
    assert!(
        w.dir.path().join("data/twinsync.db").is_file(),
        "a real SQLite file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_failure_blocks_only_its_issue_until_retry() {
    // B maps priorities and fails on one it has no map for.
    let w = World::with_b(
        "mapping",
        r#", "map.priority.High" = "High", "unmapped.priority" = "fail""#,
    )
    .await;
    let good = w.create_on_a("High priority syncs", &["sync"]).await;
    let good_b = w.twin_of(&good).await;
    let more = json!({"priority": {"name": "Low"}, "labels": ["sync"]});
    let bad =
        w.ca.create(new_issue("SUP", "Task", "Low priority fails", more))
            .await;
    let failed = wait_for("a failed event", || async {
        w.node()
            .store
            .events(Some(EventState::Failed), Some("ab"), 10, 0)
            .ok()
            .and_then(|l| l.into_iter().next())
    })
    .await;
    let error = failed.last_error.clone().unwrap_or_default();
    assert!(error.contains("map.priority"), "the rule's reason: {error}");
    assert!(
        error.contains("connection ab, side b"),
        "names connection and side: {error}"
    );
    assert!(
        error.contains("rule b.wasm (version "),
        "names rule file and version: {error}"
    );
    assert_eq!(
        failed.rule_version.as_deref().map(str::len),
        Some(12),
        "records the rule version"
    );
    assert!(
        w.node()
            .store
            .twin_by_local("ab", "a", &bad)
            .expect("store")
            .and_then(|t| t.remote_key)
            .is_none()
    );

    // The failure blocks only its own issue: the other one keeps syncing.
    w.ca.edit(&good, json!({"summary": "Still syncing"})).await;
    wait_for("the other issue's edit on B", || async {
        (w.cb.field(&good_b, &["summary"]).await == "Still syncing").then_some(())
    })
    .await;

    // B's admin swaps in `basic` (no priority map), then retries: the issue lands.
    swap_rule(w.node(), "ab/b", "basic").await;
    let node_url = w.admin_url();
    let retried = reqwest::Client::new()
        .post(format!("{node_url}/api/events/{}/retry", failed.id))
        .send()
        .await
        .expect("admin api");
    assert_eq!(retried.status().as_u16(), 200);
    let bad_b = w.twin_of(&bad).await;
    assert_eq!(w.cb.field(&bad_b, &["priority", "name"]).await, "Low");
    let again = reqwest::Client::new()
        .post(format!("{node_url}/api/events/{}/retry", failed.id))
        .send()
        .await
        .expect("admin api");
    assert_eq!(
        again.status().as_u16(),
        409,
        "a done event cannot be retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_need_the_secret_and_bad_ones_change_nothing() {
    let w = World::new().await;
    let http = reqwest::Client::new();
    let url = w.node.as_ref().expect("node").url();
    let body = json!({"webhookEvent": "jira:issue_updated", "timestamp": 1, "issue": {"key": "SUP-1", "fields": {}}});
    let wrong = http
        .post(format!("{url}/webhooks/jira/a?secret=nope"))
        .json(&body)
        .send()
        .await
        .expect("reach");
    assert_eq!(wrong.status().as_u16(), 401);
    let none = http
        .post(format!("{url}/webhooks/jira/a"))
        .json(&body)
        .send()
        .await
        .expect("reach");
    assert_eq!(none.status().as_u16(), 401);
    let garbage = http
        .post(format!("{url}/webhooks/jira/a?secret=s3cret-s3cret-s3cret"))
        .body("{not json")
        .send()
        .await
        .expect("reach");
    assert_eq!(garbage.status().as_u16(), 400);
    let text = garbage.text().await.unwrap_or_default();
    assert!(
        text.contains("instance a"),
        "the error names the instance: {text}"
    );
    let unknown = http
        .post(format!(
            "{url}/webhooks/jira/zz?secret=s3cret-s3cret-s3cret"
        ))
        .json(&body)
        .send()
        .await
        .expect("reach");
    assert_eq!(unknown.status().as_u16(), 404);
    assert_eq!(
        w.node().store.queue_stats(None).expect("stats").pending,
        0,
        "nothing queued"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_and_the_poller_catch_what_webhooks_missed() {
    let w = World::new().await;
    // The seed's SUP issues exist already: bulk puts them all under sync.
    let side = w.node().pipeline.side("ab", "a").expect("side");
    let mut pages = 0;
    let run = twinsync::sync::detect::bulk(w.node(), &side, "project = SUP", |_| pages += 1)
        .await
        .expect("bulk");
    assert!(run.done && run.queued >= 3, "{run:?}");
    assert!(pages >= 2, "progress is reported");
    w.settle().await;
    w.assert_none_failed();
    assert_eq!(
        w.node().store.twin_count("ab", "a").expect("count"),
        run.queued
    );
    // The admin API shows the run and its progress.
    let url = w.admin_url();
    let runs: Value = reqwest::get(format!("{url}/api/bulk?connection=ab"))
        .await
        .expect("bulk runs")
        .json()
        .await
        .expect("JSON");
    assert_eq!(runs["runs"][0]["done"], true, "{runs}");
    assert_eq!(runs["runs"][0]["queued"], run.queued, "{runs}");

    // Webhooks from A are all lost now; the poller still sees the change.
    w.a.set_faults_spec("webhook-drop-ratio=1.0")
        .expect("fault spec");
    let key_a = w.create_on_a("Nobody told the node", &["sync"]).await;
    w.settle().await;
    assert!(
        w.node()
            .store
            .twin_by_local("ab", "a", &key_a)
            .expect("store")
            .is_none()
    );
    let found = twinsync::sync::detect::poll_side(w.node(), &side)
        .await
        .expect("poll");
    assert!(found >= 1, "the poll queues the new issue");
    let key_b = w.twin_of(&key_a).await;
    assert_eq!(
        w.cb.field(&key_b, &["summary"]).await,
        "Nobody told the node"
    );
    // Polling again finds nothing new to send: an unchanged replica costs no write.
    w.settle().await;
    w.b.clear_log();
    let again = twinsync::sync::detect::poll_side(w.node(), &side)
        .await
        .expect("poll");
    assert_eq!(
        again, 0,
        "issues unchanged since their last send are not queued again"
    );
    // B's twins were last written by the node itself: B's poll has nothing to queue either.
    let side_b = w.node().pipeline.side("ab", "b").expect("side b");
    let on_b = twinsync::sync::detect::poll_side(w.node(), &side_b)
        .await
        .expect("poll b");
    assert_eq!(on_b, 0, "the node's own writes are not queued back");
    w.settle().await;
    assert_eq!(w.b.count("PUT", "/issue/") + w.b.count("POST", "/issue"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twin_deleted_while_a_change_is_applied_sends_its_deletion_with_no_admin() {
    let w = World::new().await;
    let (key_a, key_b) = w.synced("Printer").await;

    // Held while A changes summary and status, so one replica carries both: B writes the
    // summary, then walks its workflow.
    w.set_paused(true).await;
    w.ca.edit(&key_a, json!({"summary": "Printer on fire"}))
        .await;
    let t = w.ca.transition(&key_a, "11").await;
    assert_eq!(t.status, 204, "{}", t.body);
    w.queued(1).await;
    // Every call to B's Jira now takes a while: the twin goes between two of the node's calls.
    w.b.set_faults_spec("latency=400ms").expect("faults");
    w.set_paused(false).await;
    let summary_of_b = |w: &World| {
        w.b.state()
            .issues
            .values()
            .find(|i| i.key == key_b)
            .map(|i| i.summary.clone())
    };
    Wait::new("the summary written on B")
        .every(Duration::from_millis(5))
        .until(|| async {
            match summary_of_b(&w) {
                Some(s) if s == "Printer on fire" => Ok(()),
                seen => Err(format!("{seen:?}")),
            }
        })
        .await;
    w.b.with_state(|st| {
        let id = st.find_issue(&key_b).expect("the twin");
        let admin = st.find_user("admin").expect("admin");
        st.delete_issue(id, admin, false)
    })
    .expect("deleted");
    w.b.clear_faults();

    // The write finds no twin; the retry sends the deletion across instead of making it
    // again, A's rule unlinks A's half (the stock default), and no event waits for an admin.
    Wait::new("A's half unlinked")
        .until(|| async {
            let end = w.node().store.twin_end("ab", "a", &key_a).expect("store");
            (end.as_deref() == Some("unlinked"))
                .then_some(())
                .ok_or_else(|| queue(&w))
        })
        .await;
    w.settle().await;
    w.assert_none_failed();
    assert!(linked_twin(&w.node().store, "ab", &key_a).is_none());
    assert_eq!(
        w.node()
            .store
            .twin_end("ab", "b", &key_b)
            .expect("store")
            .as_deref(),
        Some("deleted")
    );
    assert_eq!(w.ca.get(&format!("/issue/{key_a}")).await.status, 200);
}

/// The node's events, one line each: what a wait prints when it gives up.
fn queue(w: &World) -> String {
    twinsync_e2e::story::recent_events(&w.node().store, 20)
}
