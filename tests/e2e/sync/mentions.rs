//! Mentions across sites, both ways, Cloud <-> Data Center: a user known on both sites (the
//! same email) is mentioned as that site's user; a user known on one site only becomes plain
//! text with their display name, and nobody is pinged.

use serde_json::{Value, json};
use twinsync_e2e::rest::Client;
use twinsync_e2e::wait::Wait;
use twinsync_e2e::world::World;

/// The Cloud account id of the user with this email.
async fn account_id(client: &Client, email: &str) -> String {
    let found = client.get(&format!("/user/search?query={email}")).await;
    found.body[0]["accountId"]
        .as_str()
        .unwrap_or_else(|| panic!("no account for {email}: {}", found.body))
        .to_string()
}

/// Every mention node of an ADF document, as (id, text).
fn adf_mentions(v: &Value, out: &mut Vec<(String, String)>) {
    if v["type"] == "mention" {
        out.push((
            v["attrs"]["id"].as_str().unwrap_or("").to_string(),
            v["attrs"]["text"].as_str().unwrap_or("").to_string(),
        ));
    }
    for c in v["content"].as_array().into_iter().flatten() {
        adf_mentions(c, out);
    }
}

/// The bodies of `key`'s comments as Jira gives them, oldest first.
async fn comment_bodies(client: &Client, key: &str) -> Vec<Value> {
    client
        .list(key, &["comment", "comments"])
        .await
        .into_iter()
        .map(|c| c["body"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_name_the_same_person_on_the_other_site_or_become_plain_text() {
    let w = World::new().await;
    // Quinn works on both sites (one email); Rafe only on Cloud, Sven only on Data Center.
    w.a.add_user("quinn", "Quinn Both", "quinn-token");
    w.a.add_user("rafe", "Rafe Cloudonly", "rafe-token");
    w.b.add_user("quinn", "Quinn Both", "quinn-token");
    w.b.add_user("sven", "Sven Dconly", "sven-token");
    let quinn_a = account_id(&w.ca, "quinn@example.com").await;
    let rafe_a = account_id(&w.ca, "rafe@example.com").await;
    let (ka, kb) = w.synced("Who owns the printer?").await;

    // Cloud to Data Center, in a comment and in the description.
    let mention =
        |id: &str, text: &str| json!({"type": "mention", "attrs": {"id": id, "text": text}});
    let doc = |content: Value| json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": content}]});
    let body = doc(json!([
        {"type": "text", "text": "Ask "},
        mention(&quinn_a, "@Quinn Both"),
        {"type": "text", "text": " or "},
        mention(&rafe_a, "@Rafe Cloudonly"),
    ]));
    let posted = w.ca.comment(&ka, body).await;
    assert_eq!(posted.status, 201, "{}", posted.body);
    let edit = w
        .ca
        .edit(&ka, json!({"description": doc(json!([{"type": "text", "text": "Owner: "}, mention(&quinn_a, "@Quinn Both")]))}))
        .await;
    assert_eq!(edit.status, 204, "{}", edit.body);
    Wait::new("the mentions on B")
        .until(|| async {
            let comments = comment_bodies(&w.cb, &kb).await;
            let description = w.cb.field(&kb, &["description"]).await;
            let c = comments.first().and_then(Value::as_str).unwrap_or("");
            let d = description.as_str().unwrap_or("");
            if c.trim() == "Ask [~quinn] or @Rafe Cloudonly" && d.trim() == "Owner: [~quinn]" {
                Ok(())
            } else {
                Err(format!("comment {c:?}, description {d:?}"))
            }
        })
        .await;

    // Data Center to Cloud.
    let reply =
        w.cb.comment(&kb, json!("Thanks [~quinn], cc [~sven]"))
            .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    Wait::new("the mentions on A")
        .until(|| async {
            let comments = comment_bodies(&w.ca, &ka).await;
            let Some(copy) = comments.get(1) else {
                return Err(format!("{comments:?}"));
            };
            let mut found = Vec::new();
            adf_mentions(copy, &mut found);
            let text = twinsync_e2e::adf::text_of(copy);
            if found == [(quinn_a.clone(), "@Quinn Both".to_string())]
                && text.contains("@Sven Dconly")
            {
                Ok(())
            } else {
                Err(format!("mentions {found:?} in {copy}"))
            }
        })
        .await;
    w.settle().await;
    w.assert_none_failed();
    // Nothing crossed back: A's own comment still mentions both its users, once each.
    let mut own = Vec::new();
    adf_mentions(&comment_bodies(&w.ca, &ka).await[0], &mut own);
    assert_eq!(own.len(), 2, "{own:?}");
}
