//! The Jira client over real HTTP against the simulator, both flavours: every call, rich text
//! across flavours, and the fault handling (429 with Retry-After, 5xx bursts, 400s, the budget).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use twinsync::jira::client::UploadSource;
use twinsync::jira::mapping::{self, FieldCatalog, WriteContext};
use twinsync::jira::{
    Auth, BudgetConfig, ClientConfig, Flavour, JiraClient, JiraError, PageCursor, RetryPolicy,
    UserMap,
};
use twinsync::model::{Changes, RichText, UserRef};
use twinsync::sim::{self, SimHandle, SimOptions, Simulator};

async fn sim(flavour: Flavour) -> SimHandle {
    let opts = match flavour {
        Flavour::Cloud => SimOptions::cloud(),
        Flavour::DataCenter => SimOptions::dc(),
    };
    Simulator::start(opts).await.expect("simulator starts")
}

fn config(h: &SimHandle, flavour: Flavour, base: &str) -> ClientConfig {
    let auth = match flavour {
        Flavour::Cloud => Auth::cloud(h.user(), h.token()),
        Flavour::DataCenter => Auth::pat(h.token()),
    };
    let mut c = ClientConfig::new("sim", base, flavour, auth);
    c.budget = BudgetConfig::unlimited();
    // Short waits keep the suite fast; the policy's shape is what is under test.
    c.retry = RetryPolicy {
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        ..RetryPolicy::default()
    };
    c
}

fn client(h: &SimHandle, flavour: Flavour) -> JiraClient {
    JiraClient::new(config(h, flavour, h.url())).expect("client")
}

/// Arrival times of requests, stamped by a pass-through proxy in front of the simulator.
///
/// The simulator's request log keeps order and status but no times, so the proxy records
/// when each request reached the server side; the test's own clock never enters the asserts.
#[derive(Clone, Default)]
struct Stamps(Arc<Mutex<Vec<Stamp>>>);

/// When a request arrived: time, method, path, status.
type Stamp = (Instant, String, String, u16);

impl Stamps {
    fn all(&self) -> Vec<(Instant, String, String, u16)> {
        self.0.lock().map(|g| g.clone()).unwrap_or_default()
    }
}

