//! The CLI over the admin API, as tables and as JSON.

use twinsync_e2e::world::World;

/// Runs the `twinsync` binary with `args`, the admin token in the environment when given.
fn cli(args: &[&str], token: Option<&str>) -> (bool, String, String) {
    let mut cmd = std::process::Command::new(twinsync_e2e::fixtures::twinsync_binary());
    cmd.args(args).env_remove("TWINSYNC_ADMIN_TOKEN");
    if let Some(t) = token {
        cmd.env("TWINSYNC_ADMIN_TOKEN", t);
    }
    // The CLI blocks on the node, which runs on this test's runtime: keep it off the workers.
    let out = cmd.output().expect("the CLI runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_works_over_the_admin_api_with_tables_and_json() {
    let mut w = World::new().await;
    w.restart_with_node_setting("admin_token = { value = \"cli-token-0123456789\" }")
        .await;
    w.synced("Seen by the CLI").await;
    let url = w.admin_url();
    // With --node and no -c, the token comes from the environment only.
    let node = ["--node", url.as_str()];
    let run = |args: Vec<String>, token: Option<&'static str>| {
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            cli(&args, token)
        })
    };
    let with = |cmd: &[&'static str]| -> Vec<String> {
        cmd.iter()
            .chain(node.iter())
            .map(|s| s.to_string())
            .collect()
    };

    let (ok, out, err) = run(with(&["status", "--json"]), Some("cli-token-0123456789"))
        .await
        .expect("join");
    assert!(ok, "{err}");
    let status: serde_json::Value = serde_json::from_str(&out).expect("status JSON");
    assert_eq!(status["connections"][0]["name"], "ab");
    assert!(
        status["connections"][0]["last_sync_at_ms"]
            .as_i64()
            .is_some(),
        "{status}"
    );
    let (ok, out, err) = run(with(&["status"]), Some("cli-token-0123456789"))
        .await
        .expect("join");
    assert!(ok, "{err}");
    assert!(out.starts_with("CONNECTION"), "{out}");
    assert!(out.contains("ab ") && out.contains("active"), "{out}");

    let (ok, _, err) = run(with(&["status"]), None).await.expect("join");
    assert!(!ok, "no token: refused");
    assert!(err.contains("401") && err.contains("admin token"), "{err}");

    let (ok, out, err) = run(
        with(&["connection", "pause", "ab"]),
        Some("cli-token-0123456789"),
    )
    .await
    .expect("join");
    assert!(ok, "{err}");
    assert!(out.contains("ab paused"), "{out}");
    let (_, out, _) = run(with(&["connection", "list"]), Some("cli-token-0123456789"))
        .await
        .expect("join");
    assert!(out.contains("paused") && out.contains("a@a:"), "{out}");
    let (ok, out, err) = run(
        with(&["connection", "resume", "ab", "--json"]),
        Some("cli-token-0123456789"),
    )
    .await
    .expect("join");
    assert!(ok, "{err}");
    let resumed: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(resumed["state"], "active");
    let (ok, _, err) = run(
        with(&["connection", "pause", "nope"]),
        Some("cli-token-0123456789"),
    )
    .await
    .expect("join");
    assert!(!ok && err.contains("no connection named"), "{err}");

    let (ok, out, err) = run(with(&["errors"]), Some("cli-token-0123456789"))
        .await
        .expect("join");
    assert!(ok, "{err}");
    assert_eq!(out, "no failed events\n");
    let (ok, _, err) = run(with(&["retry", "999999"]), Some("cli-token-0123456789"))
        .await
        .expect("join");
    assert!(!ok && err.contains("404"), "{err}");

    // A node that is not there: a clear message, not a stack of errors.
    let (ok, _, err) = run(
        ["status", "--node", "http://127.0.0.1:9"]
            .map(String::from)
            .to_vec(),
        None,
    )
    .await
    .expect("join");
    assert!(!ok && err.contains("cannot reach the node"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_publishes_lists_and_rolls_back_a_sides_rule() {
    let w = World::new().await;
    let url = w.admin_url();
    let prefix = twinsync_e2e::fixtures::rule("acme-prefix");
    let prefix = prefix.to_str().expect("utf-8 path").to_string();
    let run = move |args: &[&str]| {
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        args.extend(["--node".to_string(), url.clone()]);
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            cli(&args, None)
        })
    };
    let (ok, out, err) = run(&["rules", "versions", "--side", "ab/a"])
        .await
        .expect("join");
    assert!(ok, "{err}");
    assert!(out.contains("no version published yet"), "{out}");

    let (ok, out, err) = run(&[
        "rules",
        "publish",
        &prefix,
        "--side",
        "ab/a",
        "--note",
        "the prefix",
    ])
    .await
    .expect("join");
    assert!(ok, "{err}");
    assert!(out.contains("as version 1 of ab/a"), "{out}");
    let slot = w.node().registry.slot("ab/a").expect("slot");
    assert_eq!(
        slot.current().expect("serving").id().hash,
        twinsync_e2e::fixtures::version_of(&std::fs::read(&prefix).expect("read"))
    );

    let (ok, out, err) = run(&["rules", "versions", "--side", "ab/a"])
        .await
        .expect("join");
    assert!(ok, "{err}");
    assert!(out.starts_with("VERSION"), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[1].contains('*') && lines[1].ends_with("the prefix"),
        "{out}"
    );
    assert!(lines[2].ends_with("as it was"), "{out}");

    let (ok, out, err) = run(&["rules", "rollback", "--side", "ab/a", "--to", "0", "--json"])
        .await
        .expect("join");
    assert!(ok, "{err}");
    let answer: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        (answer["version"].clone(), answer["rolled_back_to"].clone()),
        (2.into(), 0.into())
    );

    let (ok, _, err) = run(&["rules", "rollback", "--side", "ab/a", "--to", "9"])
        .await
        .expect("join");
    assert!(!ok);
    assert!(
        err.contains("404") && err.contains("no rule version 9"),
        "{err}"
    );
}
