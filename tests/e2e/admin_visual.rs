//! Visual mode in a real browser: headless Chromium, driven by Playwright
//! (`tests/browser/visual.mjs`), builds a mapping from scratch in the admin page's editor
//! between a Cloud and a Data Center simulator whose workflows and priorities differ (and
//! which holds 500 more statuses and 2,000 more users, searched a page at a time), publishes
//! it, edits issues on both sides and checks both Jiras through their REST APIs. Screenshots
//! go to `target/browser-screenshots/a_visual_mapping_built_in_the_browser/`.

use std::process::Command;

use serde_json::json;
use twinsync_e2e::rest::start;
use twinsync_e2e::world::start_in_process;
use twinsync_jira_sim::Flavour;

use crate::admin::visual::data_center_of_its_own;
use crate::admin_ui::browser_parts;

const TOKEN: &str = "visual-browser-token-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visual_mapping_built_in_the_browser() {
    let (script, chromium) = browser_parts("visual.mjs");
    let cloud = start(Flavour::Cloud).await;
    let dc = data_center_of_its_own(500, 2000).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = format!(
        "[node]\ndata_dir = \"{}\"\nlisten = \"127.0.0.1:0\"\npoll_interval_secs = 1\nadmin_token = {{ value = \"{TOKEN}\" }}\n",
        dir.path().join("data").display()
    );
    let running = start_in_process(&config).await;
    let url = running.admin_url();
    // The sites and the connection are set up in the API; the mapping is the page's work.
    let http = reqwest::Client::new();
    for (path, body) in [
        (
            "/api/instances",
            json!({"name": "cloud", "url": cloud.url(), "user": cloud.user(), "token": cloud.token()}),
        ),
        (
            "/api/instances",
            json!({"name": "dc", "url": dc.url(), "token": dc.token()}),
        ),
        (
            "/api/connections",
            json!({"name": "visual", "mode": "visual",
            "local": {"instance": "cloud", "project": "SUP"},
            "remote": {"instance": "dc", "project": "DEV"}}),
        ),
    ] {
        let resp = http
            .post(format!("{url}{path}"))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .expect("reach the admin API");
        assert_eq!(
            resp.status().as_u16(),
            201,
            "{path}: {:?}",
            resp.text().await
        );
    }
    let shots = twinsync_e2e::fixtures::root()
        .join("target/browser-screenshots/a_visual_mapping_built_in_the_browser");
    let _ = std::fs::remove_dir_all(&shots);
    let mut cmd = Command::new("node");
    cmd.arg(&script)
        .env("NODE_URL", &url)
        .env("ADMIN_TOKEN", TOKEN)
        .env("CLOUD_API", cloud.api_base())
        .env("CLOUD_AUTH", cloud.auth_header())
        .env("DC_API", dc.api_base())
        .env("DC_AUTH", dc.auth_header())
        .env("SCREENSHOTS", &shots)
        .env("CHROMIUM", &chromium);
    // The node runs on this test's runtime: wait for the browser off its workers.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("node (Node.js) runs; install it from Debian or nodejs.org");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser run failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for step in [
        "shown for a search among 504",
        "users: found by search",
        "reorder: drag and keyboard",
        "published: ok",
        "paged requests",
        "mapped",
        "Done became Closed through two transitions",
        "manual: sent on request",
        "unmapped value: reported as an error",
        "preview: ok",
    ] {
        assert!(stdout.contains(step), "{step} missing:\n{stdout}");
    }
    running.stop().await;
}
