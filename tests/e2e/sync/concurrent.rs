//! Both sides change a twin while the node holds their changes: the later edit wins, a
//! comment undoes nothing, and nothing ping-pongs.

use std::time::Duration;

use serde_json::json;
use twinsync_e2e::wait::wait_for;
use twinsync_e2e::world::World;

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
