//! The admin surface: `/metrics` after a real sync, the admin token, and the refusal to open
//! the admin API to the network without one.

use std::path::{Path, PathBuf};

use twinsync::config::NodeConfig;
use twinsync::sync::node::Node;

use crate::sync::{World, create_on_a};

fn value(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no series {series} in:\n{metrics}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_events_rule_calls_jira_calls_and_reloads() {
    let w = World::new().await;
    let key = create_on_a(&w, "Counted", &["sync"]).await;
    w.twin_of(&key).await;
    w.settle().await;
    let url = w.node.as_ref().expect("node").url();
    let resp = reqwest::get(format!("{url}/metrics"))
        .await
        .expect("metrics");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/plain"),
        "Prometheus text format"
    );
    let text = resp.text().await.expect("body");
    assert!(value(&text, "twinsync_events{connection=\"ab\",state=\"done\"}") >= 2.0);
    assert_eq!(value(&text, "twinsync_queue_depth{connection=\"ab\"}"), 0.0);
    assert!(value(&text, "twinsync_rule_call_seconds_count") >= 2.0);
    assert!(value(&text, "twinsync_jira_requests_total{instance=\"a\"}") >= 1.0);
    assert!(value(&text, "twinsync_jira_requests_total{instance=\"b\"}") >= 1.0);
    assert_eq!(
        value(
            &text,
            "twinsync_rule_reloads_total{side=\"ab/a\",outcome=\"accepted\"}"
        ),
        1.0
    );
    assert!(
        text.contains("# TYPE twinsync_rule_call_seconds histogram"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_wants_its_token_when_one_is_set() {
    let mut w = World::new().await;
    w.stop_node().await;
    w.config = w.config.replacen(
        "workers = 2",
        "workers = 2\nadmin_token = { value = \"s3cret-admin\" }",
        1,
    );
    w.start_node().await;
    let url = w.node.as_ref().expect("node").url();
    let http = reqwest::Client::new();
    for path in ["/api/status", "/metrics", "/api/events?state=failed"] {
        let none = http
            .get(format!("{url}{path}"))
            .send()
            .await
            .expect("reach");
        assert_eq!(none.status().as_u16(), 401, "{path} without a token");
        let wrong = http
            .get(format!("{url}{path}"))
            .bearer_auth("s3cret-admiN")
            .send()
            .await
            .expect("reach");
        assert_eq!(wrong.status().as_u16(), 401, "{path} with a wrong token");
        let right = http
            .get(format!("{url}{path}"))
            .bearer_auth("s3cret-admin")
            .send()
            .await
            .expect("reach");
        assert_eq!(right.status().as_u16(), 200, "{path} with the token");
    }
    // Malformed requests get a clear 4xx, with the token.
    let bad_state = http
        .get(format!("{url}/api/events?state=sideways"))
        .bearer_auth("s3cret-admin")
        .send()
        .await
        .expect("reach");
    assert_eq!(bad_state.status().as_u16(), 400);
    let bad_id = http
        .post(format!("{url}/api/events/not-a-number/retry"))
        .bearer_auth("s3cret-admin")
        .send()
        .await
        .expect("reach");
    assert_eq!(bad_id.status().as_u16(), 400);
    let missing = http
        .post(format!("{url}/api/events/999999/retry"))
        .bearer_auth("s3cret-admin")
        .send()
        .await
        .expect("reach");
    assert_eq!(missing.status().as_u16(), 404);
    let unknown = http
        .post(format!("{url}/api/connections/nope/pause"))
        .bearer_auth("s3cret-admin")
        .send()
        .await
        .expect("reach");
    assert_eq!(unknown.status().as_u16(), 404);
    // Webhooks keep their own secret, not the admin token.
    let hook = http
        .post(format!("{url}/webhooks/jira/a?secret=s3cret"))
        .body("{}")
        .send()
        .await
        .expect("reach");
    assert_eq!(hook.status().as_u16(), 400, "reaches the webhook handler");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_will_not_open_its_admin_api_to_the_network_without_a_token() {
    let w = World::new().await;
    let config = NodeConfig::parse(&w.config, Path::new("twinsync.toml"), PathBuf::from("."))
        .expect("config");
    let other = tempfile::tempdir().expect("tempdir");
    let mut config = config;
    config.node.data_dir = other.path().join("data");
    let node = Node::build(config).expect("node builds");
    let err = twinsync::daemon::start(node, "0.0.0.0:0".parse().expect("addr"))
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("admin token"), "{err}");
}
