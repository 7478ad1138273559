//! The rule engine with real components built from example-rules/: stock rules, hostile rules,
//! hot reload, the compile cache and the contract checks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use twinsync::model::{Replica, SyncContext, SyncEvent};
use twinsync::rules::{
    CallError, EngineSettings, LimitHit, LoadError, ReloadOutcome, RuleConfig, RuleEngine,
    RuleLimits, RuleRegistry,
};
use twinsync_e2e::wait::Wait;
use twinsync_e2e::{rule, sample_issue};

/// One engine for the tests that need no special settings: built once, as a node would.
fn engine() -> &'static RuleEngine {
    static ENGINE: OnceLock<RuleEngine> = OnceLock::new();
    ENGINE.get_or_init(|| RuleEngine::new(EngineSettings::default()).expect("engine"))
}

fn ctx(first_sync: bool) -> SyncContext {
    SyncContext {
        connection: "acme-globex".into(),
        local_side: "acme".into(),
        remote_side: "globex".into(),
        first_sync,
        local_key: Some("ACME-42".into()),
        remote_key: None,
        event: SyncEvent::Updated,
    }
}

fn config(pairs: &[(&str, &str)]) -> RuleConfig {
    Arc::new(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
    )
}

#[test]
fn basic_rule_copies_the_issue_and_lands_it_as_changes() {
    let basic = engine().load_file(&rule("basic")).expect("load basic");
    let issue = sample_issue();
    let out = basic.outgoing(
        issue.clone(),
        ctx(false),
        &RuleLimits::default(),
        &config(&[]),
    );
    let replica = out.result.expect("basic outgoing");
    assert_eq!(
        out.rule,
        *basic.id(),
        "the report names the version that ran"
    );
    assert_eq!(replica.summary.as_deref(), Some(issue.summary.as_str()));
    assert_eq!(replica.status.as_deref(), Some("In Progress"));
    assert_eq!(replica.priority.as_deref(), Some("High"));
    assert_eq!(replica.issue_type.as_deref(), Some("Bug"));
    assert_eq!(replica.labels, issue.labels);
    assert_eq!(replica.comments.len(), issue.comments.len());
    assert_eq!(replica.attachments.len(), issue.attachments.len());
    assert_eq!(
        replica.description.as_ref().map(|d| d.text.as_str()),
        issue.description.as_ref().map(|d| d.text.as_str())
    );

    let cfg = config(&[("project", "GLX")]);
    let into = basic.incoming(
        replica.clone(),
        None,
        ctx(true),
        &RuleLimits::default(),
        &cfg,
    );
    let changes = into.result.expect("basic incoming");
    assert_eq!(changes.project.as_deref(), Some("GLX"));
    assert_eq!(changes.summary, replica.summary);
    assert_eq!(changes.status, replica.status);
    assert_eq!(changes.labels.as_ref(), Some(&replica.labels));
    let comments = changes.comments.expect("comments are a desired set");
    assert_eq!(comments.len(), replica.comments.len());
    assert_eq!(comments[0].remote_id, replica.comments[0].id);
    let attachments = changes.attachments.expect("attachments are a desired set");
    assert_eq!(attachments[2].remote_id, replica.attachments[2].id);
}

#[test]
fn basic_rule_fails_first_sync_without_a_project() {
    let basic = engine().load_file(&rule("basic")).expect("load basic");
    let report = basic.incoming(
        Replica {
            summary: Some("x".into()),
            ..Replica::default()
        },
        None,
        ctx(true),
        &RuleLimits::default(),
        &config(&[]),
    );
    match report.result {
        Err(CallError::Fail { id, reason }) => {
            assert_eq!(id, *basic.id());
            assert!(reason.contains("project"), "{reason}");
        }
        other => panic!("expected a fail naming the project setting, got {other:?}"),
    }
}

/// Runs one hostile rule and checks that a good rule on the same engine still serves afterwards.
fn hostile(name: &str, limits: &RuleLimits, cfg: &[(&str, &str)]) -> CallError {
    let bad = engine()
        .load_file(&rule(name))
        .expect("hostile rules still load");
    let report = bad.outgoing(sample_issue(), ctx(false), limits, &config(cfg));
    let err = report.result.expect_err("a hostile rule gives no answer");
    assert_eq!(err.rule(), Some(bad.id()), "{err}");
    let message = err.to_string();
    assert!(
        message.contains(&bad.id().name),
        "names the file: {message}"
    );
    assert!(
        message.contains(bad.id().version()),
        "names the version: {message}"
    );
    let good = engine().load_file(&rule("basic")).expect("load basic");
    let after = good.outgoing(
        sample_issue(),
        ctx(false),
        &RuleLimits::default(),
        &config(&[]),
    );
    assert!(after.result.is_ok(), "basic keeps serving after {name}");
    err
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let limits = RuleLimits::default();
    let err = hostile("hostile-loop", &limits, &[]);
    assert!(
        matches!(err, CallError::Limit { limit: LimitHit::Fuel(n), .. } if n == limits.fuel),
        "{err}"
    );
    assert!(err.to_string().contains("CPU limit"), "{err}");
}

