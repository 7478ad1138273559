//! Concurrent edits, replayed deterministically in the lab: each test runs the node's events in
//! the one order that once made the two sides disagree for good, and checks that both Jiras
//! end equal, with every edit that was the newest of its field kept.

use serde_json::json;
use twinsync::store::EventKind::{Incoming, Outgoing};

use crate::lab::{Lab, Ran};

/// A synced issue with one comment from A, its twin on B, and a quiet queue.
async fn synced_issue(lab: &mut Lab) -> (String, String) {
    let key_a = lab.create_on_a("Printer on fire").await;
    lab.comment("a", &key_a, "First comment, from A").await;
    lab.notify("a", &key_a);
    lab.drain().await;
    let key_b = lab.twin_of(&key_a);
    lab.assert_agree();
    (key_a, key_b)
}

/// Defect 1: B's field edit crosses A's field edit, and B then only adds a comment. The
/// comment-only change once claimed a later "field change" time on B while A kept its own
/// fields: each side won the conflict. Per field, both edits now stand on both sides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_only_change_after_a_concurrent_field_edit_lets_neither_side_win_twice() {
    let mut lab = Lab::new().await;
    let (key_a, key_b) = synced_issue(&mut lab).await;

    lab.edit("b", &key_b, json!({"priority": {"name": "Low"}}))
        .await;
    lab.edit("a", &key_a, json!({"summary": "Printer on fire (edited)"}))
        .await;
    lab.notify("a", &key_a);
    lab.notify("b", &key_b);
    // B's field edit leaves first; then B only comments, and that leaves too, before either
    // side has applied the other's replica.
    lab.step("b", Outgoing).await;
    lab.comment("b", &key_b, "A reply from B").await;
    lab.notify("b", &key_b);
    lab.step("b", Outgoing).await;
    lab.step("a", Outgoing).await;
    lab.drain().await;
    lab.quiesce().await;
    lab.assert_agree();
    assert_eq!(
        lab.field("a", &key_a, &["summary"]).await,
        "Printer on fire (edited)",
        "A's summary edit stands\n{}",
        lab.describe()
    );
    assert_eq!(
        lab.field("a", &key_a, &["priority", "name"]).await,
        "Low",
        "B's priority edit stands\n{}",
        lab.describe()
    );
}

/// Defect 2: A deletes its comment while B's older state, which still holds the copy, is on
/// its way to A. Once B deleted the copy, that older state looked like a new comment from B,
/// and the comment came back on A only. A tombstone keeps it dead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_crossing_an_older_state_does_not_bring_the_comment_back() {
    let mut lab = Lab::new().await;
    let (key_a, key_b) = synced_issue(&mut lab).await;
    let first = lab.comment_ids("a", &key_a).await;

    lab.comment("b", &key_b, "A reply from B").await;
    lab.notify("b", &key_b);
    lab.delete_comment("a", &key_a, &first[0]).await;
    lab.notify("a", &key_a);
    // A's deletion leaves; B's older state (copy still there) leaves; B applies the deletion;
    // only then does A get B's older state.
    lab.step("a", Outgoing).await;
    lab.step("b", Outgoing).await;
    lab.step("b", Incoming).await;
    lab.step("a", Incoming).await;
    lab.drain().await;
    lab.quiesce().await;
    lab.assert_agree();
    let texts = twinsync_e2e::compare::by_key(twinsync_e2e::compare::snapshot(&lab.a, "SUP-"));
    let on_a = format!("{:?}", texts.get(&key_a));
    assert!(
        !on_a.contains("First comment"),
        "the deleted comment came back on A: {on_a}\n{}",
        lab.describe()
    );
    assert_eq!(lab.comment_ids("a", &key_a).await.len(), 1);
    assert_eq!(lab.comment_ids("b", &key_b).await.len(), 1);
}

/// A comment deleted on the side that holds only its copy is deleted on the other side too:
/// both sides agree that it is gone, and a crossing older state does not bring it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_copy_deletes_the_original() {
    let mut lab = Lab::new().await;
    let (key_a, key_b) = synced_issue(&mut lab).await;
    let copy = lab.comment_ids("b", &key_b).await;
    lab.edit("a", &key_a, json!({"summary": "Printer on fire, again"}))
        .await;
    lab.notify("a", &key_a);
    lab.delete_comment("b", &key_b, &copy[0]).await;
    lab.notify("b", &key_b);
    lab.step("a", Outgoing).await;
    lab.step("b", Outgoing).await;
    lab.drain().await;
    lab.quiesce().await;
    lab.assert_agree();
    assert!(lab.comment_ids("a", &key_a).await.is_empty());
    assert!(lab.comment_ids("b", &key_b).await.is_empty());
}

