//! The two-simulator world: a Cloud Jira (project SUP) and a Data Center Jira (project DEV),
//! simulated in the test process, and one in-process node syncing them over connection `ab`
//! with real webhooks on loopback.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;
use twinsync::config::NodeConfig;
use twinsync::daemon::{self, Running};
use twinsync::demo::PairConfig;
use twinsync::store::{EventState, Store};
use twinsync::sync::node::Node;
use twinsync_jira_sim::{Flavour, SimHandle};

use crate::fixtures::{root, rule};
use crate::rest::{Client, new_issue, start};
use crate::wait::wait_for;

/// The secret every test node's webhooks carry.
pub const WEBHOOK_SECRET: &str = "s3cret-s3cret-s3cret";

/// Two simulated Jiras, their clients, and the node syncing them (none while stopped), with
/// its data directory and config text.
pub struct World {
    /// Side `a`: a simulated Jira Cloud.
    pub a: SimHandle,
    /// Side `b`: a simulated Jira Data Center.
    pub b: SimHandle,
    /// A REST client for side `a`.
    pub ca: Client,
    /// A REST client for side `b`.
    pub cb: Client,
    /// The node syncing them, none while stopped.
    pub node: Option<Running>,
    /// The node's data directory.
    pub dir: tempfile::TempDir,
    /// The node's config text.
    pub config: String,
}

impl World {
    /// Two simulators and a node syncing them with `basic` (copied, so a test may swap it).
    pub async fn new() -> World {
        World::with_b("basic", "").await
    }

    /// Like [`World::new`], with `rule_b` on side b and extra config entries (TOML inline-table items).
    pub async fn with_b(rule_b_name: &str, extra_config_b: &str) -> World {
        World::with_rules("basic", "", rule_b_name, extra_config_b).await
    }

    /// Each side's rule and extra config entries.
    pub async fn with_rules(
        rule_a_name: &str,
        extra_config_a: &str,
        rule_b_name: &str,
        extra_config_b: &str,
    ) -> World {
        let b = start(Flavour::DataCenter).await;
        World::build(rule_a_name, extra_config_a, rule_b_name, extra_config_b, b).await
    }

    /// `basic` on both sides, with a Data Center simulator the caller started (e.g. with its own seed).
    pub async fn with_dc(b: SimHandle) -> World {
        World::build("basic", "", "basic", "", b).await
    }

    async fn build(
        rule_a_name: &str,
        extra_config_a: &str,
        rule_b_name: &str,
        extra_config_b: &str,
        b: SimHandle,
    ) -> World {
        let a = start(Flavour::Cloud).await;
        let mut w = World::prepare(
            a,
            b,
            rule_a_name,
            extra_config_a,
            rule_b_name,
            extra_config_b,
        );
        w.start_node().await;
        w
    }

    /// A world on simulators the caller started, `basic` on both sides, its node not started
    /// yet: the caller may change `config` first, then call [`World::start_node`].
    pub fn unstarted(a: SimHandle, b: SimHandle) -> World {
        World::prepare(a, b, "basic", "", "basic", "")
    }

