//! `twinsync demo`: two simulated Jiras (Cloud and Data Center), one node, the stock `basic`
//! rule on both sides, live sync. `--check` runs a scripted scenario end to end and fails on
//! any divergence.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::config::NodeConfig;
use crate::daemon::{self, Running};
use crate::sync::node::Node;
use twinsync_jira_sim::{Flavour, SimHandle, SimOptions, Simulator};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "the stock rule {0} is missing: build the example rules first with scripts/build-rules.sh \
         (scripts/demo.sh does this for you)"
    )]
    NoRule(PathBuf),
    #[error("demo setup: {0}")]
    Setup(String),
    #[error("divergence: {0}")]
    Divergence(String),
}

pub struct DemoOptions {
    pub rule: PathBuf,
    pub port_a: u16,
    pub port_b: u16,
    /// The public listener's port (the simulators' webhooks reach it).
    pub node_port: u16,
    /// The admin listener's port (the admin page).
    pub admin_port: u16,
    pub data_dir: PathBuf,
}

/// A running demo: two simulators and a node.
pub struct Demo {
    pub a: SimHandle,
    pub b: SimHandle,
    pub node: Running,
    http: reqwest::Client,
}

fn setup<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> DemoError + '_ {
    move |e| DemoError::Setup(format!("{what}: {e}"))
}

/// A node config for one local connection between two simulators: side A on Cloud project
/// SUP (trigger: label `sync`), side B on Data Center project DEV. The demo, the end-to-end
/// tests and the benches all build their node from it.
#[derive(Debug, Clone)]
pub struct PairConfig {
    pub data_dir: PathBuf,
    /// The public listener (webhooks).
    pub listen: String,
    /// The admin listener (admin API, page, metrics).
    pub admin_listen: String,
    pub workers: usize,
    pub poll_interval_secs: u64,
    pub connection: String,
    /// Side and instance names of A and B.
    pub side_a: String,
    pub side_b: String,
    pub instance_a: String,
    pub instance_b: String,
    pub rule_a: PathBuf,
    pub rule_b: PathBuf,
    pub webhook_secret: String,
    /// Extra rule config entries per side, as TOML inline-table items (`, "k" = "v"`).
    pub extra_config_a: String,
    pub extra_config_b: String,
    /// An instance's `budget` inline table, e.g. `{ unlimited = true }`.
    pub budget_a: Option<String>,
    pub budget_b: Option<String>,
    /// A compile cache shared with other nodes (default: inside the data directory).
    pub rule_cache_dir: Option<PathBuf>,
}

impl PairConfig {
    pub fn new(data_dir: PathBuf, rule_a: PathBuf, rule_b: PathBuf) -> Self {
        PairConfig {
            data_dir,
            listen: "127.0.0.1:0".into(),
            admin_listen: "127.0.0.1:0".into(),
            workers: 2,
            poll_interval_secs: 0,
            connection: "ab".into(),
            side_a: "a".into(),
            side_b: "b".into(),
            instance_a: "a".into(),
            instance_b: "b".into(),
            rule_a,
            rule_b,
            webhook_secret: "s3cret-s3cret-s3cret".into(),
            extra_config_a: String::new(),
            extra_config_b: String::new(),
            budget_a: None,
            budget_b: None,
            rule_cache_dir: None,
        }
    }

