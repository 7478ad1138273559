//! The admin API and page: rules, twins (paged), the OpenAPI document, the page served from
//! the binary, and a candidate rule tried on a live issue without syncing.

use twinsync_e2e::world::World;

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
        assert_eq!(r["world_version"], "0.3.0");
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
        "/api/issues/{connection}/{key}",
        "/api/openapi.json",
        "/api/connections/{name}/sides/{side}/rule",
        "/api/connections/{name}/sides/{side}/rule/versions",
        "/api/connections/{name}/sides/{side}/rule/rollback",
        "/api/instances",
        "/api/instances/{name}",
        "/api/instances/{name}/projects",
        "/api/connections",
        "/api/connections/{name}",
        "/api/connections/{name}/sides/{side}",
        "/api/connections/{name}/invitation",
        "/api/invitations/accept",
        "/api/connections/{name}/triggers",
        "/api/triggers/{id}",
        "/api/triggers/{id}/bulk",
        "/api/connections/{name}/sync",
        "/api/connections/{name}/sides/{side}/catch-up",
        "/api/instances/{name}/meta/{kind}",
        "/api/connections/{name}/mapping",
        "/api/connections/{name}/mapping/draft",
        "/api/connections/{name}/mapping/publish",
        "/api/connections/{name}/mapping/preview",
        "/api/connections/{name}/connect/propose",
        "/api/connections/{name}/connect/approve",
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
    // The page's other scripts: each loaded by the page, served as a script, text only.
    for name in [
        "ui-setup.js",
        "ui-connection.js",
        "ui-issue.js",
        "ui-visual.js",
    ] {
        assert!(
            html.contains(&format!("<script src=\"/{name}\"></script>")),
            "the page loads {name}"
        );
        let resp = reqwest::get(format!("{url}/{name}")).await.expect("reach");
        assert_eq!(resp.status().as_u16(), 200, "{name}");
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap_or("")
                .starts_with("text/javascript"),
            "{name}"
        );
        let script = resp.text().await.expect("script");
        assert!(!script.contains("innerHTML"), "{name} renders text only");
        assert!(
            !script.contains("http://") && !script.contains("https://"),
            "{name}: no external CDN"
        );
    }
    let script = reqwest::get(format!("{url}/ui-issue.js"))
        .await
        .expect("reach")
        .text()
        .await
        .expect("script");
    assert!(
        script.contains("/api/issues/"),
        "the issue page uses the issue view"
    );
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
    let candidate = std::fs::read(twinsync_e2e::fixtures::rule("confidential")).expect("candidate");
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
    assert_eq!(out["candidate"]["world_version"], "0.3.0");
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
            std::fs::read(twinsync_e2e::fixtures::rule("basic")).expect("basic"),
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
    let fresh = twinsync_e2e::fixtures::fresh_variant("confidential");
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
    let version = twinsync_e2e::fixtures::version_of(&fresh);
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