    fn prepare(
        a: SimHandle,
        b: SimHandle,
        rule_a_name: &str,
        extra_config_a: &str,
        rule_b_name: &str,
        extra_config_b: &str,
    ) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("rules")).expect("rules dir");
        let rule_a = dir.path().join("rules/a.wasm");
        let rule_b = dir.path().join("rules/b.wasm");
        std::fs::copy(rule(rule_a_name), &rule_a).expect("copy rule");
        std::fs::copy(rule(rule_b_name), &rule_b).expect("copy rule");
        let config = PairConfig {
            extra_config_a: extra_config_a.to_string(),
            extra_config_b: extra_config_b.to_string(),
            // One compile cache for every test's node: a large rule compiles once per run.
            rule_cache_dir: Some(root().join("target/e2e-rule-cache")),
            ..PairConfig::new(dir.path().join("data"), rule_a, rule_b)
        }
        .toml(&a, &b);
        let (ca, cb) = (Client::new(&a), Client::new(&b));
        World {
            a,
            b,
            ca,
            cb,
            node: None,
            dir,
            config,
        }
    }

    /// Starts the node on `config` and points both simulators' webhooks at it.
    pub async fn start_node(&mut self) {
        let running = start_in_process(&self.config).await;
        for (client, instance) in [(&self.ca, "a"), (&self.cb, "b")] {
            register_webhook(client, &running.url(), instance).await;
        }
        self.node = Some(running);
    }

    /// Stops the node as a crash would leave it: queue and twins stay in the store.
    pub async fn stop_node(&mut self) {
        if let Some(n) = self.node.take() {
            n.stop().await;
        }
    }

    /// Stops the node, adds `setting` to its `[node]` table and starts it again.
    pub async fn restart_with_node_setting(&mut self, setting: &str) {
        self.stop_node().await;
        self.config = with_node_setting(&self.config, setting);
        self.start_node().await;
    }

    /// The running node; panics while it is stopped.
    pub fn node(&self) -> &Arc<Node> {
        &self.node.as_ref().expect("node running").node
    }

    /// The node's admin API.
    pub fn admin_url(&self) -> String {
        self.node.as_ref().expect("node running").admin_url()
    }

    /// The twin of A's `key` on B, once the node has linked it.
    pub async fn twin_of(&self, key: &str) -> String {
        wait_for(&format!("a twin of {key}"), || async {
            linked_twin(&self.node().store, "ab", key)
        })
        .await
    }

    /// Pauses or resumes connection `ab` through the admin API, as an admin would.
    pub async fn set_paused(&self, paused: bool) {
        let verb = if paused { "pause" } else { "resume" };
        let resp = reqwest::Client::new()
            .post(format!("{}/api/connections/ab/{verb}", self.admin_url()))
            .send()
            .await
            .expect("admin api");
        assert_eq!(resp.status().as_u16(), 200, "{verb}");
    }

    /// Waits until no event is pending or running, and the last one's sync status is written.
    pub async fn settle(&self) {
        wait_for("the queue to drain", || async {
            let node = self.node();
            (!node.store.has_open_events().unwrap_or(true) && node.pipeline.is_idle()).then_some(())
        })
        .await;
    }

    /// A new issue on A under sync, and its twin on B, once the queue is quiet again.
    pub async fn synced(&self, summary: &str) -> (String, String) {
        let key_a = self.create_on_a(summary, &["sync"]).await;
        let key_b = self.twin_of(&key_a).await;
        self.settle().await;
        (key_a, key_b)
    }

    /// Waits until at least `n` events of connection `ab` are pending (held by a pause).
    pub async fn queued(&self, n: i64) {
        wait_for(&format!("{n} events queued"), || async {
            let q = self.node().store.queue_stats(Some("ab")).ok()?;
            (q.pending >= n).then_some(())
        })
        .await;
    }

    /// How many rule components the node's engine has compiled so far (not loaded from cache).
    pub fn compilations(&self) -> u64 {
        self.node()
            .registry
            .engine()
            .stats()
            .compilations
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Panics with the failed events, if any.
    pub fn assert_none_failed(&self) {
        let failed = self
            .node()
            .store
            .events(Some(EventState::Failed), None, 10, 0)
            .expect("events");
        assert!(failed.is_empty(), "failed events: {failed:#?}");
    }

    /// Creates a SUP issue on A with `labels` (`sync` puts it under sync); returns its key.
    pub async fn create_on_a(&self, summary: &str, labels: &[&str]) -> String {
        let more = json!({
            "description": crate::adf::adf("The printer in room 4 is on fire."),
            "priority": {"name": "High"},
            "labels": labels,
        });
        self.ca.create(new_issue("SUP", "Bug", summary, more)).await
    }
}

/// `config` with `setting` added to its `[node]` table (after its `workers = 2` line).
pub fn with_node_setting(config: &str, setting: &str) -> String {
    assert!(
        config.contains("\nworkers = 2\n"),
        "the config has no `workers = 2` line:\n{config}"
    );
    config.replacen("\nworkers = 2\n", &format!("\nworkers = 2\n{setting}\n"), 1)
}

/// The key of the twin on B that `store` links to A's `key_a` over `connection`, if linked.
pub fn linked_twin(store: &Store, connection: &str, key_a: &str) -> Option<String> {
    store
        .twin_by_local(connection, "a", key_a)
        .ok()
        .flatten()
        .and_then(|t| t.remote_key)
}

/// Swaps example rule `name` into the rule file of `side` (e.g. `ab/b`) as an admin would
/// (staged beside it, then renamed over it), and waits until the side serves it.
pub async fn swap_rule(node: &Node, side: &str, name: &str) {
    let slot = node.registry.slot(side).expect("slot");
    let file = slot.file().to_path_buf();
    let staged = file.with_extension("wasm.new");
    std::fs::copy(rule(name), &staged).expect("stage");
    std::fs::rename(&staged, &file).expect("swap");
    let hash = node
        .registry
        .engine()
        .load_file(&rule(name))
        .expect("load")
        .id()
        .hash
        .clone();
    wait_for(&format!("{name} serving on {side}"), || async {
        (slot.current().ok()?.id().hash == hash).then_some(())
    })
    .await;
}

/// Builds and starts a node in this process from config text.
pub async fn start_in_process(config: &str) -> Running {
    let config = NodeConfig::parse(config, Path::new("twinsync.toml"), PathBuf::from("."))
        .expect("config parses");
    let node = Node::build(config).expect("node builds");
    daemon::start(node).await.expect("node starts")
}

/// Points a simulator's webhooks for `instance` at a node serving at `node_url`.
pub async fn register_webhook(client: &Client, node_url: &str, instance: &str) {
    let answer = client
        .post(
            "/rest/webhooks/1.0/webhook",
            json!({
                "name": format!("twinsync {node_url}"),
                "url": format!("{node_url}/webhooks/jira/{instance}?secret={WEBHOOK_SECRET}"),
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
