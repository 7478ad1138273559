//! Two nodes paired over the peer protocol: each organisation has its own simulated Jira,
//! its own node (one side of connection `ab`), store, rule and credentials, and the two pair
//! through an invitation and talk signed HTTPS on loopback.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use twinsync::config::NodeConfig;
use twinsync::daemon::Running;
use twinsync::peer::{Identity, enroll};
use twinsync::sync::node::Node;
use twinsync_jira_sim::{Flavour, SimHandle};

use crate::fixtures::rule;
use crate::node_process::{NodeProcess, ProcessConfig};
use crate::ports::free_port;
use crate::rest::{Client, new_issue, start};
use crate::wait::Wait;
use crate::world::{WEBHOOK_SECRET, linked_twin, register_webhook, start_in_process};

/// One organisation: its simulated Jira, its node (one side of connection `ab`), its data.
pub struct Org {
    /// The organisation's simulated Jira.
    pub sim: SimHandle,
    /// A REST client for that Jira.
    pub client: Client,
    /// Its node, none while stopped.
    pub node: Option<Running>,
    /// The node's config text.
    pub config: String,
    /// The node's data directory.
    pub dir: tempfile::TempDir,
}

impl Org {
    /// `side` is `a` (Cloud, project SUP, trigger label `sync`) or `b` (Data Center, DEV).
    pub async fn new(side: &str) -> Org {
        Org::with(side, free_port(), "").await
    }

    /// Like [`Org::new`], with the peer listener on `peer_port` and extra `[node]` settings.
    pub async fn with(side: &str, peer_port: u16, extra_node: &str) -> Org {
        let (flavour, project, other) = match side {
            "a" => (Flavour::Cloud, "SUP", "b"),
            _ => (Flavour::DataCenter, "DEV", "a"),
        };
        let sim = start(flavour).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let rule_path = dir.path().join("rule.wasm");
        std::fs::copy(rule("basic"), &rule_path).expect("copy rule");
        let (flavour_name, user) = match flavour {
            Flavour::Cloud => ("cloud", format!("user = \"{}\"\n", sim.user())),
            _ => ("dc", String::new()),
        };
        let trigger = if side == "a" {
            "trigger = \"project = SUP AND labels = sync\"\n"
        } else {
            ""
        };
        let config = format!(
            r#"
[node]
data_dir = "{data}"
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
workers = 2
poll_interval_secs = 0
peer_listen = "127.0.0.1:{port}"
{extra_node}

[instances.{side}]
url = "{url}"
flavour = "{flavour_name}"
{user}token = {{ value = "{token}" }}
webhook_secret = {{ value = "{WEBHOOK_SECRET}" }}

[[connection]]
name = "ab"
peer = "{other}"

[[connection.side]]
name = "{side}"
instance = "{side}"
project = "{project}"
rule = "{rule}"
{trigger}config = {{ project = "{project}", "redact.words" = "fire" }}
"#,
            data = dir.path().join("data").display(),
            port = peer_port,
            url = sim.url(),
            token = sim.token(),
            rule = rule_path.display(),
        );
        let client = Client::new(&sim);
        let mut org = Org {
            sim,
            client,
            node: None,
            config,
            dir,
        };
        org.start_node(side).await;
        org
    }

    /// The same organisation's config with its node not started (for a node process).
    pub async fn prepared(side: &str) -> Org {
        let mut org = Org::new(side).await;
        org.stop_node().await;
        org
    }

    /// The node's config, parsed.
    pub fn parsed(&self) -> NodeConfig {
        NodeConfig::parse(&self.config, Path::new("twinsync.toml"), PathBuf::from("."))
            .expect("config parses")
    }

    /// Starts the node in process, the simulator's webhooks for `instance` pointing at it.
    pub async fn start_node(&mut self, instance: &str) {
        let running = start_in_process(&self.config).await;
        register_webhook(&self.client, &running.url(), instance).await;
        self.node = Some(running);
    }

    /// Stops the in-process node; its store stays.
    pub async fn stop_node(&mut self) {
        if let Some(n) = self.node.take() {
            n.stop().await;
        }
    }

    /// Writes the config with fixed ports for a node process (its log in `node.log`).
    pub fn process_config(&self) -> ProcessConfig {
        ProcessConfig::write(self.dir.path(), &self.config)
    }

    /// Starts `twinsync node` on [`Org::process_config`] and points the simulator's webhooks
    /// for `instance` at it once it serves.
    pub async fn node_process(&self, instance: &str) -> NodeProcess {
        let node = NodeProcess::start(&self.process_config(), None).await;
        register_webhook(&self.client, node.url(), instance).await;
        node
    }

    /// The in-process node; panics while it is stopped.
    pub fn node(&self) -> &Arc<Node> {
        &self.node.as_ref().expect("node running").node
    }

    /// Where the node serves peers (in process or as its own process): from its config.
    pub fn peer_url(&self) -> String {
        let listen = self.parsed().node.peer_listen.expect("peer_listen");
        format!("https://{listen}")
    }

    /// The node's peer identity, from its data directory.
    pub fn identity(&self) -> Identity {
        Identity::load_or_create(&Identity::dir_in(&self.dir.path().join("data")))
            .expect("identity")
    }

    /// The public key of the peer this node has pinned for connection `ab`.
    pub fn pinned_peer_key(&self) -> String {
        self.node()
            .store
            .peer("ab")
            .expect("store")
            .expect("peer")
            .public_key
    }

    /// Replicas received so far: what a refused request must never add to.
    pub fn event_count(&self) -> usize {
        self.node()
            .store
            .events(None, Some("ab"), 10_000, 0)
            .expect("events")
            .iter()
            .filter(|e| e.kind == twinsync::store::EventKind::Incoming)
            .count()
    }

    /// Creates a SUP issue with the trigger label (side `a` only); returns its key.
    pub async fn create_synced(&self, summary: &str) -> String {
        let more = json!({ "labels": ["sync"] });
        self.client
            .create(new_issue("SUP", "Task", summary, more))
            .await
    }

    /// Waits until the node has no event pending or running; giving up, prints its queue.
    pub async fn settle(&self) {
        Wait::new("the queue to drain")
            .until(|| async {
                let node = self.node();
                let open = node.store.has_open_events().unwrap_or(true) || !node.pipeline.is_idle();
                if open { Err(self.queue()) } else { Ok(()) }
            })
            .await;
    }

    /// The node's sync events, newest first, one line each: what a wait prints on giving up.
    pub fn queue(&self) -> String {
        crate::story::recent_events(&self.node().store, 50)
    }

    /// The twin of this side-a organisation's `key_a` on B, once B's ack linked it.
    pub fn twin_of(&self, key_a: &str) -> Option<String> {
        linked_twin(&self.node().store, "ab", key_a)
    }
}

/// Two organisations paired through an invitation made by `a` and accepted by `b`.
pub async fn paired() -> (Org, Org) {
    let a = Org::new("a").await;
    let b = Org::new("b").await;
    pair(&a, &b).await;
    (a, b)
}

/// Pairs two running organisations: `a` invites, `b` accepts.
pub async fn pair(a: &Org, b: &Org) {
    let code = enroll::invite(&a.parsed(), &a.node().store, "ab", Duration::from_secs(600))
        .expect("invite");
    let peer = enroll::accept(&b.parsed(), &b.node().store, &code)
        .await
        .expect("accept");
    assert_eq!(peer.url, a.peer_url());
    assert_eq!(a.pinned_peer_key(), b.identity().public_key());
}
