//! What crosses a local connection and how it lands: fields, rich text, workflows that differ,
//! comments and attachments, each exactly once and never echoed back.

use std::time::Duration;

use serde_json::json;
use twinsync::store::EventState;
use twinsync_e2e::adf::{adf, text_of};
use twinsync_e2e::wait::wait_for;
use twinsync_e2e::world::World;
use twinsync_jira_sim::Flavour;

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
    let mut seed =
        serde_json::to_value(twinsync_jira_sim::Seed::default_seed()).expect("seed json");
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
    let mut opts = twinsync_jira_sim::SimOptions::new(Flavour::DataCenter);
    opts.seed = Some(twinsync_jira_sim::Seed::from_json(&seed.to_string()).expect("seed parses"));
    let b = twinsync_jira_sim::Simulator::start(opts)
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
