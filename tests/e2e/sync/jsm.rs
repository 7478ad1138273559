//! Jira Service Management comments: an internal note stays internal on the other side and a
//! public comment stays public, both ways (the `sd.public.comment` comment property), and a
//! note made public later turns public on the other side too.

use serde_json::{Value, json};
use twinsync_e2e::adf::adf;
use twinsync_e2e::rest::{Client, new_issue};
use twinsync_e2e::wait::Wait;
use twinsync_e2e::world::World;

/// A comment body in the flavour of `client`'s Jira.
fn body(client: &Client, text: &str) -> Value {
    if client.base.contains("/api/3") {
        adf(text)
    } else {
        json!(text)
    }
}

/// Adds a comment, internal or public, as a JSM agent would; returns its id.
async fn comment(client: &Client, key: &str, text: &str, internal: bool) -> String {
    let a = client
        .post(
            &format!("/issue/{key}/comment"),
            json!({
                "body": body(client, text),
                "properties": [{"key": "sd.public.comment", "value": {"internal": internal}}],
            }),
        )
        .await;
    assert!(a.status < 300, "{}", a.body);
    a.body["id"].as_str().expect("comment id").to_string()
}

/// The comments of `key` as (text, internal), read with their properties.
async fn comments(client: &Client, key: &str) -> Vec<(String, bool)> {
    let page = client
        .get(&format!("/issue/{key}/comment?expand=properties"))
        .await;
    page.body["comments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let text = match &c["body"] {
                Value::String(s) => s.trim().to_string(),
                adf => twinsync_e2e::adf::text_of(adf).trim().to_string(),
            };
            let internal = c["properties"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["key"] == "sd.public.comment")
                .and_then(|p| p["value"]["internal"].as_bool())
                .unwrap_or(false);
            (text, internal)
        })
        .collect()
}

/// Waits until `key` has exactly `want` (in any order).
async fn has(client: &Client, key: &str, want: &[(&str, bool)]) {
    let mut want: Vec<(String, bool)> = want.iter().map(|(t, i)| (t.to_string(), *i)).collect();
    want.sort();
    let what = format!("{key} to have comments {want:?}");
    Wait::new(&what)
        .until(|| async {
            let mut got = comments(client, key).await;
            got.sort();
            if got == want {
                Ok(())
            } else {
                Err(format!("{got:?}"))
            }
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_notes_stay_internal_and_public_comments_public_both_ways() {
    let w = World::new().await;
    let (ka, kb) = w.synced("Customer cannot log in").await;

    // Cloud to Data Center.
    comment(&w.ca, &ka, "Customer was told we are on it", false).await;
    let note = comment(&w.ca, &ka, "Looks like the SSO certificate expired", true).await;
    has(
        &w.cb,
        &kb,
        &[
            ("Customer was told we are on it", false),
            ("Looks like the SSO certificate expired", true),
        ],
    )
    .await;

    // Data Center to Cloud.
    comment(&w.cb, &kb, "Renewing the certificate tonight", true).await;
    comment(&w.cb, &kb, "A fix is scheduled for tonight", false).await;
    has(
        &w.ca,
        &ka,
        &[
            ("Customer was told we are on it", false),
            ("Looks like the SSO certificate expired", true),
            ("Renewing the certificate tonight", true),
            ("A fix is scheduled for tonight", false),
        ],
    )
    .await;

    // The agent shares the note with the customer: its copy turns public too.
    let shared =
        w.ca.put(
            &format!("/issue/{ka}/comment/{note}"),
            json!({
                "body": body(&w.ca, "Looks like the SSO certificate expired"),
                "properties": [{"key": "sd.public.comment", "value": {"internal": false}}],
            }),
        )
        .await;
    assert!(shared.status < 300, "{}", shared.body);
    w.ca.edit(&ka, json!({"labels": ["sync", "shared"]})).await;
    has(
        &w.cb,
        &kb,
        &[
            ("Customer was told we are on it", false),
            ("Looks like the SSO certificate expired", false),
            ("Renewing the certificate tonight", true),
            ("A fix is scheduled for tonight", false),
        ],
    )
    .await;
    w.settle().await;
    w.assert_none_failed();
    let _ = new_issue;
}
