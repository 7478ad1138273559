//! Rules in three languages, and a node with many connections.
//!
//! For the `confidential` rule built from Rust, Python (componentize-py) and JavaScript
//! (componentize-js), on the same sample issue and config: component size, cold compile
//! against a load from the compile cache, memory per loaded module (RSS growth per copy
//! loaded), calls per second, fuel and linear memory per call's instance. Then the RSS of
//! a node serving 51 connections whose 102 sides each load their own rule file.
//!
//! Run with `cargo bench -p twinsync --bench languages` after `scripts/build-rules.sh`.
//! One thread, so "per second" is per core.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;
use common::{bench_ctx as ctx, built_rule as rule, rss_mib, sample_issue as issue};

use twinsync::config::NodeConfig;
use twinsync::daemon;
use twinsync::demo::{PairConfig, extra_connection_toml};
use twinsync::rules::{EngineSettings, RuleEngine, RuleLimits};
use twinsync::sync::node::Node;
use twinsync_jira_sim::{Flavour, SimOptions, Simulator};

const MIB: f64 = (1 << 20) as f64;

/// `bytes` with a custom section naming copy `i` appended: the same code under another hash,
/// so the engine cannot share it with the original.
fn distinct(bytes: &[u8], i: usize) -> Vec<u8> {
    let name = format!("twinsync-bench-copy-{i}");
    let payload_len = 1 + name.len(); // a one-byte LEB128 name length, then the name
    let mut out = bytes.to_vec();
    out.push(0); // custom section
    out.push(payload_len as u8);
    out.push(name.len() as u8);
    out.extend_from_slice(name.as_bytes());
    out
}

fn language(label: &str, file: &Path, iterations: usize) {
    let bytes = std::fs::read(file).expect("read rule");
    let cache = tempfile::tempdir().expect("cache dir");
    let settings = EngineSettings {
        cache_dir: Some(cache.path().join("cache")),
        ..EngineSettings::default()
    };
    let engine = RuleEngine::new(settings.clone()).expect("engine");
    let t = Instant::now();
    let first = engine.load_bytes("rule.wasm", &bytes).expect("load");
    let cold = t.elapsed();
    // A restart: a fresh engine on the same cache directory.
    let warm = {
        let engine = RuleEngine::new(settings).expect("engine");
        let t = Instant::now();
        let _cached = engine.load_bytes("rule.wasm", &bytes).expect("cached load");
        t.elapsed()
    };
    drop(first);

    // Memory per loaded module: RSS growth per distinct copy held at once (compiled, as
    // distinct bytes are), and per side that loads a module already in memory.
    const COPIES: usize = 3;
    let copies: Vec<Vec<u8>> = (0..COPIES).map(|i| distinct(&bytes, i)).collect();
    let before = rss_mib();
    let compiled: Vec<_> = copies
        .iter()
        .enumerate()
        .map(|(i, c)| {
            engine
                .load_bytes(&format!("copy-{i}.wasm"), c)
                .expect("copy")
        })
        .collect();
    let per_compiled = (rss_mib() - before) / COPIES as f64;
    drop(compiled);
    // As a node restarting: the same modules from the compile cache.
    let engine = RuleEngine::new(EngineSettings {
        cache_dir: Some(cache.path().join("cache")),
        ..EngineSettings::default()
    })
    .expect("engine");
    let cached = engine.load_bytes("rule.wasm", &bytes).expect("cached load");
    let before = rss_mib();
    let held: Vec<_> = (0..COPIES)
        .map(|i| {
            engine
                .load_bytes(&format!("copy-{i}.wasm"), &copies[i])
                .expect("copy")
        })
        .collect();
    let per_module = (rss_mib() - before) / COPIES as f64;
    let before = rss_mib();
    let sharing: Vec<_> = (0..20)
        .map(|i| {
            engine
                .load_bytes(&format!("side-{i}.wasm"), &bytes)
                .expect("shared")
        })
        .collect();
    let per_sharing_side = (rss_mib() - before) / sharing.len() as f64;

    let config: twinsync::rules::RuleConfig = Arc::new(HashMap::from([
        ("redact.words".to_string(), "acme,globex".to_string()),
        ("redact.fields".to_string(), "assignee,Team".to_string()),
    ]));
    let limits = RuleLimits::default();
    let issue = issue();
    let mut fuel = 0;
    let mut memory = 0;
    let mut call = || {
        let r = cached.outgoing(issue.clone(), ctx(), &limits, &config);
        assert!(r.result.is_ok(), "{label}: {:?}", r.result.err());
        fuel = r.fuel_used;
        memory = r.memory_bytes;
    };
    call();
    let (times, total) = common::timed(iterations, &mut call);
    let p50: Duration = times[times.len() / 2];
    println!(
        "{label:<11} {:>5.1} MiB  compile {:>6.0} ms  cached load {:>6.1} ms  module {:>5.1} MiB \
         compiled, {:>5.1} MiB from cache (+{:.2} per side sharing it)  {:>7.1} calls/s  p50 {:>7.2} ms  fuel {:>10}  instance {:>5.1} MiB",
        bytes.len() as f64 / MIB,
        cold.as_secs_f64() * 1e3,
        warm.as_secs_f64() * 1e3,
        per_compiled,
        per_module,
        per_sharing_side,
        iterations as f64 / total.as_secs_f64(),
        p50.as_secs_f64() * 1e3,
        fuel,
        memory as f64 / MIB,
    );
    drop((held, sharing));
}