async fn stamping_proxy(target: String) -> (String, Stamps) {
    use axum::body::Body;
    use axum::extract::Request;
    use axum::response::Response;
    let stamps = Stamps::default();
    let s2 = stamps.clone();
    let http = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |req: Request| {
        let (stamps, http, target) = (s2.clone(), http.clone(), target.clone());
        async move {
            let at = Instant::now();
            let method = req.method().clone();
            let pq = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default();
            let headers = req.headers().clone();
            let body = axum::body::to_bytes(req.into_body(), usize::MAX)
                .await
                .unwrap_or_default();
            let mut rb = http.request(method.clone(), format!("{target}{pq}"));
            for (k, v) in headers.iter() {
                if k != "host" && k != "content-length" {
                    rb = rb.header(k, v);
                }
            }
            let resp = rb.body(body).send().await.expect("simulator answers");
            let status = resp.status();
            let rh = resp.headers().clone();
            let bytes = resp.bytes().await.unwrap_or_default();
            let path = pq.split('?').next().unwrap_or_default().to_string();
            stamps
                .0
                .lock()
                .expect("stamps")
                .push((at, method.to_string(), path, status.as_u16()));
            let mut out = Response::new(Body::from(bytes));
            *out.status_mut() = status;
            for (k, v) in rh.iter() {
                if k != "content-length" && k != "transfer-encoding" {
                    out.headers_mut().insert(k, v.clone());
                }
            }
            out
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, stamps)
}

fn sim_flavour(f: Flavour) -> sim::Flavour {
    match f {
        Flavour::Cloud => sim::Flavour::Cloud,
        Flavour::DataCenter => sim::Flavour::Dc,
    }
}

/// Every client call once, on one flavour.
async fn every_call(flavour: Flavour) {
    let h = sim(flavour).await;
    assert_eq!(h.flavour(), sim_flavour(flavour));
    let c = client(&h, flavour);

    let info = c.server_info().await.expect("serverInfo");
    assert!(!info.version.is_empty());
    let me = c.myself().await.expect("myself");
    assert!(me.ident(flavour).is_some());

    let fields = c.fields().await.expect("fields");
    assert!(fields.iter().any(|f| f.id == "summary"));
    let catalog: FieldCatalog = c.field_catalog().await.expect("catalog");
    let types = c
        .create_meta_issue_types("SUP")
        .await
        .expect("createmeta types");
    let task = types.iter().find(|t| t.name == "Task").expect("Task type");
    let meta = c.create_meta("SUP", &task.id).await.expect("createmeta");
    assert!(
        meta.iter().any(|m| m.id == "summary" && m.required),
        "{meta:?}"
    );

    // Users by email, by id, by name.
    let alice = c
        .user_by_email("alice@example.com")
        .await
        .expect("user search")
        .expect("alice");
    match flavour {
        Flavour::Cloud => {
            let id = alice.account_id.clone().expect("account id");
            let again = c
                .user_by_account_id(&id)
                .await
                .expect("by id")
                .expect("found");
            assert_eq!(again.display_name, alice.display_name);
        }
        Flavour::DataCenter => {
            let again = c
                .user_by_username("alice")
                .await
                .expect("by name")
                .expect("found");
            assert_eq!(again.name.as_deref(), Some("alice"));
        }
    }
    assert!(
        c.user_by_username("nobody-here")
            .await
            .expect("lookup")
            .is_none()
    );

    // Create with formatted text, given as wiki markup (as a DC side would send it).
    let desc = RichText {
        text: String::new(),
        adf: None,
        wiki: Some(
            "h2. Steps\n* open *the* page\n* click {{Save}}\n\n{code:rust}\nfn x() {}\n{code}"
                .into(),
        ),
    };
    let people = c
        .resolve_users(&[UserRef::Email("alice@example.com".into())])
        .await
        .expect("resolve");
    let users = UserMap::new();
    let cx = WriteContext {
        flavour,
        users: &users,
        people: &people,
        fields: &catalog,
    };
    let changes = Changes {
        summary: Some("Client e2e".into()),
        description: Some(desc),
        labels: Some(vec!["e2e".into()]),
        assignee: Some(Some(UserRef::Email("alice@example.com".into()))),
        priority: Some("High".into()),
        ..Changes::default()
    };
    let body = mapping::create_request(&changes, Some("SUP"), Some("Task"), &cx).expect("body");
    let created = c.create_issue(body).await.expect("create");
    let issue = c.get_issue(&created.key).await.expect("get");
    assert_eq!(issue.summary, "Client e2e");
    assert_eq!(issue.security_level, None);
    c.edit_issue(
        &created.key,
        serde_json::json!({"fields": {"security": {"name": "Confidential"}}}),
    )
    .await
    .expect("set the security level");
    let secured = c.get_issue(&created.key).await.expect("get");
    assert_eq!(secured.security_level.as_deref(), Some("Confidential"));
    let refused = c
        .edit_issue(
            &created.key,
            serde_json::json!({"fields": {"security": {"id": "999"}}}),
        )
        .await
        .expect_err("an unknown level is refused");
    assert!(refused.to_string().contains("security"), "{refused}");
    assert_eq!(issue.labels, vec!["e2e"]);
    assert_eq!(issue.priority.as_deref(), Some("High"));
    assert_eq!(
        issue.assignee.as_ref().and_then(|u| u.display_name.clone()),
        alice.display_name
    );
    let d = issue.description.expect("description");
    assert!(d.text.contains("open the page"), "{}", d.text);
    match flavour {
        // The wiki became ADF on the way into Cloud, with its structure.
        Flavour::Cloud => {
            let adf = d.adf.expect("adf");
            for node in [
                "heading",
                "bulletList",
                "codeBlock",
                "\"language\":\"rust\"",
                "strong",
                "code",
            ] {
                assert!(adf.contains(node), "{node} missing in {adf}");
            }
        }
        Flavour::DataCenter => {
            let wiki = d.wiki.expect("wiki");
            assert!(
                wiki.contains("{code:rust}") && wiki.contains("*the*"),
                "{wiki}"
            );
        }
    }

    // Edit.
    let edit = Changes {
        summary: Some("Client e2e, edited".into()),
        assignee: Some(None),
        ..Changes::default()
    };
    c.edit_issue(
        &created.key,
        mapping::edit_request(&edit, &cx).expect("edit body"),
    )
    .await
    .expect("edit");
    let issue = c.get_issue(&created.key).await.expect("get");
    assert_eq!(issue.summary, "Client e2e, edited");
    assert!(issue.assignee.is_none());
    let editmeta = c.edit_meta(&created.key).await.expect("editmeta");
    assert!(editmeta.iter().any(|f| f.id == "summary"));

    // Transitions.
    let ts = c.transitions(&created.key).await.expect("transitions");
    let t = ts
        .iter()
        .find(|t| t.to_status != issue.status)
        .expect("a transition");
    c.transition(&created.key, &t.id, None)
        .await
        .expect("transition");
    assert_eq!(
        c.get_issue(&created.key).await.expect("get").status,
        t.to_status
    );

    // Comments: add (internal), update, list, delete.
    let body = RichText::plain("First *note*");
    let added = c
        .add_comment(&created.key, &body, true, &users)
        .await
        .expect("comment");
    assert!(added.internal);
    assert_eq!(added.body.text, "First *note*");
    let public = c
        .add_comment(&created.key, &RichText::plain("Second"), false, &users)
        .await
        .expect("comment");
    assert!(!public.internal);
    let upd = c
        .update_comment(
            &created.key,
            &public.id,
            &RichText::plain("Second, edited"),
            false,
            &users,
        )
        .await
        .expect("update");
    assert_eq!(upd.body.text, "Second, edited");
    let all = c.comments(&created.key).await.expect("comments");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].id, added.id);
    assert!(all[0].internal && !all[1].internal);
    c.delete_comment(&created.key, &added.id)
        .await
        .expect("delete comment");
    assert_eq!(c.comments(&created.key).await.expect("comments").len(), 1);

    // Attachments: from memory and streamed from a file, downloaded back.
    let up = c
        .upload_attachment(
            &created.key,
            "notes.txt",
            "text/plain",
            UploadSource::Bytes("hello".into()),
        )
        .await
        .expect("upload");
    assert_eq!(up[0].filename, "notes.txt");
    assert_eq!(up[0].size, 5);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.bin");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &data).expect("write");
    let up2 = c
        .upload_attachment(
            &created.key,
            "big.bin",
            "application/octet-stream",
            UploadSource::File(path),
        )
        .await
        .expect("upload file");
    let dl = c.download_attachment(&up[0].id).await.expect("download");
    assert_eq!(&dl.bytes().await.expect("bytes")[..], b"hello");
    let out = dir.path().join("back.bin");
    let n = c
        .download_attachment(&up2[0].id)
        .await
        .expect("download")
        .save_to(&out)
        .await
        .expect("save");
    assert_eq!(n, data.len() as u64);
    assert_eq!(std::fs::read(&out).expect("read"), data);
    assert_eq!(
        c.get_issue(&created.key)
            .await
            .expect("get")
            .attachments
            .len(),
        2
    );
    c.delete_attachment(&up[0].id)
        .await
        .expect("delete attachment");
    assert_eq!(
        c.get_issue(&created.key)
            .await
            .expect("get")
            .attachments
            .len(),
        1
    );

    // Search, paging by the flavour's style.
    let jql = "project = SUP ORDER BY key ASC";
    let mut keys = Vec::new();
    let mut cursor = PageCursor::Start;
    let mut pages = 0;
    loop {
        let page = c
            .search_page(jql, "summary,status", &cursor, 2)
            .await
            .expect("search");
        pages += 1;
        keys.extend(page.issues.iter().map(|i| i.key.clone()));
        assert!(
            page.issues.iter().all(|i| !i.summary.is_empty()),
            "fields were asked for"
        );
        match page.next {
            Some(next) => {
                match (&next, flavour) {
                    (PageCursor::Token(_), Flavour::Cloud)
                    | (PageCursor::Offset(_), Flavour::DataCenter) => {}
                    other => panic!("wrong paging style {other:?}"),
                }
                cursor = next;
            }
            None => break,
        }
    }
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert!(pages >= 2);
    assert!(keys.contains(&created.key));
    let all = c.search_all(jql, "summary", 100).await.expect("search all");
    assert_eq!(all.len(), 4);

    // Delete.
    c.delete_issue(&created.key).await.expect("delete");
    let gone = c.get_issue(&created.key).await.expect_err("gone");
    assert!(gone.is_not_found(), "{gone}");
    assert_eq!(c.stats().retries, 0);
}

