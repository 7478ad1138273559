//! The compile cache: a restart loads compiled rules, sides running one module share its code,
//! and a module loaded by many sides at once compiles once.

use std::sync::atomic::Ordering;

use super::{config, ctx};
use twinsync::rules::{EngineSettings, RuleEngine, RuleLimits};
use twinsync_e2e::fixtures::{rule, sample_issue};

#[test]
fn a_restart_loads_compiled_rules_from_the_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = EngineSettings {
        cache_dir: Some(dir.path().join("cache")),
        pooling: false,
        ..EngineSettings::default()
    };
    let first = RuleEngine::new(settings.clone()).expect("engine");
    let a = first.load_file(&rule("basic")).expect("cold load");
    assert_eq!(first.stats().compilations.load(Ordering::Relaxed), 1);
    assert_eq!(first.stats().cache_loads.load(Ordering::Relaxed), 0);
    drop(first);

    let restarted = RuleEngine::new(settings).expect("engine after restart");
    let b = restarted.load_file(&rule("basic")).expect("cached load");
    assert_eq!(
        restarted.stats().compilations.load(Ordering::Relaxed),
        0,
        "no compile after a restart"
    );
    assert_eq!(restarted.stats().cache_loads.load(Ordering::Relaxed), 1);
    assert_eq!(a.id(), b.id());
    let out = b.outgoing(
        sample_issue(),
        ctx(false),
        &RuleLimits::default(),
        &config(&[]),
    );
    assert!(out.result.is_ok(), "the cached code runs");
}

#[test]
fn sides_running_the_same_module_share_its_compiled_code() {
    let engine = RuleEngine::new(EngineSettings::default()).expect("engine");
    let bytes = std::fs::read(rule("confidential")).expect("read");
    let a = engine.load_bytes("a.wasm", &bytes).expect("a");
    let b = engine.load_bytes("b.wasm", &bytes).expect("b");
    assert_eq!(engine.stats().compilations.load(Ordering::Relaxed), 1);
    assert_eq!(engine.stats().shared_loads.load(Ordering::Relaxed), 1);
    assert_eq!(a.id().hash, b.id().hash);
    assert_eq!(b.id().name, "b.wasm", "each side keeps its own name");
    let out = b.outgoing(
        sample_issue(),
        ctx(false),
        &RuleLimits::default(),
        &config(&[]),
    );
    assert!(out.result.is_ok());
    // Once no side holds a module, loading it again compiles it again.
    drop((a, b));
    let _c = engine.load_bytes("c.wasm", &bytes).expect("c");
    assert_eq!(engine.stats().compilations.load(Ordering::Relaxed), 2);
}

#[test]
fn sides_loading_one_new_module_at_once_compile_it_once() {
    let engine = RuleEngine::new(EngineSettings::default()).expect("engine");
    let bytes = std::fs::read(rule("mapping")).expect("read");
    let start = std::sync::Barrier::new(4);
    let loaded: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (engine, bytes, start) = (&engine, &bytes, &start);
                s.spawn(move || {
                    start.wait();
                    engine
                        .load_bytes(&format!("side-{i}.wasm"), bytes)
                        .expect("load")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(loaded.len(), 4);
    assert_eq!(engine.stats().compilations.load(Ordering::Relaxed), 1);
    assert_eq!(engine.stats().shared_loads.load(Ordering::Relaxed), 3);
}
