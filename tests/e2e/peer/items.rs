//! Contract 0.3 items between two paired nodes: worklogs and a twin's deletion cross the
//! signed peer protocol as they cross a local connection.

use serde_json::{Value, json};
use twinsync_e2e::pair::paired;
use twinsync_e2e::wait::wait_for;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worklogs_and_a_deletion_cross_between_paired_nodes() {
    let (a, b) = paired().await;
    let key_a = a.create_synced("Logged across nodes").await;
    let key_b = wait_for("the twin's key acked back to A", || async {
        a.twin_of(&key_a)
    })
    .await;

    // A worklog on B lands once on A, and B's node learns the copy through A's ack.
    let w = b
        .client
        .post(
            &format!("/issue/{key_b}/worklog"),
            json!({"started": "2026-11-25T09:00:00.000+0000", "timeSpentSeconds": 2700,
                   "comment": "checked the wiring"}),
        )
        .await;
    assert_eq!(w.status, 201, "{}", w.body);
    let worklogs = |body: &Value| body["worklogs"].as_array().cloned().unwrap_or_default();
    wait_for("B's worklog on A", || async {
        let on_a = worklogs(&a.client.get(&format!("/issue/{key_a}/worklog")).await.body);
        (on_a.len() == 1 && on_a[0]["timeSpentSeconds"] == 2700).then_some(())
    })
    .await;
    a.settle().await;
    b.settle().await;
    let on_a = worklogs(&a.client.get(&format!("/issue/{key_a}/worklog")).await.body);
    let on_b = worklogs(&b.client.get(&format!("/issue/{key_b}/worklog")).await.body);
    assert_eq!(
        (on_a.len(), on_b.len()),
        (1, 1),
        "each once, nothing echoed"
    );

    // A deletes its issue: B's node unlinks B's half (the stock default) and says so.
    let d = a.client.delete(&format!("/issue/{key_a}")).await;
    assert_eq!(d.status, 204, "{}", d.body);
    let said = format!("{key_a} on a was deleted");
    wait_for("the unlink comment on B", || async {
        b.client
            .list(&key_b, &["comment", "comments"])
            .await
            .iter()
            .any(|c| c["body"].as_str().is_some_and(|t| t.contains(&said)))
            .then_some(())
    })
    .await;
    b.settle().await;
    let end = b.node().store.twin_end("ab", "b", &key_b).expect("store");
    assert_eq!(end.as_deref(), Some("unlinked"));
    assert_eq!(b.client.get(&format!("/issue/{key_b}")).await.status, 200);
}
