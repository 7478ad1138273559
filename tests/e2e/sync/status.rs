//! Sync status inside Jira: each twin carries a remote link to its other half and the
//! `twinsync.sync` property; a rule error shows on both halves and JQL finds it; the fix
//! brings both back to "synced".

use serde_json::{Value, json};
use twinsync::store::EventState;
use twinsync_e2e::wait::wait_for;
use twinsync_e2e::world::{World, swap_rule};
use twinsync_jira_sim::SimHandle;

/// The issue's `twinsync.sync` property and its remote links (globalId, title, url, summary).
fn status_of(h: &SimHandle, key: &str) -> (Value, Vec<[String; 4]>) {
    let st = h.state();
    let Some(id) = st.find_issue(key) else {
        return (Value::Null, Vec::new());
    };
    let prop = st.issues[&id]
        .properties
        .get("twinsync.sync")
        .cloned()
        .unwrap_or(Value::Null);
    let links = st
        .remote_links_of(id, None)
        .iter()
        .map(|l| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            [
                l.global_id.clone().unwrap_or_default(),
                s(&l.object["title"]),
                s(&l.object["url"]),
                s(&l.object["summary"]),
            ]
        })
        .collect();
    (prop, links)
}

/// Waits until both halves say `word` (their link's summary starting with it).
async fn both_say(w: &World, key_a: &str, key_b: &str, word: &str) {
    wait_for(&format!("both halves {word}"), || async {
        let (pa, la) = status_of(&w.a, key_a);
        let (pb, lb) = status_of(&w.b, key_b);
        let says = |p: &Value, l: &[[String; 4]]| {
            p["status"] == word && l.len() == 1 && l[0][3].starts_with(word)
        };
        (says(&pa, &la) && says(&pb, &lb)).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_twin_carries_its_sync_status_and_jql_finds_the_failed_ones() {
    // B maps priorities and fails on one it has no map for.
    let w = World::with_b(
        "mapping",
        r#", "map.priority.High" = "High", "unmapped.priority" = "fail""#,
    )
    .await;
    let key_a = w.create_on_a("Status in Jira", &["sync"]).await;
    let key_b = w.twin_of(&key_a).await;
    both_say(&w, &key_a, &key_b, "synced").await;

    let (pa, la) = status_of(&w.a, &key_a);
    assert_eq!(
        la,
        vec![[
            "twinsync:ab:b".to_string(),
            format!("{key_b} (ab)"),
            format!("{}/browse/{key_b}", w.b.url()),
            "synced".to_string(),
        ]]
    );
    assert_eq!(pa["connection"], "ab");
    assert_eq!(pa["other"], json!(key_b));
    assert!(pa["at"].as_i64().is_some_and(|t| t > 0), "{pa}");
    let (pb, lb) = status_of(&w.b, &key_b);
    assert_eq!(
        lb,
        vec![[
            "twinsync:ab:a".to_string(),
            format!("{key_a} (ab)"),
            format!("{}/browse/{key_a}", w.a.url()),
            "synced".to_string(),
        ]]
    );
    assert_eq!(pb["other"], json!(key_a));
    // Written once per half: later events that end the same way write nothing.
    w.settle().await;
    w.ca.edit(&key_a, json!({"summary": "Status in Jira, again"}))
        .await;
    wait_for("the edit on B", || async {
        (w.cb.field(&key_b, &["summary"]).await == "Status in Jira, again").then_some(())
    })
    .await;
    w.settle().await;
    assert_eq!(w.a.count("POST", "/remotelink"), 1);
    assert_eq!(w.b.count("POST", "/remotelink"), 1);

    // A priority B's rule has no map for: the incoming event fails, both halves say so.
    w.ca.edit(&key_a, json!({"priority": {"name": "Low"}}))
        .await;
    both_say(&w, &key_a, &key_b, "error").await;
    let (pb, lb) = status_of(&w.b, &key_b);
    assert!(
        lb[0][3].contains("priority"),
        "the link names the reason: {lb:?}"
    );
    assert!(pb["reason"].as_str().is_some_and(|r| !r.is_empty()), "{pb}");
    let found =
        w.cb.post(
            "/search",
            json!({"jql": "issue.property[twinsync.sync].status = error"}),
        )
        .await;
    let keys: Vec<&str> = found.body["issues"]
        .as_array()
        .map(|l| l.iter().filter_map(|i| i["key"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(keys, [key_b.as_str()], "{}", found.body);
    let found =
        w.ca.post(
            "/search/jql",
            json!({"jql": "project = SUP AND issue.property[twinsync.sync].status = error", "fields": ["summary"]}),
        )
        .await;
    assert_eq!(
        found.body["issues"][0]["key"],
        json!(key_a),
        "{}",
        found.body
    );

    // B's admin swaps in `basic` and retries: both halves are synced again.
    let failed = w
        .node()
        .store
        .events(Some(EventState::Failed), Some("ab"), 10, 0)
        .expect("events")
        .into_iter()
        .next()
        .expect("a failed event");
    swap_rule(w.node(), "ab/b", "basic").await;
    let retried = reqwest::Client::new()
        .post(format!("{}/api/events/{}/retry", w.admin_url(), failed.id))
        .send()
        .await
        .expect("admin api");
    assert_eq!(retried.status().as_u16(), 200);
    both_say(&w, &key_a, &key_b, "synced").await;
    let none =
        w.cb.post(
            "/search",
            json!({"jql": "issue.property[twinsync.sync].status = error"}),
        )
        .await;
    assert_eq!(none.body["total"], 0, "{}", none.body);
    w.settle().await;
    w.assert_none_failed();
}
