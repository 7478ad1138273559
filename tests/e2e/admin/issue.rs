//! The per-issue view, `GET /api/issues/{connection}/{key}`: a synced issue from either side,
//! an issue not under sync, an issue whose incoming rule fails until it is fixed and retried,
//! and the answers for an unknown connection, a key of another project and a malformed key.

use serde_json::Value;
use twinsync_e2e::wait::Wait;
use twinsync_e2e::world::{World, swap_rule};

async fn issue(w: &World, connection: &str, key: &str) -> (u16, Value) {
    let resp = reqwest::get(format!("{}/api/issues/{connection}/{key}", w.admin_url()))
        .await
        .expect("reach the admin API");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synced_issue_seen_from_either_side() {
    let w = World::new().await;
    let (key_a, key_b) = w.synced("Seen from both sides").await;

    let (status, a) = issue(&w, "ab", &key_a).await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["key"], key_a.as_str());
    assert_eq!(a["side"]["name"], "a");
    assert_eq!(a["side"]["project"], "SUP");
    assert_eq!(a["twin"]["key"], key_b.as_str());
    assert_eq!(a["twin"]["side"], "b");
    assert_eq!(a["twin"]["on"], "this node");
    assert_eq!(a["state"], "synced", "{a}");
    assert_eq!(a["under_sync"], true);
    assert_eq!(a["last_sent"]["replica"]["summary"], "Seen from both sides");
    assert!(a["last_sent"]["hash"].is_string(), "{a}");
    assert!(a["last_sent"]["at_ms"].is_i64(), "{a}");
    assert!(a["errors"].as_array().expect("errors").is_empty(), "{a}");
    // Both issues' events: the outgoing one on a, the incoming one on b that made the twin.
    let events = a["events"].as_array().expect("events");
    assert!(
        events
            .iter()
            .any(|e| e["side"] == "a" && e["kind"] == "outgoing" && e["state"] == "done"),
        "{a}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["side"] == "b" && e["kind"] == "incoming" && e["state"] == "done"),
        "{a}"
    );
    let versions = a["rule_versions"].as_array().expect("rule versions");
    assert!(
        versions
            .iter()
            .any(|v| v["side"] == "a" && v["serving"] == true),
        "{a}"
    );
    for v in versions {
        assert_eq!(v["version"].as_str().map(str::len), Some(12), "{v}");
    }

    // From the other side, lower case typed: the same twin the other way round.
    let (status, b) = issue(&w, "ab", &key_b.to_lowercase()).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["key"], key_b.as_str());
    assert_eq!(b["side"]["name"], "b");
    assert_eq!(b["twin"]["key"], key_a.as_str());
    assert_eq!(b["state"], "synced");
    assert_eq!(
        b["last_applied"]["replica"]["summary"],
        "Seen from both sides"
    );

    // An issue no trigger matched: known to neither side, nothing queued.
    let loose = w.create_on_a("Not under sync", &[]).await;
    let (status, l) = issue(&w, "ab", &loose).await;
    assert_eq!(status, 200, "{l}");
    assert_eq!(l["state"], "pending");
    assert_eq!(l["under_sync"], false);
    assert!(l["twin"].is_null() && l["last_sent"].is_null(), "{l}");

    // What is not there, and what is not a key.
    let (status, body) = issue(&w, "nope", &key_a).await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"].as_str().unwrap_or("").contains("nope"),
        "{body}"
    );
    let (status, body) = issue(&w, "ab", "OTHER-1").await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"].as_str().unwrap_or("").contains("SUP"),
        "{body}"
    );
    for bad in ["SUP", "SUP-x1", "1SUP-1", "SUP-1-2"] {
        let (status, body) = issue(&w, "ab", bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"].is_string(), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issue_in_error_then_retried_to_synced() {
    // Side b's rule panics on every call: the replica from a cannot land.
    let w = World::with_b("hostile-panic", "").await;
    let key = w.create_on_a("Lands after the fix", &["sync"]).await;
    let url = format!("{}/api/issues/ab/{key}", w.admin_url());
    let get = || async {
        let resp = reqwest::get(&url).await.map_err(|e| e.to_string())?;
        resp.json::<Value>().await.map_err(|e| e.to_string())
    };

    let failed = Wait::new("the issue in error")
        .until(|| async {
            let v = get().await?;
            if v["state"] == "error" {
                Ok(v)
            } else {
                Err(v.to_string())
            }
        })
        .await;
    let errors = failed["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{failed}");
    let e = &errors[0];
    assert_eq!(e["side"], "b");
    assert_eq!(e["retryable"], true);
    assert!(
        e["error"].as_str().unwrap_or("").contains("panic"),
        "{failed}"
    );
    assert!(e["rule_version"].is_string(), "{failed}");
    assert!(failed["twin"].is_null(), "no twin yet: {failed}");
    assert!(
        failed["rule_versions"]
            .as_array()
            .expect("versions")
            .iter()
            .any(|v| v["side"] == "b" && v["serving"] == true),
        "{failed}"
    );

    // Fixed and retried: the same view goes to synced with the twin's key.
    swap_rule(w.node(), "ab/b", "basic").await;
    let id = e["event"].as_i64().expect("event id");
    let resp = reqwest::Client::new()
        .post(format!("{}/api/events/{id}/retry", w.admin_url()))
        .send()
        .await
        .expect("retry");
    assert_eq!(resp.status().as_u16(), 200);
    let synced = Wait::new("the issue synced after the retry")
        .until(|| async {
            let v = get().await?;
            if v["state"] == "synced" {
                Ok(v)
            } else {
                Err(v.to_string())
            }
        })
        .await;
    let twin = w.twin_of(&key).await;
    assert_eq!(synced["twin"]["key"], twin.as_str(), "{synced}");
    assert!(synced["errors"].as_array().expect("errors").is_empty());
    // The event that failed is the one that went through: its history shows both versions.
    let versions: Vec<_> = synced["rule_versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter(|v| v["side"] == "b")
        .collect();
    assert!(!versions.is_empty(), "{synced}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_connections_issue_names_its_twin_on_the_peer() {
    let (a, b) = twinsync_e2e::pair::paired().await;
    let key = a.create_synced("Crosses to the partner").await;
    let twin = Wait::new("the peer's ack to link the twin")
        .until_some(|| async { a.twin_of(&key) })
        .await;
    let url = |org: &twinsync_e2e::pair::Org, key: &str| {
        let admin = org.node.as_ref().expect("node").admin_url();
        format!("{admin}/api/issues/ab/{key}")
    };
    let view = Wait::new("the issue synced on the inviting node")
        .until(|| async {
            let v: Value = reqwest::get(url(&a, &key))
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            if v["state"] == "synced" {
                Ok(v)
            } else {
                Err(v.to_string())
            }
        })
        .await;
    assert_eq!(view["side"]["name"], "a");
    assert_eq!(view["twin"]["key"], twin.as_str(), "{view}");
    assert_eq!(view["twin"]["side"], "b");
    assert_eq!(view["twin"]["on"], "peer");
    assert_eq!(
        view["last_sent"]["replica"]["summary"],
        "Crosses to the partner"
    );
    // The accepting node knows the same twin from its side; the other side's project is not
    // its own, so a key of it is not one of its issues.
    let (status, other) = {
        let resp = reqwest::get(url(&b, &twin)).await.expect("reach");
        (
            resp.status().as_u16(),
            resp.json::<Value>().await.unwrap_or_default(),
        )
    };
    assert_eq!(status, 200, "{other}");
    assert_eq!(other["side"]["name"], "b");
    assert_eq!(other["twin"]["key"], key.as_str(), "{other}");
    assert_eq!(other["twin"]["on"], "peer");
    let resp = reqwest::get(url(&b, &key)).await.expect("reach");
    assert_eq!(resp.status().as_u16(), 404);
}
