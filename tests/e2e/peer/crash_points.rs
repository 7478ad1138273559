//! The peer path's crash points, both ways: two node processes paired by invitation, one of
//! them armed with `TWINSYNC_FAILPOINT`, which aborts the process at that point as a kill
//! would. The test restarts whichever node died and checks that the issue, its comment and its
//! attachment end up once on each side.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

/// A node process that the test restarts when it dies.
struct Restarting {
    child: Child,
    config: PathBuf,
    log: PathBuf,
    /// Times it died at the armed point.
    crashes: usize,
}

impl Restarting {
    fn spawn(config: &Path, log: &Path, failpoint: Option<&str>) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("log file");
        let mut cmd = Command::new(twinsync_e2e::twinsync_binary());
        cmd.args(["node", "-c"])
            .arg(config)
            .env("TWINSYNC_LOG", "info")
            .env_remove("TWINSYNC_FAILPOINT")
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(p) = failpoint {
            cmd.env("TWINSYNC_FAILPOINT", p);
        }
        cmd.spawn().expect("node process starts")
    }

    /// Restarts the node, unarmed, if it died; notes whether it died at the point.
    fn revive(&mut self, point: &str) {
        if let Ok(Some(_)) = self.child.try_wait() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let reached = format!("crash point {point} reached");
            self.crashes = log.matches(&reached).count();
            self.child = Restarting::spawn(&self.config, &self.log, None);
        }
    }
}

impl Drop for Restarting {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `org`'s config with a fixed public port; returns the config's path and the node URL.
fn fixed_config(org: &Org) -> (PathBuf, String) {
    let port = free_port();
    // The public listener only: the admin listener keeps a free port of its own.
    let config = org.config.replace(
        "\nlisten = \"127.0.0.1:0\"",
        &format!("\nlisten = \"127.0.0.1:{port}\""),
    );
    let path = org.dir.path().join("twinsync.toml");
    std::fs::write(&path, config).expect("write config");
    (path, format!("http://127.0.0.1:{port}"))
}

async fn serving(url: &str) {
    let http = reqwest::Client::new();
    wait_for("the node process to serve", || async {
        http.get(format!("{url}/healthz"))
            .send()
            .await
            .ok()
            .filter(|r| r.status().is_success())
            .map(|_| ())
    })
    .await;
}

/// What one side's Jira holds of the walk's issue: (issues, comments, attachments).
fn held(org: &Org, summary: &str) -> (usize, usize, usize) {
    let st = org.sim.state();
    let issues: Vec<_> = st
        .issues
        .values()
        .filter(|i| i.summary == summary)
        .collect();
    let comments = issues.iter().map(|i| i.comments.len()).sum();
    let attachments = issues.iter().map(|i| i.attachments.len()).sum();
    (issues.len(), comments, attachments)
}

/// One walk: `point` armed on both nodes, an issue with a comment and an attachment made on
/// `origin`. Returns how many times a node died at the point.
async fn walk(point: &str, origin: &str) -> usize {
    let a = Org::prepared("a").await;
    let b = Org::prepared("b").await;
    let (config_a, url_a) = fixed_config(&a);
    let (config_b, url_b) = fixed_config(&b);
    let (log_a, log_b) = (a.dir.path().join("node.log"), b.dir.path().join("node.log"));
    // Paired unarmed, then both restarted with the point armed.
    let mut nodes = Vec::new();
    let mut unarmed = Vec::new();
    for (config, log, url) in [(&config_a, &log_a, &url_a), (&config_b, &log_b, &url_b)] {
        // Killed on drop, even if pairing fails.
        unarmed.push(NodeProcess(Restarting::spawn(config, log, None)));
        serving(url).await;
    }
    let out = cli(&["connection", "invite", "-C", "ab"], &config_a);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let out = cli_with_input(&["connection", "accept"], &config_b, &code);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(unarmed);
    for (config, log, url) in [(&config_a, &log_a, &url_a), (&config_b, &log_b, &url_b)] {
        nodes.push(Restarting {
            child: Restarting::spawn(config, log, Some(point)),
            config: config.clone(),
            log: log.clone(),
            crashes: 0,
        });
        serving(url).await;
    }
    a.register_webhook(&url_a, "a").await;
    b.register_webhook(&url_b, "b").await;

    let summary = format!("Peer crash walk at {point}");
    let (org, other) = if origin == "a" { (&a, &b) } else { (&b, &a) };
    let project = if origin == "a" { "SUP" } else { "DEV" };
    let created = org
        .client
        .post(
            "/issue",
            json!({"fields": {
                "project": {"key": project},
                "issuetype": {"name": "Task"},
                "summary": summary,
            }}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let key = created.body["key"].as_str().expect("key").to_string();
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
    upload(&org.client, &key, "walk.log", b"a log that crosses").await;
    let config = if origin == "a" { &config_a } else { &config_b };
    let out = cli(&["sync", &key, "-C", "ab"], config);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        for n in nodes.iter_mut() {
            n.revive(point);
        }
        let (mine, theirs) = (held(org, &summary), held(other, &summary));
        if mine == (1, 1, 1) && theirs == (1, 1, 1) {
            break;
        }
        if Instant::now() > deadline {
            let tail = |p: &Path| {
                let t = std::fs::read_to_string(p).unwrap_or_default();
                let lines: Vec<&str> = t.lines().collect();
                lines[lines.len().saturating_sub(20)..].join("\n")
            };
            panic!(
                "{point} ({origin} to other): origin holds {mine:?}, the other side {theirs:?} \
                 (issues, comments, attachments)\nA's log:\n{}\nB's log:\n{}",
                tail(&log_a),
                tail(&log_b)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    nodes.iter().map(|n| n.crashes).sum()
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
