//! Visual mode through the admin API, between a Cloud and a Data Center simulator whose
//! workflows and priorities differ: the metadata the editor picks from (paged, searched),
//! a draft refused when the rule cannot run it and warned about when a site lacks a value,
//! a preview beside the published mapping, the publish, then issues edited on both sides
//! and both Jiras read back through their REST APIs: a status reached by a two-step
//! transition path, a priority pair in one direction only, an unmapped priority reported as
//! an error, a priority copied into a text custom field, a constant, and the way back from
//! Data Center set to manual. The export writes the mapping as keys a node loads again.

use std::time::Duration;

use serde_json::{Value, json};
use twinsync_e2e::rest::{Client, new_issue, start};
use twinsync_e2e::wait::wait_for;
use twinsync_e2e::world::start_in_process;
use twinsync_jira_sim::{Flavour, RetryPolicy, Seed, SimHandle, SimOptions, Simulator};

use super::setup::{Admin, node_only};
use super::sync_method::{detection_passed, set_method};

/// A Data Center with its own workflow (Open, In Progress, Resolved, Closed: Closed is two
/// transitions from In Progress), its own priorities and a text field for Cloud's priority.
pub(crate) async fn data_center_of_its_own(extra_statuses: usize, extra_users: usize) -> SimHandle {
    let mut seed = serde_json::to_value(Seed::default_seed()).expect("seed as JSON");
    let tr = |id: &str, name: &str, from: &[&str], to: &str, resolution: Option<&str>| json!({"id": id, "name": name, "from": from, "to": to, "resolution": resolution});
    let mut statuses = vec![
        json!({"id": "1", "name": "Open", "category": "new"}),
        json!({"id": "3", "name": "In Progress", "category": "indeterminate"}),
        json!({"id": "5", "name": "Resolved", "category": "done"}),
        json!({"id": "6", "name": "Closed", "category": "done"}),
    ];
    let mut transitions = vec![
        tr("4", "Start Progress", &["Open"], "In Progress", None),
        tr("301", "Stop Progress", &["In Progress"], "Open", None),
        tr(
            "5",
            "Resolve Issue",
            &["In Progress"],
            "Resolved",
            Some("Fixed"),
        ),
        tr("2", "Close Issue", &["Resolved"], "Closed", Some("Fixed")),
        tr("3", "Reopen Issue", &["Resolved", "Closed"], "Open", None),
    ];
    // A site with many statuses: each reachable from Open, so the workflow holds them all.
    for n in 0..extra_statuses {
        let name = format!("Stage {n:03}");
        statuses.push(
            json!({"id": format!("{}", 20000 + n), "name": name, "category": "indeterminate"}),
        );
        transitions.push(tr(
            &format!("{}", 30000 + n),
            &format!("To {name}"),
            &["Open"],
            &name,
            None,
        ));
    }
    seed["statuses"] = Value::from(statuses);
    seed["workflows"] =
        json!([{"name": "DC workflow", "initial": "Open", "transitions": transitions}]);
    seed["priorities"] = json!([
        {"id": "1", "name": "Blocker"}, {"id": "2", "name": "Critical"},
        {"id": "3", "name": "Major"}, {"id": "4", "name": "Minor"}, {"id": "5", "name": "Trivial"}
    ]);
    seed["resolutions"] = json!([{"id": "1", "name": "Fixed"}, {"id": "2", "name": "Won't Fix"}]);
    if let Some(fields) = seed["custom_fields"].as_array_mut() {
        fields.push(json!({"id": "customfield_10100", "name": "Cloud Priority", "kind": "text"}));
    }
    if let Some(users) = seed["users"].as_array_mut() {
        let template = users.get(1).cloned().unwrap_or_default();
        for n in 0..extra_users {
            let mut u = template.clone();
            u["name"] = json!(format!("user{n:04}"));
            u["display_name"] = json!(format!("Person {n:04}"));
            u["email"] = json!(format!("user{n:04}@example.com"));
            u["account_id"] = json!(format!("acc-{n:04}"));
            u["key"] = json!(format!("JIRAUSER{}", 20000 + n));
            u["token"] = Value::Null;
            users.push(u);
        }
    }
    seed["issues"] = json!([]);
    let seed = Seed::from_json(&seed.to_string()).expect("a seed the simulator takes");
    let mut o = SimOptions::new(Flavour::DataCenter);
    o.seed = Some(seed);
    o.webhook_retry = RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(20),
    };
    Simulator::start(o).await.expect("simulator starts")
}

