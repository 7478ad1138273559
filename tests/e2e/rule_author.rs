//! A rule author's first hour: what the CLI says when a flag or file is missing, what a node
//! shows while a new version compiles, the compile cache the CLI and the node share, and the
//! round-trip check that catches a rule which changes what comes back.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use twinsync_e2e::ports::free_port;
use twinsync_e2e::wait::{Wait, wait_for};
use twinsync_e2e::world::World;

/// Runs the `twinsync` binary in `dir`; returns (success, stdout, stderr).
fn twinsync(dir: &Path, args: &[&str], envs: &[(&str, &Path)]) -> (bool, String, String) {
    let mut cmd = Command::new(twinsync_e2e::fixtures::twinsync_binary());
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
    let basic = twinsync_e2e::fixtures::rule("basic");
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

    let sample = twinsync_e2e::fixtures::sample("issue.json");
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
    let sample = twinsync_e2e::fixtures::sample("issue.json");
    let mut child = Command::new(twinsync_e2e::fixtures::twinsync_binary())
        .args(["rules", "test"])
        .arg(twinsync_e2e::fixtures::rule("basic"))
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
    let url = w.admin_url();
    let slot = w.node().registry.slot("ab/b").expect("side b");
    let old = slot
        .current()
        .expect("basic serves")
        .id()
        .version()
        .to_string();
    // A version no cache holds: the node must compile it, which takes seconds for Python.
    let python = twinsync_e2e::fixtures::fresh_variant("confidential-py");
    let version = twinsync_e2e::fixtures::version_of(&python)[..12].to_string();
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
    Wait::new(&format!("{side} to serve {version}"))
        .within(Duration::from_secs(120))
        .every(Duration::from_millis(100))
        .until(|| async {
            let rules = get(url, "/api/rules").await;
            rules["rules"]
                .as_array()
                .and_then(|l| l.iter().find(|r| r["side"] == side))
                .filter(|rule| rule["version"] == version)
                .cloned()
                .ok_or(rules)
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_rules_check_compiled_loads_on_the_node_from_the_cache() {
    // The node reads the CLI's cache (this user's): a fresh version `rules check` compiled
    // there swaps in with no compile of its own.
    let Some(cli_cache) = twinsync::rules::user_cache_dir() else {
        return; // no HOME, no user cache: nothing shared to test
    };
    let w = World::new().await;
    let url = w.admin_url();
    let fresh = twinsync_e2e::fixtures::fresh_variant("confidential");
    let hash = twinsync_e2e::fixtures::version_of(&fresh);
    let file = w.dir.path().join("checked.wasm");
    std::fs::write(&file, &fresh).expect("write");
    let (ok, out, err) = twinsync(
        w.dir.path(),
        &["rules", "check", file.to_str().expect("utf-8")],
        &[],
    );
    assert!(ok, "{out}{err}");
    let before = w.compilations();
    let slot = w.node().registry.slot("ab/b").expect("side b");
    swap(slot.file(), &fresh);
    let rule = wait_for_version(&url, "ab/b", &hash[..12]).await;
    assert_eq!(rule["last_reload"]["compiled"], false, "{rule}");
    assert_eq!(w.compilations(), before, "the node did not compile it");
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
    let path = |name: &str| {
        twinsync_e2e::fixtures::rule(name)
            .to_string_lossy()
            .into_owned()
    };
    let (basic, looping, fixed) = (path("basic"), path("acme-prefix-loop"), path("acme-prefix"));
    // `twinsync rules check RULE --round-trip` with `more` flags.
    let round_trip = |rule: &str, more: &[&str]| {
        let args = [&["rules", "check", rule, "--round-trip"][..], more].concat();
        twinsync(dir.path(), &args, &[])
    };
    let (ok, out, err) = round_trip(&looping, &["--other", &basic]);
    assert!(!ok, "a loop fails the check: {out}{err}");
    assert!(
        out.contains("LOOP here side: `summary`")
            && out.contains("\"[ACME] [ACME] [ACME] CSV export"),
        "{out}"
    );

    let (ok, out, err) = round_trip(&fixed, &["--other", &basic, "--json"]);
    assert!(ok, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        report["samples"][0]["round_trip"]["drifts"],
        serde_json::json!([]),
        "{report}"
    );
    // The same rule on both sides, on a sample of one's own.
    let sample = twinsync_e2e::fixtures::sample("issue.json");
    let (ok, out, err) = round_trip(&fixed, &["--issue", sample.to_str().expect("utf-8")]);
    assert!(
        ok && out.contains("ok: every field comes back"),
        "{out}{err}"
    );
}

/// docs/rules.md as (info string, code) blocks, each with the HTML comment before it, if any.
fn guide_blocks() -> Vec<(String, String, Option<String>)> {
    let text = std::fs::read_to_string(twinsync_e2e::fixtures::root().join("docs/rules.md"))
        .expect("read docs/rules.md");
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    let mut previous = None;
    while let Some(line) = lines.next() {
        if let Some(info) = line.strip_prefix("```")
            && !info.is_empty()
        {
            let mut code = String::new();
            for l in lines.by_ref() {
                if l == "```" {
                    break;
                }
                code.push_str(l);
                code.push('\n');
            }
            blocks.push((info.to_string(), code, previous.take()));
        } else if let Some(comment) = line.strip_prefix("<!-- ") {
            previous = comment.strip_suffix(" -->").map(str::to_string);
        } else if !line.trim().is_empty() {
            previous = None;
        }
    }
    blocks
}

/// The `twinsync` commands of a shell block, continuation lines joined, without what the
/// shell adds (`| head`, `> file`, `&& ...`) and with `"$VAR"` words kept as one argument.
fn twinsync_commands(code: &str) -> Vec<Vec<String>> {
    let joined = code.replace("\\\n", " ");
    joined
        .lines()
        .filter_map(|l| l.trim().strip_prefix("twinsync "))
        .map(|l| {
            let l = l.split(" | ").next().unwrap_or(l);
            let l = l.split(" > ").next().unwrap_or(l);
            let l = l.split(" && ").next().unwrap_or(l);
            let l = l.split(" #").next().unwrap_or(l);
            let mut words = Vec::new();
            let mut word = String::new();
            let mut quoted = false;
            for c in l.chars() {
                match c {
                    '"' => quoted = !quoted,
                    ' ' if !quoted => {
                        if !word.is_empty() {
                            words.push(std::mem::take(&mut word));
                        }
                    }
                    c => word.push(c),
                }
            }
            if !word.is_empty() {
                words.push(word);
            }
            words
        })
        .collect()
}

#[test]
fn every_command_in_the_guide_takes_the_flags_it_is_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut seen = 0;
    for (info, code, _) in guide_blocks() {
        if info != "sh" {
            continue;
        }
        for mut args in twinsync_commands(&code) {
            // Flags before --help are checked against the CLI; nothing runs.
            args.push("--help".into());
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (ok, _, err) = twinsync(dir.path(), &args, &[]);
            assert!(ok, "docs/rules.md: `twinsync {}`: {err}", args.join(" "));
            seen += 1;
        }
    }
    assert!(seen >= 15, "only {seen} commands found in the guide");
}

#[test]
fn code_the_guide_says_is_a_file_is_that_file() {
    let mut seen = 0;
    for (_, code, comment) in guide_blocks() {
        let Some(path) = comment.as_deref().and_then(|c| c.strip_prefix("file: ")) else {
            continue;
        };
        let file =
            std::fs::read_to_string(twinsync_e2e::fixtures::root().join(path)).expect("read");
        // The guide shows the file up to its tests.
        let shown = file.split("#[cfg(test)]").next().unwrap_or(&file);
        assert_eq!(code.trim(), shown.trim(), "docs/rules.md shows {path}");
        seen += 1;
    }
    assert!(seen >= 1, "no file blocks in the guide");
}

/// A `twinsync demo` process on free ports, killed when dropped.
struct DemoProcess(std::process::Child);

impl Drop for DemoProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a shell block of the guide with bash, as a reader pastes it, in `dir`.
fn run_block(code: &str, dir: &Path, envs: &[(&str, &Path)]) -> String {
    let mut cmd = Command::new("bash");
    cmd.arg("-euo")
        .arg("pipefail")
        .arg("-c")
        .arg(code)
        .current_dir(dir);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "docs/rules.md block failed:\n{code}\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_rust_walk_runs_on_the_demo_as_written() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = twinsync_e2e::fixtures::root();
    // A checkout beside which the walk makes its crate: the real one's parts, linked.
    // Its target/ holds the built binary and rules, and the demo's own data directory.
    let checkout = tmp.path().join("twinsync");
    std::fs::create_dir_all(checkout.join("target")).expect("checkout dir");
    for entry in std::fs::read_dir(&root).expect("checkout").flatten() {
        let name = entry.file_name();
        if name != "target" && !name.to_string_lossy().starts_with('.') {
            std::os::unix::fs::symlink(entry.path(), checkout.join(&name)).expect("link");
        }
    }
    for part in ["debug", "wasm32-wasip2"] {
        std::os::unix::fs::symlink(
            root.join("target").join(part),
            checkout.join("target").join(part),
        )
        .expect("link");
    }
    let demo_dir = checkout.join("target/demo");
    let cache = tmp.path().join("rule-cache");
    let (port_cloud, port_dc, port_node, port_admin) =
        (free_port(), free_port(), free_port(), free_port());
    // `scripts/demo.sh` after its builds, on free ports.
    let mut child = Command::new(checkout.join("target/debug/twinsync"))
        .current_dir(&checkout)
        .arg("demo")
        .args(["--port-cloud", &port_cloud.to_string()])
        .args(["--port-dc", &port_dc.to_string()])
        .args(["--port-node", &port_node.to_string()])
        .args(["--port-admin", &port_admin.to_string()])
        .env("TWINSYNC_RULE_CACHE", &cache)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(tmp.path().join("demo.log")).expect("log"))
        .spawn()
        .expect("the demo starts");
    let stdout = child.stdout.take().expect("stdout");
    let _demo = DemoProcess(child);
    let banner = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut banner = String::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.expect("demo output");
            banner.push_str(&line);
            banner.push('\n');
            if line.starts_with("Syncing live") {
                break;
            }
        }
        banner
    })
    .await
    .expect("banner");
    // The banner names the rule files and the config the guide's commands use.
    for path in ["rules/support.wasm", "rules/dev.wasm", "twinsync.toml"] {
        assert!(
            banner.contains(&demo_dir.join(path).display().to_string()),
            "{banner}"
        );
    }

    let bin_dir = twinsync_e2e::fixtures::twinsync_binary()
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let path = Path::new(&path);
    let envs = [
        ("TWINSYNC", checkout.as_path()),
        ("DEMO", demo_dir.as_path()),
        ("PATH", path),
        ("TWINSYNC_RULE_CACHE", cache.as_path()),
    ];
    let blocks = guide_blocks();
    let block = |starts: &str| {
        blocks
            .iter()
            .find(|(info, code, _)| info == "sh" && code.starts_with(starts))
            .map(|(_, code, _)| code.clone())
            .unwrap_or_else(|| panic!("no block starting {starts:?} in docs/rules.md"))
    };
    // Terminal 2: the binary is built already; the rest as written.
    let terminal = block("cargo build -p twinsync\n");
    let terminal = terminal.replacen("cargo build -p twinsync\n", "", 1);
    let out = run_block(&terminal, &checkout, &envs);
    assert!(out.contains("support-to-dev"), "{out}");

    // The crate, as written (the target is installed already).
    let setup = block("rustup target add wasm32-wasip2\ncd \"$TWINSYNC/..\"");
    let setup = setup.replacen("rustup target add wasm32-wasip2\n", "", 1);
    run_block(&setup, tmp.path(), &envs);
    let krate = tmp.path().join("acme-rule");
    let manifest = std::fs::read_to_string(krate.join("Cargo.toml")).expect("manifest");
    let parsed: toml::Table = toml::from_str(&manifest).expect("the appended manifest parses");
    assert!(
        parsed["dependencies"].get("twinsync-sdk").is_some(),
        "{manifest}"
    );
    assert_eq!(
        parsed["lib"]["crate-type"].as_array().map(Vec::len),
        Some(2),
        "{manifest}"
    );

    // Its build is what example-rules/acme-prefix builds (the guide shows that file).
    let release = krate.join("target/wasm32-wasip2/release");
    std::fs::create_dir_all(&release).expect("target dir");
    let built = std::fs::read(twinsync_e2e::fixtures::rule("acme-prefix")).expect("acme-prefix");
    std::fs::write(release.join("acme_rule.wasm"), &built).expect("the build");
    let walk = block("cargo build --release --target wasm32-wasip2\ntwinsync rules check");
    let walk = walk.replacen("cargo build --release --target wasm32-wasip2\n", "", 1);
    let out = run_block(&walk, &krate, &envs);
    let version = &twinsync_e2e::fixtures::version_of(&built)[..12];
    assert!(out.contains("ok: every field comes back"), "{out}");
    assert!(
        out.contains(version),
        "rules check names the version: {out}"
    );
    // The node picks the renamed file up within about 100 ms; status then names it.
    let config = demo_dir.join("twinsync.toml");
    let config = config.to_str().expect("utf-8");
    let serving = format!("support={version}");
    wait_for("status to show the new version", || async {
        let (_, out, _) = twinsync(&krate, &["status", "-c", config], &[]);
        out.contains(&serving).then_some(())
    })
    .await;

    // And it syncs: a new SUP issue labelled `sync` arrives on DEV with the prefix.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("http://127.0.0.1:{port_cloud}/rest/api/3/issue"))
        .basic_auth("admin@example.com", Some("admin"))
        .json(
            &serde_json::json!({"fields": {"project": {"key": "SUP"}, "issuetype": {"name": "Task"},
            "summary": "Hello from the guide", "labels": ["sync"]}}),
        )
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("JSON");
    assert!(created["key"].is_string(), "{created}");
    let demo_log = tmp.path().join("demo.log");
    Wait::new("\"[ACME] Hello from the guide\" on DEV")
        .within(Duration::from_secs(30))
        .every(Duration::from_millis(100))
        .until(|| async {
            let found: Value = http
                .get(format!(
                    "http://127.0.0.1:{port_dc}/rest/api/2/search?jql=project=DEV"
                ))
                .bearer_auth("admin")
                .send()
                .await
                .expect("search DEV")
                .json()
                .await
                .expect("JSON");
            let arrived = found["issues"].as_array().is_some_and(|l| {
                l.iter()
                    .any(|i| i["fields"]["summary"] == "[ACME] Hello from the guide")
            });
            if arrived {
                return Ok(());
            }
            Err(format!(
                "{found}\nthe demo's log:\n{}",
                std::fs::read_to_string(&demo_log).unwrap_or_default()
            ))
        })
        .await;
}

