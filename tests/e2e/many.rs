//! One node serving 51 connections between the same two simulators, each side with its own
//! rule file and its own fuel limit: an issue syncs through the connection whose trigger
//! matches it only, and one connection's limit fails only that connection's event.

use serde_json::json;
use twinsync::demo::extra_connection_toml;

use twinsync_e2e::rest::new_issue;
use twinsync_e2e::wait::wait_for;
use twinsync_e2e::world::{World, linked_twin};

const EXTRA: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_connections_each_with_its_own_rules_and_limits() {
    let mut w = World::new().await;
    w.stop_node().await;
    let rules = w.dir.path().join("rules");
    for i in 0..EXTRA {
        let name = format!("c{i:02}");
        // Alternate stock rules, each side its own file (identical bytes share compiled code).
        let stock = if i % 2 == 0 { "basic" } else { "confidential" };
        let (ra, rb) = (
            rules.join(format!("{name}-a.wasm")),
            rules.join(format!("{name}-b.wasm")),
        );
        std::fs::copy(twinsync_e2e::fixtures::rule(stock), &ra).expect("copy rule");
        std::fs::copy(twinsync_e2e::fixtures::rule(stock), &rb).expect("copy rule");
        // c13's fuel limit is far too small for any call: only its events may fail.
        let fuel = if i == 13 {
            1_000
        } else {
            50_000_000 + i as u64
        };
        w.config.push_str(&extra_connection_toml(
            &name,
            &format!("sync-{i}"),
            &ra,
            &rb,
            fuel,
        ));
    }
    w.start_node().await;
    let url = w.admin_url();
    let status: serde_json::Value = reqwest::get(format!("{url}/api/status"))
        .await
        .expect("status")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        status["connections"].as_array().map(Vec::len),
        Some(EXTRA + 1)
    );
    let rules: serde_json::Value = reqwest::get(format!("{url}/api/rules"))
        .await
        .expect("rules")
        .json()
        .await
        .expect("JSON");
    let slots = rules["rules"].as_array().expect("rules");
    assert_eq!(slots.len(), 2 * (EXTRA + 1));
    assert!(
        slots
            .iter()
            .all(|r| r["last_reload"]["outcome"] == "accepted"),
        "every rule loaded"
    );

    // An issue no trigger matches costs a few searches, not one per connection.
    w.settle().await;
    let deliveries_before = w.a.deliveries().len();
    w.a.clear_log();
    let create = |summary: &'static str, label: &'static str| {
        w.ca.create(new_issue(
            "SUP",
            "Bug",
            summary,
            json!({ "labels": [label] }),
        ))
    };
    create("Not for syncing", "local-only").await;
    wait_for("the node to answer the webhook", || async {
        (w.a.deliveries()[deliveries_before..]
            .iter()
            .any(|d| d.outcome == "delivered"))
        .then_some(())
    })
    .await;
    let searches = w.a.count("GET", "/search");
    assert!(
        (1..=3).contains(&searches),
        "51 triggers tested in {searches} searches"
    );

    // An issue labelled sync-7 goes through c07 only.
    let key = create("Through c07", "sync-7").await;
    let twin = wait_for("the twin through c07", || async {
        linked_twin(&w.node().store, "c07", &key)
    })
    .await;
    assert!(twin.starts_with("DEV-"), "{twin}");
    w.settle().await;
    for other in ["ab", "c06", "c08", "c13"] {
        assert!(
            w.node()
                .store
                .twin_by_local(other, "a", &key)
                .expect("store")
                .is_none(),
            "{other} did not take it"
        );
    }

    // c13's fuel limit stops its rule; the error names the connection and the limit.
    create("Through c13", "sync-13").await;
    let failed = wait_for("c13's event to fail", || async {
        w.node()
            .store
            .events(
                Some(twinsync::store::EventState::Failed),
                Some("c13"),
                10,
                0,
            )
            .ok()
            .and_then(|e| e.into_iter().next())
    })
    .await;
    let error = failed.last_error.unwrap_or_default();
    assert!(
        error.contains("c13") && error.contains("CPU limit (1000 fuel units)"),
        "{error}"
    );
    let q = w.node().store.queue_stats(None).expect("stats");
    assert_eq!(q.failed, 1, "only c13 failed: {q:?}");
}
