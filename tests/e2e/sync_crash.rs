//! Convergence through crashes and faults: the node is killed with SIGKILL again and again in
//! the middle of a sync of 200 issues, or runs against simulators that answer 429s and 5xxs and
//! drop webhooks. Either way, both Jiras end up equivalent under the `basic` rule, with no
//! duplicate issue, comment or attachment on either side.
//!
//! The simulators live in the test process, so their state survives the node's deaths; the
//! node of the crash test runs as its own process (`twinsync node -c FILE`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use twinsync::config::NodeConfig;
use twinsync::daemon;
use twinsync::demo::PairConfig;
use twinsync::sim::{Flavour, SimHandle, State};
use twinsync::store::{EventState, Store};
use twinsync::sync::node::Node;
use twinsync_e2e::rule;

use crate::sim::{Answer, Client, start};

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
        let b = start(Flavour::Dc).await;
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
    pub(crate) fn config(&self, listen: &str) -> String {
        let rules = self.dir.path().join("rules");
        PairConfig {
            listen: listen.to_string(),
            workers: 4,
            poll_interval_secs: 1,
            ..PairConfig::new(self.data_dir(), rules.join("a.wasm"), rules.join("b.wasm"))
        }
        .toml(&self.a, &self.b)
    }

    /// Points both simulators' webhooks at a node serving at `node_url`.
    pub(crate) async fn register_webhooks(&self, node_url: &str) {
        for (client, instance) in [(&self.ca, "a"), (&self.cb, "b")] {
            let answer = client
                .post(
                    "/rest/webhooks/1.0/webhook",
                    json!({
                        "name": "twinsync",
                        "url": format!("{node_url}/webhooks/jira/{instance}?secret=s3cret-s3cret-s3cret"),
                        "events": ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted",
                                   "comment_created", "comment_updated", "comment_deleted"],
                        "excludeBody": false
                    }),
                )
                .await;
            assert!(
                answer.status < 300,
                "webhook registration: {} {}",
                answer.status,
                answer.body
            );
        }
    }
}

fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
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

async fn upload(c: &Client, key: &str, filename: &str, bytes: Vec<u8>) {
    for _ in 0..50 {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes.clone())
                .file_name(filename.to_string())
                .mime_str("text/plain")
                .expect("mime"),
        );
        let resp = c
            .http
            .post(format!("{}/issue/{key}/attachments", c.base))
            .header("Authorization", &c.auth)
            .header("X-Atlassian-Token", "no-check")
            .multipart(form)
            .send()
            .await
            .expect("reachable");
        let answer = Answer::read(resp).await;
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

/// What the `basic` rule syncs of one issue, in a form both flavours share.
#[derive(Debug)]
struct Synced {
    key: String,
    issue_type: String,
    description: String,
    status: String,
    priority: Option<String>,
    labels: BTreeSet<String>,
    /// Sorted, with repeats: a duplicate shows as a repeat.
    comments: Vec<String>,
    /// (name, size), sorted, with repeats.
    attachments: Vec<(String, usize)>,
}

impl Synced {
    /// Equal in everything the rule syncs (the keys differ, of course).
    fn same_as(&self, o: &Synced) -> bool {
        (
            &self.issue_type,
            &self.description,
            &self.status,
            &self.priority,
            &self.labels,
            &self.comments,
            &self.attachments,
        ) == (
            &o.issue_type,
            &o.description,
            &o.status,
            &o.priority,
            &o.labels,
            &o.comments,
            &o.attachments,
        )
    }
}

