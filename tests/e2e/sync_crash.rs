//! Convergence through crashes and faults: the node is killed with SIGKILL again and again in
//! the middle of a sync of 200 issues, or runs against simulators that answer 429s and 5xxs and
//! drop webhooks. Either way, both Jiras end up equivalent under the `basic` rule, with no
//! duplicate issue, comment or attachment on either side.
//!
//! The simulators live in the test process, so their state survives the node's deaths; the
//! node of the crash test runs as its own process (`twinsync node -c FILE`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use twinsync::demo::PairConfig;
use twinsync::store::{EventState, Store};
use twinsync_e2e::adf::adf;
use twinsync_e2e::compare::{Synced, by_summary, snapshot};
use twinsync_e2e::fixtures::rule;
use twinsync_e2e::node_process::{NodeProcess, ProcessConfig};
use twinsync_e2e::rest::{Answer, Client, start};
use twinsync_e2e::story::queue_story;
use twinsync_e2e::wait::Wait;
use twinsync_e2e::world::{linked_twin, register_webhook, start_in_process};
use twinsync_jira_sim::{Flavour, SimHandle, State};

/// Two simulators (Cloud SUP, Data Center DEV), a data directory and the node's config.
pub(crate) struct Pair {
    pub(crate) a: SimHandle,
    pub(crate) b: SimHandle,
    pub(crate) ca: Client,
    cb: Client,
    pub(crate) dir: tempfile::TempDir,
    /// DEV issues of the simulator's seed: not twins, left out of the comparison.
    seeded_b: BTreeSet<String>,
}

impl Pair {
    pub(crate) async fn new() -> Pair {
        let a = start(Flavour::Cloud).await;
        let b = start(Flavour::DataCenter).await;
        let seeded_b = b.state().issues.values().map(|i| i.key.clone()).collect();
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("rules")).expect("rules dir");
        for side in ["a", "b"] {
            std::fs::copy(rule("basic"), dir.path().join(format!("rules/{side}.wasm")))
                .expect("copy rule");
        }
        let (ca, cb) = (Client::new(&a), Client::new(&b));
        Pair {
            a,
            b,
            ca,
            cb,
            dir,
            seeded_b,
        }
    }

    pub(crate) fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The node's config: side `a` syncs SUP (trigger: label `sync`), side `b` DEV; the poller
    /// runs every second so changes whose webhooks were lost are still found.
    pub(crate) fn config(&self) -> String {
        let rules = self.dir.path().join("rules");
        PairConfig {
            workers: 4,
            poll_interval_secs: 1,
            ..PairConfig::new(self.data_dir(), rules.join("a.wasm"), rules.join("b.wasm"))
        }
        .toml(&self.a, &self.b)
    }

    /// Points both simulators' webhooks at a node serving at `node_url`.
    pub(crate) async fn register_webhooks(&self, node_url: &str) {
        for (client, instance) in [(&self.ca, "a"), (&self.cb, "b")] {
            register_webhook(client, node_url, instance).await;
        }
    }
}

/// A call that a simulator with injected faults may refuse (429 or 5xx) before handling it;
/// tried again until it is handled.
async fn call(c: &Client, method: Method, path: &str, body: Option<Value>) -> Answer {
    for _ in 0..50 {
        let answer = c.call(method.clone(), path, body.clone()).await;
        if answer.status != 429 && answer.status < 500 {
            return answer;
        }
    }
    panic!("{method} {path}: refused 50 times in a row");
}

/// Uploads an attachment, tried again while a simulator with faults refuses it.
async fn upload(c: &Client, key: &str, filename: &str, bytes: Vec<u8>) {
    for _ in 0..50 {
        let answer = c.try_upload(key, filename, &bytes).await;
        if answer.status == 429 || answer.status >= 500 {
            continue;
        }
        assert_eq!(answer.status, 200, "upload to {key}: {}", answer.body);
        return;
    }
    panic!("upload to {key}: refused 50 times in a row");
}

