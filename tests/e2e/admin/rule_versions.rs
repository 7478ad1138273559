//! A side's rule versions over the admin API: publish (checked, kept, serving at once),
//! the history with the version serving now, rollback in one call, and every refusal.

use serde_json::{Value, json};
use twinsync_e2e::fixtures::rule;
use twinsync_e2e::wait::wait_for;
use twinsync_e2e::world::World;

/// A POST of `body` with `content_type`; returns the status and the JSON answer.
async fn post(url: String, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("reach");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

async fn get(url: String) -> (u16, Value) {
    let resp = reqwest::get(url).await.expect("reach");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

fn sha256_of(bytes: &[u8]) -> String {
    twinsync_e2e::fixtures::version_of(bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_rule_serves_at_once_and_a_rollback_brings_the_old_one_back() {
    let w = World::new().await;
    let (key_a, key_b) = w.synced("Printer on fire").await;
    let base = format!("{}/api/connections/ab/sides/a/rule", w.admin_url());
    let slot = w.node().registry.slot("ab/a").expect("slot a");
    let basic = std::fs::read(slot.file()).expect("side a's rule file");

    // Nothing published yet: an empty history.
    let (status, body) = get(format!("{base}/versions")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["versions"], json!([]), "{body}");

    // Publish acme-prefix on side a: it serves as soon as the answer comes, no restart.
    let prefix = std::fs::read(rule("acme-prefix")).expect("acme-prefix");
    let (status, body) = post(
        format!("{base}?note=prefix%20the%20summary"),
        "application/wasm",
        prefix.clone(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["version"], 1, "{body}");
    let published = body["sha256"].as_str().expect("sha256").to_string();
    assert_eq!(published, sha256_of(&prefix), "{body}");
    assert_eq!(
        slot.current().expect("serving").id().hash,
        published,
        "the published version serves when the call returns"
    );
    assert_eq!(std::fs::read(slot.file()).expect("file"), prefix);

    // It works on the live issue: an edit on A arrives on B with the prefix.
    w.ca.edit(&key_a, json!({"summary": "Printer still on fire"}))
        .await;
    wait_for("the prefixed summary on B", || async {
        (w.cb.field(&key_b, &["summary"]).await == "[ACME] Printer still on fire").then_some(())
    })
    .await;

    // The history: version 1, serving, and version 0, the file the side had before.
    let (status, body) = get(format!("{base}/versions")).await;
    assert_eq!(status, 200, "{body}");
    let versions = body["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 2, "{body}");
    assert_eq!(versions[0]["version"], 1);
    assert_eq!(versions[0]["note"], "prefix the summary");
    assert_eq!(versions[0]["current"], true);
    assert_eq!(versions[0]["size"], prefix.len());
    assert!(versions[0]["published_at"].as_i64().is_some());
    assert_eq!(versions[1]["version"], 0);
    assert_eq!(versions[1]["note"], "as it was");
    assert_eq!(versions[1]["current"], false);
    assert_eq!(versions[1]["sha256"], sha256_of(&basic));
    // Kept privately in the data directory.
    let kept = w
        .dir
        .path()
        .join("data/rule-versions/ab/a")
        .join(format!("1-{}.wasm", &published[..8]));
    assert_eq!(std::fs::read(&kept).expect("kept copy"), prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&kept).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Roll back to version 0 in one call: basic serves again, recorded as version 2.
    let (status, body) = post(
        format!("{base}/rollback"),
        "application/json",
        br#"{"version": 0}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 2, "{body}");
    assert_eq!(body["rolled_back_to"], 0, "{body}");
    assert_eq!(std::fs::read(slot.file()).expect("file"), basic);
    assert_eq!(
        slot.current().expect("serving").id().hash,
        sha256_of(&basic)
    );
    w.ca.edit(&key_a, json!({"summary": "Printer out"})).await;
    wait_for("the plain summary on B", || async {
        (w.cb.field(&key_b, &["summary"]).await == "Printer out").then_some(())
    })
    .await;
    let (_, body) = get(format!("{base}/versions")).await;
    let versions = body["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 3, "{body}");
    assert_eq!(versions[0]["version"], 2);
    assert_eq!(versions[0]["note"], "rollback to v0");
    assert_eq!(versions[0]["current"], true);
    assert!(
        versions[1..].iter().all(|v| v["current"] == false),
        "{body}"
    );
    // Side b's history is its own, untouched.
    let (status, body) = get(format!(
        "{}/api/connections/ab/sides/b/rule/versions",
        w.admin_url()
    ))
    .await;
    assert_eq!((status, body["versions"].clone()), (200, json!([])));
    w.settle().await;
    w.assert_none_failed();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_publish_or_rollback_is_refused_and_changes_nothing() {
    let w = World::new().await;
    let admin = w.admin_url();
    let base = format!("{admin}/api/connections/ab/sides/a/rule");
    let slot = w.node().registry.slot("ab/a").expect("slot a");
    let before = std::fs::read(slot.file()).expect("rule file");
    let serving = slot.current().expect("serving").id().hash.clone();
    let basic = std::fs::read(rule("basic")).expect("basic");

    // An unknown side or connection: 404 on every route, naming them.
    for url in [
        format!("{admin}/api/connections/ab/sides/zz/rule/versions"),
        format!("{admin}/api/connections/nope/sides/a/rule/versions"),
    ] {
        let (status, body) = get(url).await;
        assert_eq!(status, 404, "{body}");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.contains("has no side")),
            "{body}"
        );
    }
    let (status, body) = post(
        format!("{admin}/api/connections/ab/sides/zz/rule"),
        "application/wasm",
        basic.clone(),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("\"ab\"") && e.contains("\"zz\"")),
        "{body}"
    );
    let (status, _) = post(
        format!("{admin}/api/connections/ab/sides/zz/rule/rollback"),
        "application/json",
        br#"{"version": 0}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 404);

    // A body of the wrong type, or none.
    let (status, body) = post(base.clone(), "application/octet-stream", basic.clone()).await;
    assert_eq!(status, 415, "{body}");
    let (status, body) = post(base.clone(), "application/wasm", Vec::new()).await;
    assert_eq!(status, 400, "{body}");

    // Not a component, and a core module (not a component): 422, nothing changed.
    for bad in [b"certainly not wasm".to_vec(), b"\0asm\x01\0\0\0".to_vec()] {
        let (status, body) = post(base.clone(), "application/wasm", bad).await;
        assert_eq!(status, 422, "{body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("\"ab\"")
                && error.contains("\"a\"")
                && error.contains("nothing changed"),
            "{error}"
        );
    }
    assert_eq!(std::fs::read(slot.file()).expect("file"), before);
    assert_eq!(slot.current().expect("serving").id().hash, serving);
    let (_, body) = get(format!("{base}/versions")).await;
    assert_eq!(
        body["versions"],
        json!([]),
        "a refused rule leaves no history: {body}"
    );
    let kept = std::fs::read_dir(w.dir.path().join("data/rule-versions/ab/a"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(kept, 0, "nor a kept copy");

    // A rollback to a version the history does not have, or with a body that is not one.
    let (status, body) = post(
        format!("{base}/rollback"),
        "application/json",
        br#"{"version": 7}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("no rule version 7") && e.contains("\"ab\"")),
        "{body}"
    );
    let (status, body) = post(
        format!("{base}/rollback"),
        "application/json",
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post(
        format!("{base}/rollback"),
        "text/plain",
        br#"{"version": 0}"#.to_vec(),
    )
    .await;
    assert_eq!(
        status, 415,
        "a body a page could send cross-site unasked: {body}"
    );

    // From another site's page, token or not: refused before anything is read.
    for (header, value) in [
        ("origin", "http://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let resp = reqwest::Client::new()
            .post(base.clone())
            .header("content-type", "application/wasm")
            .header(header, value)
            .body(basic.clone())
            .send()
            .await
            .expect("reach");
        assert_eq!(resp.status().as_u16(), 403, "{header}");
    }
    assert_eq!(std::fs::read(slot.file()).expect("file"), before);
}
