//! Sync figures on loopback: end-to-end latency (edit in A -> visible in B), Jira calls per
//! synced change on each side, bulk throughput, and the process's RSS.
//!
//! Run with `cargo bench -p twinsync --bench sync` after `scripts/build-rules.sh`.
//! `SYNC_BENCH_ISSUES` sets the bulk size (default 1000, 5 comments each).
//! The simulators run in the same process as the node, so RSS is an upper bound for the node.

use std::path::Path;
use std::time::{Duration, Instant};

mod common;
use common::{percentile, root, rss_mib};

use serde_json::{Value, json};
use twinsync::config::NodeConfig;
use twinsync::daemon;
use twinsync::demo::PairConfig;
use twinsync::sync::node::Node;
use twinsync_jira_sim::{Flavour, SimHandle, SimOptions, Simulator};

struct Api {
    http: reqwest::Client,
}

impl Api {
    async fn call(
        &self,
        sim: &SimHandle,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}{path}", sim.api_base()))
            .header("Authorization", sim.auth_header());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("simulator answers");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap_or(Value::Null)
    }
}

async fn setup(dir: &Path, poll: bool, budget_b: &str) -> (SimHandle, SimHandle, daemon::Running) {
    let rule = root().join("target/wasm32-wasip2/rules/rule_basic.wasm");
    if !rule.is_file() {
        eprintln!(
            "{} is missing: run scripts/build-rules.sh first",
            rule.display()
        );
        std::process::exit(2);
    }
    let a = Simulator::start(SimOptions::new(Flavour::Cloud))
        .await
        .expect("sim a");
    let b = Simulator::start(SimOptions::new(Flavour::DataCenter))
        .await
        .expect("sim b");
    let text = PairConfig {
        workers: 8,
        poll_interval_secs: if poll { 1 } else { 0 },
        budget_a: Some("{ unlimited = true }".into()),
        budget_b: Some(budget_b.into()),
        ..PairConfig::new(dir.join("data"), rule.clone(), rule)
    }
    .toml(&a, &b);
    let config =
        NodeConfig::parse(&text, Path::new("bench.toml"), dir.to_path_buf()).expect("config");
    let node = Node::build(config).expect("node");
    let running = daemon::start(node).await.expect("start");
    (a, b, running)
}

async fn register_webhooks(api: &Api, a: &SimHandle, b: &SimHandle, node: &str) {
    for (sim, inst) in [(a, "a"), (b, "b")] {
        let req = api
            .http
            .post(format!("{}/rest/webhooks/1.0/webhook", sim.url()))
            .header("Authorization", sim.auth_header())
            .json(&json!({"name": "bench", "url": format!("{node}/webhooks/jira/{inst}?secret=s3cret-s3cret-s3cret"),
                          "events": ["jira:issue_created", "jira:issue_updated", "comment_created"]}));
        assert!(req.send().await.expect("register").status().is_success());
    }
}

