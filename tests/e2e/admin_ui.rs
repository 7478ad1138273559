//! The admin page in a real browser: headless Debian Chromium, driven by Playwright
//! (`tests/browser/admin-ui.mjs`), against a node syncing two simulators. It clicks through
//! the overview, pause and resume, an error from a failing rule fixed by dropping in a
//! corrected rule and retried until green, the rule log, the connection page and the
//! "try a rule" dry run, and saves a screenshot of each to `target/browser-screenshots/`.

use std::path::PathBuf;
use std::process::Command;

use twinsync_e2e::world::World;

/// What the browser run of `script` (in tests/browser) needs, or the command that sets it up.
pub(crate) fn browser_parts(script: &str) -> (PathBuf, PathBuf) {
    let root = twinsync_e2e::fixtures::root();
    let script = root.join("tests/browser").join(script);
    let modules = root.join("tests/browser/node_modules/playwright-core");
    let chromium = PathBuf::from(
        std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_string()),
    );
    assert!(
        modules.is_dir() && chromium.is_file(),
        "the browser test needs Chromium ({}) and Playwright ({}): run scripts/setup-browser.sh \
         (the README's test command does this)",
        chromium.display(),
        modules.display()
    );
    (script, chromium)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_page_in_a_browser() {
    let (script, chromium) = browser_parts("admin-ui.mjs");
    // Side b starts with a rule that panics on every call; the node wants an admin token.
    let mut w = World::with_b("hostile-panic", "").await;
    w.restart_with_node_setting("admin_token = { value = \"browser-s3cret-token\" }")
        .await;
    let node_url = w.admin_url();
    let shots = twinsync_e2e::fixtures::root()
        .join("target/browser-screenshots/the_admin_page_in_a_browser");
    let _ = std::fs::remove_dir_all(&shots);
    let mut cmd = Command::new("node");
    cmd.arg(&script)
        .env("NODE_URL", &node_url)
        .env("SIM_A_API", w.a.api_base())
        .env("SIM_A_AUTH", w.a.auth_header())
        .env("RULE_B", w.dir.path().join("rules/b.wasm"))
        .env("FIXED_RULE", twinsync_e2e::fixtures::rule("basic"))
        .env(
            "CANDIDATE_RULE",
            twinsync_e2e::fixtures::rule("confidential"),
        )
        .env("SCREENSHOTS", &shots)
        .env("ADMIN_TOKEN", "browser-s3cret-token")
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
        "pause and resume: ok",
        "issue page: error shown",
        "retry: green",
        "issue page: synced",
        "rule log: ok",
        "markup in issue data: shown as text",
        "try a rule: ok",
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
    assert!(pngs >= 8, "{pngs} screenshots in {}", shots.display());
    // What the browser did reached the store: the event it retried is done, none failed.
    let q = w.node().store.queue_stats(Some("ab")).expect("stats");
    assert_eq!(q.failed, 0, "{q:?}");
}