#[tokio::test]
async fn jira_client_every_call_cloud() {
    every_call(Flavour::Cloud).await;
}

#[tokio::test]
async fn jira_client_every_call_dc() {
    every_call(Flavour::DataCenter).await;
}

#[tokio::test]
async fn jira_rich_text_crosses_flavours() {
    // A Cloud description read as ADF, written to DC as wiki, read back: same structure.
    let cloud = sim(Flavour::Cloud).await;
    let dc = sim(Flavour::DataCenter).await;
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

#[tokio::test]
async fn jira_429_retry_after_is_waited_out() {
    let h = sim(Flavour::Cloud).await;
    let (proxy, stamps) = stamping_proxy(h.url().to_string()).await;
    let c = JiraClient::new(config(&h, Flavour::Cloud, &proxy)).expect("client");
    let key = h.create_issue("SUP", "Task", "limits").expect("issue");
    // One write per issue per 2 s: the second edit gets 429 with Retry-After: 2.
    h.set_faults_spec("rate-limit,issue-writes-2s=1")
        .expect("faults");
    for n in 0..2 {
        c.edit_issue(&key, json!({"fields": {"summary": format!("edit {n}")}}))
            .await
            .expect("edit rides out the limit");
    }
    let puts: Vec<_> = stamps.all().into_iter().filter(|s| s.1 == "PUT").collect();
    let statuses: Vec<u16> = puts.iter().map(|s| s.3).collect();
    assert_eq!(statuses, vec![204, 429, 204], "{statuses:?}");
    let waited = puts[2].0 - puts[1].0;
    assert!(
        waited >= Duration::from_millis(1900) && waited < Duration::from_millis(3500),
        "waited {waited:?} after Retry-After: 2"
    );
    assert_eq!(c.stats().throttled, 1);
    assert_eq!(h.count("PUT", "/issue/{key}"), 3);
}

#[tokio::test]
async fn jira_503_burst_is_ridden_out() {
    for flavour in [Flavour::Cloud, Flavour::DataCenter] {
        let h = sim(flavour).await;
        let c = client(&h, flavour);
        h.set_faults_spec("error-next=3,error-status=503")
            .expect("faults");
        let issue = c.get_issue("SUP-1").await.expect("rides out three 503s");
        assert_eq!(issue.key, "SUP-1");
        assert_eq!(c.stats().retries, 3);
        let statuses: Vec<u16> = h.requests().iter().map(|r| r.status).collect();
        assert_eq!(&statuses[..4], &[503, 503, 503, 200]);
        // A longer burst than the bound gives up with the last error.
        h.set_faults_spec("error-next=50").expect("faults");
        let e = c.myself().await.expect_err("too many");
        assert!(matches!(e, JiraError::Exhausted { attempts: 6, .. }), "{e}");
        assert!(e.to_string().contains("503"), "{e}");
    }
}

#[tokio::test]
async fn jira_400_fails_at_once_with_jiras_message() {
    for flavour in [Flavour::Cloud, Flavour::DataCenter] {
        let h = sim(flavour).await;
        let c = client(&h, flavour);
        let e = c
            .create_issue(
                json!({"fields": {"project": {"key": "SUP"}, "issuetype": {"name": "Task"}}}),
            )
            .await
            .expect_err("no summary");
        assert_eq!(e.status(), Some(400));
        let msgs = e.messages().expect("Jira's messages");
        assert!(!msgs.messages.is_empty() || !msgs.fields.is_empty());
        let text = e.to_string();
        assert!(text.starts_with("sim: POST /rest/api/"), "{text}");
        assert!(text.contains("400") && text.contains("summary"), "{text}");
        assert_eq!(h.count("POST", "/issue"), 1, "a 400 is never retried");
        assert_eq!(c.stats().retries, 0);
    }
}

#[tokio::test]
async fn jira_budget_holds_under_50_concurrent_callers() {
    let h = sim(Flavour::Cloud).await;
    let (proxy, stamps) = stamping_proxy(h.url().to_string()).await;
    let mut cfg = config(&h, Flavour::Cloud, &proxy);
    let (rate, burst) = (50.0, 5.0);
    cfg.budget = BudgetConfig {
        reads_per_sec: rate,
        read_burst: burst,
        max_in_flight: 8,
        ..BudgetConfig::default()
    };
    let c = JiraClient::new(cfg).expect("client");
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.myself().await })
        })
        .collect();
    for t in tasks {
        t.await.expect("task").expect("myself");
    }
    let mut times: Vec<Instant> = stamps.all().iter().map(|s| s.0).collect();
    times.sort();
    assert_eq!(times.len(), 50);
    // In any window, at most the burst plus what the rate refills (one of slack for timer granularity).
    for i in 0..times.len() {
        for j in i + 1..times.len() {
            let span = (times[j] - times[i]).as_secs_f64();
            let allowed = burst + rate * span + 1.0;
            assert!(
                ((j - i + 1) as f64) <= allowed,
                "{} requests in {span:.3}s",
                j - i + 1
            );
        }
    }
    let span = times[49] - times[0];
    assert!(span >= Duration::from_millis(850), "50 calls in {span:?}");
    assert_eq!(h.count("GET", "/myself"), 50);
}

