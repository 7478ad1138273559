//! `twinsync connect`: issues that already exist on both sides become twins without any issue
//! being created, reviewed first (the CLI's table, the admin API's proposal); the first sync of
//! a linked pair follows the conflict rules; a crash mid-connect leaves no half-linked pair.

use serde_json::{Value, json};
use twinsync::sync::connect::{self, ApprovedPair, MatchBy};
use twinsync_e2e::node_process::cli;
use twinsync_e2e::rest::new_issue;
use twinsync_e2e::wait::wait_for;
use twinsync_e2e::world::World;
use twinsync_jira_sim::SimHandle;

/// Issues created through the REST API (`POST .../issue`), whoever made them.
fn creates(h: &SimHandle) -> u64 {
    h.counters()
        .iter()
        .filter(|c| c.method == "POST" && c.route.ends_with("/issue"))
        .map(|c| c.count)
        .sum()
}

/// Linked twins of side `a` of connection `ab`.
fn twins(w: &World) -> i64 {
    w.node().store.twin_count("ab", "a").expect("store")
}

/// Creates `n` issues on each side labelled `legacy`, summaries `Legacy i`, in shuffled order
/// on B so that key numbers do not line up; returns the keys by summary, A's then B's.
async fn legacy_pairs(w: &World, n: usize) -> Vec<(String, String)> {
    let mut a = Vec::new();
    for i in 0..n {
        let body = new_issue(
            "SUP",
            "Task",
            &format!("Legacy {i}"),
            json!({"labels": ["legacy"]}),
        );
        a.push(w.ca.create(body).await);
    }
    let mut b = vec![String::new(); n];
    for i in (0..n).rev() {
        let body = new_issue(
            "DEV",
            "Task",
            &format!("legacy   {i}"),
            json!({"labels": ["legacy"]}),
        );
        b[i] = w.cb.create(body).await;
    }
    a.into_iter().zip(b).collect()
}

/// The config file the CLI reads: the running node's own.
fn config_file(w: &World) -> std::path::PathBuf {
    let path = w.dir.path().join("twinsync.toml");
    std::fs::write(&path, &w.config).expect("write config");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_links_fifty_existing_pairs_after_review_and_creates_nothing() {
    let w = World::new().await;
    let pairs = legacy_pairs(&w, 50).await;
    let before = (creates(&w.a), creates(&w.b));
    let config = config_file(&w);
    let args = [
        "connect",
        "-C",
        "ab",
        "--jql",
        "labels = legacy",
        "--match",
        "summary",
    ];

    // Review: the table lists every pair, and nothing is linked.
    let out = cli(&args, &config);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{table}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (ka, kb) in &pairs {
        assert!(
            table
                .lines()
                .any(|l| l.split_whitespace().take(2).eq([ka.as_str(), kb.as_str()])),
            "{ka} {kb} is not proposed:\n{table}"
        );
    }
    assert!(table.contains("50 pairs by summary"), "{table}");
    assert_eq!(twins(&w), 0, "a review links nothing");

    // Approved from a file: the first ten; then the rest with --yes.
    let file = w.dir.path().join("approved.txt");
    let listed: String = pairs[..10]
        .iter()
        .map(|(a, b)| format!("{a} {b}  # reviewed\n"))
        .collect();
    std::fs::write(&file, listed).expect("write approvals");
    let out = cli(
        &[
            "connect",
            "-C",
            "ab",
            "--approve",
            file.to_str().expect("path"),
        ],
        &config,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("10 pairs linked"), "{text}");
    let out = cli(&[&args[..], &["--yes"][..]].concat(), &config);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("40 pairs linked"), "{text}");

    for (ka, kb) in &pairs {
        let twin = w.node().store.twin_by_local("ab", "a", ka).expect("store");
        assert_eq!(
            twin.and_then(|t| t.remote_key).as_deref(),
            Some(kb.as_str())
        );
        let back = w.node().store.twin_by_local("ab", "b", kb).expect("store");
        assert_eq!(
            back.and_then(|t| t.remote_key).as_deref(),
            Some(ka.as_str())
        );
    }
    w.settle().await;
    w.assert_none_failed();
    assert_eq!(twins(&w), 50);
    assert_eq!(
        (creates(&w.a), creates(&w.b)),
        before,
        "connect and the first syncs create no issue"
    );
    // Each issue carries the mark of its other half, as a twin the node made would.
    let (ka, kb) = &pairs[7];
    let mark =
        w.cb.get(&format!("/issue/{kb}/properties/twinsync.origin"))
            .await;
    assert_eq!(mark.body["value"]["key"], json!(ka), "{}", mark.body);

    // The pairs are twins now: an edit crosses, still with no creation.
    w.ca.edit(ka, json!({"summary": "Legacy 7, reopened"}))
        .await;
    wait_for("the edit on B", || async {
        (w.cb.field(kb, &["summary"]).await == "Legacy 7, reopened").then_some(())
    })
    .await;
    w.settle().await;
    assert_eq!((creates(&w.a), creates(&w.b)), before);

    // Connected pairs are proposed no more.
    let out = cli(&args, &config);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("0 pairs by summary"), "{table}");
    assert!(table.contains("already twins: 50 on a, 50 on b"), "{table}");
}

