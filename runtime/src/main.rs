//! The `twinsync` command line: parses arguments and hands each command to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use twinsync::rules::authoring;

#[derive(Parser)]
#[command(name = "twinsync", version, about = "Two-way Jira sync with sandboxed WebAssembly rules")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work with rule components: check them against the contract, run them on samples.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Serve a simulated Jira (Cloud v3 or Data Center v2) until stopped.
    Sim(twinsync::sim::SimArgs),
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Does the component fit the twinsync:rules contract? Prints world version, exports and hash.
    Check {
        rule: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run one rule on a sample and print the replica (outgoing) or changes (incoming) as JSON.
    Test {
        rule: PathBuf,
        /// The issue (outgoing), or the replica (with --incoming), as JSON.
        #[arg(long)]
        issue: PathBuf,
        /// Run `incoming` instead of `outgoing`.
        #[arg(long)]
        incoming: bool,
        /// The local twin for `incoming`, as JSON; without it the call is a first sync.
        #[arg(long, requires = "incoming")]
        local: Option<PathBuf>,
        /// A rule config entry `key=value`; repeatable.
        #[arg(long = "config", value_name = "KEY=VALUE")]
        config: Vec<String>,
        /// Mark the call as a first sync.
        #[arg(long)]
        first_sync: bool,
    },
}

fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TWINSYNC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Rules(RulesCommand::Check { rule, json }) => {
            let info = authoring::check(&rule)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&info)?);
            } else {
                println!("rule:    {}", info.name);
                println!("hash:    sha256:{}", info.hash);
                println!("world:   twinsync:rules@{}", info.world_version);
                println!("imports: {}", info.imports.join("\n         "));
                println!("exports: {}", info.exports.join("\n         "));
                println!("ok: fits the contract");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules(RulesCommand::Test {
            rule,
            issue,
            incoming,
            local,
            config,
            first_sync,
        }) => {
            let outcome = authoring::test(&authoring::TestRun {
                rule,
                input: issue,
                incoming,
                local,
                config,
                first_sync,
            })?;
            for line in &outcome.report_logs {
                eprintln!("[{} {}] {}", outcome.rule, line.level, line.message);
            }
            eprintln!("{} used {} fuel", outcome.rule, outcome.fuel_used);
            match outcome.error {
                None => {
                    println!("{}", serde_json::to_string_pretty(&outcome.json)?);
                    Ok(ExitCode::SUCCESS)
                }
                Some(e) if e.is_skip() => {
                    println!("{}", serde_json::json!({ "skip": e.to_string() }));
                    Ok(ExitCode::SUCCESS)
                }
                Some(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Sim(args) => {
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            runtime.block_on(twinsync::sim::run_cli(args))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