/// The mapping the tests build: Cloud is side a (SUP), Data Center side b (DEV).
pub(crate) fn the_mapping() -> Value {
    json!({"entries": [
        {"kind": "field", "a": "summary", "b": "summary", "direction": "both"},
        {"kind": "field", "a": "issue-type", "b": "issue-type", "direction": "both"},
        {"kind": "field", "a": "status", "b": "status", "direction": "both",
         "values": [
            {"a": "To Do", "b": "Open", "direction": "both"},
            {"a": "In Progress", "b": "In Progress", "direction": "both"},
            {"a": "In Review", "b": "In Progress", "direction": "a-to-b"},
            {"a": "Done", "b": "Closed", "direction": "both"}
         ],
         "unmapped_a": "ignore", "unmapped_b": "ignore"},
        {"kind": "field", "a": "priority", "b": "priority", "direction": "both",
         "values": [
            {"a": "High", "b": "Critical", "direction": "a-to-b"},
            {"a": "Medium", "b": "Major", "direction": "both"}
         ],
         "unmapped_a": "ignore", "unmapped_b": "error"},
        {"kind": "field", "a": "priority", "b": "customfield_10100", "direction": "a-to-b"},
        {"kind": "constant", "side": "b", "field": "labels", "value": "from-cloud"}
    ]})
}

