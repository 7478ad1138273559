//! The contract checks: a core module or another world is refused, and a rule built against an
//! older contract keeps loading and never sees newer fields.

use super::{config, ctx, engine};
use twinsync::rules::{CallError, LoadError, RuleLimits};
use twinsync_e2e::fixtures::{rule, sample_issue};

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