fn fifty_connections(distinct_modules: bool) {
    let Some(basic) = rule("basic") else {
        println!("rule_basic.wasm is missing: run scripts/build-rules.sh");
        return;
    };
    let bytes = std::fs::read(&basic).expect("read basic");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let a = Simulator::start(SimOptions::new(Flavour::Cloud))
            .await
            .expect("sim a");
        let b = Simulator::start(SimOptions::new(Flavour::DataCenter))
            .await
            .expect("sim b");
        let dir = tempfile::tempdir().expect("tempdir");
        let rules = dir.path().join("rules");
        std::fs::create_dir_all(&rules).expect("rules dir");
        let mut text =
            PairConfig::new(dir.path().join("data"), basic.clone(), basic.clone()).toml(&a, &b);
        for i in 0..50 {
            let (ra, rb) = (
                rules.join(format!("c{i:02}-a.wasm")),
                rules.join(format!("c{i:02}-b.wasm")),
            );
            let (ba, bb) = if distinct_modules {
                (distinct(&bytes, 2 * i), distinct(&bytes, 2 * i + 1))
            } else {
                (bytes.clone(), bytes.clone())
            };
            std::fs::write(&ra, ba).expect("write rule");
            std::fs::write(&rb, bb).expect("write rule");
            text.push_str(&extra_connection_toml(
                &format!("c{i:02}"),
                &format!("sync-{i}"),
                &ra,
                &rb,
                300_000_000,
            ));
        }
        let config = NodeConfig::parse(&text, Path::new("bench.toml"), dir.path().to_path_buf())
            .expect("config");
        let before = rss_mib();
        let t = Instant::now();
        let node = Node::build(config).expect("node");
        let built = t.elapsed();
        let running = daemon::start(node).await.expect("start");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = rss_mib();
        let slots = running.node.registry.slots().len();
        println!(
            "node, 51 connections, {slots} sides running basic, {}: node {:.0} MiB ({:.2} MiB \
             per side), process RSS {after:.0} MiB with both simulators; built in {:.1} s",
            if distinct_modules {
                "each side its own module"
            } else {
                "all sides one module"
            },
            after - before,
            (after - before) / slots as f64,
            built.as_secs_f64(),
        );
        running.stop().await;
    });
}

fn main() {
    // First, while the process holds nothing else: its RSS growth is the node's.
    fifty_connections(false);
    fifty_connections(true);
    println!("confidential rule, outgoing, sample issue, redact.words and redact.fields set:");
    for (label, name, iterations) in [
        ("Rust", "confidential", 2000),
        ("Python", "confidential_py", 100),
        ("JavaScript", "confidential_js", 20),
    ] {
        match rule(name) {
            Some(file) => language(label, &file, iterations),
            None => println!("{label:<11} rule_{name}.wasm is missing: run scripts/build-rules.sh"),
        }
    }
}