fn side<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["sides"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or(&Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visual_mapping_drafted_previewed_and_published_syncs_cloud_and_data_center() {
    let cloud = start(Flavour::Cloud).await;
    let dc = data_center_of_its_own(0, 0).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = node_only(&dir.path().join("data"));
    let running = start_in_process(&config).await;
    let admin = Admin {
        url: running.admin_url(),
        http: reqwest::Client::new(),
    };
    for body in [
        json!({"name": "cloud", "url": cloud.url(), "user": cloud.user(), "token": cloud.token()}),
        json!({"name": "dc", "url": dc.url(), "token": dc.token()}),
    ] {
        let (status, answer) = admin.post("/api/instances", body).await;
        assert_eq!(status, 201, "{answer}");
    }
    let (status, body) = admin
        .post(
            "/api/connections",
            json!({"name": "visual", "mode": "visual",
                   "local": {"instance": "cloud", "project": "SUP"},
                   "remote": {"instance": "dc", "project": "DEV"}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    // Each column of the editor comes from its own Jira, a page at a time.
    let (status, page) = admin
        .get("/api/instances/dc/meta/statuses?project=DEV&maxResults=2")
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["values"].as_array().map(Vec::len), Some(2), "{page}");
    assert_eq!(
        (page["total"].as_u64(), page["isLast"].as_bool()),
        (Some(4), Some(false)),
        "{page}"
    );
    let (_, page) = admin
        .get("/api/instances/dc/meta/statuses?project=DEV&query=clos")
        .await;
    assert_eq!(page["values"][0]["name"], "Closed", "{page}");
    let (_, page) = admin.get("/api/instances/dc/meta/priorities").await;
    let names: Vec<&str> = page["values"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(names, ["Blocker", "Critical", "Major", "Minor", "Trivial"]);
    let (_, page) = admin.get("/api/instances/cloud/meta/priorities").await;
    assert!(page.to_string().contains("Highest"), "{page}");
    let (_, page) = admin.get("/api/instances/dc/meta/fields?query=cloud").await;
    assert_eq!(page["values"][0]["id"], "customfield_10100", "{page}");
    let (status, page) = admin
        .get("/api/instances/cloud/meta/users?query=ali&maxResults=5")
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.to_string().contains("Alice"), "{page}");
    let (status, _) = admin.get("/api/instances/dc/meta/statuses").await;
    assert_eq!(status, 400, "statuses need a project");
    let (status, _) = admin.get("/api/instances/dc/meta/moods").await;
    assert_eq!(status, 404);

    // A draft the rule cannot run is refused with every problem; one with a value the site
    // lacks is kept, with a warning that says why.
    let (status, body) = admin
        .call(
            reqwest::Method::PUT,
            "/api/connections/visual/mapping/draft",
            Some(json!({"entries": [
                {"kind": "field", "a": "summary", "b": "comments", "direction": "a-to-b"},
                {"kind": "constant", "side": "a", "field": "labels", "value": ""}
            ]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["problems"].as_array().map(Vec::len), Some(2), "{body}");
    let mut with_ghost = the_mapping();
    with_ghost["entries"][2]["values"][3]["b"] = json!("Verified");
    let (status, body) = admin
        .call(
            reqwest::Method::PUT,
            "/api/connections/visual/mapping/draft",
            Some(with_ghost),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let warnings = body["warnings"].to_string();
    assert!(
        warnings.contains("Verified") && warnings.contains("no transition can reach it"),
        "{body}"
    );
    let (status, body) = admin
        .call(
            reqwest::Method::PUT,
            "/api/connections/visual/mapping/draft",
            Some(the_mapping()),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["warnings"], json!([]), "{body}");
    assert_eq!(
        body["compiled"]["dc"]["map.status.Done"], "Closed",
        "{body}"
    );
    assert_eq!(
        body["compiled"]["cloud"]["map.priority.Critical"], "",
        "{body}"
    );

    // Edits are a draft until published: the sides still run without it.
    let (_, body) = admin.get("/api/connections/visual/mapping").await;
    assert!(
        body["draft"].is_object() && body["published"].is_null(),
        "{body}"
    );
    let (_, conns) = admin.get("/api/connections").await;
    let conn = &conns["connections"][0];
    assert!(
        side(conn, "dc")["config"].get("map.status.Done").is_none(),
        "{conn}"
    );

    // Publish; the way back from Data Center is manual.
    let (status, body) = admin
        .post("/api/connections/visual/mapping/publish", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        side(&body["connection"], "dc")["config"]["copy.1"],
        "priority -> customfield_10100",
        "{body}"
    );
    set_method(&admin, "visual", "dc", "manual").await;
    let (_, body) = admin.get("/api/connections/visual/mapping").await;
    assert!(
        body["draft"].is_null() && body["published"].is_object(),
        "{body}"
    );
    assert_eq!(body["edited_outside"], false, "{body}");

    // A Cloud issue crosses as the mapping says.
    let (ca, cd) = (Client::new(&cloud), Client::new(&dc));
    let key = ca
        .create(new_issue(
            "SUP",
            "Task",
            "Mapped in the page",
            json!({"priority": {"name": "High"}}),
        ))
        .await;
    let (status, body) = admin
        .post("/api/connections/visual/sync", json!({"key": key}))
        .await;
    assert_eq!(status, 202, "{body}");
    let node = running.node.clone();
    let twin = wait_for("the twin on Data Center", || async {
        node.store
            .twin_by_local("visual", "cloud", &key)
            .ok()
            .flatten()?
            .remote_key
    })
    .await;
    wait_for("the twin's fields", || async {
        let fields = cd.get(&format!("/issue/{twin}")).await.body["fields"].clone();
        (fields["summary"] == "Mapped in the page"
            && fields["priority"]["name"] == "Critical"
            && fields["customfield_10100"] == "High"
            && fields["labels"] == json!(["from-cloud"])
            && fields["status"]["name"] == "Open")
            .then_some(())
    })
    .await;

    // Done on Cloud is Closed on Data Center: two transitions from In Progress.
    for transition in ["11", "21", "31"] {
        let answer = ca.transition(&key, transition).await;
        assert!(answer.status < 300, "{}", answer.body);
    }
    wait_for("Closed on Data Center", || async {
        (cd.field(&twin, &["status", "name"]).await == "Closed").then_some(())
    })
    .await;

    // Data Center's way back is manual: its change waits until asked for, then lands mapped.
    cd.edit(
        &twin,
        json!({"summary": "Renamed on DC", "priority": {"name": "Major"}}),
    )
    .await;
    let edited = twinsync::store::now_ms();
    detection_passed(&node, "visual", "dc", edited).await;
    assert_eq!(ca.field(&key, &["summary"]).await, "Mapped in the page");
    let (status, body) = admin
        .post("/api/connections/visual/sync", json!({"key": twin}))
        .await;
    assert_eq!(status, 202, "{body}");
    wait_for(
        "Data Center's change on Cloud, its priority mapped",
        || async {
            let fields = ca.get(&format!("/issue/{key}")).await.body["fields"].clone();
            (fields["summary"] == "Renamed on DC" && fields["priority"]["name"] == "Medium")
                .then_some(())
        },
    )
    .await;

    // A preview of a changed draft: what differs, beside the published mapping.
    let mut changed = the_mapping();
    changed["entries"][3]["values"][1]["b"] = json!("Minor");
    let (status, body) = admin
        .call(
            reqwest::Method::PUT,
            "/api/connections/visual/mapping/draft",
            Some(changed),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, report) = admin
        .post(
            "/api/connections/visual/mapping/preview",
            json!({"key": key}),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["receiving_side"], "dc", "{report}");
    let diff = &report["incoming"]["diff"];
    assert!(
        diff.as_array()
            .is_some_and(|d| d.iter().any(|f| f["field"] == "priority"
                && f["current"] == "Major"
                && f["candidate"] == "Minor")),
        "{report}"
    );
    let (status, _) = admin
        .call(
            reqwest::Method::DELETE,
            "/api/connections/visual/mapping/draft",
            None,
        )
        .await;
    assert_eq!(status, 200);

    // A priority with no pair is reported as an error, on the errors page's list.
    let lowest = ca
        .create(new_issue(
            "SUP",
            "Task",
            "No pair for me",
            json!({"priority": {"name": "Lowest"}}),
        ))
        .await;
    admin
        .post("/api/connections/visual/sync", json!({"key": lowest}))
        .await;
    let failed = wait_for("the unmapped priority's error", || async {
        let (_, body) = admin
            .get("/api/events?state=failed&connection=visual")
            .await;
        body["events"]
            .as_array()?
            .iter()
            .find(|e| {
                e["last_error"]
                    .as_str()
                    .is_some_and(|m| m.contains("Lowest"))
            })
            .cloned()
    })
    .await;
    assert!(
        failed["last_error"]
            .to_string()
            .contains("map.priority.Lowest"),
        "{failed}"
    );

    // The export writes the mapping as keys; a node loads them again, unchanged.
    running.stop().await;
    let node_config = twinsync::config::NodeConfig::parse(
        &config,
        std::path::Path::new("twinsync.toml"),
        std::path::PathBuf::from("."),
    )
    .expect("config");
    let exported = twinsync::setup::export_node(&node_config).expect("export");
    assert!(
        exported.contains("\"map.status.Done\" = \"Closed\""),
        "{exported}"
    );
    assert!(exported.contains("sync = \"manual\""), "{exported}");
    for key in [
        "\"unmapped.priority\" = \"fail\"",
        "\"const.1\" = \"labels = from-cloud\"",
        "\"copy.1\" = \"priority -> customfield_10100\"",
    ] {
        assert!(exported.contains(key), "{key} not in:\n{exported}");
    }
    let reparsed = twinsync::config::NodeConfig::parse(
        &exported,
        std::path::Path::new("exported.toml"),
        std::path::PathBuf::from("."),
    );
    assert!(reparsed.is_ok(), "the export loads: {reparsed:?}");
}
