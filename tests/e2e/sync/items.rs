//! Worklogs, links, versions and deletions across a local connection (contract 0.3), both
//! ways between Cloud (A) and Data Center (B).

use serde_json::{Value, json};
use twinsync_e2e::adf::{adf, text_of};
use twinsync_e2e::rest::Client;
use twinsync_e2e::wait::wait_for;
use twinsync_e2e::world::World;

/// The worklogs of an issue, as its site lists them.
async fn worklogs(c: &Client, key: &str) -> Vec<Value> {
    let r = c.get(&format!("/issue/{key}/worklog")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["worklogs"].as_array().cloned().unwrap_or_default()
}

/// A worklog's comment as plain text, whichever form its site writes.
fn comment_text(w: &Value) -> String {
    match &w["comment"] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        doc => text_of(doc),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worklogs_add_edit_delete_both_ways() {
    let w = World::new().await;
    let key_a = w.create_on_a("Hours on the printer", &["sync"]).await;
    let key_b = w.twin_of(&key_a).await;

    // Logged on A (Cloud): one copy on B (Data Center), time and comment as logged.
    let added =
        w.ca.post(
            &format!("/issue/{key_a}/worklog"),
            json!({"started": "2026-11-25T09:00:00.000+0000", "timeSpentSeconds": 5400,
                   "comment": adf("pairing on the printer")}),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    let wid_a = added.body["id"].as_str().expect("worklog id").to_string();
    let copy = wait_for("the worklog on B", || async {
        let on_b = worklogs(&w.cb, &key_b).await;
        (on_b.len() == 1 && on_b[0]["timeSpentSeconds"] == 5400).then(|| on_b[0].clone())
    })
    .await;
    assert!(
        comment_text(&copy).contains("pairing on the printer"),
        "{copy}"
    );

    // Edited on A: the copy on B follows, still one.
    let edited =
        w.ca.put(
            &format!("/issue/{key_a}/worklog/{wid_a}"),
            json!({"started": "2026-11-25T09:00:00.000+0000", "timeSpentSeconds": 7200,
                   "comment": adf("pairing, then testing")}),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.body);
    wait_for("the edited worklog on B", || async {
        let on_b = worklogs(&w.cb, &key_b).await;
        (on_b.len() == 1
            && on_b[0]["timeSpentSeconds"] == 7200
            && comment_text(&on_b[0]).contains("pairing, then testing"))
        .then_some(())
    })
    .await;

    // Logged on B: one copy on A. Cloud cannot set a worklog's author, so the copy names them.
    let on_b =
        w.cb.post(
            &format!("/issue/{key_b}/worklog"),
            json!({"started": "2026-11-26T14:00:00.000+0000", "timeSpentSeconds": 1800,
                   "comment": "reviewed the fix"}),
        )
        .await;
    assert_eq!(on_b.status, 201, "{}", on_b.body);
    let wid_b = on_b.body["id"].as_str().expect("worklog id").to_string();
    let author = on_b.body["author"]["displayName"]
        .as_str()
        .expect("author")
        .to_string();
    let copy = wait_for("the worklog from B on A", || async {
        let on_a = worklogs(&w.ca, &key_a).await;
        on_a.iter()
            .find(|x| x["timeSpentSeconds"] == 1800)
            .cloned()
            .filter(|_| on_a.len() == 2)
    })
    .await;
    let text = comment_text(&copy);
    assert!(text.contains("reviewed the fix"), "{text}");
    assert!(text.contains(&format!("Logged by {author}")), "{text}");

    // Deleted where each was logged: the copies go, and nothing comes back.
    let d =
        w.ca.delete(&format!("/issue/{key_a}/worklog/{wid_a}"))
            .await;
    assert_eq!(d.status, 204, "{}", d.body);
    let d =
        w.cb.delete(&format!("/issue/{key_b}/worklog/{wid_b}"))
            .await;
    assert_eq!(d.status, 204, "{}", d.body);
    wait_for("no worklog left on either side", || async {
        (worklogs(&w.ca, &key_a).await.is_empty() && worklogs(&w.cb, &key_b).await.is_empty())
            .then_some(())
    })
    .await;
    w.settle().await;
    assert!(worklogs(&w.ca, &key_a).await.is_empty());
    assert!(worklogs(&w.cb, &key_b).await.is_empty());
    w.assert_none_failed();
}
