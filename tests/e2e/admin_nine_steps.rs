//! The nine steps of setting up a sync between two organisations, done in the admin page
//! only (`tests/browser/nine-steps.mjs` in headless Chromium): two real `twinsync node`
//! processes, one per organisation, each started from a config holding nothing but
//! `[node]`, and a simulated Jira each (Cloud and Data Center). Everything else, sites,
//! the connection, the invitation, the fields, triggers and rules, is made in the page.
//! Screenshots go to `target/browser-screenshots/nine_steps/NN-name.png`.

use std::process::Command;

use twinsync_e2e::node_process::{NodeProcess, ProcessConfig};
use twinsync_e2e::ports::free_port;
use twinsync_e2e::rest::{Client, start};
use twinsync_e2e::world::register_webhook;
use twinsync_jira_sim::Flavour;

use crate::admin_ui::browser_parts;

const TOKEN_1: &str = "nine-steps-admin-token-one";
const TOKEN_2: &str = "nine-steps-admin-token-two";

/// A node config with only its `[node]` table: no instance, no connection.
fn bare_config(dir: &std::path::Path, token: &str) -> String {
    format!(
        r#"[node]
data_dir = "{data}"
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
peer_listen = "127.0.0.1:{peer}"
workers = 2
poll_interval_secs = 2
admin_token = {{ value = "{token}" }}
"#,
        data = dir.join("data").display(),
        peer = free_port(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nine_steps_in_the_browser() {
    let (script, chromium) = browser_parts("nine-steps.mjs");
    let (sim1, sim2) = (
        start(Flavour::Cloud).await,
        start(Flavour::DataCenter).await,
    );
    let (dir1, dir2) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let node1 = NodeProcess::start(
        &ProcessConfig::write(dir1.path(), &bare_config(dir1.path(), TOKEN_1)),
        None,
    )
    .await;
    let node2 = NodeProcess::start(
        &ProcessConfig::write(dir2.path(), &bare_config(dir2.path(), TOKEN_2)),
        None,
    )
    .await;
    // Each Jira's webhooks point at its organisation's node, under the site names the admins
    // type in step 1 (the poll backs them up).
    register_webhook(&Client::new(&sim1), node1.url(), "acme").await;
    register_webhook(&Client::new(&sim2), node2.url(), "globex").await;

    let root = twinsync_e2e::fixtures::root();
    let shots = root.join("target/browser-screenshots/nine_steps");
    let _ = std::fs::remove_dir_all(&shots);
    let mut cmd = Command::new("node");
    cmd.arg(&script)
        .env("NODE1_URL", node1.admin())
        .env("NODE2_URL", node2.admin())
        .env("ADMIN_TOKEN1", TOKEN_1)
        .env("ADMIN_TOKEN2", TOKEN_2)
        .env("SITE1_URL", sim1.url())
        .env("SITE1_USER", sim1.user())
        .env("SITE1_TOKEN", sim1.token())
        .env("SITE1_API", sim1.api_base())
        .env("SITE1_AUTH", sim1.auth_header())
        .env("SITE2_URL", sim2.url())
        .env("SITE2_TOKEN", sim2.token())
        .env("SITE2_API", sim2.api_base())
        .env("SITE2_AUTH", sim2.auth_header())
        .env("GOOD_RULE", twinsync_e2e::fixtures::rule("basic"))
        .env("PANIC_RULE", twinsync_e2e::fixtures::rule("hostile-panic"))
        .env("SCREENSHOTS", &shots)
        .env("CHROMIUM", &chromium);
    if let Ok(steps) = std::env::var("NINE_STEPS") {
        cmd.env("STEPS", steps);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("node (Node.js) runs; install it from Debian or nodejs.org");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser run failed\nstdout:\n{stdout}\nstderr:\n{stderr}\nnode 1 log:\n{}\nnode 2 log:\n{}",
        node1.tail(40),
        node2.tail(40)
    );
    if std::env::var("NINE_STEPS").is_ok() {
        return;
    }
    for step in [
        "step 1 add sites: ok",
        "step 2 initiate: ok",
        "step 3 copy the code: ok",
        "step 4 accept: ok",
        "with remote links: ok",
        "step 6 stop sending comments: ok",
        "step 7 trigger and bulk sync: ok",
        "step 8 script mode upload, try, publish: ok",
        "step 9 error fixed by a roll back and a retry: ok",
    ] {
        assert!(stdout.contains(step), "{step} missing:\n{stdout}");
    }
    let pngs = std::fs::read_dir(&shots)
        .expect("screenshots folder")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "png"))
        })
        .count();
    assert!(pngs >= 9, "{pngs} screenshots in {}", shots.display());
}
