//! A deterministic lab for the sync pipeline: two simulated Jiras over real HTTP, a node built
//! on a real SQLite store and the real `basic` rule, whose events the test runs one at a time
//! in the order it chooses. Webhooks are deliveries the test makes (or drops, or doubles), a
//! crash is a named crash point reached inside one event (the store is left as a kill there
//! would leave it), and a restart builds the node again on the same store. Used by the
//! conflict tests, the crash-point walk and the model test.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use twinsync::config::NodeConfig;
use twinsync::demo::PairConfig;
use twinsync::model::SyncCause;
use twinsync::store::{Event, EventKind};
use twinsync::sync::node::Node;
use twinsync_e2e::adf::adf;
use twinsync_e2e::compare::{by_key, snapshot};
use twinsync_e2e::fixtures::rule;
use twinsync_e2e::rest::{Client, new_issue, start};
use twinsync_e2e::story::event_line;
use twinsync_e2e::world::linked_twin;
use twinsync_jira_sim::{Flavour, SimHandle};

pub const CONN: &str = "ab";

/// How many events a quiet pair may still run before the lab calls it a ping-pong.
const MAX_STEPS: usize = 400;

pub struct Lab {
    pub a: SimHandle,
    pub b: SimHandle,
    pub ca: Client,
    pub cb: Client,
    pub node: Arc<Node>,
    config: String,
    _dir: tempfile::TempDir,
    /// Issues the simulators seed themselves: not part of any scenario.
    seeded: std::collections::BTreeSet<String>,
    /// What the lab did, in order: printed when a check fails.
    pub journal: Vec<String>,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ran {
    Finished,
    Crashed,
}

/// The crash points a local connection passes (the peer path's own are walked in `peer`).
pub fn local_points() -> Vec<&'static str> {
    twinsync::failpoint::POINTS
        .iter()
        .copied()
        .filter(|p| !p.starts_with("peer-"))
        .collect()
}

impl Lab {
    pub async fn new() -> Lab {
        let a = start(Flavour::Cloud).await;
        let b = start(Flavour::DataCenter).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let config = PairConfig {
            rule_cache_dir: Some(twinsync_e2e::fixtures::root().join("target/e2e-rule-cache")),
            ..PairConfig::new(dir.path().join("data"), rule("basic"), rule("basic"))
        }
        .toml(&a, &b);
        let node = build(&config);
        let (ca, cb) = (Client::new(&a), Client::new(&b));
        let seeded = [&a, &b]
            .iter()
            .flat_map(|h| {
                h.state()
                    .issues
                    .values()
                    .map(|i| i.key.clone())
                    .collect::<Vec<_>>()
            })
            .collect();
        Lab {
            a,
            b,
            ca,
            cb,
            node,
            config,
            _dir: dir,
            seeded,
            journal: Vec::new(),
        }
    }

    fn note(&mut self, what: String) {
        self.journal.push(what);
    }

    /// The node stops (whatever it was doing is already cut short) and starts again on the same
    /// store: running events go back to pending, in-memory state is gone.
    pub fn restart(&mut self) {
        self.node = build(&self.config);
        self.note("restart".into());
    }

    fn client(&self, side: &str) -> &Client {
        if side == "a" { &self.ca } else { &self.cb }
    }

    /// A webhook about `key` on `side` reached the node: an outgoing event, as `detect` queues it.
    pub fn notify(&mut self, side: &str, key: &str) {
        let s = self.node.pipeline.side(CONN, side).expect("side exists");
        self.node
            .pipeline
            .enqueue_outgoing(&s, key, SyncCause::Updated)
            .expect("enqueue");
        self.note(format!("webhook {side} {key}"));
    }

    /// Every event that could run now (retries are due at once: the lab has no clock).
    pub fn runnable(&self) -> Vec<Event> {
        self.node.store.runnable(i64::MAX).expect("runnable events")
    }

