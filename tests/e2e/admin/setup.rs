//! The node set up through the admin API alone, on a running node started from a TOML with
//! only `[node]`: Jira sites (Cloud and Data Center told apart, credentials checked, tokens
//! never returned), a connection in Basic mode, one issue synced by key, triggers checked
//! against Jira with bulk sync, a side's field switches, and every change surviving a restart.
//! Each route's refusals are provoked: no token, a bad body, an unknown site, wrong
//! credentials, unbounded and invalid JQL.

use serde_json::{Value, json};
use twinsync_e2e::rest::{Client, start};
use twinsync_e2e::wait::wait_for;
use twinsync_e2e::world::start_in_process;
use twinsync_jira_sim::Flavour;

pub(super) const TOKEN: &str = "setup-admin-token-0123456789";

/// An admin API client with the node's token.
pub(super) struct Admin {
    pub(super) url: String,
    pub(super) http: reqwest::Client,
}

impl Admin {
    pub(super) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("reach the admin API");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub(super) async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub(super) async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
}

pub(super) fn node_only(data: &std::path::Path) -> String {
    format!(
        "[node]\ndata_dir = \"{}\"\nlisten = \"127.0.0.1:0\"\npoll_interval_secs = 1\nadmin_token = {{ value = \"{TOKEN}\" }}\n",
        data.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_only_its_node_table_is_set_up_in_the_api_and_keeps_it() {
    let (cloud, dc) = (
        start(Flavour::Cloud).await,
        start(Flavour::DataCenter).await,
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = node_only(&dir.path().join("data"));
    let running = start_in_process(&config).await;
    let admin = Admin {
        url: running.admin_url(),
        http: reqwest::Client::new(),
    };

    // No token, no entry.
    let anonymous = reqwest::Client::new()
        .post(format!("{}/api/instances", admin.url))
        .json(&json!({"name": "x", "url": cloud.url(), "token": "t"}))
        .send()
        .await
        .expect("reach");
    assert_eq!(anonymous.status().as_u16(), 401);

    // A bad body, a site that does not answer, and wrong credentials are refused.
    let (status, body) = admin.post("/api/instances", json!({"name": "x"})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = admin
        .post(
            "/api/instances",
            json!({"name": "gone", "url": "http://127.0.0.1:9", "token": "t"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = admin
        .post(
            "/api/instances",
            json!({"name": "cloud", "url": cloud.url(), "user": cloud.user(), "token": "wrong-token"}),
        )
        .await;
    assert_eq!(status, 422, "wrong credentials: {body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("credentials")),
        "{body}"
    );

    // Both sites: the flavour is found, the token never comes back.
    let (status, body) = admin
        .post(
            "/api/instances",
            json!({"name": "cloud", "url": cloud.url(), "user": cloud.user(), "token": cloud.token()}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["flavour"], "cloud");
    let (status, body) = admin
        .post(
            "/api/instances",
            json!({"name": "dc", "url": dc.url(), "token": dc.token()}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["flavour"], "dc");
    let (_, listed) = admin.get("/api/instances").await;
    let text = listed.to_string();
    for token in [cloud.token(), dc.token()] {
        assert!(
            !text.contains(&format!("\"{token}\"")),
            "a token came back: {text}"
        );
    }
    assert!(!text.contains("\"token\""), "{text}");
    let (status, _) = admin
        .post(
            "/api/instances",
            json!({"name": "dc", "url": dc.url(), "token": dc.token()}),
        )
        .await;
    assert_eq!(status, 409, "a name is taken once");

    // Projects to pick from; an unknown site is 404.
    let (status, body) = admin.get("/api/instances/cloud/projects").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["projects"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["key"] == "SUP")),
        "{body}"
    );
    let (status, _) = admin.get("/api/instances/nope/projects").await;
    assert_eq!(status, 404);

    // A local connection in Basic mode, ready at once.
    let (status, body) = admin
        .post(
            "/api/connections",
            json!({"name": "sup-dev", "mode": "basic",
                   "local": {"instance": "cloud", "project": "SUP"},
                   "remote": {"instance": "dc", "project": "DEV"}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = admin
        .post(
            "/api/connections",
            json!({"name": "bad", "mode": "basic",
                   "local": {"instance": "nope", "project": "SUP"}, "remote": null}),
        )
        .await;
    assert_eq!(status, 422, "an unknown site: {body}");

    // One issue synced by key, on the running node.
    let ca = Client::new(&cloud);
    let cd = Client::new(&dc);
    let key = ca
        .create(twinsync_e2e::rest::new_issue(
            "SUP",
            "Task",
            "Made by hand",
            json!({}),
        ))
        .await;
    let (status, body) = admin
        .post("/api/connections/sup-dev/sync", json!({"key": key}))
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, _) = admin
        .post("/api/connections/sup-dev/sync", json!({"key": "not a key"}))
        .await;
    assert_eq!(status, 400);
    let store = running.node.store.clone();
    let twin = wait_for("the twin of the issue synced by key", || async {
        store
            .twin_by_local("sup-dev", "cloud", &key)
            .ok()
            .flatten()?
            .remote_key
    })
    .await;
    assert_eq!(cd.field(&twin, &["summary"]).await, "Made by hand");

    // Triggers: JQL with no restriction, and JQL Jira refuses, are not saved.
    let (status, body) = admin
        .post(
            "/api/connections/sup-dev/triggers",
            json!({"side": "cloud", "jql": "order by created", "note": ""}),
        )
        .await;
    assert_eq!(status, 400, "unbounded: {body}");
    let (status, body) = admin
        .post(
            "/api/connections/sup-dev/triggers",
            json!({"side": "cloud", "jql": "labels = = sync", "note": ""}),
        )
        .await;
    assert_eq!(status, 422, "invalid: {body}");
    for n in 0..3 {
        ca.create(twinsync_e2e::rest::new_issue(
            "SUP",
            "Task",
            &format!("Bulk {n}"),
            json!({"labels": ["bulk"]}),
        ))
        .await;
    }
    let (status, trigger) = admin
        .post(
            "/api/connections/sup-dev/triggers",
            json!({"side": "cloud", "jql": "labels = bulk", "note": "the bulk ones", "active": false}),
        )
        .await;
    assert_eq!(status, 201, "{trigger}");
    assert_eq!(trigger["matches"], 3, "{trigger}");
    let id = trigger["id"].as_i64().expect("trigger id");
    let (status, body) = admin
        .call(
            reqwest::Method::PATCH,
            &format!("/api/triggers/{id}"),
            Some(json!({"note": "edited"})),
        )
        .await;
    assert_eq!(
        (status, body["note"].as_str()),
        (200, Some("edited")),
        "{body}"
    );
    let (status, body) = admin
        .post(&format!("/api/triggers/{id}/bulk"), json!({}))
        .await;
    assert_eq!(status, 202, "{body}");
    wait_for("the bulk run to queue all three", || async {
        let (_, runs) = admin.get("/api/bulk").await;
        runs["runs"]
            .as_array()?
            .iter()
            .find(|r| r["done"] == true && r["queued"] == 3)
            .cloned()
    })
    .await;
    wait_for("three more twins", || async {
        (store.twin_count("sup-dev", "cloud").ok()? >= 4).then_some(())
    })
    .await;

    // Stop sending comments on one side only.
    let (status, body) = admin
        .call(
            reqwest::Method::PATCH,
            "/api/connections/sup-dev/sides/cloud",
            Some(json!({"send": ["summary", "description", "attachments", "issuetype", "priority", "labels", "status"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = admin
        .call(
            reqwest::Method::PATCH,
            "/api/connections/sup-dev/sides/cloud",
            Some(json!({"send": ["nonsense"]})),
        )
        .await;
    assert_eq!(status, 422);

    // The change survives a restart, and the export names the token by reference only.
    let data = dir.path().join("data");
    running.stop().await;
    let running = start_in_process(&config).await;
    let admin = Admin {
        url: running.admin_url(),
        http: reqwest::Client::new(),
    };
    let (_, body) = admin.get("/api/connections").await;
    let conn = &body["connections"][0];
    assert_eq!(conn["name"], "sup-dev", "{body}");
    assert_eq!(conn["origin"], "page");
    let cloud_side = conn["sides"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "cloud"))
        .expect("the cloud side");
    assert!(
        !cloud_side["send"].to_string().contains("comments"),
        "{cloud_side}"
    );
    let (_, triggers) = admin.get("/api/triggers").await;
    assert!(triggers.to_string().contains("edited"), "{triggers}");
    let node_config = twinsync::config::NodeConfig::parse(
        &config,
        std::path::Path::new("twinsync.toml"),
        std::path::PathBuf::from("."),
    )
    .expect("config");
    let exported = twinsync::setup::export_node(&node_config).expect("export");
    assert!(exported.contains("[instances.cloud]"), "{exported}");
    assert!(
        !exported.contains(&format!("\"{}\"", cloud.token())) && !exported.contains(TOKEN),
        "{exported}"
    );
    assert!(
        exported.contains(&data.join("secrets").display().to_string()),
        "{exported}"
    );
    let reparsed = twinsync::config::NodeConfig::parse(
        &exported,
        std::path::Path::new("exported.toml"),
        std::path::PathBuf::from("."),
    );
    assert!(
        reparsed.is_ok(),
        "the export is a config a node can start from: {reparsed:?}"
    );
    running.stop().await;
}

/// A node from only `[node]`, with a peer listener on a port known before it starts.
fn org_config(data: &std::path::Path) -> String {
    let port = twinsync_e2e::ports::free_port();
    format!("{}peer_listen = \"127.0.0.1:{port}\"\n", node_only(data))
}

async fn add_site(admin: &Admin, name: &str, sim: &twinsync_jira_sim::SimHandle) {
    let mut site = json!({"name": name, "url": sim.url(), "token": sim.token()});
    if sim.flavour() == Flavour::Cloud {
        site["user"] = json!(sim.user());
    }
    let (status, body) = admin.post("/api/instances", site).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_organisations_pair_through_an_invitation_made_and_accepted_in_the_api() {
    let (cloud, dc) = (
        start(Flavour::Cloud).await,
        start(Flavour::DataCenter).await,
    );
    let (dir1, dir2, dir3) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let node1 = start_in_process(&org_config(&dir1.path().join("data"))).await;
    let node2 = start_in_process(&org_config(&dir2.path().join("data"))).await;
    let node3 = start_in_process(&org_config(&dir3.path().join("data"))).await;
    let http = reqwest::Client::new();
    let (acme, globex, other) = (
        Admin {
            url: node1.admin_url(),
            http: http.clone(),
        },
        Admin {
            url: node2.admin_url(),
            http: http.clone(),
        },
        Admin {
            url: node3.admin_url(),
            http,
        },
    );
    add_site(&acme, "acme", &cloud).await;
    add_site(&globex, "globex", &dc).await;
    add_site(&other, "other", &dc).await;

    // Initiate: one side here, the other organisation's to come.
    let (status, body) = acme
        .post(
            "/api/connections",
            json!({"name": "acme-globex", "mode": "basic",
                   "local": {"instance": "acme", "project": "SUP"}, "remote": null}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["state"], "pending", "{body}");
    let (status, body) = acme
        .post("/api/connections/acme-globex/invitation", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let code = body["code"].as_str().expect("code").to_string();
    let (status, _) = acme
        .post("/api/connections/nope/invitation", json!({}))
        .await;
    assert_eq!(status, 404);

    // A changed code and a name the invitation does not carry are refused; then accept.
    let mut tampered = code.clone();
    tampered.insert(20, 'x');
    let (status, body) = globex
        .post(
            "/api/invitations/accept",
            json!({"code": tampered, "local": {"instance": "globex", "project": "DEV"}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = globex
        .post(
            "/api/invitations/accept",
            json!({"code": code, "name": "other-name", "local": {"instance": "globex", "project": "DEV"}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = globex
        .post(
            "/api/invitations/accept",
            json!({"code": code, "local": {"instance": "globex", "project": "DEV"}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    // Both nodes show it active; the code worked once.
    for admin in [&acme, &globex] {
        let (_, body) = admin.get("/api/connections").await;
        let conn = &body["connections"][0];
        assert_eq!(
            (conn["name"].as_str(), conn["state"].as_str()),
            (Some("acme-globex"), Some("active")),
            "{body}"
        );
        assert_eq!(conn["peer"]["state"], "active", "{body}");
    }
    let (status, body) = other
        .post(
            "/api/invitations/accept",
            json!({"code": code, "local": {"instance": "other", "project": "DEV"}}),
        )
        .await;
    assert_eq!(status, 502, "a used code: {body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("already used")),
        "{body}"
    );

    // An expired code is refused before anything is sent.
    let expired = twinsync::peer::enroll::invite(
        &node1.node.live(),
        &node1.node.store,
        "acme-globex",
        std::time::Duration::ZERO,
    )
    .expect("invite");
    let (status, body) = other
        .post(
            "/api/invitations/accept",
            json!({"code": expired, "local": {"instance": "other", "project": "DEV"}}),
        )
        .await;
    assert_eq!(status, 422, "an expired code: {body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("expired")),
        "{body}"
    );

    // An issue synced by key on one node arrives in the other organisation's Jira.
    let ca = Client::new(&cloud);
    let key = ca
        .create(twinsync_e2e::rest::new_issue(
            "SUP",
            "Task",
            "Across organisations",
            json!({}),
        ))
        .await;
    let (status, body) = acme
        .post("/api/connections/acme-globex/sync", json!({"key": key}))
        .await;
    assert_eq!(status, 202, "{body}");
    let store = node1.node.store.clone();
    let twin = wait_for("the twin in the other organisation", || async {
        store
            .twin_by_local("acme-globex", "acme", &key)
            .ok()
            .flatten()?
            .remote_key
    })
    .await;
    assert_eq!(
        Client::new(&dc).field(&twin, &["summary"]).await,
        "Across organisations"
    );

    // Visual mode across organisations: each node edits its own half only.
    let (status, body) = acme
        .call(
            reqwest::Method::PATCH,
            "/api/connections/acme-globex/sides/acme",
            Some(json!({"mode": "visual"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, view) = acme.get("/api/connections/acme-globex/mapping").await;
    assert_eq!(view["remote"], true, "{view}");
    assert_eq!(
        (
            &view["sides"]["a"]["editable"],
            &view["sides"]["b"]["editable"]
        ),
        (&json!(true), &json!(false)),
        "{view}"
    );
    let (status, body) = acme
        .call(
            reqwest::Method::PUT,
            "/api/connections/acme-globex/mapping/draft",
            Some(json!({"entries": [
                {"kind": "field", "a": "summary", "b": "summary", "direction": "a-to-b"},
                {"kind": "constant", "side": "b", "field": "labels", "value": "theirs"}
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["compiled"]
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["acme".to_string()]),
        "only this node's side is compiled: {body}"
    );
    let (status, body) = acme
        .post("/api/connections/acme-globex/mapping/publish", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let config = &body["connection"]["sides"][0]["config"];
    assert_eq!(config["direction.summary"], "out", "{body}");
    assert!(config.get("const.1").is_none(), "{body}");
    let (_, theirs) = globex.get("/api/connections").await;
    assert!(
        !theirs.to_string().contains("direction.default"),
        "the other organisation's side is untouched: {theirs}"
    );
    let (status, _) = globex
        .call(
            reqwest::Method::PUT,
            "/api/connections/acme-globex/mapping/draft",
            Some(json!({"entries": []})),
        )
        .await;
    assert_eq!(
        status, 409,
        "their side is in Basic mode: the editor does not take it"
    );
    for n in [node1, node2, node3] {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_sync_cut_off_by_a_stop_resumes_at_the_next_start() {
    let mut w = twinsync_e2e::world::World::new().await;
    // What the config file declares shows in the page, and only the file removes it.
    let http = reqwest::Client::new();
    let conns: Value = http
        .get(format!("{}/api/connections", w.admin_url()))
        .send()
        .await
        .expect("reach")
        .json()
        .await
        .expect("json");
    assert_eq!(conns["connections"][0]["origin"], "config", "{conns}");
    let triggers: Value = http
        .get(format!("{}/api/triggers", w.admin_url()))
        .send()
        .await
        .expect("reach")
        .json()
        .await
        .expect("json");
    let from_file = triggers["triggers"][0]["id"]
        .as_i64()
        .expect("the file's trigger");
    assert_eq!(triggers["triggers"][0]["origin"], "config", "{triggers}");
    for path in [
        "/api/connections/ab".to_string(),
        "/api/instances/a".to_string(),
        format!("/api/triggers/{from_file}"),
    ] {
        let resp = http
            .delete(format!("{}{path}", w.admin_url()))
            .send()
            .await
            .expect("reach");
        assert_eq!(resp.status().as_u16(), 409, "DELETE {path}");
    }
    let mut keys = Vec::new();
    for n in 0..3 {
        keys.push(
            w.ca.create(twinsync_e2e::rest::new_issue(
                "SUP",
                "Task",
                &format!("Left for later {n}"),
                json!({"labels": ["later"]}),
            ))
            .await,
        );
    }
    w.stop_node().await;
    // A bulk run the stop cut off before its first page: recorded as running, nothing queued.
    let store =
        twinsync::store::Store::open(&w.dir.path().join("data/twinsync.db")).expect("store");
    let run = store
        .bulk_run("ab", "a", "project = \"SUP\" AND (labels = later)")
        .expect("bulk run");
    assert!(!run.done && run.queued == 0);
    drop(store);
    w.start_node().await;
    let url = format!("{}/api/bulk", w.admin_url());
    wait_for("the bulk run to finish after the restart", || async {
        let runs: Value = reqwest::get(&url).await.ok()?.json().await.ok()?;
        runs["runs"]
            .as_array()?
            .iter()
            .find(|r| r["id"] == run.id && r["done"] == true && r["queued"] == 3)
            .cloned()
    })
    .await;
    for key in &keys {
        let twin = w.twin_of(key).await;
        assert!(!twin.is_empty());
    }
}