async fn latency(api: &Api) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b, running) = setup(dir.path(), false, "{ unlimited = true }").await;
    register_webhooks(api, &a, &b, &running.url()).await;
    let created = api
        .call(
            &a,
            reqwest::Method::POST,
            "/issue",
            Some(json!({"fields": {"project": {"key": "SUP"},
            "issuetype": {"name": "Task"}, "summary": "latency 0", "labels": ["sync"]}})),
        )
        .await;
    let key_a = created["key"].as_str().expect("key").to_string();
    let store = running.node.store.clone();
    let key_b = loop {
        if let Some(k) = store
            .twin_by_local("ab", "a", &key_a)
            .ok()
            .flatten()
            .and_then(|t| t.remote_key)
        {
            break k;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    while store.has_open_events().unwrap_or(true) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Calls for one synced change: one summary edit on A.
    a.clear_log();
    b.clear_log();
    // Calls for one synced change, counted with nobody else reading B.
    api.call(
        &a,
        reqwest::Method::PUT,
        &format!("/issue/{key_a}"),
        Some(json!({"fields": {"summary": "counted"}})),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    while store.has_open_events().unwrap_or(true) {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let count = |sim: &SimHandle| {
        let mut by_route: Vec<String> = sim
            .counters()
            .into_iter()
            .map(|c| format!("{} {} x{}", c.method, c.route, c.count))
            .collect();
        by_route.sort();
        by_route
    };
    println!(
        "Jira calls for one summary edit, on A (the bench's own PUT included): {:?}",
        count(&a)
    );
    println!("Jira calls for it on B: {:?}", count(&b));
    let mut times = Vec::new();
    for i in 1..=200 {
        let summary = format!("latency {i}");
        let t = Instant::now();
        api.call(
            &a,
            reqwest::Method::PUT,
            &format!("/issue/{key_a}"),
            Some(json!({"fields": {"summary": summary}})),
        )
        .await;
        loop {
            let issue = api
                .call(
                    &b,
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
    println!(
        "end-to-end latency, edit on A -> visible on B ({} edits): p50 {:.1} ms, p99 {:.1} ms",
        times.len(),
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3
    );
    running.stop().await;
}

async fn bulk(api: &Api, issues: usize, rate_limited: bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    // Rate-limited: B enforces Jira Cloud's published limits and the node paces itself to them.
    let budget_b = if rate_limited {
        "{ reads_per_sec = 100.0, writes_per_sec = 100.0 }"
    } else {
        "{ unlimited = true }"
    };
    let (a, b, running) = setup(dir.path(), false, budget_b).await;
    // Seed A through its REST API (8 at a time), then bulk-sync them all.
    let seeded = Instant::now();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
    let mut tasks = Vec::new();
    for i in 0..issues {
        let permit = sem.clone().acquire_owned().await.expect("permit");
        let (http, base, auth) = (api.http.clone(), a.api_base(), a.auth_header());
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            let created: Value = http
                .post(format!("{base}/issue"))
                .header("Authorization", &auth)
                .json(&json!({"fields": {"project": {"key": "SUP"}, "issuetype": {"name": "Task"},
                    "summary": format!("bulk issue {i}"), "labels": ["bulk"]}}))
                .send()
                .await
                .expect("create")
                .json()
                .await
                .expect("json");
            let key = created["key"].as_str().unwrap_or_default().to_string();
            for c in 0..5 {
                let body = json!({"body": {"type": "doc", "version": 1, "content": [{"type": "paragraph",
                    "content": [{"type": "text", "text": format!("comment {c} on {key}")}]}]}});
                http.post(format!("{base}/issue/{key}/comment"))
                    .header("Authorization", &auth)
                    .json(&body)
                    .send()
                    .await
                    .expect("comment");
            }
        }));
    }
    for t in tasks {
        t.await.expect("seed task");
    }
    println!(
        "seeded {issues} issues with 5 comments each in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );
    b.clear_log();
    let side = running.node.pipeline.side("ab", "a").expect("side").clone();
    let t = Instant::now();
    let run = twinsync::sync::detect::bulk(
        &running.node,
        &side,
        "project = SUP AND labels = bulk",
        |_| {},
    )
    .await
    .expect("bulk");
    let store = running.node.store.clone();
    while store.has_open_events().unwrap_or(true) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = t.elapsed().as_secs_f64();
    let stats = store.queue_stats(Some("ab")).expect("stats");
    let writes: u64 = b
        .counters()
        .iter()
        .filter(|c| c.method != "GET")
        .map(|c| c.count)
        .sum();
    let throttled: u64 = b
        .counters()
        .iter()
        .filter(|c| c.status == 429)
        .map(|c| c.count)
        .sum();
    println!(
        "bulk{}: {} issues (+{} comments) synced in {elapsed:.1} s = {:.0} issues/s; {} events failed; {writes} writes on B ({throttled} answered 429)",
        if rate_limited {
            " under Cloud rate limits"
        } else {
            ", unthrottled"
        },
        run.queued,
        run.queued * 5,
        run.queued as f64 / elapsed,
        stats.failed
    );
    if rate_limited {
        // The floor: every create and comment is a POST, and B allows 100 POSTs a second.
        let floor = (run.queued * 6) as f64 / 100.0;
        println!(
            "  floor set by the simulator's POST limit: {floor:.1} s; measured / floor = {:.2}",
            elapsed / floor
        );
    }
    println!(
        "RSS after bulk (node + both simulators in one process): {:.0} MiB",
        rss_mib()
    );
    running.stop().await;
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let issues = std::env::var("SYNC_BENCH_ISSUES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let api = Api {
            http: reqwest::Client::new(),
        };
        println!("RSS at start: {:.0} MiB", rss_mib());
        latency(&api).await;
        bulk(&api, issues, false).await;
        bulk(&api, (issues / 4).max(50), true).await;
    });
}