    /// Runs event `id` to its end, or to crash point `crash` if it reaches it. After a crash
    /// the node restarts.
    pub async fn run(&mut self, id: i64, crash: Option<&str>) -> Ran {
        let Some(event) = self.node.store.claim(id).expect("claim") else {
            panic!("event {id} is not pending\n{}", self.describe());
        };
        let what = format!(
            "run {} {:?} {} #{}{}",
            event.side,
            event.kind,
            event.queue_key,
            event.id,
            crash
                .map(|c| format!(" (crash at {c})"))
                .unwrap_or_default()
        );
        let pipeline = self.node.pipeline.clone();
        let task = match crash {
            None => tokio::spawn(async move { pipeline.run_event(event).await }),
            Some(point) => {
                let point = point.to_string();
                tokio::spawn(async move {
                    twinsync::failpoint::scoped(&point, 1, pipeline.run_event(event)).await
                })
            }
        };
        let ran = match task.await {
            Ok(()) => Ran::Finished,
            Err(e) if e.is_panic() => {
                let msg = e.into_panic();
                let text = msg
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| msg.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                assert!(
                    text.starts_with(twinsync::failpoint::CRASHED),
                    "event {id} panicked: {text}"
                );
                Ran::Crashed
            }
            Err(e) => panic!("event {id} aborted: {e}"),
        };
        self.note(format!("{what}: {ran:?}"));
        if ran == Ran::Crashed {
            self.restart();
        }
        ran
    }

    /// Runs the oldest runnable event of `side` and `kind`; panics if there is none.
    pub async fn step(&mut self, side: &str, kind: EventKind) -> Ran {
        self.step_crashing(side, kind, None).await
    }

    pub async fn step_crashing(&mut self, side: &str, kind: EventKind, crash: Option<&str>) -> Ran {
        let Some(e) = self
            .runnable()
            .into_iter()
            .find(|e| e.side == side && e.kind == kind)
        else {
            panic!(
                "no runnable {kind:?} event on side {side}\n{}",
                self.describe()
            );
        };
        self.run(e.id, crash).await
    }

    /// Runs events, oldest first, until none is left. Panics on a ping-pong.
    pub async fn drain(&mut self) {
        for _ in 0..MAX_STEPS {
            let Some(e) = self.runnable().into_iter().next() else {
                return;
            };
            self.run(e.id, None).await;
        }
        panic!(
            "still busy after {MAX_STEPS} events: a ping-pong\n{}",
            self.describe()
        );
    }

    /// The poller's backstop: every twin on both sides is looked at again, then the queue drains.
    pub async fn poll_all(&mut self) {
        for side in ["a", "b"] {
            let twins = self
                .node
                .store
                .twins(CONN, side, 100_000, 0)
                .expect("twins");
            for t in twins {
                self.notify(side, &t.local_key);
            }
        }
        self.drain().await;
    }

    /// Quiet: after a poll of everything, one more poll writes nothing to either Jira.
    pub async fn quiesce(&mut self) {
        self.poll_all().await;
        self.poll_all().await;
        let writes = |h: &SimHandle| {
            h.requests()
                .iter()
                .filter(|r| r.method != "GET" && !r.path.contains("/search"))
                .count()
        };
        let (wa, wb) = (writes(&self.a), writes(&self.b));
        self.poll_all().await;
        let (wa2, wb2) = (writes(&self.a), writes(&self.b));
        assert!(
            wa2 == wa && wb2 == wb,
            "a quiet pair still writes: {} on A, {} on B\n{}",
            wa2 - wa,
            wb2 - wb,
            self.describe()
        );
    }

    /// Whether the simulator made `key` itself, before the scenario began.
    pub fn is_seeded(&self, key: &str) -> bool {
        self.seeded.contains(key)
    }