/// Issue `n` on SUP: trigger label, two comments, one attachment whose size depends on `n`.
pub(crate) async fn create_issue(c: &Client, n: usize) -> String {
    let issue_type = if n.is_multiple_of(2) { "Bug" } else { "Task" };
    let priority = ["High", "Medium", "Low"][n % 3];
    let answer = call(
        c,
        Method::POST,
        "/issue",
        Some(json!({"fields": {
            "project": {"key": "SUP"},
            "issuetype": {"name": issue_type},
            "summary": format!("Issue {n:03}"),
            "description": adf(&format!("Details of issue {n}: the printer in room {n} is on fire.")),
            "priority": {"name": priority},
            "labels": ["sync", format!("batch-{}", n % 4)],
        }})),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let key = answer.body["key"].as_str().expect("key").to_string();
    for j in 1..=2 {
        let c_answer = call(
            c,
            Method::POST,
            &format!("/issue/{key}/comment"),
            Some(json!({"body": adf(&format!("Comment {j} on issue {n}"))})),
        )
        .await;
        assert_eq!(c_answer.status, 201, "{}", c_answer.body);
    }
    let bytes = format!("log of issue {n}\n").repeat(1 + n % 7).into_bytes();
    upload(c, &key, &format!("issue-{n}.log"), bytes).await;
    key
}

/// Changes made on both sides while the sync runs: an edit and a status change on SUP, a
/// comment on the DEV twin (found by summary, so only twins that exist already).
async fn change_issue(p: &Pair, n: usize) {
    let key_a = find_by_summary(&p.a.state(), "SUP-", &format!("Issue {n:03}"));
    let key_a = key_a.expect("the issue exists on SUP");
    let put = call(
        &p.ca,
        Method::PUT,
        &format!("/issue/{key_a}"),
        Some(json!({"fields": {"summary": format!("Issue {n:03} (edited)")}})),
    )
    .await;
    assert_eq!(put.status, 204, "{}", put.body);
    let t = call(
        &p.ca,
        Method::POST,
        &format!("/issue/{key_a}/transitions"),
        Some(json!({"transition": {"id": "11"}})),
    )
    .await;
    assert_eq!(t.status, 204, "{}", t.body);
    let twin = {
        let st = p.b.state();
        find_by_summary(&st, "DEV-", &format!("Issue {n:03}"))
            .or_else(|| find_by_summary(&st, "DEV-", &format!("Issue {n:03} (edited)")))
    };
    if let Some(key_b) = twin {
        let c = call(
            &p.cb,
            Method::POST,
            &format!("/issue/{key_b}/comment"),
            Some(json!({"body": format!("Reply from DEV on issue {n}")})),
        )
        .await;
        assert_eq!(c.status, 201, "{}", c.body);
    }
}

fn find_by_summary(st: &State, prefix: &str, summary: &str) -> Option<String> {
    st.issues
        .values()
        .find(|i| i.key.starts_with(prefix) && i.summary == summary)
        .map(|i| i.key.clone())
}

/// Every difference between the two sides (empty when they are equivalent), and the duplicates.
/// Twins are paired by the node's twin rows, so a twin whose summary differs shows as "differs",
/// and only an issue with no linked twin row as "has no twin".
fn differences(p: &Pair, expected: usize, store: &Store) -> Vec<String> {
    let on_a: BTreeMap<_, _> = by_summary(snapshot(&p.a, "SUP-"))
        .into_iter()
        .filter(|(s, _)| s.starts_with("Issue "))
        .collect();
    let on_b = by_summary(
        snapshot(&p.b, "DEV-")
            .into_iter()
            .filter(|i| !p.seeded_b.contains(&i.key)),
    );
    let mut diffs = Vec::new();
    if on_a.len() != expected {
        diffs.push(format!(
            "SUP has {} synced issues, expected {expected}",
            on_a.len()
        ));
    }
    for (summary, issues) in on_a.iter().chain(on_b.iter()) {
        if issues.len() > 1 {
            let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
            diffs.push(format!("duplicate issue {summary:?}: {}", keys.join(", ")));
        }
        for i in issues {
            for (what, list) in [
                ("comment", i.fields.comments.clone()),
                (
                    "attachment",
                    i.fields
                        .attachments
                        .iter()
                        .map(|a| format!("{a:?}"))
                        .collect(),
                ),
            ] {
                let mut seen = BTreeSet::new();
                for item in list {
                    if !seen.insert(item.clone()) {
                        diffs.push(format!("duplicate {what} on {}: {item}", i.key));
                    }
                }
            }
        }
    }
    let by_key_b: BTreeMap<&str, (&String, &Synced)> = on_b
        .iter()
        .flat_map(|(summary, list)| list.iter().map(move |i| (i.key.as_str(), (summary, i))))
        .collect();
    let mut twinned_b = BTreeSet::new();
    for (summary, issues_a) in &on_a {
        let x = &issues_a[0];
        let twin = linked_twin(store, "ab", &x.key);
        let Some((summary_b, y)) = twin.as_deref().and_then(|k| by_key_b.get(k)) else {
            diffs.push(format!(
                "{summary:?} ({}) has no twin on DEV (twin row: {twin:?})",
                x.key
            ));
            continue;
        };
        twinned_b.insert(y.key.clone());
        if x.fields != y.fields {
            diffs.push(format!(
                "{summary:?} differs from its twin {summary_b:?}:\n  SUP {x:?}\n  DEV {y:?}"
            ));
        }
    }
    for (summary, issues) in &on_b {
        for i in issues {
            if !twinned_b.contains(&i.key) {
                diffs.push(format!(
                    "DEV has {summary:?} ({}), which no SUP issue is twinned with",
                    i.key
                ));
            }
        }
    }
    diffs
}

/// Polls until both sides are equivalent; panics with the differences (and `context`) if not.
/// `within` is generous: the suite compiles large rules beside this test, and convergence,
/// not its speed, is what is checked here (the sync bench measures speed).
pub(crate) async fn converge(
    p: &Pair,
    expected: usize,
    store: &Store,
    within: Duration,
    context: impl Fn() -> String,
) {
    let context = &context;
    Wait::new("the two sides to converge")
        .within(within)
        .every(Duration::from_millis(100))
        .until(|| async move {
            let diffs = differences(p, expected, store);
            if diffs.is_empty() {
                Ok(())
            } else {
                Err(Apart {
                    diffs,
                    store,
                    context,
                })
            }
        })
        .await;
}

/// Two sides still apart: the differences, counted by kind, the first ones, the queue and
/// the caller's context. Written out only when a wait gives up.
struct Apart<'a, C> {
    diffs: Vec<String>,
    store: &'a Store,
    context: &'a C,
}