    /// The TOML text for simulators `a` (Cloud) and `b` (Data Center).
    pub fn toml(&self, a: &SimHandle, b: &SimHandle) -> String {
        let budget = |b: &Option<String>| {
            b.as_ref()
                .map(|t| format!("budget = {t}\n"))
                .unwrap_or_default()
        };
        format!(
            r#"
[node]
data_dir = "{data}"
{cache}listen = "{listen}"
admin_listen = "{admin_listen}"
workers = {workers}
poll_interval_secs = {poll}

[instances.{ia}]
url = "{a_url}"
flavour = "cloud"
user = "{a_user}"
token = {{ value = "{a_token}" }}
webhook_secret = {{ value = "{secret}" }}
{budget_a}
[instances.{ib}]
url = "{b_url}"
flavour = "dc"
token = {{ value = "{b_token}" }}
webhook_secret = {{ value = "{secret}" }}
{budget_b}
[[connection]]
name = "{conn}"

[[connection.side]]
name = "{sa}"
instance = "{ia}"
project = "SUP"
rule = "{rule_a}"
trigger = "project = SUP AND labels = sync"
config = {{ project = "SUP"{extra_a} }}

[[connection.side]]
name = "{sb}"
instance = "{ib}"
project = "DEV"
rule = "{rule_b}"
config = {{ project = "DEV"{extra_b} }}
"#,
            data = self.data_dir.display(),
            cache = self
                .rule_cache_dir
                .as_ref()
                .map(|d| format!("rule_cache_dir = \"{}\"\n", d.display()))
                .unwrap_or_default(),
            listen = self.listen,
            admin_listen = self.admin_listen,
            workers = self.workers,
            poll = self.poll_interval_secs,
            ia = self.instance_a,
            ib = self.instance_b,
            a_url = a.url(),
            a_user = a.user(),
            a_token = a.token(),
            b_url = b.url(),
            b_token = b.token(),
            secret = self.webhook_secret,
            budget_a = budget(&self.budget_a),
            budget_b = budget(&self.budget_b),
            conn = self.connection,
            sa = self.side_a,
            sb = self.side_b,
            rule_a = self.rule_a.display(),
            rule_b = self.rule_b.display(),
            extra_a = self.extra_config_a,
            extra_b = self.extra_config_b,
        )
    }
}

/// One more local connection between the instances of a [`PairConfig`] (`a` on SUP,
/// `b` on DEV), as TOML to append to its text: issues labelled `label` on SUP sync
/// through it, and both sides run their own rule file under their own fuel limit.
pub fn extra_connection_toml(
    name: &str,
    label: &str,
    rule_a: &Path,
    rule_b: &Path,
    fuel: u64,
) -> String {
    format!(
        r#"
[[connection]]
name = "{name}"

[[connection.side]]
name = "a"
instance = "a"
project = "SUP"
rule = "{rule_a}"
trigger = "project = SUP AND labels = {label}"
config = {{ project = "SUP" }}
limits = {{ fuel = {fuel} }}

[[connection.side]]
name = "b"
instance = "b"
project = "DEV"
rule = "{rule_b}"
config = {{ project = "DEV" }}
limits = {{ fuel = {fuel} }}
"#,
        rule_a = rule_a.display(),
        rule_b = rule_b.display(),
    )
}