/// Defect 3: A edits the summary twice; B only adds an attachment, whose webhook is lost. When
/// A's first edit was applied to B, B sent "the merged state" dated at the time of applying,
/// which presented A's old summary as B's newer edit and beat A's second edit on both sides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_edits_crossing_an_attachment_keep_the_newer_edit() {
    let mut lab = Lab::new().await;
    let (key_a, key_b) = synced_issue(&mut lab).await;

    lab.edit("a", &key_a, json!({"summary": "First edit"}))
        .await;
    lab.notify("a", &key_a);
    lab.step("a", Outgoing).await;
    lab.attach("b", &key_b, "trace.log", b"a trace from B")
        .await;
    lab.edit("a", &key_a, json!({"summary": "Second edit"}))
        .await;
    lab.notify("a", &key_a);
    // B applies the first edit (and, having an unsent attachment, sends its merged state).
    lab.step("b", Incoming).await;
    lab.step("a", Outgoing).await;
    lab.drain().await;
    lab.quiesce().await;
    lab.assert_agree();
    assert_eq!(
        lab.field("b", &key_b, &["summary"]).await,
        "Second edit",
        "{}",
        lab.describe()
    );
    assert_eq!(lab.field("a", &key_a, &["summary"]).await, "Second edit");
}

/// Defect 3, the crash: A moves the issue twice; the node is killed after it moved B's twin
/// to A's first status and before it recorded that write (whose webhook is lost). After the
/// restart, its own transition, dated later than A's second, must not come back as B's newer
/// change and undo A's second transition on both sides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_between_the_nodes_own_write_and_its_record_undoes_nothing() {
    let mut lab = Lab::new().await;
    let (key_a, key_b) = synced_issue(&mut lab).await;

    let first = lab.transition("a", &key_a, 0).await.expect("a transition");
    lab.notify("a", &key_a);
    lab.step("a", Outgoing).await;
    let second = lab
        .transition("a", &key_a, 0)
        .await
        .expect("a second transition");
    assert_ne!(first, second);
    lab.notify("a", &key_a);
    let ran = lab
        .step_crashing("b", Incoming, Some("status-reached"))
        .await;
    assert_eq!(ran, Ran::Crashed, "{}", lab.describe());
    assert_eq!(lab.field("b", &key_b, &["status", "name"]).await, first);
    lab.step("a", Outgoing).await;
    lab.drain().await;
    lab.quiesce().await;
    lab.assert_agree();
    assert_eq!(
        lab.field("a", &key_a, &["status", "name"]).await,
        second,
        "A's later transition stands\n{}",
        lab.describe()
    );
}

/// A crash after a replica was delivered and before it was recorded as sent: the next replica
/// of the issue, with other content, must not reuse its sequence number, or the receiver drops
/// it as a redelivery and the sides stay apart (found by the model test, seed 6).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_delivering_and_recording_never_reuses_a_sequence_number() {
    let mut lab = Lab::new().await;
    let (key_a, key_b) = synced_issue(&mut lab).await;
    lab.edit("a", &key_a, json!({"summary": "Delivered, not recorded"}))
        .await;
    lab.notify("a", &key_a);
    let ran = lab
        .step_crashing("a", Outgoing, Some("replica-delivered"))
        .await;
    assert_eq!(ran, Ran::Crashed);
    lab.step("b", Incoming).await;
    lab.edit("a", &key_a, json!({"summary": "The newer summary"}))
        .await;
    lab.drain().await;
    assert_eq!(
        lab.field("b", &key_b, &["summary"]).await,
        "The newer summary",
        "{}",
        lab.describe()
    );
    lab.quiesce().await;
    lab.assert_agree();
}

/// B's newer priority crosses A's transition, so B applies the transition but keeps its
/// priority and owes A its state; before that goes out, B moves the status back to what it
/// last sent. The content equals the last replica sent, but the status carries a newer
/// version than A's: it must still cross (found by the model test, seed 1524).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_back_to_what_was_last_sent_still_crosses() {
    let mut lab = Lab::new().await;
    let (key_a, key_b) = synced_issue(&mut lab).await;
    let start = lab.field("b", &key_b, &["status", "name"]).await;

    lab.edit("b", &key_b, json!({"priority": {"name": "Low"}}))
        .await;
    lab.notify("b", &key_b);
    lab.transition("a", &key_a, 0).await.expect("a transition");
    lab.notify("a", &key_a);
    lab.step("b", Outgoing).await;
    lab.step("a", Outgoing).await;
    lab.step("b", Incoming).await;
    // B's user moves the status back (its webhook folds into B's pending outgoing event).
    let mut back = None;
    for nth in 0..4 {
        let offered = lab.cb.get(&format!("/issue/{key_b}/transitions")).await;
        let list = offered.body["transitions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if list.get(nth).is_some_and(|t| t["to"]["name"] == start) {
            back = lab.transition("b", &key_b, nth).await;
            break;
        }
    }
    assert_eq!(back.as_deref(), start.as_str(), "{}", lab.describe());
    lab.notify("b", &key_b);
    lab.drain().await;
    lab.quiesce().await;
    lab.assert_agree();
    assert_eq!(lab.field("a", &key_a, &["status", "name"]).await, start);
    assert_eq!(lab.field("a", &key_a, &["priority", "name"]).await, "Low");
}
