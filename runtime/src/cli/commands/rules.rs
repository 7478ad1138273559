//! `twinsync rules check|test|export|try|publish|versions|rollback`: what a rule author runs.
//! `check` and `test` load the component here; `export` writes a stock rule built into the
//! binary; `try` asks the running node to dry-run a candidate on a live issue, and
//! `publish`, `versions` and `rollback` work on a side's rule versions there.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use twinsync::config::{ConfigError, NodeConfig};
use twinsync::rules::{RuleInfo, authoring};

use crate::cli::args::RulesCommand;
use crate::cli::output::print_answer;
use crate::cli::tables;

/// Runs one `twinsync rules …` command.
pub(crate) fn run(command: RulesCommand) -> anyhow::Result<ExitCode> {
    match command {
        RulesCommand::Check {
            rule,
            json,
            round_trip,
            other,
            issue,
            config,
            other_config,
        } => {
            let info = authoring::check(&rule)?;
            if round_trip {
                return round_trip_check(
                    json,
                    &info,
                    &authoring::RoundTripRun {
                        rule,
                        other,
                        issues: issue,
                        config,
                        other_config,
                    },
                );
            }
            if json {
                out!("{}", serde_json::to_string_pretty(&info)?);
            } else {
                out!("rule:    {}", info.name);
                out!("hash:    sha256:{}", info.hash);
                out!("world:   twinsync:rules@{}", info.world_version);
                out!("imports: {}", info.imports.join("\n         "));
                out!("exports: {}", info.exports.join("\n         "));
                out!("ok: fits the contract");
            }
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Export { name, output } => {
            export(&name, output.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Publish {
            rule,
            side,
            note,
            json,
            node,
        } => {
            let (connection, side) = split_side(&side)?;
            let module =
                std::fs::read(&rule).with_context(|| format!("reading {}", rule.display()))?;
            let answer = crate::cli::runtime()?.block_on(node.client()?.publish_rule(
                connection,
                side,
                note.as_deref(),
                module,
            ))?;
            print_answer(json, &answer, |a| {
                format!(
                    "published {} as version {} of {connection}/{side} (sha256 {}); it serves now\n",
                    rule.display(),
                    a["version"],
                    a["sha256"].as_str().map_or("?", |h| &h[..h.len().min(12)])
                )
            });
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Versions { side, json, node } => {
            let (connection, side) = split_side(&side)?;
            let answer =
                crate::cli::runtime()?.block_on(node.client()?.rule_versions(connection, side))?;
            print_answer(json, &answer, tables::rule_versions_table);
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Rollback {
            side,
            to,
            json,
            node,
        } => {
            let (connection, side) = split_side(&side)?;
            let answer = crate::cli::runtime()?
                .block_on(node.client()?.rollback_rule(connection, side, to))?;
            print_answer(json, &answer, |a| {
                format!(
                    "{connection}/{side} rolled back to version {to}, recorded as version {}; it serves now\n",
                    a["version"]
                )
            });
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Try {
            rule,
            side,
            issue,
            json,
            node,
        } => {
            let (connection, side) = side
                .split_once('/')
                .context("--side takes CONNECTION/SIDE")?;
            let module =
                std::fs::read(&rule).with_context(|| format!("reading {}", rule.display()))?;
            let report = crate::cli::runtime()?
                .block_on(node.client()?.try_rule(connection, side, &issue, module))?;
            print_answer(json, &report, tables::trial_text);
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Test {
            rule,
            issue,
            incoming,
            local,
            config,
            first_sync,
            side,
            node_config,
        } => {
            let config = match side {
                Some(side) => {
                    let mut entries = side_config(&node_config, &side)?;
                    entries.extend(config);
                    entries
                }
                None => config,
            };
            test(&authoring::TestRun {
                rule,
                input: issue,
                incoming,
                local,
                config,
                first_sync,
            })
        }
    }
}

/// `CONNECTION/SIDE` as its two parts.
fn split_side(side: &str) -> anyhow::Result<(&str, &str)> {
    side.split_once('/')
        .with_context(|| format!("--side takes CONNECTION/SIDE, not {side:?}"))
}

/// `rules export`: the stock rule's component to `output`, or to standard output when that
/// is not a terminal (a component is binary; printing it would garble the terminal).
fn export(name: &str, output: Option<&Path>) -> anyhow::Result<()> {
    use std::io::{IsTerminal as _, Write as _};
    use twinsync::rules::stock;
    let bytes = stock::stock(name).with_context(|| {
        format!(
            "there is no stock rule {name:?}; the stock rules are {}",
            stock::STOCK.join(", ")
        )
    })?;
    match output {
        Some(path) => {
            std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            if stdout.is_terminal() {
                anyhow::bail!(
                    "standard output is a terminal and {name}.wasm is a binary component: \
                     redirect it (`twinsync rules export {name} > {name}.wasm`) or give -o FILE"
                );
            }
            stdout
                .write_all(bytes)
                .and_then(|()| stdout.flush())
                .context("writing the component to standard output")?;
        }
    }
    Ok(())
}

/// `rules test`: runs the rule once, its logs and costs on standard error, its answer (or
/// skip) as JSON on standard output.
fn test(run: &authoring::TestRun) -> anyhow::Result<ExitCode> {
    let outcome = authoring::test(run)?;
    for line in &outcome.report_logs {
        eprintln!("[{} {}] {}", outcome.rule, line.level, line.message);
    }
    eprintln!(
        "{} used {} fuel and {:.1} MiB of memory",
        outcome.rule,
        outcome.fuel_used,
        outcome.memory_bytes as f64 / (1 << 20) as f64
    );
    match outcome.error {
        None => {
            out!("{}", serde_json::to_string_pretty(&outcome.json)?);
            Ok(ExitCode::SUCCESS)
        }
        Some(e) if e.is_skip() => {
            out!("{}", serde_json::json!({ "skip": e.to_string() }));
            Ok(ExitCode::SUCCESS)
        }
        Some(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `rules check --round-trip`: the check, then each sample's round trips; fails when a field
/// does not settle or a call fails.
fn round_trip_check(
    json: bool,
    info: &RuleInfo,
    run: &authoring::RoundTripRun,
) -> anyhow::Result<ExitCode> {
    let results = authoring::round_trip(run)?;
    let mut ok = true;
    let mut answers = Vec::new();
    for (sample, result) in &results {
        match result {
            Ok(report) => {
                ok &= report.loops().next().is_none();
                answers.push(serde_json::json!({ "sample": sample, "round_trip": report }));
            }
            Err(e) => {
                ok = false;
                answers.push(serde_json::json!({ "sample": sample, "error": e.to_string() }));
            }
        }
    }
    if json {
        out!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "rule": info, "samples": answers }))?
        );
    } else {
        out!("rule:    {} (version {})", info.name, &info.hash[..12]);
        let other = run
            .other
            .as_ref()
            .map_or("the same rule".to_string(), |p| p.display().to_string());
        out!("other:   {other}");
        for (sample, result) in &results {
            out!("sample:  {sample}");
            match result {
                Ok(report) => out_raw!("{}", twinsync::rules::round_trip::text(report)),
                Err(e) => out!("error: {e}"),
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A side's rule config from the node's config, as `key=value` entries for `rules test`.
fn side_config(config_path: &Path, side: &str) -> anyhow::Result<Vec<String>> {
    let config = NodeConfig::load(config_path).map_err(|e| match e {
        ConfigError::Read { path, source } => anyhow::anyhow!(
            "--side reads the side's rule config from the node's config, but {} cannot be \
             read ({source}): name it with --node-config FILE (-c; the demo's is \
             <its data dir>/twinsync.toml), or give the entries with --config KEY=VALUE",
            path.display()
        ),
        e => e.into(),
    })?;
    let (conn, name) = side
        .split_once('/')
        .with_context(|| format!("--side takes CONNECTION/SIDE, not {side:?}"))?;
    let connection = config
        .connection(conn)
        .with_context(|| format!("no connection named {conn:?} in {}", config_path.display()))?;
    let s = connection
        .sides
        .iter()
        .find(|s| s.name == name)
        .with_context(|| format!("connection {conn:?} has no side {name:?}"))?;
    Ok(s.config.iter().map(|(k, v)| format!("{k}={v}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sides_rule_config_comes_from_the_node_config() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("twinsync.toml");
        // One instance serves both sides; inline tables keep the fixture short.
        std::fs::write(
            &path,
            r#"
instances.x = { url = "http://127.0.0.1:1", flavour = "dc", token = { value = "t" } }

[[connection]]
name = "c"
side = [
  { name = "a", instance = "x", project = "A", rule = "a.wasm", config = { project = "A", "map.status.Done" = "Closed" } },
  { name = "b", instance = "x", project = "B", rule = "b.wasm" },
]
"#,
        )
        .expect("write");
        let mut entries = side_config(&path, "c/a").expect("side config");
        entries.sort();
        assert_eq!(entries, ["map.status.Done=Closed", "project=A"]);
        let err = side_config(&path, "c/z")
            .expect_err("no side z")
            .to_string();
        assert!(err.contains("no side \"z\""), "{err}");
        let err = side_config(&path, "c")
            .expect_err("not CONNECTION/SIDE")
            .to_string();
        assert!(err.contains("CONNECTION/SIDE"), "{err}");
        let err = side_config(&dir.path().join("none.toml"), "c/a")
            .expect_err("no config file")
            .to_string();
        assert!(
            err.contains("--node-config") && err.matches("os error 2").count() == 1,
            "{err}"
        );
    }
}