/// A plain-http server on loopback that records the `Authorization` header of every request.
/// The requests a recording server saw: path and `Authorization` header.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

async fn recording(app: axum::Router<()>, seen: Seen) -> u16 {
    let app = app.layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let seen = seen.clone();
            async move {
                let auth = req
                    .headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                seen.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((req.uri().path().to_string(), auth));
                next.run(req).await
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_redirect_is_followed_without_credentials_and_never_to_another_scheme() {
    use axum::http::StatusCode;
    use axum::routing::get;
    // The media host: another host name than the site's, same scheme.
    let media_seen = Arc::new(Mutex::new(Vec::new()));
    let media = recording(
        axum::Router::new().fallback(|| async { "media bytes" }),
        media_seen.clone(),
    )
    .await;
    // A TLS port nobody should reach: a plain listener counting connections.
    let tls = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let tls_port = tls.local_addr().expect("addr").port();
    let tls_hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = tls_hits.clone();
    tokio::spawn(async move {
        while let Ok((_conn, _)) = tls.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let to_media = format!("http://localhost:{media}/file/1");
    let to_https = format!("https://127.0.0.1:{tls_port}/file/2");
    let off_site = format!("http://localhost:{media}/secure/attachment/3/x.txt");
    let site_seen = Arc::new(Mutex::new(Vec::new()));
    let site = recording(
        axum::Router::new()
            .route(
                "/rest/api/3/attachment/content/1",
                get(move || {
                    let to = to_media.clone();
                    async move { (StatusCode::SEE_OTHER, [("location", to)]) }
                }),
            )
            .route(
                "/rest/api/3/attachment/content/2",
                get(move || {
                    let to = to_https.clone();
                    async move { (StatusCode::FOUND, [("location", to)]) }
                }),
            )
            .route(
                "/rest/api/2/attachment/3",
                get(move || {
                    let content = off_site.clone();
                    async move {
                        axum::Json(json!({"id": "3", "filename": "x.txt", "content": content}))
                    }
                }),
            ),
        site_seen.clone(),
    )
    .await;
    let base = format!("http://127.0.0.1:{site}");
    let cloud = JiraClient::new(ClientConfig::new(
        "site",
        &base,
        Flavour::Cloud,
        Auth::cloud("me@example.com", "secret-token"),
    ))
    .expect("client");

    // Cloud's redirect to its media host is followed; the credentials stay behind.
    let bytes = cloud
        .download_attachment("1")
        .await
        .expect("followed")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(bytes.as_ref(), b"media bytes");
    let media_got = media_seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(media_got.len(), 1, "{media_got:?}");
    assert_eq!(media_got[0].1, None, "no credentials went to another host");
    assert!(
        site_seen.lock().unwrap_or_else(|p| p.into_inner())[0]
            .1
            .is_some(),
        "the site itself got them"
    );

    // A redirect to another scheme is refused, for good, and nothing connects there.
    let err = match cloud.download_attachment("2").await {
        Ok(_) => panic!("a redirect to another scheme was followed"),
        Err(e) => e,
    };
    assert!(!err.is_transient(), "{err}");
    assert!(err.to_string().contains("another scheme"), "{err}");
    assert_eq!(tls_hits.load(std::sync::atomic::Ordering::SeqCst), 0);

    // Data Center: a content URL on another site is not fetched with the site's credentials.
    let dc = JiraClient::new(ClientConfig::new(
        "site",
        &base,
        Flavour::DataCenter,
        Auth::pat("secret-token"),
    ))
    .expect("client");
    let err = match dc.download_attachment("3").await {
        Ok(_) => panic!("an off-site content URL was fetched"),
        Err(e) => e,
    };
    assert!(
        err.to_string().contains("not on the instance's site"),
        "{err}"
    );
    assert_eq!(
        media_seen.lock().unwrap_or_else(|p| p.into_inner()).len(),
        1,
        "the off-site URL got no request"
    );
}
