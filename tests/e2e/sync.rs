//! The sync pipeline end to end: two simulated Jiras (Cloud and Data Center), one node with a
//! local connection, the stock `basic` rule on both sides, real webhooks on loopback.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use twinsync::config::NodeConfig;
use twinsync::daemon::{self, Running};
use twinsync::sim::{Flavour, SimHandle};
use twinsync::store::EventState;
use twinsync::sync::node::Node;
use twinsync_e2e::rule;

use crate::sim::{Client, start};

pub struct World {
    pub a: SimHandle,
    pub b: SimHandle,
    pub ca: Client,
    pub cb: Client,
    pub node: Option<Running>,
    pub dir: tempfile::TempDir,
    config: String,
}

/// The node's config for two simulators; side `a` syncs SUP on Cloud, side `b` DEV on Data Center.
fn config_text(dir: &Path, a: &SimHandle, b: &SimHandle, rule_a: &Path, rule_b: &Path) -> String {
    format!(
        r#"
[node]
data_dir = "{data}"
listen = "127.0.0.1:0"
workers = 2
poll_interval_secs = 0

[instances.a]
url = "{a_url}"
flavour = "cloud"
user = "{a_user}"
token = {{ value = "{a_token}" }}
webhook_secret = {{ value = "s3cret" }}

[instances.b]
url = "{b_url}"
flavour = "dc"
token = {{ value = "{b_token}" }}
webhook_secret = {{ value = "s3cret" }}

[[connection]]
name = "ab"

[[connection.side]]
name = "a"
instance = "a"
project = "SUP"
rule = "{rule_a}"
trigger = "project = SUP AND labels = sync"
config = {{ project = "SUP" }}

[[connection.side]]
name = "b"
instance = "b"
project = "DEV"
rule = "{rule_b}"
config = {{ project = "DEV" }}
"#,
        data = dir.join("data").display(),
        a_url = a.url(),
        a_user = a.user(),
        a_token = a.token(),
        b_url = b.url(),
        b_token = b.token(),
        rule_a = rule_a.display(),
        rule_b = rule_b.display(),
    )
}

impl World {
    /// Two simulators and a node syncing them with `basic` (copied, so a test may swap it).
    pub async fn new() -> World {
        let a = start(Flavour::Cloud).await;
        let b = start(Flavour::Dc).await;
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("rules")).expect("rules dir");
        let rule_a = dir.path().join("rules/a.wasm");
        let rule_b = dir.path().join("rules/b.wasm");
        std::fs::copy(rule("basic"), &rule_a).expect("copy rule");
        std::fs::copy(rule("basic"), &rule_b).expect("copy rule");
        let config = config_text(dir.path(), &a, &b, &rule_a, &rule_b);
        let (ca, cb) = (Client::new(&a), Client::new(&b));
        let mut w = World {
            a,
            b,
            ca,
            cb,
            node: None,
            dir,
            config,
        };
        w.start_node().await;
        w
    }

    pub async fn start_node(&mut self) {
        let config =
            NodeConfig::parse(&self.config, Path::new("twinsync.toml"), PathBuf::from("."))
                .expect("config parses");
        let node = Node::build(config).expect("node builds");
        let running = daemon::start(node, "127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("node starts");
        for (client, instance) in [(&self.ca, "a"), (&self.cb, "b")] {
            let url = format!("{}/webhooks/jira/{instance}?secret=s3cret", running.url());
            let answer = client
                .post(
                    "/rest/webhooks/1.0/webhook",
                    json!({
                        "name": format!("twinsync {}", running.url()),
                        "url": url,
                        "events": ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted",
                                   "comment_created", "comment_updated", "comment_deleted"],
                        "excludeBody": false
                    }),
                )
                .await;
            assert!(
                answer.status < 300,
                "webhook registration: {} {}",
                answer.status,
                answer.body
            );
        }
        self.node = Some(running);
    }

    /// Stops the node as a crash would leave it: queue and twins stay in the store.
    pub async fn stop_node(&mut self) {
        if let Some(n) = self.node.take() {
            n.stop().await;
        }
    }

    pub fn node(&self) -> &Arc<Node> {
        &self.node.as_ref().expect("node running").node
    }

    /// The twin of A's `key` on B, once the node has linked it.
    pub async fn twin_of(&self, key: &str) -> String {
        wait_for(&format!("a twin of {key}"), || async {
            self.node()
                .store
                .twin_by_local("ab", "a", key)
                .ok()
                .flatten()
                .and_then(|t| t.remote_key)
        })
        .await
    }

    /// Waits until no event is pending or running.
    pub async fn settle(&self) {
        wait_for("the queue to drain", || async {
            (!self.node().store.has_open_events().unwrap_or(true)).then_some(())
        })
        .await;
    }
}

/// Polls `probe` until it yields a value (20 s at most).
pub async fn wait_for<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
}

