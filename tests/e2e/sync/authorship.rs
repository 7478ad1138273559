//! Authorship of comments: the copy the sync account writes opens with a header naming who
//! wrote the original on the other side (the stock rule's `author-header`), both ways, and a
//! comment crossing back and forth never gains a second header.

use serde_json::{Value, json};
use twinsync_e2e::adf::{adf, text_of};
use twinsync_e2e::rest::Client;
use twinsync_e2e::wait::Wait;
use twinsync_e2e::world::World;
use twinsync_jira_sim::SimHandle;

const HEADER: &str = r#", "author-header" = "{name} ({site}) wrote:""#;

/// A client of `h` acting as a new user `name` (display name `display`).
fn as_user(h: &SimHandle, name: &str, display: &str) -> Client {
    let id = h.add_user(name, display, &format!("{name}-token"));
    let mut c = Client::new(h);
    c.auth = h.auth_header_for(id).expect("the user has a token");
    c
}

/// The comment bodies of `key`, as plain text, oldest first.
async fn bodies(client: &Client, key: &str) -> Vec<String> {
    client
        .list(key, &["comment", "comments"])
        .await
        .iter()
        .map(|c| match &c["body"] {
            Value::String(s) => s.trim().to_string(),
            other => text_of(other).trim().to_string(),
        })
        .collect()
}

/// A body without white space: ADF paragraphs and wiki lines read the same on both sides.
fn flat(s: &str) -> String {
    s.split_whitespace().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_names_its_author_on_the_other_side_and_the_header_never_doubles() {
    let w = World::with_rules(
        "basic",
        &format!(r#"{HEADER}, "author-site" = "Globex""#),
        "basic",
        &format!(r#"{HEADER}, "author-site" = "Acme""#),
    )
    .await;
    let (ka, kb) = w.synced("Printer on fire").await;
    let alice = as_user(&w.a, "alice", "Alice Smith");
    let bob = as_user(&w.b, "bob", "Bob Jones");

    // Cloud to Data Center: Alice's comment, copied by the sync account, names her.
    let posted = alice
        .post(
            &format!("/issue/{ka}/comment"),
            json!({"body": adf("It is on fire")}),
        )
        .await;
    assert_eq!(posted.status, 201, "{}", posted.body);
    let alice_id = posted.body["id"].as_str().expect("id").to_string();
    Wait::new("Alice's comment on B")
        .until(|| async {
            let got = bodies(&w.cb, &kb).await;
            match got.as_slice() {
                [one] if flat(one) == flat("Alice Smith (Acme) wrote: It is on fire") => Ok(()),
                _ => Err(format!("{got:?}")),
            }
        })
        .await;

    // Data Center to Cloud: Bob's reply names him.
    let reply = bob.comment(&kb, json!("On it")).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    Wait::new("Bob's reply on A")
        .until(|| async {
            let got: Vec<String> = bodies(&w.ca, &ka).await.iter().map(|b| flat(b)).collect();
            if got
                == [
                    flat("It is on fire"),
                    flat("Bob Jones (Globex) wrote: On it"),
                ]
            {
                Ok(())
            } else {
                Err(format!("{got:?}"))
            }
        })
        .await;

    // Round trips: Alice edits her comment, then both issues change, so each side's replica,
    // copies and all, crosses to the other again.
    let edit = alice
        .put(
            &format!("/issue/{ka}/comment/{alice_id}"),
            json!({"body": adf("It is on fire, still")}),
        )
        .await;
    assert!(edit.status < 300, "{}", edit.body);
    w.ca.edit(&ka, json!({"labels": ["sync", "hot"]})).await;
    w.cb.edit(&kb, json!({"priority": {"name": "Highest"}}))
        .await;
    Wait::new("both sides to settle on one header per copy")
        .until(|| async {
            let a: Vec<String> = bodies(&w.ca, &ka).await.iter().map(|b| flat(b)).collect();
            let b: Vec<String> = bodies(&w.cb, &kb).await.iter().map(|b| flat(b)).collect();
            let want_a = ["It is on fire, still", "Bob Jones (Globex) wrote: On it"].map(flat);
            let want_b = ["Alice Smith (Acme) wrote: It is on fire, still", "On it"].map(flat);
            if a == want_a && b == want_b {
                Ok(())
            } else {
                Err(format!("A {a:?} B {b:?}"))
            }
        })
        .await;
    w.settle().await;
    w.assert_none_failed();
}
