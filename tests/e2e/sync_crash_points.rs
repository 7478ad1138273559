//! Every named crash point of the pipeline, both ways: the node dies exactly there, restarts on
//! its store, and both Jiras still end equal with nothing lost and nothing doubled.

use std::collections::BTreeSet;

use serde_json::json;

use crate::lab::{Lab, Ran, local_points};

/// Runs events oldest first, the first one that reaches `point` crashing there; returns
/// whether it crashed.
async fn drain_crashing(lab: &mut Lab, point: &str, armed: &mut bool) {
    for _ in 0..400 {
        let Some(e) = lab.runnable().into_iter().next() else {
            return;
        };
        let crash = if *armed { Some(point) } else { None };
        if lab.run(e.id, crash).await == Ran::Crashed {
            *armed = false;
        }
    }
    panic!("still busy after 400 events\n{}", lab.describe());
}

/// One walk: an issue with a comment, an attachment and a worklog is created on `origin`
/// beside a second one, then both sides change it (fields, status, a comment, a deleted copy,
/// a worklog edited and one added, a link to the second issue); the node crashes at `point`
/// the first time it is reached. Returns whether it was reached.
async fn walk(point: &str, origin: &str) -> bool {
    let other = if origin == "a" { "b" } else { "a" };
    let mut lab = Lab::new().await;
    let key = if origin == "a" {
        lab.create_on_a("Crash walk").await
    } else {
        let more = json!({
            "description": "Steps to reproduce.",
            "priority": {"name": "High"},
            "labels": ["sync"],
        });
        lab.create_on_b("Bug", "Crash walk", more).await
    };
    let second = if origin == "a" {
        lab.create_on_a("Crash walk, blocked").await
    } else {
        let more = json!({"labels": ["sync"]});
        lab.create_on_b("Bug", "Crash walk, blocked", more).await
    };
    lab.comment(origin, &key, "First comment").await;
    lab.attach(origin, &key, "first.log", b"first log").await;
    let logged = lab.worklog(origin, &key, 3600, "First hour").await;
    lab.notify(origin, &key);
    lab.notify(origin, &second);
    let mut armed = true;
    drain_crashing(&mut lab, point, &mut armed).await;

    let twin = {
        let t = lab
            .node
            .store
            .twin_by_local(crate::lab::CONN, origin, &key)
            .expect("store")
            .and_then(|t| t.remote_key);
        t.unwrap_or_else(|| {
            panic!(
                "{key} has no twin after the first round\n{}",
                lab.describe()
            )
        })
    };
    lab.edit(origin, &key, json!({"summary": "Crash walk (edited)"}))
        .await;
    lab.transition(origin, &key, 0).await;
    lab.notify(origin, &key);
    lab.comment(other, &twin, "A reply").await;
    let copies = lab.comment_ids(other, &twin).await;
    lab.delete_comment(other, &twin, &copies[0]).await;
    lab.attach(other, &twin, "second.log", b"second log, longer")
        .await;
    lab.worklog(other, &twin, 1800, "Review").await;
    lab.notify(other, &twin);
    lab.edit_worklog(origin, &key, &logged, 5400).await;
    lab.link(origin, &key, &second).await;
    lab.notify(origin, &key);
    lab.notify(origin, &second);
    drain_crashing(&mut lab, point, &mut armed).await;
    lab.quiesce().await;
    lab.assert_agree();
    !armed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_every_named_point_both_ways_loses_and_doubles_nothing() {
    let mut missed = BTreeSet::new();
    for point in local_points() {
        for origin in ["a", "b"] {
            if !walk(point, origin).await {
                missed.insert(format!("{point} ({origin} to other)"));
            }
        }
    }
    assert!(
        missed.is_empty(),
        "crash points the walk never reached: {missed:?}"
    );
}
