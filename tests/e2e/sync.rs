//! The sync pipeline end to end: two simulated Jiras (Cloud and Data Center), one node with a
//! local connection, the stock `basic` rule on both sides, real webhooks on loopback.

use std::time::Duration;

use serde_json::{Value, json};
use twinsync::sim::Flavour;
use twinsync::store::EventState;
use twinsync_e2e::adf::{adf, text_of};
use twinsync_e2e::rest::new_issue;
use twinsync_e2e::rule;
use twinsync_e2e::wait::wait_for;
use twinsync_e2e::world::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issues_sync_both_ways_exactly_once() {
    let w = World::new().await;

    // A trigger puts a new issue under sync; the twin lands on the DC side in wiki markup.
    let key_a = w
        .create_on_a("Printer on fire", &["sync", "hardware"])
        .await;
    let key_b = w.twin_of(&key_a).await;
    assert!(key_b.starts_with("DEV-"), "{key_b}");
    assert_eq!(w.cb.field(&key_b, &["summary"]).await, "Printer on fire");
    assert_eq!(w.cb.field(&key_b, &["priority", "name"]).await, "High");
    assert_eq!(w.cb.field(&key_b, &["issuetype", "name"]).await, "Bug");
    let description = w.cb.field(&key_b, &["description"]).await;
    assert_eq!(
        description.as_str().map(str::trim),
        Some("The printer in room 4 is on fire.")
    );
    let labels = w.cb.field(&key_b, &["labels"]).await;
    assert!(labels.as_array().is_some_and(|l| l.len() == 2), "{labels}");
    // An issue without the trigger's label stays put.
    let untouched = w.create_on_a("Not for the other side", &[]).await;
    w.settle().await;
    assert!(
        w.node()
            .store
            .twin_by_local("ab", "a", &untouched)
            .expect("store")
            .is_none()
    );

    // An edit on A: exactly one edit call on B.
    w.settle().await;
    w.b.clear_log();
    let put =
        w.ca.edit(&key_a, json!({"summary": "Printer still on fire"}))
            .await;
    assert_eq!(put.status, 204, "{}", put.body);
    wait_for("the summary on B", || async {
        (w.cb.field(&key_b, &["summary"]).await == "Printer still on fire").then_some(())
    })
    .await;
    w.settle().await;
    assert_eq!(
        w.b.count("PUT", "/issue/"),
        1,
        "one edit on B for one change on A"
    );
    assert_eq!(w.b.count("POST", "/issue"), 0, "no second twin");

    // A status change walks B's workflow.
    let t = w.ca.transition(&key_a, "11").await;
    assert_eq!(t.status, 204, "{}", t.body);
    wait_for("B in progress", || async {
        (w.cb.field(&key_b, &["status", "name"]).await == "In Progress").then_some(())
    })
    .await;

    // A comment on A arrives once on B; one on B arrives once on A; neither echoes back.
    let c = w.ca.comment(&key_a, adf("Fire brigade called")).await;
    assert_eq!(c.status, 201, "{}", c.body);
    wait_for("the comment on B", || async {
        let comments = w.cb.field(&key_b, &["comment", "comments"]).await;
        (comments.as_array().map_or(0, Vec::len) == 1).then_some(())
    })
    .await;
    let c = w.cb.comment(&key_b, json!("Extinguisher on its way")).await;
    assert_eq!(c.status, 201, "{}", c.body);
    wait_for("the comment on A", || async {
        let comments = w.ca.field(&key_a, &["comment", "comments"]).await;
        (comments.as_array().map_or(0, Vec::len) == 2).then_some(())
    })
    .await;
    w.settle().await;
    let on_a = w.ca.field(&key_a, &["comment", "comments"]).await;
    let on_b = w.cb.field(&key_b, &["comment", "comments"]).await;
    assert_eq!(
        on_a.as_array().map(Vec::len),
        Some(2),
        "no duplicate on A: {on_a}"
    );
    assert_eq!(
        on_b.as_array().map(Vec::len),
        Some(2),
        "no duplicate on B: {on_b}"
    );

    // An edit on B flows back to A.
    let put = w.cb.edit(&key_b, json!({"summary": "Fire out"})).await;
    assert_eq!(put.status, 204, "{}", put.body);
    wait_for("the summary on A", || async {
        (w.ca.field(&key_a, &["summary"]).await == "Fire out").then_some(())
    })
    .await;

    // Quiet now: no event failed, and nothing keeps bouncing.
    w.settle().await;
    w.assert_none_failed();
    w.a.clear_log();
    w.b.clear_log();
    tokio::time::sleep(Duration::from_millis(300)).await;
    w.settle().await;
    assert_eq!(
        w.a.count("PUT", "/issue/") + w.b.count("PUT", "/issue/"),
        0,
        "no echo loop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_and_attachments_add_edit_delete_both_ways() {
    let w = World::new().await;
    let key_a = w.create_on_a("Logs attached", &["sync"]).await;
    let key_b = w.twin_of(&key_a).await;

    // Comment: add, edit, delete on A; each lands once on B.
    let c = w.ca.comment(&key_a, adf("first words")).await;
    let cid = c.body["id"].as_str().expect("comment id").to_string();
    wait_for("the comment on B", || async {
        let cs = w.cb.list(&key_b, &["comment", "comments"]).await;
        (cs.len() == 1 && text_of(&cs[0]["body"]) == "first words").then_some(())
    })
    .await;
    let e =
        w.ca.put(
            &format!("/issue/{key_a}/comment/{cid}"),
            json!({"body": adf("second thoughts")}),
        )
        .await;
    assert_eq!(e.status, 200, "{}", e.body);
    wait_for("the edited comment on B", || async {
        let cs = w.cb.list(&key_b, &["comment", "comments"]).await;
        (cs.len() == 1 && text_of(&cs[0]["body"]) == "second thoughts").then_some(())
    })
    .await;
    let d = w.ca.delete(&format!("/issue/{key_a}/comment/{cid}")).await;
    assert_eq!(d.status, 204, "{}", d.body);
    wait_for("the comment gone from B", || async {
        w.cb.list(&key_b, &["comment", "comments"])
            .await
            .is_empty()
            .then_some(())
    })
    .await;

    // Attachment: the bytes cross, once; a delete crosses too.
    let bytes: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let att = w.ca.upload(&key_a, "trace.bin", &bytes).await;
    let att_id = att["id"].as_str().expect("attachment id").to_string();
    let on_b = wait_for("the attachment on B", || async {
        let list = w.cb.list(&key_b, &["attachment"]).await;
        (list.len() == 1).then(|| list[0].clone())
    })
    .await;
    assert_eq!(on_b["filename"], "trace.bin");
    let content = on_b["content"].as_str().expect("content url");
    let got = w.cb.download(content).await;
    assert_eq!(got.as_slice(), bytes.as_slice(), "the same bytes arrive");
    let d = w.ca.delete(&format!("/attachment/{att_id}")).await;
    assert_eq!(d.status, 204, "{}", d.body);
    // Deleting an attachment raises no webhook in Jira: the next change of the issue carries it.
    w.ca.edit(&key_a, json!({"summary": "Logs removed"})).await;
    wait_for("the attachment gone from B", || async {
        w.cb.list(&key_b, &["attachment"])
            .await
            .is_empty()
            .then_some(())
    })
    .await;

    // And from B to A.
    w.cb.upload(&key_b, "from-dc.txt", b"hello from data center")
        .await;
    w.cb.edit(&key_b, json!({"summary": "Logs from DC"})).await;
    wait_for("B's attachment on A", || async {
        let list = w.ca.list(&key_a, &["attachment"]).await;
        (list.len() == 1 && list[0]["filename"] == "from-dc.txt").then_some(())
    })
    .await;
    w.settle().await;
    assert_eq!(
        w.cb.list(&key_b, &["attachment"]).await.len(),
        1,
        "B's own attachment is not copied back"
    );
}

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
    let rule_b = w.dir.path().join("rules/b.wasm");
    let staged = w.dir.path().join("rules/b.wasm.new");
    std::fs::copy(rule("basic"), &staged).expect("stage");
    std::fs::rename(&staged, &rule_b).expect("swap");
    let slot = w.node().registry.slot("ab/b").expect("slot");
    let basic_hash = w
        .node()
        .registry
        .engine()
        .load_file(&rule("basic"))
        .expect("load")
        .id()
        .hash
        .clone();
    wait_for("basic serving", || async {
        (slot.current().ok()?.id().hash == basic_hash).then_some(())
    })
    .await;
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
    let side = w.node().pipeline.side("ab", "a").expect("side").clone();
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
    let side_b = w.node().pipeline.side("ab", "b").expect("side b").clone();
    let on_b = twinsync::sync::detect::poll_side(w.node(), &side_b)
        .await
        .expect("poll b");
    assert_eq!(on_b, 0, "the node's own writes are not queued back");
    w.settle().await;
    assert_eq!(w.b.count("PUT", "/issue/") + w.b.count("POST", "/issue"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_converge_on_the_later_one_without_ping_pong() {
    let w = World::new().await;
    let (key_a, key_b) = w.synced("Original").await;
    w.set_paused(true).await;

    // Both sides edit the summary while the node holds their changes; B edits last.
    w.ca.edit(&key_a, json!({"summary": "Edited on A"})).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    w.cb.edit(&key_b, json!({"summary": "Edited on B, later"}))
        .await;
    w.queued(2).await;
    w.set_paused(false).await;
    wait_for("both sides on the later edit", || async {
        let (a, b) = (
            w.ca.field(&key_a, &["summary"]).await,
            w.cb.field(&key_b, &["summary"]).await,
        );
        (a == "Edited on B, later" && b == "Edited on B, later").then_some(())
    })
    .await;
    w.settle().await;
    // No ping-pong: quiet after settling, and it stays that way.
    w.a.clear_log();
    w.b.clear_log();
    tokio::time::sleep(Duration::from_millis(300)).await;
    w.settle().await;
    assert_eq!(w.a.count("PUT", "/issue/") + w.b.count("PUT", "/issue/"), 0);
    assert_eq!(w.ca.field(&key_a, &["summary"]).await, "Edited on B, later");
    assert_eq!(w.cb.field(&key_b, &["summary"]).await, "Edited on B, later");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_crosses_from_cloud_to_data_center() {
    // `mapping` with every direction `both`: all of the contract's fields travel.
    let both = r#", "direction.components" = "none""#;
    let w = World::with_rules("mapping", both, "mapping", both).await;
    let alice = "5f1a2b3c4d5e6f7081900001";
    let description = json!({"type": "doc", "version": 1, "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Steps"}]},
        {"type": "paragraph", "content": [
            {"type": "text", "text": "Ask "},
            {"type": "mention", "attrs": {"id": alice, "text": "@Alice"}},
            {"type": "text", "text": " to run "},
            {"type": "text", "text": "make export", "marks": [{"type": "code"}]}]},
        {"type": "codeBlock", "attrs": {"language": "rust"}, "content": [{"type": "text", "text": "fn main() {}"}]},
        {"type": "table", "content": [
            {"type": "tableRow", "content": [
                {"type": "tableHeader", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Rows"}]}]},
                {"type": "tableHeader", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Result"}]}]}]},
            {"type": "tableRow", "content": [
                {"type": "tableCell", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "10000"}]}]},
                {"type": "tableCell", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "fails"}]}]}]}]}
    ]});
    let created = w
        .ca
        .post(
            "/issue",
            json!({"fields": {
                "project": {"key": "SUP"}, "issuetype": {"name": "Bug"}, "summary": "Every field",
                "description": description, "priority": {"name": "Highest"}, "labels": ["sync", "all"],
                "assignee": {"accountId": alice}, "duedate": "2026-12-24",
                "customfield_10010": 8, "customfield_10011": "Globex", "customfield_10012": {"value": "Major"},
                "customfield_10014": "2027-01-31", "customfield_10015": ["red", "blue"],
            }}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let key_a = created.body["key"].as_str().expect("key").to_string();
    let key_b = wait_for("the twin, or a failed event", || async {
        let failed = w
            .node()
            .store
            .events(Some(EventState::Failed), None, 10, 0)
            .ok()?;
        assert!(failed.is_empty(), "{failed:#?}");
        w.node()
            .store
            .twin_by_local("ab", "a", &key_a)
            .ok()
            .flatten()?
            .remote_key
    })
    .await;
    w.settle().await;

    let b = w.cb.get(&format!("/issue/{key_b}")).await.body["fields"].clone();
    assert_eq!(b["summary"], "Every field");
    assert_eq!(b["issuetype"]["name"], "Bug");
    assert_eq!(b["priority"]["name"], "Highest");
    assert_eq!(
        b["assignee"]["name"], "alice",
        "the user found by email on DC"
    );
    assert_eq!(b["duedate"], "2026-12-24");
    assert_eq!(b["customfield_10010"], 8.0);
    assert_eq!(b["customfield_10011"], "Globex");
    assert_eq!(b["customfield_10012"]["value"], "Major");
    assert_eq!(b["customfield_10014"], "2027-01-31");
    let mut labels: Vec<String> = serde_json::from_value(b["labels"].clone()).expect("labels");
    labels.sort();
    assert_eq!(labels, ["all", "sync"]);
    // Rich text as wiki markup on Data Center: heading, mention, code, code block, table.
    let wiki = b["description"].as_str().expect("wiki markup");
    let compact: String = wiki.chars().filter(|c| *c != ' ').collect();
    for part in [
        "h2. Steps",
        "{{make export}}",
        "{code:rust}",
        "fn main() {}",
        "||Rows||Result||",
        "|10000|fails|",
    ] {
        let part: String = part.chars().filter(|c| *c != ' ').collect();
        assert!(compact.contains(&part), "{part:?} missing from:\n{wiki}");
    }
    assert!(wiki.contains("[~"), "the mention stays a mention: {wiki}");

    // A user only Cloud knows: the twin keeps its assignee as it is, and nothing fails.
    w.a.add_user("zoe", "Zoe Only-on-Cloud", "zoe");
    let zoe = w.ca.get("/user/search?query=zoe").await.body[0]["accountId"]
        .as_str()
        .expect("zoe's account id")
        .to_string();
    let put =
        w.ca.edit(
            &key_a,
            json!({"assignee": {"accountId": zoe}, "summary": "Every field, reassigned"}),
        )
        .await;
    assert_eq!(put.status, 204, "{}", put.body);
    wait_for("the summary on DC", || async {
        (w.cb.field(&key_b, &["summary"]).await == "Every field, reassigned").then_some(())
    })
    .await;
    assert_eq!(
        w.cb.field(&key_b, &["assignee", "name"]).await,
        "alice",
        "left as it was"
    );
    w.assert_none_failed();

    // A status change on DC walks Cloud's workflow two steps away.
    for id in ["11", "21"] {
        let t = w.cb.transition(&key_b, id).await;
        assert_eq!(t.status, 204, "{}", t.body);
    }
    wait_for("In Review on Cloud", || async {
        (w.ca.field(&key_a, &["status", "name"]).await == "In Review").then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_walks_a_different_workflow_on_the_other_side() {
    // DEV on Data Center runs its own workflow: To Do -> Selected -> In Progress -> Done.
    let mut seed = serde_json::to_value(twinsync::sim::Seed::default_seed()).expect("seed json");
    seed["statuses"]
        .as_array_mut()
        .expect("statuses")
        .push(json!({"id": "10100", "name": "Selected", "category": "new"}));
    seed["workflows"].as_array_mut().expect("workflows").push(json!({
        "name": "Dev flow", "initial": "To Do", "transitions": [
            {"id": "101", "name": "Select", "from": ["To Do"], "to": "Selected"},
            {"id": "102", "name": "Start", "from": ["Selected"], "to": "In Progress"},
            {"id": "103", "name": "Finish", "from": ["In Progress"], "to": "Done", "resolution": "Done"},
            {"id": "104", "name": "Review", "from": ["In Progress"], "to": "In Review"},
            {"id": "105", "name": "Accept", "from": ["In Review"], "to": "Done", "resolution": "Done"},
            {"id": "106", "name": "Reopen", "from": ["Done"], "to": "To Do"}
        ]}));
    for p in seed["projects"].as_array_mut().expect("projects") {
        if p["key"] == "DEV" {
            p["workflow"] = json!("Dev flow");
        }
    }
    let mut opts = twinsync::sim::SimOptions::new(Flavour::Dc);
    opts.seed = Some(twinsync::sim::Seed::from_json(&seed.to_string()).expect("seed parses"));
    let b = twinsync::sim::Simulator::start(opts)
        .await
        .expect("simulator");
    let w = World::with_dc(b).await;

    let (key_a, key_b) = w.synced("Goes all the way").await;
    // Cloud's review workflow reaches Done through In Progress and In Review, at once.
    for id in ["11", "21", "31"] {
        let t = w.ca.transition(&key_a, id).await;
        assert_eq!(t.status, 204, "{}", t.body);
    }
    wait_for("Done on Data Center", || async {
        (w.cb.field(&key_b, &["status", "name"]).await == "Done").then_some(())
    })
    .await;
    w.settle().await;
    w.assert_none_failed();
    assert_eq!(w.cb.field(&key_b, &["resolution", "name"]).await, "Done");
    // And back: reopening on DC reopens on Cloud, whose path differs.
    let t = w.cb.transition(&key_b, "106").await;
    assert_eq!(t.status, 204, "{}", t.body);
    wait_for("To Do on Cloud", || async {
        (w.ca.field(&key_a, &["status", "name"]).await == "To Do").then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_on_one_side_does_not_undo_a_field_edit_on_the_other() {
    let w = World::new().await;
    let (key_a, key_b) = w.synced("Before").await;
    w.set_paused(true).await;
    // A changes fields; B, later, only comments: not a conflict, both changes must land.
    w.ca.edit(&key_a, json!({"summary": "After"})).await;
    w.ca.transition(&key_a, "11").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    w.cb.comment(&key_b, json!("A later comment on B")).await;
    w.queued(2).await;
    w.set_paused(false).await;
    wait_for("A's fields on B and B's comment on A", || async {
        let b_ok = w.cb.field(&key_b, &["summary"]).await == "After"
            && w.cb.field(&key_b, &["status", "name"]).await == "In Progress";
        let a_ok = w.ca.list(&key_a, &["comment", "comments"]).await.len() == 1;
        (b_ok && a_ok).then_some(())
    })
    .await;
    w.settle().await;
    assert_eq!(
        w.ca.field(&key_a, &["summary"]).await,
        "After",
        "A's edit stands"
    );
    assert_eq!(w.ca.field(&key_a, &["status", "name"]).await, "In Progress");
    assert_eq!(
        w.cb.list(&key_b, &["comment", "comments"]).await.len(),
        1,
        "no duplicate on B"
    );
}
