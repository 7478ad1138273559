//! Two paired nodes sync fields, status, comments and attachments both ways, and a side
//! changes what it sends with nothing restarted.

use std::time::Duration;

use serde_json::json;
use twinsync_e2e::adf::{adf, text_of};
use twinsync_e2e::pair::paired;
use twinsync_e2e::rest::new_issue;
use twinsync_e2e::wait::wait_for;
use twinsync_e2e::world::swap_rule;

use super::attach_on_a;

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
    swap_rule(a.node(), "ab/a", "confidential").await;
    a.client
        .edit(&key_a, json!({"summary": "Printer on fire again"}))
        .await;
    wait_for("the new shape on B", || async {
        (b.client.field(&key_b, &["summary"]).await == "Printer on [redacted] again").then_some(())
    })
    .await;
}
