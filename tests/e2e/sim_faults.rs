//! Simulator faults over real HTTP: Cloud rate limits with Jira's headers, injected 5xx, latency,
//! and the live control endpoint another process uses to flip them.

use serde_json::json;
use twinsync_jira_sim::Flavour;

use twinsync_e2e::rest::{Client, start};

#[tokio::test]
async fn sim_no_limits_by_default() {
    let h = start(Flavour::Cloud).await;
    let c = Client::new(&h);
    for _ in 0..150 {
        let r = c.get("/myself").await;
        assert_eq!(r.status, 200);
        assert!(r.header("X-RateLimit-Limit").is_none());
    }
}

#[tokio::test]
async fn sim_burst_bucket_answers_429_with_jira_headers() {
    let h = start(Flavour::Cloud).await;
    let c = Client::new(&h);
    h.set_faults_spec("rate-get=5").expect("spec");
    for n in 0..5 {
        let r = c.get("/myself").await;
        assert_eq!(r.status, 200, "request {n}");
        assert_eq!(r.header("X-RateLimit-Limit"), Some("5"));
        assert_eq!(
            r.header("X-RateLimit-Remaining"),
            Some((4 - n).to_string().as_str())
        );
    }
    let r = c.get("/myself").await;
    assert_eq!(r.status, 429);
    let retry: u64 = r
        .header("Retry-After")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!(retry >= 1);
    assert_eq!(r.header("RateLimit-Reason"), Some("jira-burst-based"));
    assert_eq!(r.header("X-RateLimit-Remaining"), Some("0"));
    assert_eq!(r.header("X-RateLimit-NearLimit"), Some("true"));
    assert!(
        r.header("X-RateLimit-Reset")
            .is_some_and(|v| v.ends_with('Z') && v.contains('T'))
    );
    assert!(r.body["errorMessages"].is_array());
    // Buckets are per endpoint and method.
    assert_eq!(c.get("/issue/SUP-1").await.status, 200);
    assert_eq!(
        c.put(
            "/issue/SUP-1",
            json!({"fields": {"summary": "still writable"}})
        )
        .await
        .status,
        204
    );
    assert_eq!(h.count("GET", "/myself"), 6);
}

#[tokio::test]
async fn sim_per_issue_write_limit() {
    let h = start(Flavour::Cloud).await;
    let c = Client::new(&h);
    h.set_faults_spec("issue-writes-2s=3").expect("spec");
    for n in 0..3 {
        let r = c
            .put(
                "/issue/SUP-2",
                json!({"fields": {"summary": format!("w{n}")}}),
            )
            .await;
        assert_eq!(r.status, 204);
    }
    let r = c
        .post(
            "/issue/SUP-2/comment",
            json!({"body": {"type": "doc", "version": 1, "content": []}}),
        )
        .await;
    assert_eq!(r.status, 429, "writes of any kind count against the issue");
    assert_eq!(
        r.header("RateLimit-Reason"),
        Some("jira-per-issue-on-write")
    );
    assert!(
        r.header("Retry-After")
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|s| (1..=2).contains(&s))
    );
    assert_eq!(
        c.get("/issue/SUP-2").await.status,
        200,
        "reads are not per-issue limited"
    );
    assert_eq!(
        c.put("/issue/SUP-1", json!({"fields": {"summary": "other"}}))
            .await
            .status,
        204
    );
}

#[tokio::test]
async fn sim_control_endpoint_flips_faults_live() {
    let h = start(Flavour::DataCenter).await;
    let c = Client::new(&h);
    let set = c
        .post("/_sim/faults", json!({"spec": "error-next=2"}))
        .await;
    assert_eq!(set.status, 200);
    assert_eq!(set.body["error_next"], 2);
    assert_eq!(c.get("/myself").await.status, 503);
    let second = c.get("/issue/SUP-1").await;
    assert_eq!(second.status, 503);
    assert!(second.body["errorMessages"].is_array());
    assert_eq!(c.get("/myself").await.status, 200, "the burst is over");
    let put = c
        .put(
            "/_sim/faults",
            json!({"error_next": 1, "error_status": 500, "latency_ms": 5}),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(c.get("/myself").await.status, 500);
    assert_eq!(h.faults().latency_ms, 5);
    assert_eq!(
        c.post("/_sim/faults", json!({"spec": "no-such-fault"}))
            .await
            .status,
        400
    );
    assert_eq!(c.delete("/_sim/faults").await.status, 204);
    assert_eq!(h.faults(), twinsync_jira_sim::FaultConfig::default());
    let log = c.get("/_sim/log").await;
    let statuses: Vec<u64> = log
        .body
        .as_array()
        .expect("log")
        .iter()
        .filter_map(|e| e["status"].as_u64())
        .collect();
    assert_eq!(statuses, vec![503, 503, 200, 500]);
}