impl Demo {
    pub async fn start(opts: &DemoOptions) -> Result<Demo, DemoError> {
        if !opts.rule.is_file() {
            return Err(DemoError::NoRule(opts.rule.clone()));
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
        crate::private_fs::create_dir(&data_dir.join("rules")).map_err(setup("data directory"))?;
        let (rule_a, rule_b) = (
            data_dir.join("rules/support.wasm"),
            data_dir.join("rules/dev.wasm"),
        );
        std::fs::copy(&opts.rule, &rule_a).map_err(setup("copying the rule"))?;
        std::fs::copy(&opts.rule, &rule_b).map_err(setup("copying the rule"))?;
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
        crate::admin_token::ensure(&mut config).map_err(setup("the admin token"))?;
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
    pub fn rules_dir(&self) -> PathBuf {
        self.node
            .node
            .config
            .resolve_path(&self.node.node.config.node.data_dir)
            .join("rules")
    }

    /// The node config the demo wrote, for `-c` on the CLI.
    pub fn config_path(&self) -> PathBuf {
        self.node
            .node
            .config
            .resolve_path(&self.node.node.config.node.data_dir)
            .join("twinsync.toml")
    }

    /// A REST call as the simulator's admin user; `path` under the flavour's API unless it starts with `/rest`.
    async fn call(
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

    pub fn print_banner(&self) {
        println!(
            "Twinsync demo: two simulated Jiras, one node, the stock `basic` rule on both sides."
        );
        println!();
        println!(
            "  Jira Cloud (sim)        {}   user {}  API token {:?}",
            self.a.url(),
            self.a.user(),
            self.a.token()
        );
        println!(
            "  Jira Data Center (sim)  {}   PAT {:?}",
            self.b.url(),
            self.b.token()
        );
        println!(
            "  node webhooks           {}/webhooks/jira/<instance>",
            self.node.url()
        );
        println!(
            "  node admin              {}   status: {}/api/status (with the admin token)",
            self.node.admin_url(),
            self.node.admin_url()
        );
        if let Some(token) = &self.node.node.admin_token {
            // The token rides in the fragment, which the browser never sends to a server.
            println!(
                "  admin page              {}/#token={token}",
                self.node.admin_url()
            );
        }
        println!();
        println!("Connection `support-to-dev`: Cloud project SUP <-> Data Center project DEV.");
        println!(
            "Issues in SUP labelled `sync` go across; edits, comments and status changes flow both ways."
        );
        let rules = self.rules_dir();
        println!();
        println!("Rules (hot-swapped when a file is replaced; docs/rules.md section 6):");
        println!(
            "  side support-to-dev/support (Cloud)   {}",
            rules.join("support.wasm").display()
        );
        println!(
            "  side support-to-dev/dev (Data Center) {}",
            rules.join("dev.wasm").display()
        );
        println!(
            "  node config, for the CLI's -c         {}",
            self.config_path().display()
        );
        println!("Try:");
        println!(
            "  curl -u {}:{} -H 'Content-Type: application/json' {}/issue \\\n    -d '{{\"fields\":{{\"project\":{{\"key\":\"SUP\"}},\"issuetype\":{{\"name\":\"Task\"}},\"summary\":\"Hello from Cloud\",\"labels\":[\"sync\"]}}}}'",
            self.a.user(),
            self.a.token(),
            self.a.api_base()
        );
        println!(
            "  curl -H 'Authorization: Bearer {}' '{}/search?jql=project=DEV'",
            self.b.token(),
            self.b.api_base()
        );
        println!();
    }

    async fn wait<T, F, Fut>(&self, what: &str, mut probe: F) -> Result<T, DemoError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>, DemoError>>,
    {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(v) = probe().await? {
                return Ok(v);
            }
            if Instant::now() > deadline {
                return Err(DemoError::Divergence(format!(
                    "timed out waiting for {what}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn issue(&self, sim: &SimHandle, key: &str) -> Result<Value, DemoError> {
        self.call(sim, reqwest::Method::GET, &format!("/issue/{key}"), None)
            .await
    }

    /// The scripted scenario: each step is checked on the other side.
    pub async fn check(&self) -> Result<(), DemoError> {
        let step = |s: &str| println!("  ✓ {s}");
        let created = self
            .call(&self.a, reqwest::Method::POST, "/issue", Some(json!({"fields": {
                "project": {"key": "SUP"}, "issuetype": {"name": "Bug"},
                "summary": "Checkout button does nothing",
                "description": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
                    {"type": "text", "text": "Clicking "}, {"type": "text", "text": "Pay now", "marks": [{"type": "strong"}]},
                    {"type": "text", "text": " has no effect."}]}]},
                "priority": {"name": "High"}, "labels": ["sync", "checkout"]
            }})))
            .await?;
        let key_a = created["key"].as_str().unwrap_or_default().to_string();
        let store = self.node.node.store.clone();
        let key_b = self
            .wait("the twin on Data Center", || {
                let store = store.clone();
                let key_a = key_a.clone();
                async move {
                    Ok(store
                        .twin_by_local("support-to-dev", "support", &key_a)
                        .map_err(|e| DemoError::Setup(e.to_string()))?
                        .and_then(|t| t.remote_key))
                }
            })
            .await?;
        let b = self.issue(&self.b, &key_b).await?;
        expect_eq(
            &b["fields"]["summary"],
            "Checkout button does nothing",
            "summary on DC",
        )?;
        expect_eq(
            &b["fields"]["description"],
            "Clicking *Pay now* has no effect.",
            "description as wiki markup on DC",
        )?;
        step(&format!(
            "{key_a} (Cloud) created {key_b} (Data Center), bold text as wiki markup"
        ));

        self.call(
            &self.a,
            reqwest::Method::PUT,
            &format!("/issue/{key_a}"),
            Some(json!({"fields": {"summary": "Checkout button does nothing on Safari"}})),
        )
        .await?;
        self.wait("the edited summary on DC", || async {
            Ok((self.issue(&self.b, &key_b).await?["fields"]["summary"]
                == "Checkout button does nothing on Safari")
                .then_some(()))
        })
        .await?;
        step("summary edited on Cloud, updated on Data Center");

        self.call(
            &self.a,
            reqwest::Method::POST,
            &format!("/issue/{key_a}/transitions"),
            Some(json!({"transition": {"id": "11"}})),
        )
        .await?;
        self.wait("In Progress on DC", || async {
            Ok(
                (self.issue(&self.b, &key_b).await?["fields"]["status"]["name"] == "In Progress")
                    .then_some(()),
            )
        })
        .await?;
        step("status moved to In Progress on Cloud, transitioned on Data Center");

        self.call(
            &self.b,
            reqwest::Method::POST,
            &format!("/issue/{key_b}/comment"),
            Some(json!({"body": "Reproduced on *Safari 18*"})),
        )
        .await?;
        self.wait("the comment on Cloud", || async {
            let comments = &self.issue(&self.a, &key_a).await?["fields"]["comment"]["comments"];
            Ok((comments.as_array().map_or(0, Vec::len) == 1).then_some(()))
        })
        .await?;
        step("comment on Data Center arrived on Cloud once");

        // Settle, then make sure nothing echoes back and forth.
        self.wait("a quiet queue", || async {
            Ok((!store
                .has_open_events()
                .map_err(|e| DemoError::Setup(e.to_string()))?)
            .then_some(()))
        })
        .await?;
        let comments_b = self.issue(&self.b, &key_b).await?["fields"]["comment"]["comments"]
            .as_array()
            .map_or(0, Vec::len);
        if comments_b != 1 {
            return Err(DemoError::Divergence(format!(
                "{key_b} has {comments_b} comments, expected 1 (an echo?)"
            )));
        }
        let failed = store
            .events(Some(crate::store::EventState::Failed), None, 10, 0)
            .map_err(|e| DemoError::Setup(e.to_string()))?;
        if let Some(f) = failed.first() {
            return Err(DemoError::Divergence(format!(
                "event {} failed: {}",
                f.id,
                f.last_error.as_deref().unwrap_or("")
            )));
        }
        step("no echo, no failed events");
        Ok(())
    }

    pub async fn stop(self) {
        self.node.stop().await;
        self.a.shutdown();
        self.b.shutdown();
    }
}

/// Writes the demo's config; it holds the webhook secret, so it is private like the directory.
fn write_config(path: &Path, text: &str) -> Result<(), DemoError> {
    crate::private_fs::create_file(path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
        .map_err(setup("writing the config"))
}

fn expect_eq(got: &Value, want: &str, what: &str) -> Result<(), DemoError> {
    if got.as_str().map(str::trim) == Some(want) {
        Ok(())
    } else {
        Err(DemoError::Divergence(format!(
            "{what}: expected {want:?}, got {got}"
        )))
    }
}

/// Default location of the stock rule, as `scripts/build-rules.sh` writes it.
pub fn default_rule() -> PathBuf {
    Path::new("target/wasm32-wasip2/release/rule_basic.wasm").to_path_buf()
}