pub async fn create_on_a(w: &World, summary: &str, labels: &[&str]) -> String {
    let answer =
        w.ca.post(
            "/issue",
            json!({"fields": {
                "project": {"key": "SUP"},
                "issuetype": {"name": "Bug"},
                "summary": summary,
                "description": adf("The printer in room 4 is on fire."),
                "priority": {"name": "High"},
                "labels": labels,
            }}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body["key"].as_str().expect("key").to_string()
}

async fn field(c: &Client, key: &str, path: &[&str]) -> Value {
    let issue = c.get(&format!("/issue/{key}")).await;
    let mut v = &issue.body["fields"];
    for p in path {
        v = &v[*p];
    }
    v.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issues_sync_both_ways_exactly_once() {
    let w = World::new().await;

    // A trigger puts a new issue under sync; the twin lands on the DC side in wiki markup.
    let key_a = create_on_a(&w, "Printer on fire", &["sync", "hardware"]).await;
    let key_b = w.twin_of(&key_a).await;
    assert!(key_b.starts_with("DEV-"), "{key_b}");
    assert_eq!(field(&w.cb, &key_b, &["summary"]).await, "Printer on fire");
    assert_eq!(field(&w.cb, &key_b, &["priority", "name"]).await, "High");
    assert_eq!(field(&w.cb, &key_b, &["issuetype", "name"]).await, "Bug");
    let description = field(&w.cb, &key_b, &["description"]).await;
    assert_eq!(
        description.as_str().map(str::trim),
        Some("The printer in room 4 is on fire.")
    );
    let labels = field(&w.cb, &key_b, &["labels"]).await;
    assert!(labels.as_array().is_some_and(|l| l.len() == 2), "{labels}");
    // An issue without the trigger's label stays put.
    let untouched = create_on_a(&w, "Not for the other side", &[]).await;
    w.settle().await;
    assert!(
        w.node()
            .store
            .twin_by_local("ab", "a", &untouched)
            .expect("store")
            .is_none()
    );

    // An edit on A: exactly one edit call on B.
    w.settle().await;
    w.b.clear_log();
    let put =
        w.ca.put(
            &format!("/issue/{key_a}"),
            json!({"fields": {"summary": "Printer still on fire"}}),
        )
        .await;
    assert_eq!(put.status, 204, "{}", put.body);
    wait_for("the summary on B", || async {
        (field(&w.cb, &key_b, &["summary"]).await == "Printer still on fire").then_some(())
    })
    .await;
    w.settle().await;
    assert_eq!(
        w.b.count("PUT", "/issue/"),
        1,
        "one edit on B for one change on A"
    );
    assert_eq!(w.b.count("POST", "/issue"), 0, "no second twin");

    // A status change walks B's workflow.
    let t =
        w.ca.post(
            &format!("/issue/{key_a}/transitions"),
            json!({"transition": {"id": "11"}}),
        )
        .await;
    assert_eq!(t.status, 204, "{}", t.body);
    wait_for("B in progress", || async {
        (field(&w.cb, &key_b, &["status", "name"]).await == "In Progress").then_some(())
    })
    .await;

    // A comment on A arrives once on B; one on B arrives once on A; neither echoes back.
    let c =
        w.ca.post(
            &format!("/issue/{key_a}/comment"),
            json!({"body": adf("Fire brigade called")}),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    wait_for("the comment on B", || async {
        let comments = field(&w.cb, &key_b, &["comment", "comments"]).await;
        (comments.as_array().map_or(0, Vec::len) == 1).then_some(())
    })
    .await;
    let c =
        w.cb.post(
            &format!("/issue/{key_b}/comment"),
            json!({"body": "Extinguisher on its way"}),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    wait_for("the comment on A", || async {
        let comments = field(&w.ca, &key_a, &["comment", "comments"]).await;
        (comments.as_array().map_or(0, Vec::len) == 2).then_some(())
    })
    .await;
    w.settle().await;
    let on_a = field(&w.ca, &key_a, &["comment", "comments"]).await;
    let on_b = field(&w.cb, &key_b, &["comment", "comments"]).await;
    assert_eq!(
        on_a.as_array().map(Vec::len),
        Some(2),
        "no duplicate on A: {on_a}"
    );
    assert_eq!(
        on_b.as_array().map(Vec::len),
        Some(2),
        "no duplicate on B: {on_b}"
    );

    // An edit on B flows back to A.
    let put =
        w.cb.put(
            &format!("/issue/{key_b}"),
            json!({"fields": {"summary": "Fire out"}}),
        )
        .await;
    assert_eq!(put.status, 204, "{}", put.body);
    wait_for("the summary on A", || async {
        (field(&w.ca, &key_a, &["summary"]).await == "Fire out").then_some(())
    })
    .await;

    // Quiet now: no event failed, and nothing keeps bouncing.
    w.settle().await;
    let failed = w
        .node()
        .store
        .events(Some(EventState::Failed), None, 10, 0)
        .expect("events");
    assert!(failed.is_empty(), "failed events: {failed:?}");
    w.a.clear_log();
    w.b.clear_log();
    tokio::time::sleep(Duration::from_millis(300)).await;
    w.settle().await;
    assert_eq!(
        w.a.count("PUT", "/issue/") + w.b.count("PUT", "/issue/"),
        0,
        "no echo loop"
    );
}
