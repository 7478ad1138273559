//! Peer link figures on loopback: replicas per second from one node to a peer node (each with
//! its own simulated Jira, paired by invitation, signed HTTPS), and the latency the link adds
//! over a local connection (edit on A -> visible on B, same rule, same simulators' flavours).
//!
//! Run with `cargo bench -p twinsync --bench peer` after `scripts/build-rules.sh`.
//! `PEER_BENCH_ISSUES` sets how many issues cross for the throughput figure (default 300).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use twinsync::config::NodeConfig;
use twinsync::daemon::{self, Running};
use twinsync::demo::PairConfig;
use twinsync::store::Store;
use twinsync::sync::node::Node;
use twinsync_jira_sim::{Flavour, SimHandle, SimOptions, Simulator};

fn rule() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let rule = root.join("target/wasm32-wasip2/rules/rule_basic.wasm");
    if !rule.is_file() {
        eprintln!(
            "{} is missing: run scripts/build-rules.sh first",
            rule.display()
        );
        std::process::exit(2);
    }
    rule
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

async fn call(
    http: &reqwest::Client,
    sim: &SimHandle,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut req = http
        .request(method, format!("{}{path}", sim.api_base()))
        .header("Authorization", sim.auth_header());
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("simulator answers");
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap_or(Value::Null)
}

async fn webhook(http: &reqwest::Client, sim: &SimHandle, node: &str, instance: &str) {
    let req = http
        .post(format!("{}/rest/webhooks/1.0/webhook", sim.url()))
        .header("Authorization", sim.auth_header())
        .json(&json!({"name": "bench", "url": format!("{node}/webhooks/jira/{instance}?secret=s3cret-s3cret-s3cret"),
                      "events": ["jira:issue_created", "jira:issue_updated", "comment_created"]}));
    assert!(req.send().await.expect("register").status().is_success());
}

async fn start(text: &str, dir: &Path) -> Running {
    let config =
        NodeConfig::parse(text, Path::new("bench.toml"), dir.to_path_buf()).expect("config");
    let node = Node::build(config).expect("node");
    daemon::start(node).await.expect("start")
}

/// What a bench run needs: the two simulators, the node(s), and the store that sees A's twins.
struct Setup {
    a: SimHandle,
    b: SimHandle,
    nodes: Vec<Running>,
    _dirs: Vec<tempfile::TempDir>,
}

impl Setup {
    fn store_a(&self) -> &Store {
        &self.nodes[0].node.store
    }

    async fn stop(self) {
        for n in self.nodes {
            n.stop().await;
        }
    }
}

async fn sims() -> (SimHandle, SimHandle) {
    let a = Simulator::start(SimOptions::new(Flavour::Cloud))
        .await
        .expect("sim a");
    let b = Simulator::start(SimOptions::new(Flavour::DataCenter))
        .await
        .expect("sim b");
    (a, b)
}

async fn local(http: &reqwest::Client) -> Setup {
    let (a, b) = sims().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let text = PairConfig {
        workers: 4,
        budget_a: Some("{ unlimited = true }".into()),
        budget_b: Some("{ unlimited = true }".into()),
        ..PairConfig::new(dir.path().join("data"), rule(), rule())
    }
    .toml(&a, &b);
    let node = start(&text, dir.path()).await;
    webhook(http, &a, &node.url(), "a").await;
    webhook(http, &b, &node.url(), "b").await;
    Setup {
        a,
        b,
        nodes: vec![node],
        _dirs: vec![dir],
    }
}

fn peer_config(sim: &SimHandle, side: &str, dir: &Path) -> String {
    let (flavour, user, project, other, trigger) = if side == "a" {
        (
            "cloud",
            format!("user = \"{}\"\n", sim.user()),
            "SUP",
            "b",
            "trigger = \"project = SUP AND labels = sync\"\n",
        )
    } else {
        ("dc", String::new(), "DEV", "a", "")
    };
    format!(
        r#"
[node]
data_dir = "{data}"
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
workers = 4
poll_interval_secs = 0
peer_listen = "127.0.0.1:{port}"

[instances.{side}]
url = "{url}"
flavour = "{flavour}"
{user}token = {{ value = "{token}" }}
webhook_secret = {{ value = "s3cret-s3cret-s3cret" }}
budget = {{ unlimited = true }}

[[connection]]
name = "ab"
peer = "{other}"

[[connection.side]]
name = "{side}"
instance = "{side}"
project = "{project}"
rule = "{rule}"
{trigger}config = {{ project = "{project}" }}
"#,
        data = dir.join("data").display(),
        port = free_port(),
        url = sim.url(),
        token = sim.token(),
        rule = rule().display(),
    )
}

