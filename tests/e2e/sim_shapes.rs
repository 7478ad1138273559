//! Shape conformance: every endpoint the simulator serves is called on both flavours, and each
//! answer is validated against Atlassian's published OpenAPI specs by
//! tests/outside-client/validate_shapes.py (jsonschema, in the repository's .venv).
//!
//! Exceptions, where a spec is known to be wrong, are written in that script beside the check:
//! - DC: `IssueBean.fields` values are typed as objects in the spec; Jira returns strings, arrays
//!   and nulls there, so `fields` is checked as an object only.
//! - DC: list endpoints (e.g. `/field`, `/priority`) are declared as a single item; Jira returns an
//!   array, so each element is checked against the declared schema.
//! - Cloud and DC: changelog items' `from`/`to`/`fromString`/`toString` are declared as strings; Jira
//!   sends null for a missing side (the spec's own examples do).
//! - DC: `IssueBean.renderedFields` has the `fields` defect; `EntityPropertyBean.value` is typed
//!   string although property values are any JSON.
//!
//! Cloud REST v2 responses are not checked: no v2 spec is in the reference set; v2 differs from v3
//! only in rich text (wiki strings instead of ADF), which other tests cover.
//! Endpoints that are in neither spec (the admin `/rest/webhooks/1.0/webhook`, DC's
//! `/secure/attachment` download) are not sent to the validator.

use std::path::PathBuf;
use std::process::Command;

use reqwest::Method;
use serde_json::{Value, json};
use twinsync_jira_sim::{Flavour, SimHandle};

use crate::sim_client::venv_python;
use twinsync_e2e::rest::{Answer, Client, start};

fn spec_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("TWINSYNC_JIRA_SPECS") {
        return PathBuf::from(d);
    }
    // Trimmed copies of the published specs (annotations dropped), kept in the repository.
    let d = twinsync_e2e::fixtures::root()
        .join("tests")
        .join("jira-openapi");
    assert!(
        d.join("jira-cloud-platform-v3.openapi.json.gz").is_file(),
        "Atlassian's OpenAPI specs are not at {}; set TWINSYNC_JIRA_SPECS to their folder",
        d.display()
    );
    d
}

struct Recorder<'a> {
    c: Client,
    flavour: &'a str,
    samples: Vec<Value>,
}

impl Recorder<'_> {
    async fn call(&mut self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let a = self.c.call(method.clone(), path, body).await;
        let full = if path.starts_with("/rest") {
            path.to_string()
        } else {
            format!("{}{path}", self.c.base.trim_start_matches(&self.c.url))
        };
        let full = full.split('?').next().unwrap_or("").to_string();
        self.samples.push(json!({"flavour": self.flavour, "method": method.as_str(), "path": full, "status": a.status, "body": a.body}));
        a
    }
    async fn get(&mut self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }
    async fn post(&mut self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }
    async fn put(&mut self, path: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(body)).await
    }
    async fn delete(&mut self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }
}

fn text(h: &SimHandle, s: &str) -> Value {
    match h.flavour() {
        Flavour::Cloud => {
            json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": s}]}]})
        }
        Flavour::DataCenter => json!(s),
    }
}

