//! The demo's world: starts two simulated Jiras (Cloud and Data Center) and one node with
//! the stock rule on both sides, wires the simulators' webhooks to the node, and stops it all.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use twinsync::config::NodeConfig;
use twinsync::daemon::{self, Running};
use twinsync::demo::PairConfig;
use twinsync::sync::node::Node;
use twinsync_jira_sim::{Flavour, SimHandle, SimOptions, Simulator};

use super::{DemoError, DemoOptions};

/// A running demo: two simulators and a node.
pub(crate) struct Demo {
    pub(super) a: SimHandle,
    pub(super) b: SimHandle,
    pub(super) node: Running,
    http: reqwest::Client,
}

fn setup<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> DemoError + '_ {
    move |e| DemoError::Setup(format!("{what}: {e}"))
}

impl Demo {
    /// Starts the simulators and the node, and registers the node's webhooks on both.
    pub(crate) async fn start(opts: &DemoOptions) -> Result<Demo, DemoError> {
        if let Some(rule) = opts.rule.as_ref().filter(|r| !r.is_file()) {
            return Err(DemoError::NoRule(rule.clone()));
        }
        let mut oa = SimOptions::new(Flavour::Cloud);
        oa.addr = std::net::SocketAddr::from(([127, 0, 0, 1], opts.port_a));
        let mut ob = SimOptions::new(Flavour::DataCenter);
        ob.addr = std::net::SocketAddr::from(([127, 0, 0, 1], opts.port_b));
        let a = Simulator::start(oa)
            .await
            .map_err(setup("simulated Jira Cloud"))?;
        let b = Simulator::start(ob)
            .await
            .map_err(setup("simulated Jira Data Center"))?;
        let data_dir = std::path::absolute(&opts.data_dir).map_err(setup("data directory"))?;
        // A fresh store each run: the simulators start from their seed every time.
        let _ = std::fs::remove_dir_all(&data_dir);
        twinsync::private_fs::create_dir(&data_dir.join("rules"))
            .map_err(setup("data directory"))?;
        let (rule_a, rule_b) = (
            data_dir.join("rules/support.wasm"),
            data_dir.join("rules/dev.wasm"),
        );
        // The stock rule comes from the binary itself, so the demo runs from any directory.
        let rule = match &opts.rule {
            Some(rule) => rule.clone(),
            None => twinsync::rules::stock::materialize(&data_dir, "basic")
                .map_err(setup("writing the stock rule"))?,
        };
        std::fs::copy(&rule, &rule_a).map_err(setup("copying the rule"))?;
        std::fs::copy(&rule, &rule_b).map_err(setup("copying the rule"))?;
        let pair = PairConfig {
            poll_interval_secs: 30,
            connection: "support-to-dev".into(),
            side_a: "support".into(),
            side_b: "dev".into(),
            instance_a: "cloud".into(),
            instance_b: "dc".into(),
            webhook_secret: "demo-webhook-secret".into(),
            listen: format!("127.0.0.1:{}", opts.node_port),
            admin_listen: format!("127.0.0.1:{}", opts.admin_port),
            ..PairConfig::new(data_dir.clone(), rule_a, rule_b)
        };
        let text = pair.toml(&a, &b);
        let config_path = data_dir.join("twinsync.toml");
        write_config(&config_path, &text)?;
        let mut config = NodeConfig::parse(&text, &config_path, data_dir.clone())
            .map_err(setup("the demo config"))?;
        // Like `twinsync node`, the demo's admin API wants the token the node makes.
        twinsync::admin_token::ensure(&mut config).map_err(setup("the admin token"))?;
        let node = Node::build(config).map_err(setup("building the node"))?;
        let node = daemon::start(node)
            .await
            .map_err(setup("starting the node"))?;
        let demo = Demo {
            a,
            b,
            node,
            http: reqwest::Client::new(),
        };
        for (sim, instance) in [(&demo.a, "cloud"), (&demo.b, "dc")] {
            let url = format!(
                "{}/webhooks/jira/{instance}?secret=demo-webhook-secret",
                demo.node.url()
            );
            demo.call(sim, reqwest::Method::POST, "/rest/webhooks/1.0/webhook", Some(json!({
                "name": "twinsync demo",
                "url": url,
                "events": ["jira:issue_created", "jira:issue_updated", "comment_created", "comment_updated", "comment_deleted"],
            })))
            .await?;
        }
        Ok(demo)
    }

    /// The directory of the rule files the node watches: `support.wasm` and `dev.wasm`.
    pub(super) fn rules_dir(&self) -> PathBuf {
        self.node
            .node
            .config
            .resolve_path(&self.node.node.config.node.data_dir)
            .join("rules")
    }

    /// The node config the demo wrote, for `-c` on the CLI.
    pub(super) fn config_path(&self) -> PathBuf {
        self.node
            .node
            .config
            .resolve_path(&self.node.node.config.node.data_dir)
            .join("twinsync.toml")
    }

    /// A REST call as the simulator's admin user; `path` under the flavour's API unless it starts with `/rest`.
    pub(super) async fn call(
        &self,
        sim: &SimHandle,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, DemoError> {
        let url = if path.starts_with("/rest") {
            format!("{}{path}", sim.url())
        } else {
            format!("{}{path}", sim.api_base())
        };
        let mut req = self
            .http
            .request(method.clone(), &url)
            .header("Authorization", sim.auth_header());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| DemoError::Setup(format!("{method} {url}: {e}")))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(DemoError::Setup(format!("{method} {url}: {status} {text}")));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Stops the node, then the simulators.
    pub(crate) async fn stop(self) {
        self.node.stop().await;
        self.a.shutdown();
        self.b.shutdown();
    }
}

/// Writes the demo's config; it holds the webhook secret, so it is private like the directory.
fn write_config(path: &Path, text: &str) -> Result<(), DemoError> {
    twinsync::private_fs::create_file(path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
        .map_err(setup("writing the config"))
}
