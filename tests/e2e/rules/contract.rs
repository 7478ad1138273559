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
    assert_eq!(info.world_version, "0.3.0");
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

    // A newer rule on the same engine sees the field 0.2 added.
    let confidential = engine()
        .load_file(&rule("confidential"))
        .expect("confidential");
    assert_eq!(confidential.world_version(), "0.3.0");
    let held = config(&[("redact.security-levels", "confidential")]);
    let out = confidential.outgoing(issue, ctx(false), &RuleLimits::default(), &held);
    assert!(
        matches!(&out.result, Err(CallError::Skip { reason, .. }) if reason.contains("Confidential")),
        "{:?}",
        out.result
    );
}

/// An issue carrying every field contract 0.3 added.
fn issue_with_0_3_fields() -> twinsync::model::Issue {
    use twinsync::model::{IssueLink, LinkDirection, RichText, Worklog};
    let mut issue = sample_issue();
    issue.security_level = Some("Confidential".into());
    issue.worklogs = vec![Worklog {
        id: "30001".into(),
        started: "2026-11-25T09:00:00.000+0000".into(),
        time_spent_seconds: 5400,
        comment: Some(RichText::plain("pairing on the checkout bug")),
        ..Worklog::default()
    }];
    issue.links = vec![IssueLink {
        id: "40001".into(),
        link_type: "Blocks".into(),
        direction: LinkDirection::Outward,
        other_key: "SRC-2".into(),
        other_twin: Some("DEV-2".into()),
    }];
    issue.fix_versions = vec!["2.0".into()];
    issue.affected_versions = vec!["1.9".into()];
    issue
}

#[test]
fn a_rule_built_against_contract_0_2_keeps_loading_and_never_sees_0_3_fields() {
    let legacy = engine()
        .load_file(&rule("legacy-v0-2"))
        .expect("a 0.2 rule loads");
    assert_eq!(legacy.world_version(), "0.2.0");
    assert!(!legacy.answers_deletion(), "0.2 has no deleted event");
    let issue = issue_with_0_3_fields();
    let replica = legacy
        .outgoing(
            issue.clone(),
            ctx(false),
            &RuleLimits::default(),
            &config(&[]),
        )
        .result
        .expect("0.2 outgoing");
    // It sees what 0.2 has (the security level) ...
    assert_eq!(
        replica.properties,
        vec![
            ("contract".to_string(), "0.2".to_string()),
            ("security-level".to_string(), "Confidential".to_string()),
        ]
    );
    // ... and nothing of 0.3 crosses through it.
    assert!(replica.worklogs.is_empty(), "{:?}", replica.worklogs);
    assert!(replica.links.is_empty(), "{:?}", replica.links);
    assert!(replica.fix_versions.is_empty() && replica.affected_versions.is_empty());

    // Its changes leave every 0.3 field alone, even given a replica that carries them.
    let mut full = replica.clone();
    full.worklogs = issue.worklogs.clone();
    full.links = issue.links.clone();
    full.fix_versions = issue.fix_versions.clone();
    let changes = legacy
        .incoming(
            full,
            Some(issue),
            ctx(false),
            &RuleLimits::default(),
            &config(&[]),
        )
        .result
        .expect("0.2 incoming");
    assert_eq!(changes.summary, replica.summary);
    assert_eq!(changes.worklogs, None);
    assert_eq!(changes.links, None);
    assert_eq!(changes.fix_versions, None);
    assert_eq!(changes.affected_versions, None);
    assert_eq!(changes.missing_versions, None);
    assert_eq!(changes.on_delete, None);
}

#[test]
fn a_rule_built_against_contract_0_3_sees_worklogs_links_versions_and_deletions() {
    use twinsync::model::{LinkChange, LinkDirection, OnDelete, SyncCause};
    let basic = engine().load_file(&rule("basic")).expect("basic");
    assert_eq!(basic.world_version(), "0.3.0");
    assert!(basic.answers_deletion());
    let issue = issue_with_0_3_fields();
    let replica = basic
        .outgoing(
            issue.clone(),
            ctx(false),
            &RuleLimits::default(),
            &config(&[]),
        )
        .result
        .expect("outgoing");
    assert_eq!(replica.worklogs, issue.worklogs);
    assert_eq!(replica.links, issue.links);
    assert_eq!(replica.fix_versions, ["2.0"]);
    assert_eq!(replica.affected_versions, ["1.9"]);

    let mut arrived = replica.clone();
    // A link whose other issue has no twin here: the rule sees it and leaves it out.
    arrived.links.push(twinsync::model::IssueLink {
        id: "40002".into(),
        link_type: "Relates".into(),
        direction: LinkDirection::Inward,
        other_key: "SRC-3".into(),
        other_twin: None,
    });
    let changes = basic
        .incoming(
            arrived.clone(),
            Some(issue.clone()),
            ctx(false),
            &RuleLimits::default(),
            &config(&[("map.link-type.Blocks", "Is blocking")]),
        )
        .result
        .expect("incoming");
    let worklogs = changes.worklogs.expect("worklogs are a desired set");
    assert_eq!(worklogs.len(), 1);
    assert_eq!(worklogs[0].remote_id, "30001");
    assert_eq!(worklogs[0].time_spent_seconds, 5400);
    assert_eq!(
        changes.links,
        Some(vec![LinkChange {
            link_type: "Is blocking".into(),
            direction: LinkDirection::Outward,
            other_key: "DEV-2".into(),
        }])
    );
    assert_eq!(changes.fix_versions, Some(vec!["2.0".to_string()]));

    // A deletion is an event of its own, answered by config `on-delete` (unlink by default).
    let mut deleted = ctx(false);
    deleted.cause = SyncCause::Deleted;
    for (cfg, want) in [
        (None, OnDelete::Unlink),
        (Some("delete"), OnDelete::DeleteIssue),
        (Some("nothing"), OnDelete::Nothing),
    ] {
        let pairs: Vec<(&str, &str)> = cfg.map(|v| ("on-delete", v)).into_iter().collect();
        let changes = basic
            .incoming(
                arrived.clone(),
                Some(issue.clone()),
                deleted.clone(),
                &RuleLimits::default(),
                &config(&pairs),
            )
            .result
            .expect("deleted");
        assert_eq!(changes.on_delete, Some(want), "{cfg:?}");
        assert_eq!(changes.summary, None, "a deletion changes no field");
    }
}
