//! The node's doors, tried from outside: a web page rebinding its name to the admin API, a
//! token or webhook secret that is empty or short, a local user reading the data directory,
//! and a rule whose answer is small in its memory but huge once copied out. Each runs the
//! built `twinsync` binary and reads its log.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use twinsync_e2e::node_process::{NodeProcess, ProcessConfig};
use twinsync_e2e::wait::wait_for;
use twinsync_e2e::world::{World, register_webhook, with_node_setting};

/// The admin token a node with none configured made in `<dir>/data`.
fn made_token(dir: &Path) -> String {
    let path = dir.join("data").join("admin-token");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .to_string()
}

/// A world whose in-process node is stopped, so a node process can take its place.
async fn world_for_a_process() -> World {
    let mut w = World::new().await;
    w.stop_node().await;
    w
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebound_page_gets_nowhere_in_the_admin_api() {
    let w = world_for_a_process().await;
    // The attack as reported: a loopback node with no admin token; the operator lists the
    // name of the proxy in front of it.
    let config = with_node_setting(&w.config, "admin_hosts = [\"twinsync.acme.example\"]");
    let node = NodeProcess::start(&ProcessConfig::write(w.dir.path(), &config), None).await;
    let port = node.admin().rsplit(':').next().expect("port").to_string();
    let http = reqwest::Client::new();
    let evil = format!("rebound.evil.example:{port}");

    // The page's name now resolves to 127.0.0.1: to the browser it is same-origin.
    let pause = http
        .post(format!("{}/api/connections/ab/pause", node.admin()))
        .header("host", &evil)
        .header("origin", format!("http://{evil}"))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .expect("reach");
    let status = pause.status().as_u16();
    let body = pause.text().await.unwrap_or_default();
    assert_eq!(status, 421, "{body}");
    assert!(body.contains("admin_hosts"), "{body}");
    for path in ["/api/status", "/api/twins?connection=ab", "/metrics"] {
        let read = http
            .get(format!("{}{path}", node.admin()))
            .header("host", &evil)
            .send()
            .await
            .expect("reach");
        let status = read.status().as_u16();
        let body = read.text().await.unwrap_or_default();
        assert_eq!(status, 421, "{path}: {body}");
        assert!(!body.contains("\"ab\""), "{path} leaked data: {body}");
    }
    node.logged(&[
        "admin request refused",
        "rebound.evil.example",
        "/api/connections/ab/pause",
    ])
    .await;

    // The node's own addresses and the configured name still reach it (with the token the
    // node made); nothing was paused.
    let token = made_token(w.dir.path());
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "twinsync.acme.example".to_string(),
    ] {
        let resp = http
            .get(format!("{}/api/status", node.admin()))
            .header("host", &host)
            .bearer_auth(&token)
            .send()
            .await
            .expect("reach");
        assert_eq!(resp.status().as_u16(), 200, "Host {host}");
        let status: serde_json::Value = resp.json().await.expect("status JSON");
        assert_eq!(status["connections"][0]["state"], "active", "{status}");
    }
    // Webhooks answer to any name: Jira reaches the node by its public one.
    let hook = http
        .post(format!(
            "{}/webhooks/jira/a?secret=s3cret-s3cret-s3cret",
            node.url()
        ))
        .header("host", "twinsync.public.example")
        .body("{}")
        .send()
        .await
        .expect("reach");
    assert_eq!(hook.status().as_u16(), 400, "reaches the webhook handler");
}

