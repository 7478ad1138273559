//! Rich text written through the client on one flavour and read back on the other keeps its
//! structure.

use super::{client, start_sim};
use serde_json::json;
use twinsync::jira::mapping::{self, FieldCatalog, WriteContext};
use twinsync::jira::{Flavour, JiraClient, UserMap};
use twinsync::model::{Changes, RichText};

#[tokio::test]
async fn jira_rich_text_crosses_flavours() {
    // A Cloud description read as ADF, written to DC as wiki, read back: same structure.
    let cloud = start_sim(Flavour::Cloud).await;
    let dc = start_sim(Flavour::DataCenter).await;
    let cc = client(&cloud, Flavour::Cloud);
    let dcc = client(&dc, Flavour::DataCenter);
    let mut users = UserMap::new();
    let alice_cloud = cc
        .user_by_email("alice@example.com")
        .await
        .expect("search")
        .and_then(|u| u.account_id)
        .expect("alice");
    users.insert(alice_cloud.clone(), "alice");
    let adf = json!({"version": 1, "type": "doc", "content": [
        {"type": "heading", "attrs": {"level": 3}, "content": [{"type": "text", "text": "Plan"}]},
        {"type": "paragraph", "content": [
            {"type": "text", "text": "Ask "},
            {"type": "mention", "attrs": {"id": alice_cloud, "text": "@Alice Example"}},
            {"type": "text", "text": " about "},
            {"type": "text", "text": "this", "marks": [{"type": "em"}]}]},
        {"type": "table", "content": [{"type": "tableRow", "content": [
            {"type": "tableHeader", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "A"}]}]},
            {"type": "tableCell", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "1"}]}]}]}]},
        {"type": "panel", "attrs": {"panelType": "warning"}, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "careful"}]}]}
    ]});
    let key = cloud
        .create_issue("SUP", "Task", "rich")
        .expect("seed issue");
    cc.edit_issue(&key, json!({"fields": {"description": adf}}))
        .await
        .expect("edit");
    let from_cloud = cc
        .get_issue(&key)
        .await
        .expect("get")
        .description
        .expect("desc");
    let dkey = dc.create_issue("SUP", "Task", "rich").expect("seed issue");
    let people = mapping::ResolvedUsers::new();
    let catalog = FieldCatalog::default();
    let cx = WriteContext {
        flavour: Flavour::DataCenter,
        users: &users,
        people: &people,
        fields: &catalog,
    };
    let on_dc = write_description(&dcc, &dkey, from_cloud.clone(), &cx).await;
    let wiki = on_dc.wiki.clone().expect("wiki");
    assert!(
        wiki.contains("h3. Plan") && wiki.contains("[~alice]") && wiki.contains("_this_"),
        "{wiki}"
    );
    assert!(
        wiki.contains("||") && wiki.contains("{panel:bgColor=#fffae6}"),
        "{wiki}"
    );
    // And back to Cloud: the same ADF structure.
    let cx_cloud = WriteContext {
        flavour: Flavour::Cloud,
        ..cx
    };
    let again = write_description(&cc, &key, on_dc, &cx_cloud).await;
    let a: serde_json::Value = serde_json::from_str(&again.adf.expect("adf")).expect("json");
    let b: serde_json::Value = serde_json::from_str(&from_cloud.adf.expect("adf")).expect("json");
    let shape = |v: &serde_json::Value| twinsync::jira::richtext::adf_to_wiki(v, &users).value;
    assert_eq!(shape(&a), shape(&b));
}

/// Writes `description` to `key` through `client` as `cx`'s flavour wants it; reads it back.
async fn write_description(
    client: &JiraClient,
    key: &str,
    description: RichText,
    cx: &WriteContext<'_>,
) -> RichText {
    let changes = Changes {
        description: Some(description),
        ..Changes::default()
    };
    client
        .edit_issue(key, mapping::edit_request(&changes, cx).expect("body"))
        .await
        .expect("edit");
    client
        .get_issue(key)
        .await
        .expect("get")
        .description
        .expect("desc")
}