    /// The queue, the twins and the journal: what a failing check prints.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let events = self
            .node
            .store
            .events(None, None, 50, 0)
            .unwrap_or_default();
        out.push_str("events (newest first):\n");
        for e in events.iter().take(30) {
            out.push_str(&event_line(e));
        }
        for side in ["a", "b"] {
            out.push_str(&format!("twins of {side}:\n"));
            for t in self
                .node
                .store
                .twins(CONN, side, 100, 0)
                .unwrap_or_default()
            {
                out.push_str(&format!(
                    "  {} -> {:?} sent_seq={} applied_seq={} registers={}\n",
                    t.local_key,
                    t.remote_key,
                    t.sent_seq,
                    t.applied_seq,
                    t.registers.as_deref().unwrap_or("-")
                ));
            }
        }
        out.push_str("journal:\n");
        for j in self.journal.iter().rev().take(300).rev() {
            out.push_str(&format!("  {j}\n"));
        }
        out
    }

    /// Every way the two Jiras differ in what `basic` syncs, and every duplicate.
    pub fn differences(&self) -> Vec<String> {
        let fresh = |h: &SimHandle, prefix: &str| {
            by_key(
                snapshot(h, prefix)
                    .into_iter()
                    .filter(|s| !self.seeded.contains(&s.key)),
            )
        };
        let (on_a, on_b) = (fresh(&self.a, "SUP-"), fresh(&self.b, "DEV-"));
        let mut diffs = Vec::new();
        let twins = self
            .node
            .store
            .twins(CONN, "a", 100_000, 0)
            .unwrap_or_default();
        if on_a.len() != on_b.len() || twins.len() != on_a.len() {
            diffs.push(format!(
                "{} issues on A, {} on B, {} twins",
                on_a.len(),
                on_b.len(),
                twins.len()
            ));
        }
        for t in &twins {
            let Some(remote) = &t.remote_key else {
                diffs.push(format!("{} has no linked twin", t.local_key));
                continue;
            };
            match (on_a.get(&t.local_key), on_b.get(remote)) {
                (Some(x), Some(y)) if x.fields == y.fields => {}
                (x, y) => diffs.push(format!(
                    "{} and {remote} differ:\n  A {:?}\n  B {:?}",
                    t.local_key,
                    x.map(|x| &x.fields),
                    y.map(|y| &y.fields)
                )),
            }
        }
        diffs
    }

    /// Panics with the differences and the lab's story unless both Jiras agree.
    pub fn assert_agree(&self) {
        let diffs = self.differences();
        assert!(
            diffs.is_empty(),
            "the two sides disagree:\n{}\n{}",
            diffs.join("\n"),
            self.describe()
        );
    }

    // What users do in either Jira, over its REST API.

    pub async fn create_on_a(&mut self, summary: &str) -> String {
        let more = json!({
            "description": adf("Steps to reproduce."),
            "priority": {"name": "High"},
            "labels": ["sync"],
        });
        let key = self.ca.create(new_issue("SUP", "Bug", summary, more)).await;
        self.note(format!("create a {key} {summary:?}"));
        key
    }

    /// Creates a DEV issue on B with the fields of `more` beside type and summary.
    pub async fn create_on_b(&mut self, issue_type: &str, summary: &str, more: Value) -> String {
        let key = self
            .cb
            .create(new_issue("DEV", issue_type, summary, more))
            .await;
        self.note(format!("create b {key} {summary:?}"));
        key
    }

    pub async fn edit(&mut self, side: &str, key: &str, fields: Value) {
        let answer = self
            .client(side)
            .put(&format!("/issue/{key}"), json!({ "fields": fields }))
            .await;
        assert_eq!(answer.status, 204, "edit {key}: {}", answer.body);
        self.note(format!("edit {side} {key} {fields}"));
    }

    /// Moves `key` along the first transition offered; returns the new status, if any.
    pub async fn transition(&mut self, side: &str, key: &str, nth: usize) -> Option<String> {
        let offered = self
            .client(side)
            .get(&format!("/issue/{key}/transitions"))
            .await;
        let list = offered.body["transitions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if list.is_empty() {
            return None;
        }
        let t = &list[nth % list.len()];
        let answer = self
            .client(side)
            .post(
                &format!("/issue/{key}/transitions"),
                json!({"transition": {"id": t["id"]}}),
            )
            .await;
        assert_eq!(answer.status, 204, "transition {key}: {}", answer.body);
        let to = t["to"]["name"].as_str().map(str::to_string);
        self.note(format!("transition {side} {key} -> {to:?}"));
        to
    }

    pub async fn comment(&mut self, side: &str, key: &str, text: &str) -> String {
        let body = if side == "a" { adf(text) } else { json!(text) };
        let answer = self
            .client(side)
            .post(&format!("/issue/{key}/comment"), json!({ "body": body }))
            .await;
        assert_eq!(answer.status, 201, "comment on {key}: {}", answer.body);
        let id = answer.body["id"].as_str().expect("comment id").to_string();
        self.note(format!("comment {side} {key} #{id} {text:?}"));
        id
    }

    pub async fn edit_comment(&mut self, side: &str, key: &str, id: &str, text: &str) {
        let body = if side == "a" { adf(text) } else { json!(text) };
        let answer = self
            .client(side)
            .put(
                &format!("/issue/{key}/comment/{id}"),
                json!({ "body": body }),
            )
            .await;
        assert_eq!(answer.status, 200, "edit comment {id}: {}", answer.body);
        self.note(format!("edit comment {side} {key} #{id} {text:?}"));
    }

    pub async fn delete_comment(&mut self, side: &str, key: &str, id: &str) {
        let answer = self
            .client(side)
            .delete(&format!("/issue/{key}/comment/{id}"))
            .await;
        assert_eq!(answer.status, 204, "delete comment {id}: {}", answer.body);
        self.note(format!("delete comment {side} {key} #{id}"));
    }

    /// The comment ids of `key`, oldest first.
    pub async fn comment_ids(&self, side: &str, key: &str) -> Vec<String> {
        let answer = self
            .client(side)
            .get(&format!("/issue/{key}/comment"))
            .await;
        answer.body["comments"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|c| c["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Logs `seconds` of work on `key`; returns the worklog's id.
    pub async fn worklog(&mut self, side: &str, key: &str, seconds: u64, text: &str) -> String {
        let comment = if side == "a" { adf(text) } else { json!(text) };
        let answer = self
            .client(side)
            .post(
                &format!("/issue/{key}/worklog"),
                json!({"started": "2026-11-25T09:00:00.000+0000", "timeSpentSeconds": seconds, "comment": comment}),
            )
            .await;
        assert_eq!(answer.status, 201, "worklog on {key}: {}", answer.body);
        let id = answer.body["id"].as_str().expect("worklog id").to_string();
        self.note(format!("worklog {side} {key} #{id} {seconds}s"));
        id
    }

    /// Changes the time of one worklog of `key`.
    pub async fn edit_worklog(&mut self, side: &str, key: &str, id: &str, seconds: u64) {
        let answer = self
            .client(side)
            .put(
                &format!("/issue/{key}/worklog/{id}"),
                json!({"timeSpentSeconds": seconds}),
            )
            .await;
        assert_eq!(answer.status, 200, "edit worklog {id}: {}", answer.body);
        self.note(format!("edit worklog {side} {key} #{id} {seconds}s"));
    }

    /// Links `key` to `other` (`key` blocks `other`).
    pub async fn link(&mut self, side: &str, key: &str, other: &str) {
        let answer = self
            .client(side)
            .post(
                "/issueLink",
                json!({"type": {"name": "Blocks"}, "inwardIssue": {"key": key}, "outwardIssue": {"key": other}}),
            )
            .await;
        assert_eq!(answer.status, 201, "link {key} {other}: {}", answer.body);
        self.note(format!("link {side} {key} blocks {other}"));
    }

    pub async fn attach(&mut self, side: &str, key: &str, name: &str, bytes: &[u8]) {
        self.client(side).upload(key, name, bytes).await;
        self.note(format!("attach {side} {key} {name}"));
    }

    /// The twin of A's `key` on B.
    pub fn twin_of(&self, key: &str) -> String {
        linked_twin(&self.node.store, CONN, key)
            .unwrap_or_else(|| panic!("{key} has no twin\n{}", self.describe()))
    }

    /// One field of an issue, as its Jira's REST API answers it.
    pub async fn field(&self, side: &str, key: &str, path: &[&str]) -> Value {
        let answer = self.client(side).get(&format!("/issue/{key}")).await;
        let mut v = &answer.body["fields"];
        for p in path {
            v = &v[*p];
        }
        v.clone()
    }
}

fn build(config: &str) -> Arc<Node> {
    let config = NodeConfig::parse(config, Path::new("twinsync.toml"), PathBuf::from("."))
        .expect("config parses");
    let node = Node::build(config).expect("node builds");
    node.store.recover().expect("recover");
    node
}