/// Runs `twinsync node -c` on `config` to its end (it must not start); returns its stderr.
fn node_refuses_to_start(dir: &Path, config: &str, env: &[(&str, &str)]) -> String {
    let path = dir.join("refused.toml");
    std::fs::write(&path, config).expect("write config");
    let mut cmd = Command::new(twinsync_e2e::fixtures::twinsync_binary());
    cmd.args(["node", "-c"]).arg(&path).stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the node runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "the node started:\n{stderr}");
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_or_short_admin_token_or_webhook_secret_stops_the_node_at_start() {
    let w = world_for_a_process().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let fresh = |text: &str| {
        text.replace(
            &w.dir.path().join("data").display().to_string(),
            &data.display().to_string(),
        )
    };

    // A token file holding only a newline: before, every request got in.
    std::fs::write(dir.path().join("admin-token"), "\n").expect("token file");
    let empty_file = with_node_setting(
        &fresh(&w.config),
        &format!(
            "admin_token = {{ file = \"{}\" }}",
            dir.path().join("admin-token").display()
        ),
    );
    let err = node_refuses_to_start(dir.path(), &empty_file, &[]);
    assert!(err.contains("node.admin_token is empty"), "{err}");

    let from_env = with_node_setting(
        &fresh(&w.config),
        "admin_token = { env = \"TWINSYNC_GUARD_TOKEN\" }",
    );
    let err = node_refuses_to_start(
        dir.path(),
        &from_env,
        &[("TWINSYNC_GUARD_TOKEN", "hunter2")],
    );
    assert!(
        err.contains("node.admin_token is only 7 characters long") && !err.contains("hunter2"),
        "{err}"
    );

    let short_secret = fresh(&w.config).replacen(
        "webhook_secret = { value = \"s3cret-s3cret-s3cret\" }",
        "webhook_secret = { value = \"s3cret\" }",
        1,
    );
    let err = node_refuses_to_start(dir.path(), &short_secret, &[]);
    assert!(
        err.contains("instances.a.webhook_secret is only 6 characters long"),
        "{err}"
    );
    assert!(
        !data.exists(),
        "a node refused at start made nothing: {}",
        data.display()
    );
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every directory and file under `dir` with its mode.
#[cfg(unix)]
fn modes_under(dir: &Path) -> Vec<(PathBuf, bool, u32)> {
    let mut out = vec![(dir.to_path_buf(), true, mode(dir))];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let path = entry.path();
            let is_dir = path.is_dir();
            out.push((path.clone(), is_dir, mode(&path)));
            if is_dir {
                stack.push(path);
            }
        }
    }
    out
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_is_private_to_the_node_user() {
    use std::os::unix::fs::PermissionsExt;
    let w = world_for_a_process().await;
    let data = w.dir.path().join("data");
    // Left as an older version left them under umask 022: directory 755, store 644.
    let widen = |p: &Path, m: u32| {
        if p.exists() {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod");
        }
    };
    widen(&data, 0o755);
    widen(&data.join("spool"), 0o755);
    for f in ["twinsync.db", "twinsync.db-wal", "twinsync.db-shm"] {
        widen(&data.join(f), 0o644);
    }
    assert_eq!(mode(&data.join("twinsync.db")), 0o644);
    // A peer endpoint too, so the node makes its keys.
    let config = with_node_setting(&w.config, "peer_listen = \"127.0.0.1:0\"");
    let node = NodeProcess::start(&ProcessConfig::write(w.dir.path(), &config), None).await;
    node.logged(&["made it private", "data", "was=755"]).await;
    node.logged(&["made it private", "twinsync.db", "was=644"])
        .await;

    // A synced issue: the store writes its WAL, and the twin lands on B.
    register_webhook(&w.ca, node.url(), "a").await;
    w.create_on_a("Kept private", &["sync"]).await;
    wait_for("the twin on B", || async {
        w.b.state()
            .issues
            .values()
            .any(|i| i.summary == "Kept private")
            .then_some(())
    })
    .await;

    let modes = modes_under(&data);
    let names: Vec<String> = modes
        .iter()
        .map(|(p, _, m)| format!("{m:o} {}", p.display()))
        .collect();
    for expected in [
        "twinsync.db",
        "twinsync.db-wal",
        "peer/identity.pk8",
        "spool",
    ] {
        assert!(
            modes.iter().any(|(p, _, _)| p.ends_with(expected)),
            "no {expected} in:\n{}",
            names.join("\n")
        );
    }
    for (path, is_dir, m) in &modes {
        let want = if *is_dir { 0o700 } else { 0o600 };
        assert_eq!(
            *m,
            want,
            "{} is {m:o}, not {want:o}; all:\n{}",
            path.display(),
            names.join("\n")
        );
    }
}

