//! The admin token: wanted on every route when set, and a node that will not open its admin
//! API to the network without one.

use std::path::{Path, PathBuf};

use twinsync::config::NodeConfig;
use twinsync::sync::node::Node;
use twinsync_e2e::world::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_wants_its_token_when_one_is_set() {
    let mut w = World::new().await;
    w.restart_with_node_setting("admin_token = { value = \"s3cret-admin-token\" }")
        .await;
    let url = w.admin_url();
    let http = reqwest::Client::new();
    for path in [
        "/api/status",
        "/metrics",
        "/api/events?state=failed",
        "/api/rules",
        "/api/triggers",
        "/api/bulk",
        "/api/twins?connection=ab",
        "/api/openapi.json",
        "/api/connections/ab/sides/a/rule/versions",
    ] {
        let none = http
            .get(format!("{url}{path}"))
            .send()
            .await
            .expect("reach");
        assert_eq!(none.status().as_u16(), 401, "{path} without a token");
        let wrong = http
            .get(format!("{url}{path}"))
            .bearer_auth("s3cret-admin-tokeN")
            .send()
            .await
            .expect("reach");
        assert_eq!(wrong.status().as_u16(), 401, "{path} with a wrong token");
        let right = http
            .get(format!("{url}{path}"))
            .bearer_auth("s3cret-admin-token")
            .send()
            .await
            .expect("reach");
        assert_eq!(right.status().as_u16(), 200, "{path} with the token");
    }
    // Every route that changes something wants the token too, and changes nothing without it.
    for path in [
        "/api/connections/ab/pause",
        "/api/connections/ab/resume",
        "/api/events/1/retry",
        "/api/rules/try?connection=ab&side=a&issue=SUP-1",
        "/api/connections/ab/sides/a/rule",
        "/api/connections/ab/sides/a/rule/rollback",
    ] {
        let none = http
            .post(format!("{url}{path}"))
            .header("content-type", "application/wasm")
            .body(b"x".to_vec())
            .send()
            .await
            .expect("reach");
        assert_eq!(none.status().as_u16(), 401, "POST {path} without a token");
    }
    assert_eq!(
        w.node().store.connection_state("ab").expect("state"),
        twinsync::store::ConnectionState::Active
    );
    // Malformed requests get a clear 4xx, with the token.
    let bad_state = http
        .get(format!("{url}/api/events?state=sideways"))
        .bearer_auth("s3cret-admin-token")
        .send()
        .await
        .expect("reach");
    assert_eq!(bad_state.status().as_u16(), 400);
    let bad_id = http
        .post(format!("{url}/api/events/not-a-number/retry"))
        .bearer_auth("s3cret-admin-token")
        .send()
        .await
        .expect("reach");
    assert_eq!(bad_id.status().as_u16(), 400);
    let missing = http
        .post(format!("{url}/api/events/999999/retry"))
        .bearer_auth("s3cret-admin-token")
        .send()
        .await
        .expect("reach");
    assert_eq!(missing.status().as_u16(), 404);
    let unknown = http
        .post(format!("{url}/api/connections/nope/pause"))
        .bearer_auth("s3cret-admin-token")
        .send()
        .await
        .expect("reach");
    assert_eq!(unknown.status().as_u16(), 404);
    // Webhooks keep their own secret, not the admin token, on the public listener.
    let public = w.node.as_ref().expect("node").url();
    let hook = http
        .post(format!(
            "{public}/webhooks/jira/a?secret=s3cret-s3cret-s3cret"
        ))
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
    config.node.admin_listen = Some("0.0.0.0:0".parse().expect("addr"));
    let node = Node::build(config).expect("node builds");
    let err = twinsync::daemon::start(node).await.err().expect("refused");
    assert!(err.to_string().contains("admin token"), "{err}");
}
