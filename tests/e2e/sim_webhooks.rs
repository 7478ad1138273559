//! Simulator webhooks over real HTTP: registration per flavour, documented bodies, JQL filters,
//! retries, and the delivery faults (dropped, duplicated, reordered).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use twinsync_jira_sim::{Delivery, Flavour, SimHandle};

use twinsync_e2e::rest::{Client, start};

type Got = Arc<Mutex<Vec<(HeaderMap, Value)>>>;

/// A webhook endpoint on loopback that records what arrives; the first `fail_first` calls get a 500.
pub struct Receiver {
    pub url: String,
    pub got: Got,
}

#[derive(Clone)]
struct RecvState {
    got: Got,
    fail_first: Arc<AtomicU32>,
}

async fn hook(
    State(s): State<RecvState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    if s.fail_first.load(Ordering::SeqCst) > 0 {
        s.fail_first.fetch_sub(1, Ordering::SeqCst);
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let v = serde_json::from_slice(&body).unwrap_or(Value::Null);
    s.got
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((headers, v));
    StatusCode::OK
}

pub async fn receiver(fail_first: u32) -> Receiver {
    let got: Got = Arc::default();
    let st = RecvState {
        got: got.clone(),
        fail_first: Arc::new(AtomicU32::new(fail_first)),
    };
    let app = Router::new().route("/hook", post(hook)).with_state(st);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Receiver {
        url: format!("http://{addr}/hook"),
        got,
    }
}

impl Receiver {
    pub fn bodies(&self) -> Vec<Value> {
        self.got
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }
    pub fn headers(&self) -> Vec<HeaderMap> {
        self.got
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(h, _)| h.clone())
            .collect()
    }
}

fn done(d: &[Delivery]) -> usize {
    d.iter().filter(|x| x.outcome != "failed").count()
}

async fn settle(h: &SimHandle, n: usize) -> Vec<Delivery> {
    let d = h
        .wait_deliveries(Duration::from_secs(10), |d| done(d) >= n)
        .await;
    assert!(done(&d) >= n, "expected {n} settled deliveries, got {d:#?}");
    d
}

