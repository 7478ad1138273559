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

/// The sync status link's summary on an issue, if it has one.
async fn status_summary(c: &Client, key: &str) -> Option<String> {
    let r = c.get(&format!("/issue/{key}/remotelink")).await;
    r.body.as_array()?.iter().find_map(|l| {
        l["globalId"]
            .as_str()
            .filter(|g| g.starts_with("twinsync:"))
            .and(l["object"]["summary"].as_str().map(str::to_string))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_twin_unlinks_the_other_half_by_default() {
    let w = World::new().await;
    let key_a = w.create_on_a("Short-lived", &["sync"]).await;
    let key_b = w.twin_of(&key_a).await;

    // Deleted on B (Data Center): A keeps its issue, says why in a comment, and its status
    // link shows the end.
    let d = w.cb.delete(&format!("/issue/{key_b}")).await;
    assert_eq!(d.status, 204, "{}", d.body);
    let said = format!("{key_b} on b was deleted");
    wait_for("the unlink comment on A", || async {
        w.ca.list(&key_a, &["comment", "comments"])
            .await
            .iter()
            .any(|c| text_of(&c["body"]).contains(&said))
            .then_some(())
    })
    .await;
    wait_for("the unlinked status on A", || async {
        status_summary(&w.ca, &key_a)
            .await
            .filter(|s| s.starts_with("unlinked"))
    })
    .await;
    w.settle().await;
    let store = &w.node().store;
    assert!(
        store
            .twin_by_local("ab", "a", &key_a)
            .expect("store")
            .is_none()
    );
    assert!(
        store
            .twin_by_local("ab", "b", &key_b)
            .expect("store")
            .is_none()
    );
    assert_eq!(
        store.twin_end("ab", "a", &key_a).expect("store").as_deref(),
        Some("unlinked")
    );
    assert_eq!(w.ca.get(&format!("/issue/{key_a}")).await.status, 200);

    // The unlinked issue still matches the trigger but is not taken for a new one: an edit
    // on A makes nothing on B, while an issue created after it does sync.
    let e = w.ca.edit(&key_a, json!({"summary": "Left behind"})).await;
    assert_eq!(e.status, 204, "{}", e.body);
    let marker = w.create_on_a("Made after the edit", &["sync"]).await;
    w.twin_of(&marker).await;
    w.settle().await;
    assert!(
        store
            .twin_by_local("ab", "a", &key_a)
            .expect("store")
            .is_none()
    );
    let found =
        w.cb.post(
            "/search",
            json!({"jql": "project = DEV AND summary ~ \"Left behind\"", "fields": ["summary"]}),
        )
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(
        found.body["issues"].as_array().map_or(0, Vec::len),
        0,
        "{}",
        found.body
    );
    w.assert_none_failed();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_twin_is_deleted_or_kept_as_the_other_sides_rule_says() {
    // A deletes with its twin; B keeps its issue and the twin as they are.
    let w = World::with_rules(
        "basic",
        r#", "on-delete" = "delete""#,
        "basic",
        r#", "on-delete" = "nothing""#,
    )
    .await;

    // Deleted on B (Data Center): A's rule deletes A's half too.
    let key_a = w.create_on_a("Goes with its twin", &["sync"]).await;
    let key_b = w.twin_of(&key_a).await;
    let d = w.cb.delete(&format!("/issue/{key_b}")).await;
    assert_eq!(d.status, 204, "{}", d.body);
    wait_for("A's half deleted", || async {
        (w.ca.get(&format!("/issue/{key_a}")).await.status == 404).then_some(())
    })
    .await;
    w.settle().await;
    assert_eq!(
        w.node()
            .store
            .twin_end("ab", "a", &key_a)
            .expect("store")
            .as_deref(),
        Some("deleted")
    );

    // Deleted on A (Cloud): B's rule keeps B's half, with no comment and its twin record.
    let key_a = w.create_on_a("Stays on B", &["sync"]).await;
    let key_b = w.twin_of(&key_a).await;
    let d = w.ca.delete(&format!("/issue/{key_a}")).await;
    assert_eq!(d.status, 204, "{}", d.body);
    wait_for("the deletion crossed from A", || async {
        let end = w.node().store.twin_end("ab", "a", &key_a).expect("store");
        (end.as_deref() == Some("deleted")).then_some(())
    })
    .await;
    w.settle().await;
    let kept = w.cb.get(&format!("/issue/{key_b}")).await;
    assert_eq!(kept.status, 200, "{}", kept.body);
    assert!(w.cb.list(&key_b, &["comment", "comments"]).await.is_empty());
    let store = &w.node().store;
    assert!(
        store
            .twin_by_local("ab", "b", &key_b)
            .expect("store")
            .is_some()
    );
    assert_eq!(store.twin_end("ab", "b", &key_b).expect("store"), None);
    w.assert_none_failed();
}

/// An issue's links as (type, the key of the other end, whether it names it `outwardIssue`).
async fn links_of(c: &Client, key: &str) -> Vec<(String, String, bool)> {
    let mut out: Vec<(String, String, bool)> = c
        .list(key, &["issuelinks"])
        .await
        .iter()
        .map(|l| {
            let outward = l.get("outwardIssue").is_some();
            let other = if outward {
                &l["outwardIssue"]["key"]
            } else {
                &l["inwardIssue"]["key"]
            };
            (
                l["type"]["name"].as_str().unwrap_or("").to_string(),
                other.as_str().unwrap_or("").to_string(),
                outward,
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_between_twins_cross_both_ways_and_links_to_others_stay() {
    let w = World::new().await;
    let x = w.create_on_a("Blocker", &["sync"]).await;
    let y = w.create_on_a("Blocked", &["sync"]).await;
    let lone = w.create_on_a("Never synced", &[]).await;
    let (x_b, y_b) = (w.twin_of(&x).await, w.twin_of(&y).await);

    // On A: X blocks Y (both twinned) and X relates to an issue with no twin.
    for (other, kind) in [(&y, "Blocks"), (&lone, "Relates")] {
        let r =
            w.ca.post(
                "/issueLink",
                json!({"type": {"name": kind}, "inwardIssue": {"key": x}, "outwardIssue": {"key": other}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let on_a = links_of(&w.ca, &x).await;
    let blocks_on_a = on_a
        .iter()
        .find(|l| l.0 == "Blocks")
        .expect("Blocks on A")
        .clone();
    // The same link between the twins on B, seen from each end as on A; the other is left out.
    wait_for("the link between the twins on B", || async {
        let on_b = links_of(&w.cb, &x_b).await;
        (on_b == vec![("Blocks".to_string(), y_b.clone(), blocks_on_a.2)]).then_some(())
    })
    .await;
    let from_y_a = links_of(&w.ca, &y).await;
    let from_y_b = links_of(&w.cb, &y_b).await;
    assert_eq!(from_y_b.len(), 1, "{from_y_b:?}");
    assert_eq!(
        from_y_b[0].2, from_y_a[0].2,
        "the same direction from Y's side"
    );

    // On B: Y relates to X; A gets the same link.
    let r =
        w.cb.post(
            "/issueLink",
            json!({"type": {"name": "Relates"}, "inwardIssue": {"key": y_b}, "outwardIssue": {"key": x_b}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    wait_for("the link from B on A", || async {
        links_of(&w.ca, &y)
            .await
            .iter()
            .any(|l| l.0 == "Relates" && l.1 == x)
            .then_some(())
    })
    .await;

    // The Blocks link removed on A goes on B too; the links that remain stay.
    let id =
        w.ca.list(&x, &["issuelinks"])
            .await
            .iter()
            .find(|l| l["type"]["name"] == "Blocks")
            .and_then(|l| l["id"].as_str().map(str::to_string))
            .expect("link id");
    let d = w.ca.delete(&format!("/issueLink/{id}")).await;
    assert_eq!(d.status, 204, "{}", d.body);
    wait_for("the Blocks link gone from B", || async {
        let on_b = links_of(&w.cb, &x_b).await;
        (on_b.len() == 1 && on_b[0].0 == "Relates").then_some(())
    })
    .await;
    w.settle().await;
    assert_eq!(links_of(&w.cb, &x_b).await.len(), 1);
    let x_on_a = links_of(&w.ca, &x).await;
    assert_eq!(
        x_on_a.len(),
        2,
        "Relates to the lone issue and to Y: {x_on_a:?}"
    );
    w.assert_none_failed();
}

/// The names of a project's versions.
async fn versions_of(c: &Client, project: &str) -> Vec<String> {
    let r = c.get(&format!("/project/{project}/versions")).await;
    let mut out: Vec<String> = r
        .body
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["name"].as_str().map(str::to_string))
        .collect();
    out.sort();
    out
}

/// The names in an issue's version field (`fixVersions` or `versions`).
async fn version_field(c: &Client, key: &str, field: &str) -> Vec<String> {
    let mut out: Vec<String> = c
        .list(key, &[field])
        .await
        .iter()
        .filter_map(|v| v["name"].as_str().map(str::to_string))
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_map_by_name_and_a_missing_one_follows_each_sides_rule() {
    // A creates versions it lacks; B leaves them out (the stock default).
    let w = World::with_rules("basic", r#", "versions.missing" = "create""#, "basic", "").await;
    for (c, project, name) in [
        (&w.ca, "SUP", "2.0"),
        (&w.cb, "DEV", "2.0"),
        (&w.ca, "SUP", "3.0"),
        (&w.cb, "DEV", "1.5"),
    ] {
        let r = c
            .post("/version", json!({"name": name, "project": project}))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let key_a = w.create_on_a("Ships in 2.0", &["sync"]).await;
    let key_b = w.twin_of(&key_a).await;

    // On A: fix versions 2.0 (both sides have it) and 3.0 (only A): B takes 2.0 and leaves
    // 3.0 out, creating nothing.
    let e =
        w.ca.edit(
            &key_a,
            json!({"fixVersions": [{"name": "2.0"}, {"name": "3.0"}]}),
        )
        .await;
    assert_eq!(e.status, 204, "{}", e.body);
    wait_for("fix version 2.0 on B", || async {
        (version_field(&w.cb, &key_b, "fixVersions").await == ["2.0"]).then_some(())
    })
    .await;
    assert_eq!(versions_of(&w.cb, "DEV").await, ["1.5", "2.0"]);

    // On B: affected version 1.5 (only B): A's rule creates it on A and sets it.
    let e =
        w.cb.edit(&key_b, json!({"versions": [{"name": "1.5"}]}))
            .await;
    assert_eq!(e.status, 204, "{}", e.body);
    wait_for("affected version 1.5 on A", || async {
        (version_field(&w.ca, &key_a, "versions").await == ["1.5"]).then_some(())
    })
    .await;
    assert_eq!(versions_of(&w.ca, "SUP").await, ["1.5", "2.0", "3.0"]);
    w.settle().await;
    // What B left out is no edit of B's: A keeps its 3.0.
    assert_eq!(
        version_field(&w.ca, &key_a, "fixVersions").await,
        ["2.0", "3.0"]
    );
    w.assert_none_failed();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issue_out_of_reach_is_not_taken_for_a_deleted_one() {
    let w = World::new().await;
    let key_a = w.create_on_a("Hidden, not deleted", &["sync"]).await;
    let key_b = w.twin_of(&key_a).await;

    // Jira says the issue was deleted, but by the time the node looks, A's project is out of
    // sight too (a permission change answers 404 for both): the node must not unlink B's half.
    w.set_paused(true).await;
    let d = w.ca.delete(&format!("/issue/{key_a}")).await;
    assert_eq!(d.status, 204, "{}", d.body);
    w.queued(1).await;
    w.a.with_state(|st| {
        st.projects.retain(|p| p.key != "SUP");
        Ok(())
    })
    .expect("project hidden");
    w.set_paused(false).await;
    let failed = wait_for("the deletion event failed for the admin", || async {
        let failed = w
            .node()
            .store
            .events(Some(twinsync::store::EventState::Failed), Some("ab"), 10, 0)
            .ok()?;
        failed.into_iter().next()
    })
    .await;
    let why = format!("{failed:?}");
    assert!(why.contains("permission change, not a deletion"), "{why}");
    // B's half is as it was: still twinned, no unlink comment.
    let store = &w.node().store;
    assert!(
        store
            .twin_by_local("ab", "b", &key_b)
            .expect("store")
            .is_some()
    );
    assert_eq!(store.twin_end("ab", "b", &key_b).expect("store"), None);
    assert!(w.cb.list(&key_b, &["comment", "comments"]).await.is_empty());
}
