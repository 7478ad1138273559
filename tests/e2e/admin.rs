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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_twins_and_the_openapi_document() {
    let w = World::new().await;
    let key_a = create_on_a(&w, "Looked up", &["sync"]).await;
    let key_b = w.twin_of(&key_a).await;
    w.settle().await;
    let url = w.node.as_ref().expect("node").url();
    let get = |path: String| async move {
        let resp = reqwest::get(path).await.expect("reach");
        let status = resp.status().as_u16();
        (
            status,
            resp.json::<serde_json::Value>().await.unwrap_or_default(),
        )
    };

    // A twin by either key, with what was sent and applied.
    for key in [&key_a, &key_b] {
        let (status, body) = get(format!("{url}/api/twins?key={key}")).await;
        assert_eq!(status, 200, "{body}");
        let rows = body["twins"].as_array().expect("rows");
        assert_eq!(
            rows.len(),
            2,
            "one row per side of a local connection: {body}"
        );
        let a_row = rows.iter().find(|r| r["side"] == "a").expect("side a");
        assert_eq!(a_row["local_key"], key_a.as_str());
        assert_eq!(a_row["remote_key"], key_b.as_str());
        assert_eq!(a_row["last_sent"]["summary"], "Looked up");
    }
    let (status, _) = get(format!("{url}/api/twins?key=NOPE-1")).await;
    assert_eq!(status, 404);
    let (status, _) = get(format!("{url}/api/twins")).await;
    assert_eq!(status, 400, "the key is required");

    // Rules: version, last reload, and the rule's own log lines (the escape rule logs none;
    // basic logs none either, so only the shape is checked here).
    let (status, body) = get(format!("{url}/api/rules")).await;
    assert_eq!(status, 200);
    let rules = body["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 2);
    for r in rules {
        assert_eq!(r["last_reload"]["outcome"], "accepted", "{r}");
        assert_eq!(r["world_version"], "0.2.0");
        assert_eq!(r["version"].as_str().map(str::len), Some(12));
        assert!(r["logs"].is_array());
    }

    // The OpenAPI document names every admin route the node serves.
    let (status, doc) = get(format!("{url}/api/openapi.json")).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.0.3");
    for path in [
        "/api/status",
        "/api/events",
        "/api/events/{id}/retry",
        "/api/connections/{name}/pause",
        "/api/connections/{name}/resume",
        "/api/rules",
        "/api/twins",
        "/api/openapi.json",
        "/metrics",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_page_is_served_from_the_binary() {
    let w = World::new().await;
    let url = w.node.as_ref().expect("node").url();
    let resp = reqwest::get(format!("{url}/")).await.expect("reach");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["content-security-policy"]
            .to_str()
            .unwrap_or("")
            .contains("default-src 'self'")
    );
    let html = resp.text().await.expect("html");
    for api in [
        "/api/status",
        "/api/events?state=failed",
        "/api/rules",
        "/api/twins?key=",
    ] {
        assert!(html.contains(api), "the page uses {api}");
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external CDN"
    );
}
