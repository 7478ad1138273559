//! The `confidential` rule written in Python and in JavaScript, each serving one side of a
//! real connection between two simulators, against the Rust `confidential` rule on both
//! sides: the same script of edits must leave both Jiras in the same state.

use serde_json::{Value, json};

use twinsync_e2e::wait::wait_for;
use twinsync_e2e::world::World;

/// Both sides' rule config: masked terms, a field left out, the incoming project.
const CONFIG: &str =
    r#", "redact.words" = "printer, ACME Corp", "redact.fields" = "priority, due-date""#;

/// What an admin would compare: the twin on B and the comments on both sides.
#[derive(Debug, PartialEq)]
struct Outcome {
    b_summary: Value,
    b_description: String,
    b_priority: Value,
    b_labels: Value,
    b_comments: Vec<String>,
    a_comments: Vec<String>,
}

fn texts(node: &Value) -> String {
    match node {
        Value::String(s) => s.clone(),
        Value::Object(o) => {
            o.get("text").map(texts).unwrap_or_default()
                + &o.get("content").map(texts).unwrap_or_default()
        }
        Value::Array(a) => a.iter().map(texts).collect::<Vec<_>>().join(""),
        _ => String::new(),
    }
}

async fn comments(c: &twinsync_e2e::rest::Client, key: &str) -> Vec<String> {
    let issue = c.get(&format!("/issue/{key}")).await;
    let mut out: Vec<String> = issue.body["fields"]["comment"]["comments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| texts(&c["body"]))
        .collect();
    out.sort();
    out
}

async fn scenario(w: &World) -> Outcome {
    let key_a = w
        .create_on_a("The printer at ACME Corp is on fire", &["sync"])
        .await;
    let public =
        w.ca.comment(
            &key_a,
            json!({"type": "doc", "version": 1, "content": [{"type": "paragraph",
                   "content": [{"type": "text", "text": "acme corp called about the PRINTER"}]}]}),
        )
        .await;
    assert_eq!(public.status, 201, "{}", public.body);
    let internal =
        w.ca.post(
            &format!("/issue/{key_a}/comment"),
            json!({"body": {"type": "doc", "version": 1, "content": [{"type": "paragraph",
                   "content": [{"type": "text", "text": "internal: refund them"}]}]},
                   "properties": [{"key": "sd.public.comment", "value": {"internal": true}}]}),
        )
        .await;
    assert_eq!(internal.status, 201, "{}", internal.body);
    let key_b = w.twin_of(&key_a).await;
    wait_for("the public comment on B", || async {
        (comments(&w.cb, &key_b).await.len() == 1).then_some(())
    })
    .await;
    // B answers; the comment crosses back through B's outgoing and A's incoming rule.
    let answer =
        w.cb.comment(&key_b, json!("Replaced the printer for ACME Corp"))
            .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    wait_for("B's answer on A", || async {
        (comments(&w.ca, &key_a).await.len() == 3).then_some(())
    })
    .await;
    w.settle().await;
    let b = w.cb.get(&format!("/issue/{key_b}")).await;
    let f = &b.body["fields"];
    Outcome {
        b_summary: f["summary"].clone(),
        b_description: texts(&f["description"]),
        b_priority: f["priority"]["name"].clone(),
        b_labels: f["labels"].clone(),
        b_comments: comments(&w.cb, &key_b).await,
        a_comments: comments(&w.ca, &key_a).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_javascript_confidential_rules_sync_like_the_rust_one() {
    let rust = World::with_rules("confidential", CONFIG, "confidential", CONFIG).await;
    let expected = scenario(&rust).await;
    drop(rust);
    // The masking and the dropped internal comment are visible: the comparison means something.
    assert_eq!(
        expected.b_summary,
        "The [redacted] at [redacted] is on fire"
    );
    // B is Data Center: the marker's brackets are escaped in its wiki markup.
    assert!(
        expected
            .b_comments
            .contains(&r"\[redacted\] called about the \[redacted\]".to_string()),
        "{:?}",
        expected.b_comments
    );
    assert_eq!(
        expected.b_comments.len(),
        2,
        "the internal comment stayed on A"
    );
    assert_eq!(
        expected.b_priority, "Medium",
        "priority left out: B's default"
    );
    assert!(
        expected
            .a_comments
            .contains(&"Replaced the [redacted] for [redacted]".to_string()),
        "{:?}",
        expected.a_comments
    );

    // Python on A, JavaScript on B, and the other way round.
    for (a, b) in [
        ("confidential-py", "confidential-js"),
        ("confidential-js", "confidential-py"),
    ] {
        let w = World::with_rules(a, CONFIG, b, CONFIG).await;
        let got = scenario(&w).await;
        assert_eq!(got, expected, "{a} on A and {b} on B");
        let versions: Vec<String> = w
            .node()
            .store
            .events(None, Some("ab"), 50, 0)
            .expect("events")
            .into_iter()
            .filter_map(|e| e.rule_version)
            .collect();
        assert!(!versions.is_empty(), "events record the rule versions");
    }
}
