//! A rule author's first hour: what the CLI says when a flag or file is missing, what a node
//! shows while a new version compiles, the compile cache the CLI and the node share, and the
//! round-trip check that catches a rule which changes what comes back.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::sync::{World, wait_for};

/// Runs the `twinsync` binary in `dir`; returns (success, stdout, stderr).
fn twinsync(dir: &Path, args: &[&str], envs: &[(&str, &Path)]) -> (bool, String, String) {
    let mut cmd = Command::new(twinsync_e2e::twinsync_binary());
    cmd.current_dir(dir).args(args).stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the CLI runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_config_names_the_flags_that_fix_it_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let basic = twinsync_e2e::rule("basic");
    let basic = basic.to_str().expect("utf-8 path");
    let (ok, _, err) = twinsync(
        dir.path(),
        &["rules", "try", basic, "--side", "c/s", "--issue", "X-1"],
        &[],
    );
    assert!(!ok);
    assert!(
        err.contains("-c FILE") && err.contains("--node URL"),
        "{err}"
    );
    assert_eq!(err.matches("os error 2").count(), 1, "said once: {err}");

    let sample = twinsync_e2e::sample("issue.json");
    let sample = sample.to_str().expect("utf-8 path");
    let (ok, _, err) = twinsync(
        dir.path(),
        &["rules", "test", basic, "--issue", sample, "--side", "c/s"],
        &[],
    );
    assert!(!ok);
    assert!(err.contains("--node-config FILE"), "{err}");
    assert_eq!(err.matches("os error 2").count(), 1, "said once: {err}");
}

#[test]
fn rules_test_into_a_closed_pipe_ends_quietly() {
    let sample = twinsync_e2e::sample("issue.json");
    let mut child = Command::new(twinsync_e2e::twinsync_binary())
        .args(["rules", "test"])
        .arg(twinsync_e2e::rule("basic"))
        .arg("--issue")
        .arg(&sample)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI runs");
    // `| head -0`: the reader goes away before the answer is written.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("the CLI ends");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.success(), "{err}");
}

/// `GET {url}{path}` as JSON.
async fn get(url: &str, path: &str) -> Value {
    reqwest::get(format!("{url}{path}"))
        .await
        .expect("reach the node")
        .json()
        .await
        .expect("JSON")
}

/// Writes `bytes` beside `file` and renames it over, as the guide says to swap a rule.
fn swap(file: &Path, bytes: &[u8]) {
    let staged = file.with_extension("wasm.new");
    std::fs::write(&staged, bytes).expect("stage");
    std::fs::rename(&staged, file).expect("swap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_rule_shows_compiling_until_it_serves() {
    let w = World::new().await;
    let url = w.node.as_ref().expect("node").url();
    let slot = w.node().registry.slot("ab/b").expect("side b");
    let old = slot
        .current()
        .expect("basic serves")
        .id()
        .version()
        .to_string();
    // A version no cache holds: the node must compile it, which takes seconds for Python.
    let python = twinsync_e2e::fresh_variant("confidential-py");
    let version = twinsync_e2e::version_of(&python)[..12].to_string();
    swap(slot.file(), &python);

    let rule = wait_for("/api/rules to show the compile", || async {
        let rules = get(&url, "/api/rules").await;
        let rule = rules["rules"]
            .as_array()?
            .iter()
            .find(|r| r["side"] == "ab/b")?
            .clone();
        (rule["loading"]["compiling"] == true).then_some(rule)
    })
    .await;
    assert_eq!(rule["loading"]["text"], format!("compiling {version}"));
    assert_eq!(
        rule["version"],
        old.as_str(),
        "the old version serves meanwhile"
    );
    let status = get(&url, "/api/status").await;
    let side = status["connections"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "ab"))
        .and_then(|c| c["sides"].as_array()?.iter().find(|s| s["name"] == "b"))
        .unwrap_or_else(|| panic!("side b in {status}"));
    // The compile may have just ended; if not, status says the same as /api/rules.
    if !side["rule"]["loading"].is_null() {
        assert_eq!(
            side["rule"]["loading"]["text"],
            format!("compiling {version}")
        );
    }

    let rule = wait_for_version(&url, "ab/b", &version).await;
    assert!(rule["loading"].is_null(), "{rule}");
    assert_eq!(rule["last_reload"]["compiled"], true, "{rule}");
    assert!(rule["last_reload"]["load_ms"].as_u64().is_some(), "{rule}");
}