#[test]
fn rules_export_writes_the_stock_component_built_into_the_binary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let basic = twinsync::rules::stock::stock("basic").expect("stock basic");
    // Standard output, redirected into a pipe.
    let out = Command::new(twinsync_e2e::fixtures::twinsync_binary())
        .current_dir(dir.path())
        .args(["rules", "export", "basic"])
        .stdin(Stdio::null())
        .output()
        .expect("the CLI runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout == basic, "stdout holds the stock component");
    // -o FILE.
    let (ok, _, err) = twinsync(
        dir.path(),
        &["rules", "export", "mapping", "-o", "m.wasm"],
        &[],
    );
    assert!(ok, "{err}");
    assert_eq!(
        std::fs::read(dir.path().join("m.wasm")).expect("written"),
        twinsync::rules::stock::stock("mapping").expect("stock mapping")
    );
    // The exported file is a rule like any other.
    let (ok, out, err) = twinsync(dir.path(), &["rules", "check", "m.wasm"], &[]);
    assert!(ok && out.contains("fits the contract"), "{out}{err}");
    // An unknown name lists the stock rules.
    let (ok, _, err) = twinsync(dir.path(), &["rules", "export", "fancy"], &[]);
    assert!(!ok);
    assert!(
        err.contains("\"fancy\"") && err.contains("basic, mapping"),
        "{err}"
    );
}

#[test]
fn the_demo_check_passes_from_any_directory_with_the_embedded_rules() {
    // No example rules built, no checkout: only the binary, in an empty directory.
    let dir = tempfile::tempdir().expect("tempdir");
    let (ok, out, err) = twinsync(
        dir.path(),
        &[
            "demo",
            "--check",
            "--port-cloud",
            "0",
            "--port-dc",
            "0",
            "--port-node",
            "0",
            "--data-dir",
            "demo-data",
        ],
        &[],
    );
    assert!(ok && out.contains("demo check passed"), "{out}\n{err}");
    let stock: Vec<_> = std::fs::read_dir(dir.path().join("demo-data/stock-rules"))
        .expect("the stock rule was written into the data directory")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        stock.len() == 1 && stock[0].starts_with("basic-"),
        "{stock:?}"
    );
}