/// Runs `twinsync rules test RULE` as its own process; returns whether it succeeded, its
/// stderr and its peak resident memory in KiB (from `wait4`, for this child alone).
#[cfg(unix)]
// The child is reaped by `wait4` (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn rules_test_peak(rule: &Path) -> (bool, String, i64) {
    use std::os::unix::process::ExitStatusExt;
    let stderr_path = tempfile::NamedTempFile::new().expect("temp file");
    let child = Command::new(twinsync_e2e::fixtures::twinsync_binary())
        .args(["rules", "test"])
        .arg(rule)
        .arg("--issue")
        .arg(twinsync_e2e::fixtures::sample("issue.json"))
        .stdout(Stdio::null())
        .stderr(stderr_path.reopen().expect("reopen"))
        .spawn()
        .expect("rules test runs");
    let pid = i32::try_from(child.id()).expect("pid");
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet waited for; the pointers outlive the call.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    let stderr = std::fs::read_to_string(stderr_path.path()).unwrap_or_default();
    let ok = std::process::ExitStatus::from_raw(status).success();
    (ok, stderr, usage.ru_maxrss)
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_aliasing_one_buffer_is_refused_before_the_host_copies_it() {
    // 30 labels pointing at one 4 MiB buffer: 120 MiB once copied out, under the 4 MiB cap.
    let hostile = twinsync_e2e::fixtures::rule("hostile-alias");
    let basic = twinsync_e2e::fixtures::rule("basic");
    let (ok, err, hostile_kib) = tokio::task::spawn_blocking(move || rules_test_peak(&hostile))
        .await
        .expect("join");
    assert!(!ok, "the rule's answer was accepted:\n{err}");
    assert!(err.contains("output size limit (4096 KiB)"), "{err}");
    let (ok, err, basic_kib) = tokio::task::spawn_blocking(move || rules_test_peak(&basic))
        .await
        .expect("join");
    assert!(ok, "{err}");
    // The same process running a benign rule is the baseline; the hostile answer may cost
    // the guest's buffer and a copy bounded by a few times the cap, never 120 MiB.
    let extra_mib = (hostile_kib - basic_kib) / 1024;
    eprintln!("peak memory: hostile {hostile_kib} KiB, basic {basic_kib} KiB");
    assert!(
        extra_mib < 48,
        "the host copied the aliased answer: {extra_mib} MiB above the baseline \
         (hostile {hostile_kib} KiB, basic {basic_kib} KiB)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_a_configured_token_makes_one_and_the_cli_reads_it() {
    let w = world_for_a_process().await;
    assert!(!w.config.contains("admin_token"), "{}", w.config);
    let node = NodeProcess::start(&ProcessConfig::write(w.dir.path(), &w.config), None).await;
    let token = made_token(w.dir.path());
    assert!(
        token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "{token}"
    );
    #[cfg(unix)]
    assert_eq!(mode(&w.dir.path().join("data/admin-token")), 0o600);

    let http = reqwest::Client::new();
    for path in ["/api/status", "/metrics"] {
        let none = http
            .get(format!("{}{path}", node.admin()))
            .send()
            .await
            .expect("reach");
        assert_eq!(none.status().as_u16(), 401, "{path} without the token");
    }
    let pause = http
        .post(format!("{}/api/connections/ab/pause", node.admin()))
        .send()
        .await
        .expect("reach");
    assert_eq!(pause.status().as_u16(), 401);
    node.logged(&[
        "missing or wrong token refused",
        "/api/connections/ab/pause",
    ])
    .await;
    let health = http
        .get(format!("{}/healthz", node.url()))
        .send()
        .await
        .expect("reach");
    assert_eq!(
        health.status().as_u16(),
        200,
        "the health check needs no token"
    );

    // The CLI finds the token beside the store; nothing was paused by the refused request.
    let config = w.dir.path().join("twinsync.toml");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(twinsync_e2e::fixtures::twinsync_binary())
            .args(["status", "--json", "-c"])
            .arg(&config)
            .env_remove("TWINSYNC_ADMIN_TOKEN")
            .output()
            .expect("the CLI runs")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: serde_json::Value = serde_json::from_str(&stdout).expect("status JSON");
    assert_eq!(status["connections"][0]["state"], "active", "{status}");

    // A restart keeps the token.
    node.stop();
    let _node = NodeProcess::start(&ProcessConfig::write(w.dir.path(), &w.config), None).await;
    assert_eq!(made_token(w.dir.path()), token);
}
