//! The sync method of each direction, set in the admin API on a running node: a disabled
//! direction sends nothing (not even on request) and loses nothing (a catch-up after enabling
//! it sends what changed meanwhile); a manual one sends only on request, while the other
//! direction stays automatic all along.

use serde_json::{Value, json};
use twinsync_e2e::rest::{Client, new_issue, start};
use twinsync_e2e::wait::wait_for;
use twinsync_e2e::world::start_in_process;
use twinsync_jira_sim::Flavour;

use super::setup::{Admin, node_only};

/// Sets the sync method of one side's outgoing direction.
pub(super) async fn set_method(admin: &Admin, connection: &str, side: &str, method: &str) -> Value {
    let (status, body) = admin
        .call(
            reqwest::Method::PATCH,
            &format!("/api/connections/{connection}/sides/{side}"),
            Some(json!({ "sync": method })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Waits until the node has polled `side` after `after_ms` and its queue is empty: whatever
/// detection would queue for a change made before `after_ms` has been queued and handled.
pub(super) async fn detection_passed(
    node: &twinsync::sync::node::Node,
    connection: &str,
    side: &str,
    after_ms: i64,
) {
    wait_for("a poll after the edit and an empty queue", || async {
        let polled = node
            .store
            .watermark(connection, side, "poll")
            .ok()
            .flatten()?
            .parse::<i64>()
            .ok()?;
        (polled > after_ms && !node.store.has_open_events().unwrap_or(true)).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_direction_sends_nothing_until_caught_up_and_a_manual_one_only_on_request() {
    let (cloud, dc) = (
        start(Flavour::Cloud).await,
        start(Flavour::DataCenter).await,
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start_in_process(&node_only(&dir.path().join("data"))).await;
    let admin = Admin {
        url: running.admin_url(),
        http: reqwest::Client::new(),
    };
    for body in [
        json!({"name": "cloud", "url": cloud.url(), "user": cloud.user(), "token": cloud.token()}),
        json!({"name": "dc", "url": dc.url(), "token": dc.token()}),
    ] {
        let (status, answer) = admin.post("/api/instances", body).await;
        assert_eq!(status, 201, "{answer}");
    }
    let (status, body) = admin
        .post(
            "/api/connections",
            json!({"name": "sup-dev", "mode": "basic",
                   "local": {"instance": "cloud", "project": "SUP"},
                   "remote": {"instance": "dc", "project": "DEV"}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (ca, cd) = (Client::new(&cloud), Client::new(&dc));
    let node = running.node.clone();
    let key = ca
        .create(new_issue("SUP", "Task", "First words", json!({})))
        .await;
    let (status, body) = admin
        .post("/api/connections/sup-dev/sync", json!({"key": key}))
        .await;
    assert_eq!(status, 202, "{body}");
    let twin = wait_for("the twin on DC", || async {
        node.store
            .twin_by_local("sup-dev", "cloud", &key)
            .ok()
            .flatten()?
            .remote_key
    })
    .await;
    wait_for("the twin's summary", || async {
        (cd.field(&twin, &["summary"]).await == "First words").then_some(())
    })
    .await;

    // Disabled: the cloud side's change stays home, even when asked for; DC's still crosses.
    let body = set_method(&admin, "sup-dev", "cloud", "disabled").await;
    let cloud_side = body["sides"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "cloud"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(cloud_side["sync"], "disabled", "{body}");
    ca.edit(&key, json!({"summary": "Changed while disabled"}))
        .await;
    let edited = twinsync::store::now_ms();
    cd.edit(&twin, json!({"labels": ["from-dc"]})).await;
    wait_for("DC's label on the cloud issue", || async {
        let labels = ca.list(&key, &["labels"]).await;
        labels.iter().any(|l| l == "from-dc").then_some(())
    })
    .await;
    detection_passed(&node, "sup-dev", "cloud", edited).await;
    assert_eq!(
        cd.field(&twin, &["summary"]).await,
        "First words",
        "a disabled direction sent a change"
    );
    let (status, body) = admin
        .post("/api/connections/sup-dev/sync", json!({"key": key}))
        .await;
    assert_eq!(status, 409, "a request on a disabled direction: {body}");
    let (status, body) = admin
        .post("/api/connections/sup-dev/sides/cloud/catch-up", json!({}))
        .await;
    assert_eq!(status, 409, "a catch-up while still disabled: {body}");

    // Enabled again and caught up at the admin's request: the change made meanwhile crosses,
    // and DC's label, which crossed the other way, stays.
    set_method(&admin, "sup-dev", "cloud", "automatic").await;
    let (status, body) = admin
        .post("/api/connections/sup-dev/sides/cloud/catch-up", json!({}))
        .await;
    assert_eq!(status, 202, "{body}");
    assert!(body["queued"].as_u64() >= Some(1), "{body}");
    wait_for("the change made while disabled on DC", || async {
        (cd.field(&twin, &["summary"]).await == "Changed while disabled").then_some(())
    })
    .await;
    let labels = cd.list(&twin, &["labels"]).await;
    assert!(labels.iter().any(|l| l == "from-dc"), "{labels:?}");

    // Manual: a change waits for "sync this issue", which sends it.
    set_method(&admin, "sup-dev", "cloud", "manual").await;
    ca.edit(&key, json!({"summary": "Sent on request"})).await;
    let edited = twinsync::store::now_ms();
    detection_passed(&node, "sup-dev", "cloud", edited).await;
    assert_eq!(
        cd.field(&twin, &["summary"]).await,
        "Changed while disabled",
        "a manual direction sent a change nobody asked for"
    );
    let (status, body) = admin
        .post("/api/connections/sup-dev/sync", json!({"key": key}))
        .await;
    assert_eq!(status, 202, "{body}");
    wait_for("the change sent on request", || async {
        (cd.field(&twin, &["summary"]).await == "Sent on request").then_some(())
    })
    .await;

    // The method is setup: the export writes it, and a node can load what it wrote.
    let exported = twinsync::setup::export_node(
        &twinsync::config::NodeConfig::parse(
            &node_only(&dir.path().join("data")),
            std::path::Path::new("twinsync.toml"),
            std::path::PathBuf::from("."),
        )
        .expect("config"),
    )
    .expect("export");
    assert!(exported.contains("sync = \"manual\""), "{exported}");
    let reparsed = twinsync::config::NodeConfig::parse(
        &exported,
        std::path::Path::new("exported.toml"),
        std::path::PathBuf::from("."),
    );
    assert!(reparsed.is_ok(), "{reparsed:?}");
    running.stop().await;
}
