//! The peer path's crash points, both ways: two node processes paired by invitation, one of
//! them armed with `TWINSYNC_FAILPOINT`, which aborts the process at that point as a kill
//! would. The test restarts whichever node died and checks that the issue, its comment, its
//! attachment and its worklog end up once on each side.

use std::time::Duration;

use serde_json::json;
use twinsync_e2e::adf::adf;
use twinsync_e2e::node_process::{NodeProcess, cli, cli_with_input, tail};
use twinsync_e2e::pair::Org;
use twinsync_e2e::rest::new_issue;
use twinsync_e2e::wait::Wait;
use twinsync_e2e::world::register_webhook;

/// What one side's Jira holds of the walk's issue: (issues, comments, attachments, worklogs).
fn held(org: &Org, summary: &str) -> (usize, usize, usize, usize) {
    let st = org.sim.state();
    let issues: Vec<_> = st
        .issues
        .values()
        .filter(|i| i.summary == summary)
        .collect();
    let comments = issues.iter().map(|i| i.comments.len()).sum();
    let attachments = issues.iter().map(|i| i.attachments.len()).sum();
    let worklogs = st
        .worklogs
        .values()
        .filter(|w| issues.iter().any(|i| i.id == w.issue_id))
        .count();
    (issues.len(), comments, attachments, worklogs)
}

/// One walk: `point` armed on both nodes, an issue with a comment, an attachment and a
/// worklog made on `origin`. Returns how many times a node died at the point.
async fn walk(point: &str, origin: &str) -> usize {
    let a = Org::prepared("a").await;
    let b = Org::prepared("b").await;
    let (config_a, config_b) = (a.process_config(), b.process_config());
    // Paired unarmed, then both restarted with the point armed.
    let mut unarmed = Vec::new();
    for config in [&config_a, &config_b] {
        // Killed on drop, even if pairing fails.
        unarmed.push(NodeProcess::start(config, None).await);
    }
    let out = cli(&["connection", "invite", "-C", "ab"], &config_a.path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let out = cli_with_input(&["connection", "accept"], &config_b.path, &code);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(unarmed);
    let mut nodes = Vec::new();
    for config in [&config_a, &config_b] {
        nodes.push(NodeProcess::start(config, Some(point)).await);
    }
    register_webhook(&a.client, &config_a.url, "a").await;
    register_webhook(&b.client, &config_b.url, "b").await;

    let summary = format!("Peer crash walk at {point}");
    let (org, other) = if origin == "a" { (&a, &b) } else { (&b, &a) };
    let project = if origin == "a" { "SUP" } else { "DEV" };
    let key = org
        .client
        .create(new_issue(project, "Task", &summary, json!({})))
        .await;
    let body = if origin == "a" {
        adf("A comment that crosses")
    } else {
        json!("A comment that crosses")
    };
    let c = org
        .client
        .post(&format!("/issue/{key}/comment"), json!({ "body": body }))
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    org.client
        .upload(&key, "walk.log", b"a log that crosses")
        .await;
    let w = org
        .client
        .post(
            &format!("/issue/{key}/worklog"),
            json!({"started": "2026-11-25T09:00:00.000+0000", "timeSpentSeconds": 3600}),
        )
        .await;
    assert_eq!(w.status, 201, "{}", w.body);
    let config = if origin == "a" { &config_a } else { &config_b };
    let out = cli(&["sync", &key, "-C", "ab"], &config.path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A node that died at the point comes back unarmed, as an operator's supervisor would.
    Wait::new(&format!(
        "{point} ({origin} to other) to end once on each side"
    ))
    .within(Duration::from_secs(120))
    .every(Duration::from_millis(100))
    .until(|| {
        for n in nodes.iter_mut() {
            n.revive();
        }
        let (mine, theirs) = (held(org, &summary), held(other, &summary));
        let logs = (&config_a.log, &config_b.log);
        async move {
            if mine == (1, 1, 1, 1) && theirs == (1, 1, 1, 1) {
                return Ok(());
            }
            Err(format!(
                "origin holds {mine:?}, the other side {theirs:?} (issues, comments, \
                     attachments, worklogs)\nA's log:\n{}\nB's log:\n{}",
                tail(logs.0, 20),
                tail(logs.1, 20)
            ))
        }
    })
    .await;
    // Times a node died at the armed point.
    let reached = format!("crash point {point} reached");
    [&config_a.log, &config_b.log]
        .iter()
        .map(|log| {
            std::fs::read_to_string(log)
                .unwrap_or_default()
                .matches(&reached)
                .count()
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_every_peer_point_both_ways_loses_and_doubles_nothing() {
    let points = [
        "peer-replica-queued",
        "peer-message-sent",
        "peer-replica-received",
        "peer-ack-applied",
        "replica-delivered",
        "twin-linked",
        "item-copied",
    ];
    let mut missed = Vec::new();
    for point in points {
        for origin in ["a", "b"] {
            if walk(point, origin).await == 0 {
                missed.push(format!("{point} ({origin} to other)"));
            }
        }
    }
    assert!(missed.is_empty(), "points no node reached: {missed:?}");
}