/// Waits until `side` serves `version`; returns its `/api/rules` entry.
async fn wait_for_version(url: &str, side: &str, version: &str) -> Value {
    // A Python compile can take half a minute while other builds share the cores.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let rules = get(url, "/api/rules").await;
        if let Some(rule) = rules["rules"]
            .as_array()
            .and_then(|l| l.iter().find(|r| r["side"] == side))
            && rule["version"] == version
        {
            return rule.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{side} never served {version}: {rules}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_rules_check_compiled_loads_on_the_node_from_the_cache() {
    // The node reads the CLI's cache (this user's): a fresh version `rules check` compiled
    // there swaps in with no compile of its own.
    let Some(cli_cache) = twinsync::rules::user_cache_dir() else {
        return; // no HOME, no user cache: nothing shared to test
    };
    let w = World::new().await;
    let url = w.node.as_ref().expect("node").url();
    let fresh = twinsync_e2e::fresh_variant("confidential");
    let hash = twinsync_e2e::version_of(&fresh);
    let file = w.dir.path().join("checked.wasm");
    std::fs::write(&file, &fresh).expect("write");
    let (ok, out, err) = twinsync(
        w.dir.path(),
        &["rules", "check", file.to_str().expect("utf-8")],
        &[],
    );
    assert!(ok, "{out}{err}");
    let compilations = || {
        w.node()
            .registry
            .engine()
            .stats()
            .compilations
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let before = compilations();
    let slot = w.node().registry.slot("ab/b").expect("side b");
    swap(slot.file(), &fresh);
    let rule = wait_for_version(&url, "ab/b", &hash[..12]).await;
    assert_eq!(rule["last_reload"]["compiled"], false, "{rule}");
    assert_eq!(compilations(), before, "the node did not compile it");
    // Leave the user's cache as it was.
    for entry in std::fs::read_dir(&cli_cache)
        .into_iter()
        .flatten()
        .flatten()
    {
        if entry.file_name().to_string_lossy().starts_with(&hash) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[test]
fn round_trip_flags_the_prefix_loop_and_passes_its_fixed_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = |name: &str| twinsync_e2e::rule(name).to_string_lossy().into_owned();
    let (basic, looping, fixed) = (path("basic"), path("acme-prefix-loop"), path("acme-prefix"));
    let (ok, out, err) = twinsync(
        dir.path(),
        &[
            "rules",
            "check",
            &looping,
            "--round-trip",
            "--other",
            &basic,
        ],
        &[],
    );
    assert!(!ok, "a loop fails the check: {out}{err}");
    assert!(
        out.contains("LOOP here side: `summary`")
            && out.contains("\"[ACME] [ACME] [ACME] CSV export"),
        "{out}"
    );

    let (ok, out, err) = twinsync(
        dir.path(),
        &[
            "rules",
            "check",
            &fixed,
            "--round-trip",
            "--other",
            &basic,
            "--json",
        ],
        &[],
    );
    assert!(ok, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        report["samples"][0]["round_trip"]["drifts"],
        serde_json::json!([]),
        "{report}"
    );
    // The same rule on both sides, on a sample of one's own.
    let sample = twinsync_e2e::sample("issue.json");
    let (ok, out, err) = twinsync(
        dir.path(),
        &[
            "rules",
            "check",
            &fixed,
            "--round-trip",
            "--issue",
            sample.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert!(
        ok && out.contains("ok: every field comes back"),
        "{out}{err}"
    );
}
