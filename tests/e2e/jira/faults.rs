//! The client under Jira's faults: 429 with Retry-After waited out, 5xx bursts ridden out, 400s
//! failing at once, the budget held under concurrent callers, and redirects followed safely.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{client, config, start_sim};
use serde_json::json;
use twinsync::jira::{Auth, BudgetConfig, ClientConfig, Flavour, JiraClient, JiraError};

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

#[tokio::test]
async fn jira_429_retry_after_is_waited_out() {
    let h = start_sim(Flavour::Cloud).await;
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
        let h = start_sim(flavour).await;
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
        let h = start_sim(flavour).await;
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
    let h = start_sim(Flavour::Cloud).await;
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
