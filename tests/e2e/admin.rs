//! The admin surface: `/metrics` after a real sync, the admin token, and the refusal to open
//! the admin API to the network without one.

use std::path::{Path, PathBuf};

use twinsync::config::NodeConfig;
use twinsync::sync::node::Node;

use twinsync_e2e::world::World;

fn value(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no series {series} in:\n{metrics}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_events_rule_calls_jira_calls_and_reloads() {
    let w = World::new().await;
    w.synced("Counted").await;
    let url = w.admin_url();
    let resp = reqwest::get(format!("{url}/metrics"))
        .await
        .expect("metrics");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/plain"),
        "Prometheus text format"
    );
    let text = resp.text().await.expect("body");
    assert!(value(&text, "twinsync_events{connection=\"ab\",state=\"done\"}") >= 2.0);
    assert_eq!(value(&text, "twinsync_queue_depth{connection=\"ab\"}"), 0.0);
    assert!(value(&text, "twinsync_rule_call_seconds_count") >= 2.0);
    assert!(value(&text, "twinsync_jira_requests_total{instance=\"a\"}") >= 1.0);
    assert!(value(&text, "twinsync_jira_requests_total{instance=\"b\"}") >= 1.0);
    assert_eq!(
        value(
            &text,
            "twinsync_rule_reloads_total{side=\"ab/a\",outcome=\"accepted\"}"
        ),
        1.0
    );
    assert!(
        text.contains("# TYPE twinsync_rule_call_seconds histogram"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_wants_its_token_when_one_is_set() {
    let mut w = World::new().await;
    w.restart_with_node_setting("admin_token = { value = \"s3cret-admin-token\" }")
        .await;
    let url = w.admin_url();
    let http = reqwest::Client::new();
    for path in [
        "/api/status",
        "/metrics",
        "/api/events?state=failed",
        "/api/rules",
        "/api/triggers",
        "/api/bulk",
        "/api/twins?connection=ab",
        "/api/openapi.json",
    ] {
        let none = http
            .get(format!("{url}{path}"))
            .send()
            .await
            .expect("reach");
        assert_eq!(none.status().as_u16(), 401, "{path} without a token");
        let wrong = http
            .get(format!("{url}{path}"))
            .bearer_auth("s3cret-admin-tokeN")
            .send()
            .await
            .expect("reach");
        assert_eq!(wrong.status().as_u16(), 401, "{path} with a wrong token");
        let right = http
            .get(format!("{url}{path}"))
            .bearer_auth("s3cret-admin-token")
            .send()
            .await
            .expect("reach");
        assert_eq!(right.status().as_u16(), 200, "{path} with the token");
    }
    // Every route that changes something wants the token too, and changes nothing without it.
    for path in [
        "/api/connections/ab/pause",
        "/api/connections/ab/resume",
        "/api/events/1/retry",
        "/api/rules/try?connection=ab&side=a&issue=SUP-1",
    ] {
        let none = http
            .post(format!("{url}{path}"))
            .header("content-type", "application/wasm")
            .body(b"x".to_vec())
            .send()
            .await
            .expect("reach");
        assert_eq!(none.status().as_u16(), 401, "POST {path} without a token");
    }
    assert_eq!(
        w.node().store.connection_state("ab").expect("state"),
        twinsync::store::ConnectionState::Active
    );
    // Malformed requests get a clear 4xx, with the token.
    let bad_state = http
        .get(format!("{url}/api/events?state=sideways"))
        .bearer_auth("s3cret-admin-token")
        .send()
        .await
        .expect("reach");
    assert_eq!(bad_state.status().as_u16(), 400);
    let bad_id = http
        .post(format!("{url}/api/events/not-a-number/retry"))
        .bearer_auth("s3cret-admin-token")
        .send()
        .await
        .expect("reach");
    assert_eq!(bad_id.status().as_u16(), 400);
    let missing = http
        .post(format!("{url}/api/events/999999/retry"))
        .bearer_auth("s3cret-admin-token")
        .send()
        .await
        .expect("reach");
    assert_eq!(missing.status().as_u16(), 404);
    let unknown = http
        .post(format!("{url}/api/connections/nope/pause"))
        .bearer_auth("s3cret-admin-token")
        .send()
        .await
        .expect("reach");
    assert_eq!(unknown.status().as_u16(), 404);
    // Webhooks keep their own secret, not the admin token, on the public listener.
    let public = w.node.as_ref().expect("node").url();
    let hook = http
        .post(format!(
            "{public}/webhooks/jira/a?secret=s3cret-s3cret-s3cret"
        ))
        .body("{}")
        .send()
        .await
        .expect("reach");
    assert_eq!(hook.status().as_u16(), 400, "reaches the webhook handler");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_will_not_open_its_admin_api_to_the_network_without_a_token() {
    let w = World::new().await;
    let config = NodeConfig::parse(&w.config, Path::new("twinsync.toml"), PathBuf::from("."))
        .expect("config");
    let other = tempfile::tempdir().expect("tempdir");
    let mut config = config;
    config.node.data_dir = other.path().join("data");
    config.node.admin_listen = Some("0.0.0.0:0".parse().expect("addr"));
    let node = Node::build(config).expect("node builds");
    let err = twinsync::daemon::start(node).await.err().expect("refused");
    assert!(err.to_string().contains("admin token"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_twins_and_the_openapi_document() {
    let w = World::new().await;
    let (key_a, key_b) = w.synced("Looked up").await;
    let url = w.admin_url();
    let get = |path: String| async move {
        let resp = reqwest::get(path).await.expect("reach");
        let status = resp.status().as_u16();
        (
            status,
            resp.json::<serde_json::Value>().await.unwrap_or_default(),
        )
    };

    // A twin by either key, with what was sent and applied.
    for key in [&key_a, &key_b] {
        let (status, body) = get(format!("{url}/api/twins?key={key}")).await;
        assert_eq!(status, 200, "{body}");
        let rows = body["twins"].as_array().expect("rows");
        assert_eq!(
            rows.len(),
            2,
            "one row per side of a local connection: {body}"
        );
        let a_row = rows.iter().find(|r| r["side"] == "a").expect("side a");
        assert_eq!(a_row["local_key"], key_a.as_str());
        assert_eq!(a_row["remote_key"], key_b.as_str());
        assert_eq!(a_row["last_sent"]["summary"], "Looked up");
    }
    let (status, _) = get(format!("{url}/api/twins?key=NOPE-1")).await;
    assert_eq!(status, 404);
    let (status, _) = get(format!("{url}/api/twins")).await;
    assert_eq!(status, 400, "a key or a connection is required");

    // Rules: version, last reload, and the rule's own log lines (the escape rule logs none;
    // basic logs none either, so only the shape is checked here).
    let (status, body) = get(format!("{url}/api/rules")).await;
    assert_eq!(status, 200);
    let rules = body["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 2);
    for r in rules {
        assert_eq!(r["last_reload"]["outcome"], "accepted", "{r}");
        assert_eq!(r["world_version"], "0.2.0");
        assert_eq!(r["version"].as_str().map(str::len), Some(12));
        assert!(r["logs"].is_array());
    }

    // The OpenAPI document names every admin route the node serves.
    let (status, doc) = get(format!("{url}/api/openapi.json")).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.0.3");
    for path in [
        "/api/status",
        "/api/events",
        "/api/events/{id}/retry",
        "/api/connections/{name}/pause",
        "/api/connections/{name}/resume",
        "/api/rules",
        "/api/rules/try",
        "/api/twins",
        "/api/triggers",
        "/api/bulk",
        "/api/openapi.json",
        "/metrics",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_page_is_served_from_the_binary() {
    let w = World::new().await;
    let url = w.admin_url();
    let resp = reqwest::get(format!("{url}/")).await.expect("reach");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["content-security-policy"]
            .to_str()
            .unwrap_or("")
            .contains("default-src 'self'")
    );
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap_or("")
        .to_string();
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"));
    assert_eq!(
        script_src,
        Some("script-src 'self'"),
        "no inline script: {csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = resp.text().await.expect("html");
    assert!(html.contains("<script src=\"/ui.js\">"), "no inline script");
    let script = reqwest::get(format!("{url}/ui.js"))
        .await
        .expect("reach")
        .text()
        .await
        .expect("script");
    let html = html + &script;
    assert!(
        !script.contains("innerHTML"),
        "data is rendered as text only"
    );
    for api in [
        "/api/status",
        "/api/events?state=failed",
        "/api/rules",
        "/api/twins?key=",
    ] {
        assert!(html.contains(api), "the page uses {api}");
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external CDN"
    );
}

/// Runs the `twinsync` binary with `args`, the admin token in the environment when given.
fn cli(args: &[&str], token: Option<&str>) -> (bool, String, String) {
    let mut cmd = std::process::Command::new(twinsync_e2e::twinsync_binary());
    cmd.args(args).env_remove("TWINSYNC_ADMIN_TOKEN");
    if let Some(t) = token {
        cmd.env("TWINSYNC_ADMIN_TOKEN", t);
    }
    // The CLI blocks on the node, which runs on this test's runtime: keep it off the workers.
    let out = cmd.output().expect("the CLI runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_works_over_the_admin_api_with_tables_and_json() {
    let mut w = World::new().await;
    w.restart_with_node_setting("admin_token = { value = \"cli-token-0123456789\" }")
        .await;
    w.synced("Seen by the CLI").await;
    let url = w.admin_url();
    // With --node and no -c, the token comes from the environment only.
    let node = ["--node", url.as_str()];
    let run = |args: Vec<String>, token: Option<&'static str>| {
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            cli(&args, token)
        })
    };
    let with = |cmd: &[&'static str]| -> Vec<String> {
        cmd.iter()
            .chain(node.iter())
            .map(|s| s.to_string())
            .collect()
    };

    let (ok, out, err) = run(with(&["status", "--json"]), Some("cli-token-0123456789"))
        .await
        .expect("join");
    assert!(ok, "{err}");
    let status: serde_json::Value = serde_json::from_str(&out).expect("status JSON");
    assert_eq!(status["connections"][0]["name"], "ab");
    assert!(
        status["connections"][0]["last_sync_at_ms"]
            .as_i64()
            .is_some(),
        "{status}"
    );
    let (ok, out, err) = run(with(&["status"]), Some("cli-token-0123456789"))
        .await
        .expect("join");
    assert!(ok, "{err}");
    assert!(out.starts_with("CONNECTION"), "{out}");
    assert!(out.contains("ab ") && out.contains("active"), "{out}");

    let (ok, _, err) = run(with(&["status"]), None).await.expect("join");
    assert!(!ok, "no token: refused");
    assert!(err.contains("401") && err.contains("admin token"), "{err}");

    let (ok, out, err) = run(
        with(&["connection", "pause", "ab"]),
        Some("cli-token-0123456789"),
    )
    .await
    .expect("join");
    assert!(ok, "{err}");
    assert!(out.contains("ab paused"), "{out}");
    let (_, out, _) = run(with(&["connection", "list"]), Some("cli-token-0123456789"))
        .await
        .expect("join");
    assert!(out.contains("paused") && out.contains("a@a:"), "{out}");
    let (ok, out, err) = run(
        with(&["connection", "resume", "ab", "--json"]),
        Some("cli-token-0123456789"),
    )
    .await
    .expect("join");
    assert!(ok, "{err}");
    let resumed: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(resumed["state"], "active");
    let (ok, _, err) = run(
        with(&["connection", "pause", "nope"]),
        Some("cli-token-0123456789"),
    )
    .await
    .expect("join");
    assert!(!ok && err.contains("no connection named"), "{err}");

    let (ok, out, err) = run(with(&["errors"]), Some("cli-token-0123456789"))
        .await
        .expect("join");
    assert!(ok, "{err}");
    assert_eq!(out, "no failed events\n");
    let (ok, _, err) = run(with(&["retry", "999999"]), Some("cli-token-0123456789"))
        .await
        .expect("join");
    assert!(!ok && err.contains("404"), "{err}");

    // A node that is not there: a clear message, not a stack of errors.
    let (ok, _, err) = run(
        ["status", "--node", "http://127.0.0.1:9"]
            .map(String::from)
            .to_vec(),
        None,
    )
    .await
    .expect("join");
    assert!(!ok && err.contains("cannot reach the node"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_rule_is_tried_on_a_live_issue_without_syncing() {
    let w = World::new().await;
    let (key, key_b) = w.synced("Tried on ACME data").await;
    let url = w.admin_url();
    let before = w.node().store.queue_stats(Some("ab")).expect("stats");
    let serving = w.node().registry.slots()[0]
        .current()
        .expect("rule")
        .id()
        .clone();
    let b_before = w.cb.get(&format!("/issue/{key_b}")).await.body["fields"].clone();
    let http = reqwest::Client::new();
    let candidate = std::fs::read(twinsync_e2e::rule("confidential")).expect("candidate");
    let try_on = |side: &'static str, issue: String, body: Vec<u8>| {
        http.post(format!("{url}/api/rules/try"))
            .query(&[
                ("connection", "ab"),
                ("side", side),
                ("issue", issue.as_str()),
            ])
            .header("content-type", "application/wasm")
            .body(body)
            .send()
    };
    let resp = try_on("a", key.clone(), candidate.clone())
        .await
        .expect("reach");
    assert_eq!(resp.status().as_u16(), 200);
    let report: serde_json::Value = resp.json().await.expect("JSON");
    let out = &report["outgoing"];
    assert!(out["current"]["rule"].as_str().is_some(), "{report}");
    assert_eq!(out["candidate"]["rule"], "candidate.wasm");
    assert_eq!(out["candidate"]["world_version"], "0.2.0");
    assert_eq!(out["current"]["result"]["summary"], "Tried on ACME data");
    // basic sends a subset; confidential sends every field but attachments and internal comments.
    let fields: Vec<&str> = out["diff"]
        .as_array()
        .expect("diff")
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert!(fields.contains(&"reporter"), "{fields:?}");
    assert!(!fields.contains(&"summary"), "{fields:?}");
    // Side a has only sent, never applied a replica: nothing to replay incoming.
    assert!(report["incoming"].is_null(), "{report}");

    // Side b has applied a replica: the incoming direction is replayed there.
    // The first trial may have compiled the candidate (a clean cache); the second must not.
    let compiled_once = w.compilations();
    let resp = try_on("b", key_b.clone(), candidate.clone())
        .await
        .expect("reach");
    let report: serde_json::Value = resp.json().await.expect("JSON");
    assert_eq!(
        report["incoming"]["candidate"]["result"]["summary"], "Tried on ACME data",
        "{report}"
    );
    assert!(
        report["incoming"]["current"]["result"].is_object(),
        "{report}"
    );

    // Nothing was synced, queued, recorded or swapped by the trials.
    w.settle().await;
    let after = w.node().store.queue_stats(Some("ab")).expect("stats");
    assert_eq!(after, before, "the queue is as it was");
    assert_eq!(
        w.cb.get(&format!("/issue/{key_b}")).await.body["fields"],
        b_before,
        "B's twin is untouched"
    );
    assert_eq!(
        w.node().registry.slots()[0].current().expect("rule").id(),
        &serving,
        "the serving rule stays in place"
    );
    assert_eq!(
        w.compilations(),
        compiled_once,
        "the second trial of the same candidate came from the compile cache"
    );

    // Refusals: no body, not a component, unknown side, unknown issue, missing parameters.
    for (side, issue, body, want) in [
        ("a", key.clone(), Vec::new(), 400),
        ("a", key.clone(), b"not wasm".to_vec(), 422),
        ("zz", key.clone(), b"x".to_vec(), 404),
        (
            "a",
            "SUP-99999".to_string(),
            std::fs::read(twinsync_e2e::rule("basic")).expect("basic"),
            404,
        ),
    ] {
        let resp = try_on(side, issue.clone(), body).await.expect("reach");
        assert_eq!(resp.status().as_u16(), want, "{side} {issue}");
    }
    let resp = http
        .post(format!("{url}/api/rules/try?connection=ab"))
        .header("content-type", "application/wasm")
        .body(b"x".to_vec())
        .send()
        .await
        .expect("reach");
    assert_eq!(resp.status().as_u16(), 400, "parameters missing");

    // A version tried once is compiled once: swapping it in afterwards loads it from the cache.
    let fresh = twinsync_e2e::fresh_variant("confidential");
    let before_try = w.compilations();
    let resp = try_on("a", key.clone(), fresh.clone())
        .await
        .expect("reach");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(w.compilations(), before_try + 1, "the try compiled it");
    let slot = w.node().registry.slot("ab/a").expect("side a");
    let file = slot.file().to_path_buf();
    let staged = file.with_extension("new");
    std::fs::write(&staged, &fresh).expect("stage");
    std::fs::rename(&staged, &file).expect("swap");
    let version = twinsync_e2e::version_of(&fresh);
    twinsync_e2e::wait::wait_for("the tried version serving", || async {
        (slot.current().ok()?.id().hash == version).then_some(())
    })
    .await;
    assert!(
        matches!(
            slot.last_reload().1,
            twinsync::rules::ReloadOutcome::Accepted {
                compiled: false,
                ..
            }
        ),
        "{:?}",
        slot.last_reload()
    );
    assert_eq!(
        w.compilations(),
        before_try + 1,
        "the swap did not compile it again"
    );
    // A body a browser could send cross-site without asking is refused.
    let resp = http
        .post(format!("{url}/api/rules/try"))
        .query(&[("connection", "ab"), ("side", "a"), ("issue", key.as_str())])
        .header("content-type", "text/plain")
        .body(candidate)
        .send()
        .await
        .expect("reach");
    assert_eq!(resp.status().as_u16(), 415);
    // And so is any admin change from another site's page, token or not.
    let resp = http
        .post(format!("{url}/api/connections/ab/pause"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .expect("reach");
    assert_eq!(resp.status().as_u16(), 403);
    let resp = http
        .post(format!("{url}/api/connections/ab/pause"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .expect("reach");
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(
        w.node().store.connection_state("ab").expect("state"),
        twinsync::store::ConnectionState::Active
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twins_are_paged_never_loaded_all_at_once() {
    let w = World::new().await;
    let mut keys = Vec::new();
    for i in 0..5 {
        keys.push(w.create_on_a(&format!("Paged {i}"), &["sync"]).await);
    }
    for k in &keys {
        w.twin_of(k).await;
    }
    w.settle().await;
    let url = w.admin_url();
    let page = |offset: usize| {
        let url = url.clone();
        async move {
            reqwest::get(format!(
                "{url}/api/twins?connection=ab&side=a&limit=2&offset={offset}"
            ))
            .await
            .expect("reach")
            .json::<serde_json::Value>()
            .await
            .expect("JSON")
        }
    };
    let mut seen = Vec::new();
    for offset in [0, 2, 4] {
        let p = page(offset).await;
        assert_eq!(p["total"], 5, "{p}");
        assert_eq!(p["limit"], 2);
        for t in p["twins"].as_array().expect("rows") {
            seen.push(t["local_key"].as_str().expect("key").to_string());
        }
    }
    seen.sort();
    let mut want = keys.clone();
    want.sort();
    assert_eq!(seen, want, "three pages hold every twin once");
    let bad = reqwest::get(format!("{url}/api/twins?connection=nope"))
        .await
        .expect("reach");
    assert_eq!(bad.status().as_u16(), 404);
    let bad = reqwest::get(format!("{url}/api/twins?connection=ab&side=zz"))
        .await
        .expect("reach");
    assert_eq!(bad.status().as_u16(), 404);
}

/// `/metrics` through the Prometheus project's own parser (Python `prometheus_client`).
fn parse_metrics(text: &str) -> serde_json::Value {
    use std::io::Write as _;
    let script = twinsync_e2e::root().join("tests/outside-client/parse_metrics.py");
    let mut child = std::process::Command::new(crate::sim_client::venv_python())
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write metrics");
    let out = child.wait_with_output().expect("parser finishes");
    assert!(
        out.status.success(),
        "the Prometheus parser refused /metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("parser output")
}

fn sample(parsed: &serde_json::Value, name: &str, labels: &[(&str, &str)]) -> f64 {
    parsed["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .find(|s| {
            s["name"] == name
                && labels
                    .iter()
                    .all(|(k, v)| s["labels"][*k].as_str() == Some(*v))
        })
        .and_then(|s| s["value"].as_f64())
        .unwrap_or_else(|| panic!("no sample {name} {labels:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_with_the_prometheus_parser_and_move_with_syncs() {
    let w = World::new().await;
    let url = w.admin_url();
    let scrape = || async {
        let text = reqwest::get(format!("{url}/metrics"))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("body");
        tokio::task::spawn_blocking(move || parse_metrics(&text))
            .await
            .expect("join")
    };
    let before = scrape().await;
    assert_eq!(
        before["families"]["twinsync_rule_call_seconds"],
        "histogram"
    );
    assert_eq!(before["families"]["twinsync_jira_requests"], "counter");
    assert_eq!(before["families"]["twinsync_queue_depth"], "gauge");
    w.synced("Moves the counters").await;
    let after = scrape().await;
    let done = [("connection", "ab"), ("state", "done")];
    assert!(
        sample(&after, "twinsync_events", &done) >= sample(&before, "twinsync_events", &done) + 2.0,
        "an outgoing and an incoming event finished"
    );
    assert!(
        sample(&after, "twinsync_rule_call_seconds_count", &[])
            >= sample(&before, "twinsync_rule_call_seconds_count", &[]) + 2.0
    );
    for instance in ["a", "b"] {
        let l = [("instance", instance)];
        assert!(
            sample(&after, "twinsync_jira_requests_total", &l)
                > sample(&before, "twinsync_jira_requests_total", &l),
            "instance {instance} was called"
        );
    }
}