/// An issue's labels, sorted.
fn labels(v: Value) -> Vec<String> {
    let mut l: Vec<String> = serde_json::from_value(v).expect("labels");
    l.sort();
    l
}

/// POSTs JSON to the node's admin API.
async fn admin_post(w: &World, path: &str, body: Value) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", w.admin_url()))
        .json(&body)
        .send()
        .await
        .expect("admin api");
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.expect("json");
    assert_eq!(status, 200, "{path}: {body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_sync_of_a_connected_pair_lets_the_newer_edit_win() {
    let w = World::new().await;
    // Pair 1: B's issue was edited last. Pair 2: A's was. Matched by an issue property.
    let old = json!({"labels": ["pair"]});
    let a1 =
        w.ca.create(new_issue("SUP", "Task", "Old words on A", old.clone()))
            .await;
    let b2 =
        w.cb.create(new_issue("DEV", "Task", "Old words on B", old.clone()))
            .await;
    let b1 =
        w.cb.create(new_issue("DEV", "Task", "Words on B", old.clone()))
            .await;
    let a2 =
        w.ca.create(new_issue("SUP", "Task", "Words on A", old))
            .await;
    for (client, key, id) in [
        (&w.ca, &a1, 1),
        (&w.cb, &b1, 1),
        (&w.ca, &a2, 2),
        (&w.cb, &b2, 2),
    ] {
        let put = client
            .put(
                &format!("/issue/{key}/properties/legacy.id"),
                json!({"id": id}),
            )
            .await;
        assert!(put.status < 300, "{}", put.body);
    }
    // The newer edits come last, each after the older of its pair.
    let e =
        w.cb.edit(
            &b1,
            json!({"summary": "New words on B", "labels": ["pair", "b-side"]}),
        )
        .await;
    assert_eq!(e.status, 204, "{}", e.body);
    let e =
        w.ca.edit(
            &a2,
            json!({"summary": "New words on A", "labels": ["pair", "a-side"]}),
        )
        .await;
    assert_eq!(e.status, 204, "{}", e.body);
    let before = (creates(&w.a), creates(&w.b));

    let proposal = admin_post(
        &w,
        "/api/connections/ab/connect/propose",
        json!({"jql": "labels = pair", "match": "property:legacy.id"}),
    )
    .await;
    let proposed: Vec<(String, String)> = proposal["pairs"]
        .as_array()
        .expect("pairs")
        .iter()
        .map(|p| {
            (
                p["left"]["key"].as_str().unwrap_or("").to_string(),
                p["right"]["key"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        proposed,
        [(a1.clone(), b1.clone()), (a2.clone(), b2.clone())],
        "{proposal}"
    );
    assert_eq!(twins(&w), 0, "a proposal links nothing");
    let report = admin_post(
        &w,
        "/api/connections/ab/connect/approve",
        json!({"pairs": [{"left": a1, "right": b1}, {"left": a2, "right": b2}]}),
    )
    .await;
    assert_eq!(report["pairs"][0]["outcome"], "linked", "{report}");
    assert_eq!(report["pairs"][1]["outcome"], "linked", "{report}");

    for (ka, kb, want) in [(&a1, &b1, "New words on B"), (&a2, &b2, "New words on A")] {
        wait_for(&format!("{ka} and {kb} to agree on {want:?}"), || async {
            let sa = w.ca.field(ka, &["summary"]).await;
            let sb = w.cb.field(kb, &["summary"]).await;
            (sa == want && sb == want).then_some(())
        })
        .await;
    }
    w.settle().await;
    w.assert_none_failed();
    // Still the newer side's values, whole: nothing was overwritten blindly in either direction.
    assert_eq!(w.ca.field(&a1, &["summary"]).await, "New words on B");
    assert_eq!(w.cb.field(&b2, &["summary"]).await, "New words on A");
    assert_eq!(
        labels(w.ca.field(&a1, &["labels"]).await),
        ["b-side", "pair"]
    );
    assert_eq!(
        labels(w.cb.field(&b2, &["labels"]).await),
        ["a-side", "pair"]
    );
    assert_eq!((creates(&w.a), creates(&w.b)), before);

    // A connection that is not there, or a match that cannot be read, is refused by name.
    for (path, body, status) in [
        ("/api/connections/nope/connect/propose", json!({}), 404),
        (
            "/api/connections/ab/connect/propose",
            json!({"match": "colour"}),
            422,
        ),
        (
            "/api/connections/nope/connect/approve",
            json!({"pairs": []}),
            404,
        ),
    ] {
        let resp = reqwest::Client::new()
            .post(format!("{}{path}", w.admin_url()))
            .json(&body)
            .send()
            .await
            .expect("admin api");
        assert_eq!(resp.status().as_u16(), status, "{path} {body}");
    }

    // Approving the same pairs again links nothing twice.
    let again = admin_post(
        &w,
        "/api/connections/ab/connect/approve",
        json!({"pairs": [{"left": a1, "right": b1}, {"left": a2, "right": b2}]}),
    )
    .await;
    assert_eq!(again["pairs"][0]["outcome"], "already_linked", "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_every_connect_point_leaves_no_half_linked_pair_and_no_duplicate() {
    let w = World::new().await;
    let pairs = legacy_pairs(&w, 6).await;
    let before = (creates(&w.a), creates(&w.b));
    let approved: Vec<ApprovedPair> = pairs
        .iter()
        .map(|(a, b)| ApprovedPair {
            left: a.clone(),
            right: b.clone(),
        })
        .collect();
    for (n, point) in twinsync::failpoint::CONNECT_POINTS.iter().enumerate() {
        // Each crash hits a pair further on: the one before it was linked in full.
        let node = w.node().clone();
        let batch = approved.clone();
        let hit = (n * 2 + 2) as u64;
        let run = tokio::spawn(twinsync::failpoint::scoped(point, hit, async move {
            connect::link(&node, "ab", &batch).await
        }));
        let crashed = run.await.expect_err("the crash point is reached");
        assert!(crashed.is_panic(), "{point}: {crashed}");
        // No pair is linked on one side only.
        for (ka, kb) in &pairs {
            let a = w.node().store.twin_by_local("ab", "a", ka).expect("store");
            let b = w.node().store.twin_by_local("ab", "b", kb).expect("store");
            let (a, b) = (a.and_then(|t| t.remote_key), b.and_then(|t| t.remote_key));
            assert_eq!(
                a.is_some(),
                b.is_some(),
                "{point}: {ka} {kb} half linked: {a:?} {b:?}"
            );
        }
    }
    // Once proposed again, the rest is found and linked; the crashed ones are not doubled.
    let proposal = connect::propose(w.node(), "ab", "labels = legacy", &MatchBy::Summary)
        .await
        .expect("propose");
    let rest: Vec<ApprovedPair> = proposal
        .pairs
        .iter()
        .map(|p| ApprovedPair {
            left: p.left.key.clone(),
            right: p.right.key.clone(),
        })
        .collect();
    assert!(!rest.is_empty() && rest.len() < pairs.len(), "{proposal:?}");
    let report = connect::link(w.node(), "ab", &approved)
        .await
        .expect("link");
    assert_eq!(report.count(connect::LinkOutcome::Refused), 0, "{report:?}");
    w.settle().await;
    w.assert_none_failed();
    assert_eq!(twins(&w), pairs.len() as i64);
    for (ka, kb) in &pairs {
        assert_eq!(
            w.node()
                .store
                .twin_by_local("ab", "a", ka)
                .expect("store")
                .and_then(|t| t.remote_key)
                .as_deref(),
            Some(kb.as_str())
        );
    }
    assert_eq!((creates(&w.a), creates(&w.b)), before, "no issue created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connect_command_killed_mid_way_and_run_again_links_every_pair_once() {
    let w = World::new().await;
    let pairs = legacy_pairs(&w, 8).await;
    let before = (creates(&w.a), creates(&w.b));
    let config = config_file(&w);
    let args = [
        "connect",
        "-C",
        "ab",
        "--jql",
        "labels = legacy",
        "--match",
        "summary",
        "--yes",
    ];
    // The process aborts (as a SIGKILL would leave it) at each point in turn, further on each time.
    for (point, hit) in [("connect-marked", 3), ("connect-linked", 2)] {
        let out = std::process::Command::new(twinsync_e2e::fixtures::twinsync_binary())
            .args(args)
            .arg("-c")
            .arg(&config)
            .env("TWINSYNC_FAILPOINT", format!("{point}@{hit}"))
            .output()
            .expect("the CLI runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{point}: the CLI was not killed\n{stderr}"
        );
        assert!(
            stderr.contains(&format!("crash point {point} reached")),
            "{stderr}"
        );
        for (ka, kb) in &pairs {
            let a = w.node().store.twin_by_local("ab", "a", ka).expect("store");
            let b = w.node().store.twin_by_local("ab", "b", kb).expect("store");
            let (a, b) = (a.and_then(|t| t.remote_key), b.and_then(|t| t.remote_key));
            assert_eq!(a.is_some(), b.is_some(), "{point}: {ka} {kb} half linked");
        }
    }
    let linked = twins(&w);
    assert!(
        linked > 0 && linked < pairs.len() as i64,
        "{linked} linked before the last run"
    );
    let out = cli(&args, &config);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("{} pairs linked", pairs.len() as i64 - linked)),
        "{text}"
    );
    w.settle().await;
    w.assert_none_failed();
    for (ka, kb) in &pairs {
        let twin = w.node().store.twin_by_local("ab", "a", ka).expect("store");
        assert_eq!(
            twin.and_then(|t| t.remote_key).as_deref(),
            Some(kb.as_str())
        );
    }
    assert_eq!(twins(&w), pairs.len() as i64);
    assert_eq!((creates(&w.a), creates(&w.b)), before, "no issue created");
}
