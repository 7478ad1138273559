//! The stock rules at work: `basic` copies and lands an issue, `mapping` maps values and
//! honours directions and unmapped policies, `confidential` drops and redacts.

use super::{config, ctx, engine};
use twinsync::model::Replica;
use twinsync::rules::{CallError, RuleLimits};
use twinsync_e2e::fixtures::{rule, sample_issue};

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

/// `basic` on side a, first sending everything, then with `send` leaving comments out: a
/// new comment on a stays there, the comment that crossed before stays on b (not read as
/// deleted), an edit of another field still crosses, and b's comments still reach a.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_send_without_comments_keeps_them_home_and_syncs_the_rest() {
    use serde_json::json;
    use twinsync_e2e::adf::adf;
    use twinsync_e2e::wait::wait_for;
    use twinsync_e2e::world::World;

    let mut w = World::new().await;
    let (key_a, key_b) = w.synced("Printer on fire").await;
    w.ca.comment(&key_a, adf("Crosses: sent before the switch"))
        .await;
    wait_for("a's first comment on b", || async {
        (w.cb.list(&key_b, &["comment", "comments"]).await.len() == 1).then_some(())
    })
    .await;
    w.settle().await;

    // The admin of side a stops sending comments: one key, on side a only.
    w.stop_node().await;
    let side_a = "config = { project = \"SUP\" }";
    assert!(w.config.contains(side_a), "{}", w.config);
    w.config = w.config.replacen(
        side_a,
        "config = { project = \"SUP\", send = \"summary,description,attachments,issuetype,priority,labels,status\" }",
        1,
    );
    w.start_node().await;

    // A comment on a, then a summary edit on a: the edit crosses, the comment does not, and
    // the comment that crossed before is still on b.
    w.ca.comment(&key_a, adf("Internal: the printer was old"))
        .await;
    w.ca.edit(&key_a, json!({"summary": "Printer still on fire"}))
        .await;
    wait_for("the new summary on b", || async {
        (w.cb.field(&key_b, &["summary"]).await == "Printer still on fire").then_some(())
    })
    .await;
    w.settle().await;
    let on_b = w.cb.list(&key_b, &["comment", "comments"]).await;
    assert_eq!(
        on_b.len(),
        1,
        "only the comment sent before the switch: {on_b:?}"
    );

    // The other direction is b's own choice: its comment reaches a.
    w.cb.comment(&key_b, json!("Reply from b")).await;
    wait_for("b's comment on a", || async {
        (w.ca.list(&key_a, &["comment", "comments"]).await.len() == 3).then_some(())
    })
    .await;
    w.settle().await;
    assert_eq!(w.cb.list(&key_b, &["comment", "comments"]).await.len(), 2);
    w.assert_none_failed();
}

/// A name `basic` does not know in `receive` fails the event with the key and the name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_with_an_unknown_field_name_fails_naming_it() {
    use twinsync::store::EventState;
    use twinsync_e2e::wait::wait_for;
    use twinsync_e2e::world::World;

    let w = World::with_b("basic", r#", "receive" = "summary,coments""#).await;
    w.create_on_a("Printer on fire", &["sync"]).await;
    let failed = wait_for("the failed event", || async {
        w.node()
            .store
            .events(Some(EventState::Failed), None, 10, 0)
            .ok()?
            .into_iter()
            .next()
    })
    .await;
    let error = failed.last_error.unwrap_or_default();
    assert!(
        error.contains("`receive`") && error.contains("\"coments\""),
        "{error}"
    );
}