async fn admin_hook(c: &Client, url: &str, events: &[&str], jql: &str) -> Value {
    let r = c
        .post("/rest/webhooks/1.0/webhook", json!({"name": "test", "url": url, "events": events, "filters": {"issue-related-events-section": jql}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_cloud_dynamic_webhooks_send_documented_bodies() {
    let h = start(Flavour::Cloud).await;
    let c = Client::new(&h);
    let rx = receiver(0).await;
    let reg = c
        .post("/webhook", json!({"url": rx.url, "webhooks": [{"events": ["jira:issue_created", "jira:issue_updated", "comment_created"], "jqlFilter": "project = SUP"}]}))
        .await;
    assert_eq!(reg.status, 200, "{}", reg.body);
    let id = reg.body["webhookRegistrationResult"][0]["createdWebhookId"]
        .as_u64()
        .expect("id");
    let bad = c.post("/webhook", json!({"url": rx.url, "webhooks": [{"events": ["jira:issue_created"], "jqlFilter": "nonsense ="}]})).await;
    assert!(
        bad.body["webhookRegistrationResult"][0]["errors"].is_array(),
        "{}",
        bad.body
    );
    let list = c.get("/webhook").await;
    assert_eq!(list.body["values"][0]["id"], id);
    assert!(list.body["values"][0]["expirationDate"].is_i64());

    let mk = |p: &str| json!({"fields": {"project": {"key": p}, "issuetype": {"name": "Task"}, "summary": "hooked", "description": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "hi"}]}]}}});
    let other = c.post("/issue", mk("DEV")).await;
    assert_eq!(other.status, 201);
    let created = c.post("/issue", mk("SUP")).await;
    let key = created.body["key"].as_str().expect("key").to_string();
    assert_eq!(
        c.post(
            &format!("/issue/{key}/transitions"),
            json!({"transition": {"id": "11"}})
        )
        .await
        .status,
        204
    );
    assert_eq!(
        c.post(
            &format!("/issue/{key}/comment"),
            json!({"body": {"type": "doc", "version": 1, "content": []}})
        )
        .await
        .status,
        201
    );
    settle(&h, 4).await;
    let bodies = rx.bodies();
    assert_eq!(
        bodies.len(),
        4,
        "DEV is filtered out by the JQL: {bodies:#?}"
    );
    let events: Vec<(&str, &str)> = bodies
        .iter()
        .map(|b| {
            (
                b["webhookEvent"].as_str().unwrap_or(""),
                b["issue_event_type_name"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        events,
        vec![
            ("jira:issue_created", "issue_created"),
            ("jira:issue_updated", "issue_generic"),
            ("comment_created", ""),
            ("jira:issue_updated", "issue_commented")
        ]
    );
    for b in &bodies {
        assert!(b["timestamp"].is_i64());
        assert_eq!(b["issue"]["key"], key.as_str());
        assert_eq!(b["matchedWebhookIds"], json!([id]));
    }
    let created_b = &bodies[0];
    assert_eq!(
        created_b["user"]["accountId"],
        h.state().users[0].account_id.as_str()
    );
    assert_eq!(
        created_b["issue"]["fields"]["description"], "hi",
        "webhooks carry the v2 (wiki) representation"
    );
    let t = &bodies[1]["changelog"];
    assert!(t["id"].is_string());
    assert!(
        t["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|i| i["field"] == "status"
                && i["fromString"] == "To Do"
                && i["toString"] == "In Progress")
    );
    assert!(bodies[2]["comment"]["id"].is_string());
    assert_eq!(bodies[3]["comment"]["id"], bodies[2]["comment"]["id"]);
    let del = c
        .call(
            reqwest::Method::DELETE,
            "/webhook",
            Some(json!({"webhookIds": [id]})),
        )
        .await;
    assert_eq!(del.status, 202);
    assert_eq!(c.get("/webhook").await.body["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_dc_admin_webhooks_update_and_delete() {
    let h = start(Flavour::DataCenter).await;
    let c = Client::new(&h);
    let rx = receiver(0).await;
    let reg = admin_hook(
        &c,
        &rx.url,
        &[
            "jira:issue_updated",
            "jira:issue_deleted",
            "comment_updated",
            "comment_deleted",
        ],
        "project = DEV",
    )
    .await;
    assert!(
        reg["self"]
            .as_str()
            .is_some_and(|s| s.contains("/rest/webhooks/1.0/webhook/"))
    );
    assert_eq!(
        c.get("/rest/webhooks/1.0/webhook")
            .await
            .body
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        c.put("/issue/DEV-1", json!({"fields": {"summary": "renamed"}}))
            .await
            .status,
        204
    );
    assert_eq!(
        c.put(
            "/issue/SUP-1",
            json!({"fields": {"summary": "not for DEV"}})
        )
        .await
        .status,
        204
    );
    let cm = c
        .post("/issue/DEV-2/comment", json!({"body": "first"}))
        .await;
    let cid = cm.body["id"].as_str().expect("id").to_string();
    assert_eq!(
        c.put(
            &format!("/issue/DEV-2/comment/{cid}"),
            json!({"body": "second"})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        c.delete(&format!("/issue/DEV-2/comment/{cid}"))
            .await
            .status,
        204
    );
    assert_eq!(c.delete("/issue/DEV-2").await.status, 204);
    // updated(summary), updated(commented), comment_updated, updated(edited), comment_deleted, updated(deleted comment), deleted
    settle(&h, 7).await;
    let bodies = rx.bodies();
    let names: Vec<String> = bodies
        .iter()
        .map(|b| {
            format!(
                "{}/{}",
                b["webhookEvent"].as_str().unwrap_or(""),
                b["issue_event_type_name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            "jira:issue_updated/issue_updated",
            "jira:issue_updated/issue_commented",
            "comment_updated/",
            "jira:issue_updated/issue_comment_edited",
            "comment_deleted/",
            "jira:issue_updated/issue_comment_deleted",
            "jira:issue_deleted/issue_deleted",
        ]
    );
    let items = &bodies[0]["changelog"]["items"][0];
    assert_eq!(
        (
            items["field"].as_str(),
            items["fromString"].as_str(),
            items["toString"].as_str()
        ),
        (
            Some("summary"),
            Some("Single sign-on for partners"),
            Some("renamed")
        )
    );
    assert_eq!(bodies[0]["user"]["name"], "admin");
    assert_eq!(bodies[2]["comment"]["body"], "second");
    assert_eq!(bodies[6]["issue"]["key"], "DEV-2");
    let rid = reg["self"]
        .as_str()
        .and_then(|s| s.rsplit('/').next())
        .expect("id")
        .to_string();
    assert_eq!(
        c.delete(&format!("/rest/webhooks/1.0/webhook/{rid}"))
            .await
            .status,
        204
    );
    assert_eq!(
        c.get(&format!("/rest/webhooks/1.0/webhook/{rid}"))
            .await
            .status,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_webhook_faults_drop_and_duplicate() {
    let h = start(Flavour::Cloud).await;
    let c = Client::new(&h);
    let rx = receiver(0).await;
    admin_hook(&c, &rx.url, &["jira:issue_created"], "").await;
    h.set_faults_spec("webhook-drop-next=1").expect("spec");
    let a = h.create_issue("SUP", "Task", "dropped").expect("create");
    let d = settle(&h, 1).await;
    assert_eq!(d[0].outcome, "dropped");
    assert!(rx.bodies().is_empty(), "a dropped webhook never arrives");

    h.set_faults_spec("webhook-duplicate-next=1").expect("spec");
    let b = h.create_issue("SUP", "Task", "twice").expect("create");
    settle(&h, 3).await;
    let bodies = rx.bodies();
    assert_eq!(bodies.len(), 2, "one notification, delivered twice");
    assert!(bodies.iter().all(|x| x["issue"]["key"] == b.as_str()));
    let ids: Vec<String> = rx
        .headers()
        .iter()
        .map(|hd| {
            hd.get("X-Atlassian-Webhook-Identifier")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(ids[0], ids[1], "a duplicate carries the same identifier");
    assert!(!ids[0].is_empty());
    assert_ne!(a, b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_webhook_retries_and_reordering() {
    let h = start(Flavour::DataCenter).await;
    let c = Client::new(&h);
    let rx = receiver(1).await;
    admin_hook(&c, &rx.url, &["jira:issue_created"], "project = SUP").await;
    let first = h.create_issue("SUP", "Task", "retried").expect("create");
    let d = settle(&h, 1).await;
    assert_eq!(d[0].outcome, "failed");
    assert_eq!(d[0].status, Some(500));
    assert_eq!(d[1].attempt, 1);
    let hd = rx.headers();
    assert_eq!(
        hd[0]
            .get("X-Atlassian-Webhook-Retry")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_eq!(rx.bodies()[0]["issue"]["key"], first.as_str());

    h.set_faults_spec("webhook-reorder").expect("spec");
    let x = h.create_issue("SUP", "Task", "x").expect("create");
    let y = h.create_issue("SUP", "Task", "y").expect("create");
    settle(&h, 3).await;
    let keys: Vec<String> = rx
        .bodies()
        .iter()
        .skip(1)
        .map(|b| b["issue"]["key"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(keys, vec![y, x], "reordered pair");
}