#[test]
fn memory_bomb_hits_the_memory_limit() {
    let limits = RuleLimits {
        memory_bytes: 32 << 20,
        ..RuleLimits::default()
    };
    let err = hostile("hostile-memory", &limits, &[]);
    assert!(
        matches!(err, CallError::Limit { limit: LimitHit::Memory(n), .. } if n == 32 << 20),
        "{err}"
    );
    assert!(err.to_string().contains("memory limit (32 MiB)"), "{err}");
}

#[test]
fn deep_recursion_hits_the_stack_limit() {
    let err = hostile("hostile-recursion", &RuleLimits::default(), &[]);
    assert!(
        matches!(
            err,
            CallError::Limit {
                limit: LimitHit::Stack(_),
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn output_flood_hits_the_output_limit() {
    let limits = RuleLimits {
        output_bytes: 1 << 20,
        ..RuleLimits::default()
    };
    // 4 MiB of output: far over the 1 MiB cap, well inside memory and fuel.
    let err = hostile("hostile-flood", &limits, &[("flood.mib", "4")]);
    assert!(
        matches!(err, CallError::Limit { limit: LimitHit::Output(n), .. } if n == 1 << 20),
        "{err}"
    );
}

#[test]
fn panic_is_a_trap_with_the_panic_message() {
    let err = hostile("hostile-panic", &RuleLimits::default(), &[]);
    match &err {
        CallError::Trap { output, .. } => assert!(output.contains("panicked"), "{err}"),
        other => panic!("expected a trap, got {other}"),
    }
}

#[test]
fn escape_attempts_see_nothing_of_the_host() {
    let escape = engine()
        .load_file(&rule("hostile-escape"))
        .expect("load escape");
    // Set a variable the rule must not see.
    let report = escape.outgoing(
        sample_issue(),
        ctx(false),
        &RuleLimits::default(),
        &config(&[]),
    );
    let replica = report
        .result
        .expect("the escape rule answers with what it saw");
    let seen: HashMap<_, _> = replica.properties.into_iter().collect();
    let get = |k: &str| {
        seen.get(k)
            .cloned()
            .unwrap_or_else(|| panic!("no {k} in {seen:?}"))
    };
    assert!(get("fs").starts_with("error"), "file access: {}", get("fs"));
    assert!(get("env").starts_with("0 "), "environment: {}", get("env"));
    assert!(get("net").starts_with("error"), "network: {}", get("net"));
    assert!(
        get("dns").starts_with("error"),
        "name lookup: {}",
        get("dns")
    );
    let wall: u64 = get("clock")
        .trim()
        .parse()
        .expect("clock is a number of seconds");
    assert_eq!(wall, 0, "the wall clock is frozen at the epoch");
    // Same "randomness" on every call: a rule cannot become non-deterministic.
    let again = escape.outgoing(
        sample_issue(),
        ctx(false),
        &RuleLimits::default(),
        &config(&[]),
    );
    let again: HashMap<_, _> = again
        .result
        .expect("again")
        .properties
        .into_iter()
        .collect();
    assert_eq!(again.get("random"), seen.get("random"));
}

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
fn check_refuses_a_core_module_and_another_world() {
    let core = wat::parse_str(r#"(module (func (export "outgoing")))"#).expect("wat");
    let err = engine()
        .load_bytes("core.wasm", &core)
        .err()
        .expect("refused");
    assert!(matches!(err, LoadError::CoreModule { .. }), "{err}");
    assert!(err.to_string().contains("not a component"), "{err}");

    let other = wat::parse_str(
        r#"(component
             (core module $m (func (export "f")))
             (core instance $i (instantiate $m))
             (func (export "run") (canon lift (core func $i "f"))))"#,
    )
    .expect("wat");
    let err = engine()
        .load_bytes("other.wasm", &other)
        .err()
        .expect("refused");
    assert!(matches!(err, LoadError::WrongWorld { .. }), "{err}");
    assert!(err.to_string().contains("exports: run"), "{err}");

    let future = wat::parse_str(r#"(component (import "twinsync:rules/host@0.9.0" (instance)))"#)
        .expect("wat");
    let err = engine()
        .load_bytes("future.wasm", &future)
        .err()
        .expect("refused");
    assert!(
        matches!(err, LoadError::IncompatibleVersion { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("0.9.0"), "{err}");

    let err = engine()
        .load_bytes("text.wasm", b"hello")
        .err()
        .expect("refused");
    assert!(matches!(err, LoadError::NotWasm { .. }), "{err}");

    let info = twinsync::rules::authoring::check(&rule("basic")).expect("basic fits");
    assert_eq!(info.world_version, "0.2.0");
    assert!(
        info.exports.iter().any(|e| e == "func outgoing"),
        "{:?}",
        info.exports
    );
    assert!(
        info.exports.iter().any(|e| e == "func incoming"),
        "{:?}",
        info.exports
    );
    assert_eq!(info.hash.len(), 64);
}

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

#[test]
fn mapping_rule_maps_values_and_honours_directions() {
    let mapping = engine().load_file(&rule("mapping")).expect("load mapping");
    let cfg = config(&[
        ("direction.assignee", "none"),
        ("direction.labels", "in"),
        ("direction.comments", "out"),
        ("map.status.In Progress", "Doing"),
        ("map.priority.High", "P1"),
        ("unmapped.issue-type", "default:Task"),
        ("project", "GLX"),
    ]);
    let issue = sample_issue();
    let replica = mapping
        .outgoing(issue.clone(), ctx(false), &RuleLimits::default(), &cfg)
        .result
        .expect("mapping outgoing");
    assert!(
        replica.assignee.is_none(),
        "direction none: the assignee never leaves"
    );
    assert!(
        replica.labels.is_empty(),
        "direction in: labels are not sent"
    );
    assert_eq!(
        replica.comments.len(),
        issue.comments.len(),
        "direction out: comments are sent"
    );
    assert_eq!(
        replica.status.as_deref(),
        Some("In Progress"),
        "outgoing sends values as they are"
    );

    let changes = mapping
        .incoming(replica, None, ctx(true), &RuleLimits::default(), &cfg)
        .result
        .expect("mapping incoming");
    assert_eq!(changes.status.as_deref(), Some("Doing"));
    assert_eq!(changes.priority.as_deref(), Some("P1"));
    assert_eq!(
        changes.issue_type.as_deref(),
        Some("Task"),
        "unmapped type takes the default"
    );
    assert_eq!(
        changes.comments, None,
        "direction out: arriving comments are not applied"
    );
    assert_eq!(changes.project.as_deref(), Some("GLX"));

    let strict = config(&[("unmapped.status", "fail"), ("project", "GLX")]);
    let replica = mapping
        .outgoing(sample_issue(), ctx(false), &RuleLimits::default(), &strict)
        .result
        .expect("outgoing");
    match mapping
        .incoming(replica, None, ctx(true), &RuleLimits::default(), &strict)
        .result
    {
        Err(CallError::Fail { reason, .. }) => assert!(reason.contains("map.status"), "{reason}"),
        other => panic!("an unmapped status under `fail` must fail, got {other:?}"),
    }
}

#[test]
fn confidential_rule_drops_internal_comments_and_attachments_and_redacts() {
    let confidential = engine()
        .load_file(&rule("confidential"))
        .expect("load confidential");
    let cfg = config(&[
        ("redact.fields", "Customer,assignee"),
        ("redact.words", "Globex,spinner"),
    ]);
    let issue = sample_issue();
    let replica = confidential
        .outgoing(issue.clone(), ctx(false), &RuleLimits::default(), &cfg)
        .result
        .expect("confidential outgoing");
    let internal = issue.comments.iter().filter(|c| c.internal).count();
    assert_eq!(replica.comments.len(), issue.comments.len() - internal);
    assert!(replica.comments.iter().all(|c| !c.internal));
    assert!(replica.attachments.is_empty(), "attachments never leave");
    assert!(replica.assignee.is_none(), "a named field is left out");
    assert!(
        replica.custom_fields.iter().all(|f| f.name != "Customer"),
        "a named custom field is left out"
    );
    let description = replica.description.expect("description is sent");
    assert!(
        !description.text.contains("spinner"),
        "a named word is masked"
    );
    assert!(description.text.contains("[redacted]"));
    let everything = serde_json::to_string(&replica.custom_fields).expect("json");
    assert!(!everything.contains("Globex"), "{everything}");
}

#[test]
fn a_rule_built_against_contract_0_1_keeps_loading_and_never_sees_0_2_fields() {
    let legacy = engine()
        .load_file(&rule("legacy-v0-1"))
        .expect("a 0.1 rule loads");
    assert_eq!(legacy.world_version(), "0.1.0");
    let mut issue = sample_issue();
    issue.security_level = Some("Confidential".into());
    let out = legacy.outgoing(
        issue.clone(),
        ctx(false),
        &RuleLimits::default(),
        &config(&[]),
    );
    let replica = out.result.expect("0.1 outgoing");
    assert_eq!(replica.summary.as_deref(), Some(issue.summary.as_str()));
    assert_eq!(replica.labels, issue.labels);
    assert_eq!(
        replica.properties,
        vec![("contract".to_string(), "0.1".to_string())]
    );
    let changes = legacy
        .incoming(
            replica,
            None,
            ctx(true),
            &RuleLimits::default(),
            &config(&[("project", "DEV")]),
        )
        .result
        .expect("0.1 incoming");
    assert_eq!(changes.project.as_deref(), Some("DEV"));
    assert_eq!(changes.status.as_deref(), Some("In Progress"));

    // A 0.2 rule on the same engine sees the field 0.2 added.
    let confidential = engine()
        .load_file(&rule("confidential"))
        .expect("confidential");
    assert_eq!(confidential.world_version(), "0.2.0");
    let held = config(&[("redact.security-levels", "confidential")]);
    let out = confidential.outgoing(issue, ctx(false), &RuleLimits::default(), &held);
    assert!(
        matches!(&out.result, Err(CallError::Skip { reason, .. }) if reason.contains("Confidential")),
        "{:?}",
        out.result
    );
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

/// The no-code `mapping` rule through the real component: each direction, and each
/// unmapped-value policy for a status and for a user.
#[test]
fn mapping_rule_every_direction_and_every_unmapped_policy() {
    let mapping = engine().load_file(&rule("mapping")).expect("load mapping");
    let issue = sample_issue();
    let out = |pairs: &[(&str, &str)]| {
        mapping
            .outgoing(
                issue.clone(),
                ctx(false),
                &RuleLimits::default(),
                &config(pairs),
            )
            .result
            .expect("outgoing")
    };
    let full = out(&[]);
    let inc = |pairs: &[(&str, &str)]| {
        mapping
            .incoming(
                full.clone(),
                None,
                ctx(false),
                &RuleLimits::default(),
                &config(pairs),
            )
            .result
    };
    // Directions: what leaves (outgoing) and what lands (incoming), for one field.
    for (direction, sends, lands) in [
        ("both", true, true),
        ("out", true, false),
        ("in", false, true),
        ("none", false, false),
    ] {
        let pairs = [("direction.priority", direction)];
        assert_eq!(out(&pairs).priority.is_some(), sends, "{direction} sends");
        let changes = inc(&pairs).expect("incoming");
        assert_eq!(changes.priority.is_some(), lands, "{direction} lands");
    }
    // Unmapped status (the sample's is "In Progress").
    let c = inc(&[("unmapped.status", "keep")]).expect("keep");
    assert_eq!(c.status.as_deref(), Some("In Progress"));
    let c = inc(&[("unmapped.status", "skip-field")]).expect("skip-field");
    assert_eq!(c.status, None);
    let c = inc(&[("unmapped.status", "default:To Do")]).expect("default");
    assert_eq!(c.status.as_deref(), Some("To Do"));
    match inc(&[("unmapped.status", "fail")]) {
        Err(CallError::Fail { reason, .. }) => {
            assert!(reason.contains("map.status.In Progress"), "{reason}")
        }
        other => panic!("fail policy: {other:?}"),
    }
    // Users: a map entry, then each policy for a user with none.
    let ada = issue.assignee.clone().expect("sample assignee");
    let email = ada.email.clone().expect("sample email");
    let c = inc(&[(&format!("map.user.{email}"), "accountid:557058:ada")]).expect("mapped");
    assert_eq!(
        c.assignee,
        Some(Some(twinsync::model::UserRef::AccountId(
            "557058:ada".into()
        )))
    );
    let c = inc(&[("unmapped.user", "keep")]).expect("keep");
    assert_eq!(
        c.assignee,
        Some(Some(twinsync::model::UserRef::Email(email.clone())))
    );
    let c = inc(&[("unmapped.user", "skip-field")]).expect("skip-field");
    assert_eq!((c.assignee, c.reporter), (None, None));
    let c = inc(&[("unmapped.user", "default:triage@example.com")]).expect("default");
    assert_eq!(
        c.reporter,
        Some(twinsync::model::UserRef::Email("triage@example.com".into()))
    );
    assert!(
        matches!(inc(&[("unmapped.user", "fail")]), Err(CallError::Fail { reason, .. }) if reason.contains("map.user.")),
        "fail policy for users"
    );
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
