//! Hot reload: a rejected version keeps the old one serving, and a reload under concurrent
//! calls loses none and mixes no versions.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use super::{config, ctx};
use twinsync::rules::{EngineSettings, ReloadOutcome, RuleEngine, RuleLimits, RuleRegistry};
use twinsync_e2e::fixtures::{rule, sample_issue};
use twinsync_e2e::wait::Wait;

/// Waits until `done` holds, polling; the watcher reacts within its debounce window.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    Wait::new(what)
        .every(Duration::from_millis(20))
        .until_blocking(|| done().then_some(()).ok_or("not yet"));
}

#[test]
fn a_rejected_reload_keeps_the_old_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("rule.wasm");
    std::fs::copy(rule("basic"), &file).expect("copy");
    let engine = Arc::new(
        RuleEngine::new(EngineSettings {
            pooling: false,
            ..EngineSettings::default()
        })
        .expect("engine"),
    );
    let registry = RuleRegistry::new(engine);
    let slot = registry.register("acme", &file).expect("register");
    let good = slot.current().expect("loaded");

    std::fs::write(&file, b"\0asm garbage").expect("write garbage");
    wait_for("the rejection", || {
        matches!(slot.last_reload().1, ReloadOutcome::Rejected { .. })
    });
    let (_, outcome) = slot.last_reload();
    let ReloadOutcome::Rejected { reason } = outcome else {
        unreachable!()
    };
    assert!(
        reason.contains("rule.wasm"),
        "the reason names the file: {reason}"
    );
    assert_eq!(slot.current().expect("still loaded").id(), good.id());
    // A write can reach the watcher as two changes (truncate, then data) on a busy machine.
    assert!(slot.rejected.load(Ordering::Relaxed) >= 1);
    let out = slot.current().expect("current").outgoing(
        sample_issue(),
        ctx(false),
        &RuleLimits::default(),
        &config(&[]),
    );
    assert!(out.result.is_ok(), "the old version keeps serving");
}

#[test]
fn a_reload_under_concurrent_calls_loses_none_and_mixes_no_versions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("rule.wasm");
    std::fs::copy(rule("basic"), &file).expect("copy");
    let engine = Arc::new(RuleEngine::new(EngineSettings::default()).expect("engine"));
    let registry = RuleRegistry::new(engine.clone());
    let slot = registry.register("acme", &file).expect("register");
    let basic_hash = slot.current().expect("loaded").id().hash.clone();
    let confidential = engine
        .load_file(&rule("confidential"))
        .expect("load confidential");
    let confidential_hash = confidential.id().hash.clone();
    let internal = sample_issue()
        .comments
        .iter()
        .filter(|c| c.internal)
        .count();
    assert!(internal > 0, "the sample has internal comments");

    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let seen_new = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (slot, stop, calls, seen_new) =
                (slot.clone(), stop.clone(), calls.clone(), seen_new.clone());
            let (basic_hash, confidential_hash) = (basic_hash.clone(), confidential_hash.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let rule = slot.current().expect("a rule is always loaded");
                    let issue = sample_issue();
                    let total = issue.comments.len();
                    let report =
                        rule.outgoing(issue, ctx(false), &RuleLimits::default(), &config(&[]));
                    let replica = report.result.expect("no call is lost during a reload");
                    // The shape must match the version the report names: no mixing within a call.
                    if report.rule.hash == basic_hash {
                        assert_eq!(replica.comments.len(), total);
                    } else {
                        assert_eq!(report.rule.hash, confidential_hash);
                        assert_eq!(replica.comments.len(), total - internal);
                        assert!(replica.attachments.is_empty());
                        seen_new.store(true, Ordering::Relaxed);
                    }
                    calls.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    wait_for("calls on the old version", || {
        calls.load(Ordering::Relaxed) > 20
    });
    // Swap as an admin would: write a new file next to it and rename over the old one.
    let staged = dir.path().join("rule.wasm.new");
    std::fs::copy(rule("confidential"), &staged).expect("stage");
    std::fs::rename(&staged, &file).expect("swap");
    wait_for("the new version serving", || {
        seen_new.load(Ordering::Relaxed)
    });
    let after = calls.load(Ordering::Relaxed);
    wait_for("calls on the new version", || {
        calls.load(Ordering::Relaxed) > after + 20
    });
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker ok");
    }
    assert_eq!(slot.current().expect("loaded").id().hash, confidential_hash);
    assert!(matches!(
        slot.last_reload().1,
        ReloadOutcome::Accepted { .. }
    ));
}
