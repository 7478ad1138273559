//! `/metrics` after a real sync: the series move with the work, and the Prometheus parser
//! reads the text.

use twinsync_e2e::world::World;

fn value(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no series {series} in:\n{metrics}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_events_rule_calls_jira_calls_and_reloads() {
    let w = World::new().await;
    w.synced("Counted").await;
    let url = w.admin_url();
    let resp = reqwest::get(format!("{url}/metrics"))
        .await
        .expect("metrics");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/plain"),
        "Prometheus text format"
    );
    let text = resp.text().await.expect("body");
    assert!(value(&text, "twinsync_events{connection=\"ab\",state=\"done\"}") >= 2.0);
    assert_eq!(value(&text, "twinsync_queue_depth{connection=\"ab\"}"), 0.0);
    assert!(value(&text, "twinsync_rule_call_seconds_count") >= 2.0);
    assert!(value(&text, "twinsync_jira_requests_total{instance=\"a\"}") >= 1.0);
    assert!(value(&text, "twinsync_jira_requests_total{instance=\"b\"}") >= 1.0);
    assert_eq!(
        value(
            &text,
            "twinsync_rule_reloads_total{side=\"ab/a\",outcome=\"accepted\"}"
        ),
        1.0
    );
    assert!(
        text.contains("# TYPE twinsync_rule_call_seconds histogram"),
        "{text}"
    );
}

/// `/metrics` through the Prometheus project's own parser (Python `prometheus_client`).
fn parse_metrics(text: &str) -> serde_json::Value {
    use std::io::Write as _;
    let script = twinsync_e2e::fixtures::root().join("tests/outside-client/parse_metrics.py");
    let mut child = std::process::Command::new(crate::sim_client::venv_python())
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write metrics");
    let out = child.wait_with_output().expect("parser finishes");
    assert!(
        out.status.success(),
        "the Prometheus parser refused /metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("parser output")
}

fn sample(parsed: &serde_json::Value, name: &str, labels: &[(&str, &str)]) -> f64 {
    parsed["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .find(|s| {
            s["name"] == name
                && labels
                    .iter()
                    .all(|(k, v)| s["labels"][*k].as_str() == Some(*v))
        })
        .and_then(|s| s["value"].as_f64())
        .unwrap_or_else(|| panic!("no sample {name} {labels:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_with_the_prometheus_parser_and_move_with_syncs() {
    let w = World::new().await;
    let url = w.admin_url();
    let scrape = || async {
        let text = reqwest::get(format!("{url}/metrics"))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("body");
        tokio::task::spawn_blocking(move || parse_metrics(&text))
            .await
            .expect("join")
    };
    let before = scrape().await;
    assert_eq!(
        before["families"]["twinsync_rule_call_seconds"],
        "histogram"
    );
    assert_eq!(before["families"]["twinsync_jira_requests"], "counter");
    assert_eq!(before["families"]["twinsync_queue_depth"], "gauge");
    w.synced("Moves the counters").await;
    let after = scrape().await;
    let done = [("connection", "ab"), ("state", "done")];
    assert!(
        sample(&after, "twinsync_events", &done) >= sample(&before, "twinsync_events", &done) + 2.0,
        "an outgoing and an incoming event finished"
    );
    assert!(
        sample(&after, "twinsync_rule_call_seconds_count", &[])
            >= sample(&before, "twinsync_rule_call_seconds_count", &[]) + 2.0
    );
    for instance in ["a", "b"] {
        let l = [("instance", instance)];
        assert!(
            sample(&after, "twinsync_jira_requests_total", &l)
                > sample(&before, "twinsync_jira_requests_total", &l),
            "instance {instance} was called"
        );
    }
}
