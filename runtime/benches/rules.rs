//! Rule engine figures: calls per second and per-call latency (instantiation included),
//! cached load against cold compile, and time from a rule file's write to the new version serving.
//!
//! Run with `cargo bench -p twinsync --bench rules` after `scripts/build-rules.sh`.
//! One thread, so "per second" is per core.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use twinsync::model::Issue;
use twinsync::rules::{EngineSettings, LoadedRule, RuleEngine, RuleLimits, RuleRegistry};

mod common;
use common::{bench_ctx as ctx, percentile, require_rule as rule, sample_issue as issue};

fn measure(label: &str, iterations: usize, mut call: impl FnMut()) {
    for _ in 0..iterations / 10 {
        call(); // warm the pool slots and caches
    }
    let (times, total) = common::timed(iterations, &mut call);
    println!(
        "{label:<34} {:>9.0} calls/s   p50 {:>7.1} µs   p99 {:>7.1} µs",
        iterations as f64 / total.as_secs_f64(),
        percentile(&times, 0.50).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
    );
}

fn calls(engine_label: &str, settings: EngineSettings) {
    let engine = RuleEngine::new(settings).expect("engine");
    let basic: Arc<LoadedRule> = engine.load_file(&rule("basic")).expect("load basic");
    let limits = RuleLimits::default();
    let config = Arc::new(HashMap::from([("project".to_string(), "GLX".to_string())]));
    let issue = issue();
    let replica = basic
        .outgoing(issue.clone(), ctx(), &limits, &config)
        .result
        .expect("outgoing works");
    let n = 5_000;
    measure(&format!("outgoing ({engine_label})"), n, || {
        let r = basic.outgoing(issue.clone(), ctx(), &limits, &config);
        assert!(r.result.is_ok());
    });
    // The same call on an empty issue: what instantiation and the call itself cost, without the payload.
    let empty = Issue::default();
    measure(
        &format!("outgoing, empty issue ({engine_label})"),
        n,
        || {
            let r = basic.outgoing(empty.clone(), ctx(), &limits, &config);
            assert!(r.result.is_ok());
        },
    );
    measure(&format!("incoming ({engine_label})"), n, || {
        let r = basic.incoming(
            replica.clone(),
            Some(issue.clone()),
            ctx(),
            &limits,
            &config,
        );
        assert!(r.result.is_ok());
    });
}

fn loads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = EngineSettings {
        cache_dir: Some(dir.path().join("cache")),
        ..EngineSettings::default()
    };
    let path = rule("basic");
    let cold = {
        let engine = RuleEngine::new(settings.clone()).expect("engine");
        let t = Instant::now();
        engine.load_file(&path).expect("cold load");
        t.elapsed()
    };
    let engine = RuleEngine::new(settings).expect("engine");
    let mut cached = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        engine.load_file(&path).expect("cached load");
        cached.push(t.elapsed());
    }
    cached.sort();
    println!(
        "load basic: cold compile {:.1} ms, cached load p50 {:.2} ms (p99 {:.2} ms)",
        cold.as_secs_f64() * 1e3,
        percentile(&cached, 0.5).as_secs_f64() * 1e3,
        percentile(&cached, 0.99).as_secs_f64() * 1e3,
    );
}

fn reload() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let engine = Arc::new(
        RuleEngine::new(EngineSettings {
            cache_dir: Some(cache),
            ..EngineSettings::default()
        })
        .expect("engine"),
    );
    // Warm the cache with both versions, as a node that has seen them before would be.
    let other = engine
        .load_file(&rule("confidential"))
        .expect("confidential");
    let file = dir.path().join("rule.wasm");
    std::fs::copy(rule("basic"), &file).expect("copy");
    let registry = RuleRegistry::new(engine);
    let slot = registry.register("bench", &file).expect("register");
    let mut times = Vec::new();
    let versions = [rule("confidential"), rule("basic")];
    for round in 0..6 {
        let next = &versions[round % 2];
        let staged = dir.path().join("staged.wasm");
        std::fs::copy(next, &staged).expect("stage");
        let t = Instant::now();
        std::fs::rename(&staged, &file).expect("swap");
        let want_other = round % 2 == 0;
        loop {
            let current = slot.current().expect("loaded");
            if (current.id().hash == other.id().hash) == want_other {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "reload: file write -> new version serving p50 {:.0} ms, max {:.0} ms (debounce 100 ms)",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing useful: run only under bench.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let issue_json = serde_json::to_string(&issue())
        .map(|s| s.len())
        .unwrap_or(0);
    println!(
        "typical issue: {issue_json} bytes of JSON, 10 comments, 5 labels, 3 attachments, 5 custom fields"
    );
    calls("pooling", EngineSettings::default());
    calls(
        "on-demand",
        EngineSettings {
            pooling: false,
            ..EngineSettings::default()
        },
    );
    loads();
    reload();
}