impl<C: Fn() -> String> fmt::Display for Apart<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for d in &self.diffs {
            let kind = [
                "duplicate issue",
                "duplicate comment",
                "duplicate attachment",
                "differs",
                "has no twin",
                "no SUP issue is twinned with",
            ]
            .into_iter()
            .find(|k| d.contains(k))
            .unwrap_or("other");
            *kinds.entry(kind).or_default() += 1;
        }
        let shown: Vec<&str> = self.diffs.iter().take(25).map(String::as_str).collect();
        write!(
            f,
            "{} differences ({kinds:?}), first ones:\n{}\n{}\n{}",
            self.diffs.len(),
            shown.join("\n"),
            queue_story(self.store),
            (self.context)()
        )
    }
}

/// Events finished (done or skipped) so far, and events open (pending or running).
pub(crate) fn progress(store: &Store) -> (i64, i64) {
    let s = store.queue_stats(None).expect("queue stats");
    (s.done + s.skipped, s.pending + s.running)
}

/// A small deterministic sequence (xorshift) for the kill points.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const CRASH_ISSUES: usize = 200;
/// Issues created before the node first starts; the rest arrive between kills.
const CRASH_FIRST_BATCH: usize = 120;
const KILLS: usize = 24;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_safety_sigkill_during_a_sync_of_200_issues() {
    let p = Pair::new().await;
    // Fixed ports across restarts, so the webhooks stay valid.
    let config = ProcessConfig::write(p.dir.path(), &p.config());
    p.register_webhooks(&config.url).await;

    for n in 1..=CRASH_FIRST_BATCH {
        create_issue(&p.ca, n).await;
    }

    let mut created = CRASH_FIRST_BATCH;
    let mut changed = 0;
    let mut dice = Dice(0x2545_f491_4f6c_dd1d);
    let mut store: Option<Store> = None;
    let mut kills_in_flight = 0;
    let mut kill_notes = Vec::new();
    for round in 0..KILLS {
        // Half the changes happen while the node is down: their webhooks are lost.
        if !round.is_multiple_of(2) {
            mutate(&p, &mut created, &mut changed).await;
        }
        let mut node = NodeProcess::spawn(&config, None);
        let how = if round % 6 == 5 {
            // Killed at a random moment of its start-up or first work, listening or not.
            let ms = dice.below(400);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            format!("after {ms} ms")
        } else {
            node.serving().await;
            let store = store.get_or_insert_with(|| {
                Store::open(&p.data_dir().join("twinsync.db")).expect("store")
            });
            if round.is_multiple_of(2) {
                mutate(&p, &mut created, &mut changed).await;
            }
            let (done, _) = progress(store);
            let k = 1 + dice.below(40) as i64;
            let deadline = Instant::now() + Duration::from_secs(10);
            while progress(store).0 < done + k && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            format!("after {k} more events")
        };
        let open = store.as_ref().map_or(1, |s| progress(s).1);
        if open > 0 {
            kills_in_flight += 1;
        }
        node.kill();
        kill_notes.push(format!("kill {}: {how}, {open} events open", round + 1));
    }
    while created < CRASH_ISSUES {
        mutate(&p, &mut created, &mut changed).await;
    }
    assert!(
        kills_in_flight >= 20,
        "only {kills_in_flight} kills landed with events open:\n{}",
        kill_notes.join("\n")
    );

    // The last start runs to the end.
    let node = NodeProcess::start(&config, None).await;
    let store =
        store.unwrap_or_else(|| Store::open(&p.data_dir().join("twinsync.db")).expect("store"));
    let context = || {
        format!(
            "{}\nunfinished creations warned about: {}\nnode log, last lines:\n{}",
            kill_notes.join("\n"),
            node.log()
                .lines()
                .filter(|l| l.contains("did not finish"))
                .count(),
            node.tail(30)
        )
    };
    converge(&p, CRASH_ISSUES, &store, Duration::from_secs(180), context).await;
    let failed = store
        .events(Some(EventState::Failed), None, 10, 0)
        .expect("events");
    assert!(failed.is_empty(), "failed events: {failed:?}");
    assert!(changed > 0, "changes were made during the kills");
    node.kill();
    // Nothing moves once converged: a last look after the node is gone.
    let diffs = differences(&p, CRASH_ISSUES, &store);
    assert!(diffs.is_empty(), "{diffs:?}");
}