fn words(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The synced view of a project's issues, by summary; issues sharing a summary are all kept.
fn snapshot(
    h: &SimHandle,
    prefix: &str,
    leave_out: &BTreeSet<String>,
) -> BTreeMap<String, Vec<Synced>> {
    let st = h.state();
    let mut out: BTreeMap<String, Vec<Synced>> = BTreeMap::new();
    for i in st.issues.values() {
        if !i.key.starts_with(prefix) || leave_out.contains(&i.key) {
            continue;
        }
        let mut comments: Vec<String> = i
            .comments
            .iter()
            .map(|c| words(&st.plain_text(&c.body)))
            .collect();
        comments.sort();
        let mut attachments: Vec<(String, usize)> = i
            .attachments
            .iter()
            .filter_map(|id| st.attachments.get(id))
            .map(|a| (a.filename.clone(), a.content.len()))
            .collect();
        attachments.sort();
        let status = st
            .status(&i.status)
            .map_or_else(|| i.status.clone(), |s| s.name.clone());
        let issue_type = st
            .issue_types
            .iter()
            .find(|t| t.id == i.issue_type)
            .map_or_else(|| i.issue_type.clone(), |t| t.name.clone());
        let priority = i.priority.as_ref().map(|p| {
            st.priorities
                .iter()
                .find(|x| &x.id == p)
                .map_or_else(|| p.clone(), |x| x.name.clone())
        });
        out.entry(i.summary.clone()).or_default().push(Synced {
            key: i.key.clone(),
            issue_type,
            description: i
                .description
                .as_ref()
                .map(|d| words(&st.plain_text(d)))
                .unwrap_or_default(),
            status,
            priority,
            labels: i.labels.iter().cloned().collect(),
            comments,
            attachments,
        });
    }
    out
}

/// Every difference between the two sides (empty when they are equivalent), and the duplicates.
/// Twins are paired by the node's twin rows, so a twin whose summary differs shows as "differs",
/// and only an issue with no linked twin row as "has no twin".
fn differences(p: &Pair, expected: usize, store: &Store) -> Vec<String> {
    let on_a = snapshot(&p.a, "SUP-", &BTreeSet::new());
    let on_a: BTreeMap<_, _> = on_a
        .into_iter()
        .filter(|(s, _)| s.starts_with("Issue "))
        .collect();
    let on_b = snapshot(&p.b, "DEV-", &p.seeded_b);
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
                ("comment", i.comments.clone()),
                (
                    "attachment",
                    i.attachments.iter().map(|a| format!("{a:?}")).collect(),
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
        let twin = store
            .twin_by_local("ab", "a", &x.key)
            .ok()
            .flatten()
            .and_then(|t| t.remote_key);
        let Some((summary_b, y)) = twin.as_deref().and_then(|k| by_key_b.get(k)) else {
            diffs.push(format!(
                "{summary:?} ({}) has no twin on DEV (twin row: {twin:?})",
                x.key
            ));
            continue;
        };
        twinned_b.insert(y.key.clone());
        if *summary_b != summary || !x.same_as(y) {
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

/// The open events and the node's twin rows of the issues still apart: what a failed
/// convergence prints beside the differences.
fn queue_story(store: &Store) -> String {
    let mut out = String::new();
    if let Ok(stats) = store.queue_stats(None) {
        out.push_str(&format!("queue: {stats:?}\n"));
    }
    for state in [EventState::Running, EventState::Pending, EventState::Failed] {
        for e in store.events(Some(state), None, 15, 0).unwrap_or_default() {
            out.push_str(&format!(
                "  #{} {} {:?} {} {:?} attempts={} {}\n",
                e.id,
                e.side,
                e.kind,
                e.queue_key,
                e.state,
                e.attempts,
                e.last_error.as_deref().unwrap_or("")
            ));
        }
    }
    out
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
    let deadline = Instant::now() + within;
    loop {
        let diffs = differences(p, expected, store);
        if diffs.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            let shown: Vec<&String> = diffs.iter().take(25).collect();
            let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
            for d in &diffs {
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
            panic!(
                "the two sides did not converge within {within:?}; {} differences ({kinds:?}), first ones:\n{}\n{}\n{}",
                diffs.len(),
                shown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
                queue_story(store),
                context()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A free loopback port for the node, fixed across restarts so the webhooks stay valid.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The node as its own process, its output appended to a log file.
pub(crate) struct NodeProcess {
    child: Child,
}

impl NodeProcess {
    pub(crate) fn spawn(bin: &Path, config: &Path, log: &Path) -> NodeProcess {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("node log");
        let err = out.try_clone().expect("node log");
        let child = Command::new(bin)
            .arg("node")
            .arg("-c")
            .arg(config)
            .env("TWINSYNC_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("the node starts");
        NodeProcess { child }
    }

    /// SIGKILL (on unix): no shutdown code runs.
    fn kill(mut self) {
        assert!(
            self.child.try_wait().expect("node status").is_none(),
            "the node exited on its own before it was killed"
        );
        self.child.kill().expect("kill the node");
        let _ = self.child.wait();
    }

    /// SIGTERM: the node's own stop runs.
    pub(crate) fn terminate(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: kill(2) with a pid this test spawned and has not reaped yet.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "SIGTERM sent");
    }

    /// The exit status once the node has exited, or `None` if it still runs after `within`.
    pub(crate) async fn exited_within(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("node status") {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the node accepts connections (its store is open and migrated by then).
pub(crate) async fn wait_listening(port: u16, node: &mut NodeProcess, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        if let Some(status) = node.child.try_wait().expect("node status") {
            panic!("the node exited with {status}:\n{}", tail(log, 40));
        }
        assert!(
            Instant::now() < deadline,
            "the node did not listen within 30 s:\n{}",
            tail(log, 40)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

pub(crate) fn tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
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
    let bin = twinsync_e2e::twinsync_binary();
    let p = Pair::new().await;
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let config = p.dir.path().join("twinsync.toml");
    std::fs::write(&config, p.config(&listen)).expect("write config");
    let log = p.dir.path().join("node.log");
    p.register_webhooks(&format!("http://{listen}")).await;

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
        let mut node = NodeProcess::spawn(&bin, &config, &log);
        let how = if round % 6 == 5 {
            // Killed at a random moment of its start-up or first work, listening or not.
            let ms = dice.below(400);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            format!("after {ms} ms")
        } else {
            wait_listening(port, &mut node, &log).await;
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
    let mut node = NodeProcess::spawn(&bin, &config, &log);
    wait_listening(port, &mut node, &log).await;
    let store =
        store.unwrap_or_else(|| Store::open(&p.data_dir().join("twinsync.db")).expect("store"));
    let context = || {
        format!(
            "{}\nunfinished creations warned about: {}\nnode log, last lines:\n{}",
            kill_notes.join("\n"),
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .lines()
                .filter(|l| l.contains("did not finish"))
                .count(),
            tail(&log, 30)
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
    let config = NodeConfig::parse(
        &p.config("127.0.0.1:0"),
        Path::new("twinsync.toml"),
        PathBuf::from("."),
    )
    .expect("config parses");
    let node = Node::build(config).expect("node builds");
    let running = daemon::start(node).await.expect("node starts");
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