async fn exercise(h: &SimHandle, r: &mut Recorder<'_>) {
    let cloud = h.flavour() == Flavour::Cloud;
    for p in [
        "/serverInfo",
        "/myself",
        "/project",
        "/project/SUP",
        "/project/SUP/statuses",
        "/project/SUP/components",
        "/issuetype",
        "/issuetype/10001",
        "/priority",
        "/priority/3",
        "/status",
        "/status/10000",
        "/statuscategory",
        "/resolution",
        "/resolution/10000",
        "/field",
        "/issue/createmeta/SUP/issuetypes",
        "/issue/createmeta/SUP/issuetypes/10002",
        "/issueLinkType",
        "/issueLinkType/10000",
        "/attachment/meta",
        "/issue/SUP-1?expand=names,renderedFields,changelog,transitions,editmeta,schema",
        "/issue/SUP-3",
        "/issue/SUP-1/editmeta",
        "/issue/SUP-1/transitions?expand=transitions.fields",
        "/issue/SUP-1/comment?expand=renderedBody",
        "/issue/NOPE-9",
    ] {
        r.get(p).await;
    }
    let alice = h.state().users[1].clone();
    if cloud {
        for p in [
            "/project/search",
            "/users/search",
            "/issue/createmeta?projectKeys=SUP&expand=projects.issuetypes.fields",
            "/issue/SUP-1/changelog",
        ] {
            r.get(p).await;
        }
        r.get(&format!("/user?accountId={}", alice.account_id))
            .await;
        r.get("/user/search?query=ali").await;
        r.get("/user/search?query=&startAt=1&maxResults=2").await;
        r.get("/user/assignable/search?project=SUP&query=a").await;
    } else {
        r.get("/user?username=alice").await;
        r.get("/user/search?username=ali").await;
        r.get("/user/search?username=.&startAt=1&maxResults=2")
            .await;
        r.get("/user/assignable/search?project=SUP&username=a")
            .await;
    }
    let assignee = if cloud {
        json!({"accountId": alice.account_id})
    } else {
        json!({"name": alice.name})
    };
    let created = r
        .post("/issue", json!({"fields": {"project": {"key": "SUP"}, "issuetype": {"name": "Task"}, "summary": "shape", "description": text(h, "body"), "assignee": assignee, "labels": ["x"], "customfield_10012": {"value": "Minor"}, "customfield_10013": text(h, "notes"), "customfield_10016": assignee}}))
        .await;
    let key = created.body["key"].as_str().unwrap_or("SUP-1").to_string();
    r.post("/issue", json!({"fields": {"project": {"key": "SUP"}}}))
        .await;
    r.put(
        &format!("/issue/{key}"),
        json!({"fields": {"summary": "shape 2"}}),
    )
    .await;
    r.put(
        &format!("/issue/{key}"),
        json!({"fields": {"status": {"id": "3"}}}),
    )
    .await;
    // A null account id (Cloud) or name (DC) unassigns.
    let unassigned = r
        .put(
            &format!("/issue/{key}/assignee"),
            if cloud {
                json!({"accountId": null})
            } else {
                json!({"name": null})
            },
        )
        .await;
    assert_eq!(unassigned.status, 204, "{}", unassigned.body);
    let now = r.c.get(&format!("/issue/{key}?fields=assignee")).await;
    assert_eq!(now.body["fields"]["assignee"], Value::Null);
    r.post(
        &format!("/issue/{key}/transitions"),
        json!({"transition": {"id": "11"}}),
    )
    .await;
    r.post(
        &format!("/issue/{key}/transitions"),
        json!({"transition": {"id": "61"}}),
    )
    .await;
    r.get(&format!(
        "/issue/{key}?expand=changelog,renderedFields,names"
    ))
    .await;
    let cm = r.post(&format!("/issue/{key}/comment"), json!({"body": text(h, "c1"), "visibility": {"type": "role", "value": "Developers"}, "properties": [{"key": "sd.public.comment", "value": {"internal": true}}]})).await;
    let cid = cm.body["id"].as_str().unwrap_or("0").to_string();
    r.get(&format!("/issue/{key}/comment?expand=properties"))
        .await;
    r.get(&format!("/issue/{key}/comment/{cid}")).await;
    r.put(
        &format!("/issue/{key}/comment/{cid}"),
        json!({"body": text(h, "c2")}),
    )
    .await;
    r.get(&format!("/comment/{cid}/properties")).await;
    r.get(&format!("/comment/{cid}/properties/sd.public.comment"))
        .await;
    r.put(&format!("/comment/{cid}/properties/other"), json!({"a": 1}))
        .await;
    r.delete(&format!("/issue/{key}/comment/{cid}")).await;

    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"data".to_vec())
            .file_name("d.txt")
            .mime_str("text/plain")
            .unwrap_or_else(|_| reqwest::multipart::Part::bytes(Vec::new())),
    );
    let up =
        r.c.http
            .post(format!("{}/issue/{key}/attachments", r.c.base))
            .header("Authorization", &r.c.auth)
            .header("X-Atlassian-Token", "no-check")
            .multipart(form)
            .send()
            .await
            .expect("upload");
    let up = Answer::read(up).await;
    let path = format!(
        "{}/issue/{key}/attachments",
        r.c.base.trim_start_matches(&r.c.url)
    );
    r.samples.push(json!({"flavour": r.flavour, "method": "POST", "path": path, "status": up.status, "body": up.body}));
    let aid = up.body[0]["id"].as_str().unwrap_or("0").to_string();
    r.get(&format!("/attachment/{aid}")).await;
    if cloud {
        let a = r.c.get(&format!("/attachment/content/{aid}")).await;
        assert_eq!(a.bytes, b"data");
    }
    r.delete(&format!("/attachment/{aid}")).await;

    r.post("/issueLink", json!({"type": {"name": "Relates"}, "inwardIssue": {"key": "SUP-1"}, "outwardIssue": {"key": key}})).await;
    let links = r.c.get(&format!("/issue/{key}?fields=issuelinks")).await;
    let lid = links.body["fields"]["issuelinks"][0]["id"]
        .as_str()
        .unwrap_or("0")
        .to_string();
    r.get(&format!("/issueLink/{lid}")).await;
    r.get(&format!("/issue/{key}?fields=issuelinks,subtasks,parent"))
        .await;
    r.delete(&format!("/issueLink/{lid}")).await;

    let rl = format!("/issue/{key}/remotelink");
    let link = json!({"globalId": "twinsync:shape:b", "application": {"type": "twinsync", "name": "Twinsync"}, "relationship": "synced with", "object": {"url": "http://example.com/browse/B-1", "title": "B-1 (shape)", "summary": "synced", "icon": {"url16x16": "http://example.com/i.png", "title": "Twinsync"}, "status": {"resolved": false, "icon": {}}}});
    let made = r.post(&rl, link.clone()).await;
    assert!(made.status == 201 || made.status == 200, "{}", made.body);
    let rid = made.body["id"].as_i64().unwrap_or(0);
    let mut again = link.clone();
    again["object"]["summary"] = json!("error: x");
    let updated = r.post(&rl, again).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["id"].as_i64(), Some(rid));
    r.post(
        &rl,
        json!({"object": {"url": "http://example.com/2", "title": "plain"}}),
    )
    .await;
    r.post(&rl, json!({"object": {"title": "no url"}})).await;
    let all = r.get(&rl).await;
    assert_eq!(all.body.as_array().map(Vec::len), Some(2), "{}", all.body);
    assert_eq!(all.body[0]["object"]["summary"], "error: x");
    r.get(&format!("{rl}?globalId=twinsync%3Ashape%3Ab")).await;
    r.get(&format!("{rl}/{rid}")).await;
    r.put(&format!("{rl}/{rid}"), link.clone()).await;
    r.get(&format!("{rl}/999999")).await;
    r.delete(&format!("{rl}?globalId=twinsync%3Ashape%3Ab"))
        .await;
    r.delete(&format!("{rl}?globalId=twinsync%3Ashape%3Ab"))
        .await;
    let rest = r.c.get(&rl).await;
    let other = rest.body[0]["id"].as_i64().unwrap_or(0);
    r.delete(&format!("{rl}/{other}")).await;
    let none = r.c.get(&rl).await;
    assert_eq!(none.body, json!([]));

    let v1 = r
        .post("/version", json!({"name": "1.0", "project": "SUP", "description": "first", "releaseDate": "2026-03-01"}))
        .await;
    assert_eq!(v1.status, 201, "{}", v1.body);
    let v1_id = v1.body["id"].as_str().unwrap_or("0").to_string();
    r.post(
        "/version",
        json!({"name": "1.1", "projectId": v1.body["projectId"]}),
    )
    .await;
    r.post("/version", json!({"name": "1.0", "project": "SUP"}))
        .await;
    r.get("/project/SUP/versions").await;
    r.get(&format!("/version/{v1_id}")).await;
    let set = r
        .put(
            &format!("/issue/{key}"),
            json!({"fields": {"fixVersions": [{"name": "1.0"}]}, "update": {"versions": [{"add": {"id": v1_id}}]}}),
        )
        .await;
    assert_eq!(set.status, 204, "{}", set.body);
    let with = r
        .get(&format!("/issue/{key}?fields=fixVersions,versions"))
        .await;
    assert_eq!(with.body["fields"]["fixVersions"][0]["name"], "1.0");
    assert_eq!(with.body["fields"]["versions"][0]["id"], json!(v1_id));
    r.put(
        &format!("/issue/{key}"),
        json!({"fields": {"fixVersions": [{"name": "9.9"}]}}),
    )
    .await;

    let wl = format!("/issue/{key}/worklog");
    let logged = r
        .post(&wl, json!({"started": "2026-01-17T12:34:00.000+0000", "timeSpent": "3h 20m", "comment": text(h, "fixed it")}))
        .await;
    assert_eq!(logged.status, 201, "{}", logged.body);
    assert_eq!(logged.body["timeSpentSeconds"], 12_000);
    assert_eq!(logged.body["comment"], text(h, "fixed it"));
    let wid = logged.body["id"].as_str().unwrap_or("0").to_string();
    r.get(&wl).await;
    r.get(&format!("{wl}/{wid}")).await;
    let changed = r
        .put(&format!("{wl}/{wid}"), json!({"timeSpentSeconds": 3600}))
        .await;
    assert_eq!(changed.body["timeSpent"], "1h", "{}", changed.body);
    r.post(&wl, json!({"started": "2026-01-17T12:34:00.000+0000"}))
        .await;
    r.delete(&format!("{wl}/{wid}")).await;
    assert_eq!(r.c.get(&wl).await.body["total"], 0);

    if cloud {
        let unbounded = r
            .post("/search/jql", json!({"jql": "ORDER BY created DESC"}))
            .await;
        assert_eq!(unbounded.status, 400);
        assert_eq!(
            unbounded.body["errorMessages"],
            json!([
                "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
            ])
        );
        assert_eq!(r.c.get("/search/jql?jql=").await.status, 400);
        r.get("/search/jql?jql=project%20%3D%20SUP&maxResults=2")
            .await;
        r.post("/search/jql", json!({"jql": "project = SUP ORDER BY created DESC", "fields": ["*all"], "expand": "names,schema,changelog", "maxResults": 3})).await;
        r.post("/search/jql", json!({"jql": "project = NOPE"}))
            .await;
        r.post("/search/approximate-count", json!({"jql": "project = SUP"}))
            .await;
        let reg = r.post("/webhook", json!({"url": "http://127.0.0.1:9/hook", "webhooks": [{"events": ["jira:issue_created"], "jqlFilter": "project = SUP"}]})).await;
        r.get("/webhook").await;
        let id = reg.body["webhookRegistrationResult"][0]["createdWebhookId"].clone();
        r.put("/webhook/refresh", json!({"webhookIds": [id]})).await;
        r.call(
            Method::DELETE,
            "/webhook",
            Some(json!({"webhookIds": [id]})),
        )
        .await;
    } else {
        r.get("/search?jql=project%20%3D%20SUP&maxResults=2&expand=names,schema")
            .await;
        r.post(
            "/search",
            json!({"jql": "project = SUP", "fields": ["summary", "status"], "startAt": 1}),
        )
        .await;
        r.post("/search", json!({"jql": "project = NOPE"})).await;
    }
    r.delete(&format!("/issue/{key}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_responses_match_published_openapi_specs() {
    let specs = spec_dir();
    let py = venv_python();
    let mut samples = Vec::new();
    for (flavour, name) in [(Flavour::Cloud, "cloud"), (Flavour::DataCenter, "dc")] {
        let h = start(flavour).await;
        let mut r = Recorder {
            c: Client::new(&h),
            flavour: name,
            samples: Vec::new(),
        };
        exercise(&h, &mut r).await;
        samples.extend(r.samples);
    }
    let n = samples.len();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("samples.json");
    std::fs::write(&file, serde_json::to_vec(&samples).expect("json")).expect("write samples");
    let script = twinsync_e2e::fixtures::root()
        .join("tests")
        .join("outside-client")
        .join("validate_shapes.py");
    let args = vec![
        script.display().to_string(),
        specs.display().to_string(),
        file.display().to_string(),
    ];
    let out = tokio::task::spawn_blocking(move || Command::new(py).args(args).output())
        .await
        .expect("join")
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{n} responses checked; conformance failures:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{n} passed, 0 failed")),
        "{stdout}"
    );
}