/// One batch of work for a crash round: ten new issues until all exist, then changes on both sides.
async fn mutate(p: &Pair, created: &mut usize, changed: &mut usize) {
    if *created < CRASH_ISSUES {
        for _ in 0..10.min(CRASH_ISSUES - *created) {
            *created += 1;
            create_issue(&p.ca, *created).await;
        }
    } else {
        for _ in 0..8 {
            *changed += 1;
            change_issue(p, *changed * 7 % CRASH_ISSUES + 1).await;
        }
    }
}

const FAULT_ISSUES: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn convergence_under_429s_5xxs_and_dropped_webhooks() {
    let p = Pair::new().await;
    let running = start_in_process(&p.config()).await;
    p.register_webhooks(&running.url()).await;

    let spec = "limit-ratio=0.1,limit-retry-after=100ms,error-ratio=0.05,webhook-drop-ratio=0.2";
    p.a.set_faults_spec(spec).expect("fault spec");
    p.b.set_faults_spec(spec).expect("fault spec");
    for n in 1..=FAULT_ISSUES {
        create_issue(&p.ca, n).await;
    }
    let mut changed = 0;
    for n in (1..=FAULT_ISSUES).step_by(5) {
        change_issue(&p, n).await;
        changed += 1;
    }
    let context = || String::new();
    converge(
        &p,
        FAULT_ISSUES,
        &running.node.store,
        Duration::from_secs(180),
        context,
    )
    .await;
    // The simulators did inject what they were asked to, on both sides.
    for (h, name) in [(&p.a, "Cloud"), (&p.b, "Data Center")] {
        let requests = h.requests();
        let limited = requests.iter().filter(|r| r.status == 429).count();
        let failed = requests.iter().filter(|r| r.status >= 500).count();
        assert!(
            limited > 0 && failed > 0,
            "{name}: {limited} 429s and {failed} 5xxs out of {} requests",
            requests.len()
        );
        let dropped = h
            .deliveries()
            .iter()
            .filter(|d| d.outcome == "dropped")
            .count();
        assert!(dropped > 0, "{name}: no webhook was dropped");
    }
    assert!(changed > 0);
    let failed = running
        .node
        .store
        .events(Some(EventState::Failed), None, 10, 0)
        .expect("events");
    assert!(failed.is_empty(), "failed events: {failed:?}");
    running.stop().await;
}