async fn peered(http: &reqwest::Client) -> Setup {
    let (a, b) = sims().await;
    let (da, db) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let (ta, tb) = (
        peer_config(&a, "a", da.path()),
        peer_config(&b, "b", db.path()),
    );
    let node_a = start(&ta, da.path()).await;
    let node_b = start(&tb, db.path()).await;
    webhook(http, &a, &node_a.url(), "a").await;
    webhook(http, &b, &node_b.url(), "b").await;
    let ca = NodeConfig::parse(&ta, Path::new("a.toml"), da.path().to_path_buf()).expect("config");
    let cb = NodeConfig::parse(&tb, Path::new("b.toml"), db.path().to_path_buf()).expect("config");
    let code =
        twinsync::peer::enroll::invite(&ca, &node_a.node.store, "ab", Duration::from_secs(600))
            .expect("invite");
    twinsync::peer::enroll::accept(&cb, &node_b.node.store, &code)
        .await
        .expect("accept");
    Setup {
        a,
        b,
        nodes: vec![node_a, node_b],
        _dirs: vec![da, db],
    }
}

async fn create(http: &reqwest::Client, a: &SimHandle, summary: &str) -> String {
    let created = call(http, a, reqwest::Method::POST, "/issue", Some(json!({"fields": {
        "project": {"key": "SUP"}, "issuetype": {"name": "Task"}, "summary": summary, "labels": ["sync"]}}))).await;
    created["key"].as_str().expect("key").to_string()
}

async fn twin(store: &Store, key: &str) -> String {
    loop {
        if let Some(k) = store
            .twin_by_local("ab", "a", key)
            .ok()
            .flatten()
            .and_then(|t| t.remote_key)
        {
            return k;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Edit on A -> visible on B, `n` times; sorted durations.
async fn latency(http: &reqwest::Client, s: &Setup, n: usize) -> Vec<Duration> {
    let key_a = create(http, &s.a, "latency 0").await;
    let key_b = twin(s.store_a(), &key_a).await;
    let mut times = Vec::new();
    for i in 1..=n {
        let summary = format!("latency {i}");
        let t = Instant::now();
        call(
            http,
            &s.a,
            reqwest::Method::PUT,
            &format!("/issue/{key_a}"),
            Some(json!({"fields": {"summary": summary}})),
        )
        .await;
        loop {
            let issue = call(
                http,
                &s.b,
                reqwest::Method::GET,
                &format!("/issue/{key_b}?fields=summary"),
                None,
            )
            .await;
            if issue["fields"]["summary"] == summary.as_str() {
                break;
            }
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
        times.push(t.elapsed());
    }
    times.sort();
    times
}

/// `n` new issues on A until every twin is linked on A (replica over, issue made, ack back).
async fn throughput(http: &reqwest::Client, s: &Setup, n: usize) -> f64 {
    let t = Instant::now();
    let mut keys = Vec::new();
    for i in 0..n {
        keys.push(create(http, &s.a, &format!("throughput {i}")).await);
    }
    for k in &keys {
        twin(s.store_a(), k).await;
    }
    n as f64 / t.elapsed().as_secs_f64()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let issues: usize = std::env::var("PEER_BENCH_ISSUES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let http = reqwest::Client::new();
        let mut p50 = Vec::new();
        for (name, setup) in [
            ("local connection", local(&http).await),
            ("peer link", peered(&http).await),
        ] {
            let times = latency(&http, &setup, 100).await;
            let (a, b) = (times[times.len() / 2], times[times.len() * 99 / 100]);
            println!(
                "{name}: edit on A -> visible on B (100 edits): p50 {:.1} ms, p99 {:.1} ms",
                ms(a),
                ms(b)
            );
            let rate = throughput(&http, &setup, issues).await;
            println!("{name}: {issues} new issues synced and acked: {rate:.1} replicas/s");
            p50.push(a);
            setup.stop().await;
        }
        println!(
            "latency the peer link adds at p50: {:.1} ms",
            ms(p50[1]) - ms(p50[0])
        );
    });
}
