//! The `twinsync` command line: parses arguments and hands each command to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use twinsync::rules::authoring;
use twinsync::{admin_client, commands};

/// Writes a line to standard output; a closed pipe (`twinsync … | head`) ends the command
/// quietly instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            stdout_failed(e)
        }
    }};
}

/// [`out!`] without the newline.
macro_rules! out_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout().lock(), $($arg)*) {
            stdout_failed(e)
        }
    }};
}

/// A reader that stopped reading (`head`) is not an error; anything else is.
fn stdout_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: cannot write to standard output: {e}");
    std::process::exit(1);
}

#[derive(Parser)]
#[command(
    name = "twinsync",
    version,
    about = "Two-way Jira sync with sandboxed WebAssembly rules"
)]
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
    #[cfg(feature = "sim")]
    Sim(twinsync_jira_sim::SimArgs),
    /// Two simulated Jiras, one node, stock rules, live sync; prints the URLs.
    ///
    /// The node watches two rule files, <DATA_DIR>/rules/support.wasm (side
    /// support-to-dev/support, Cloud project SUP) and <DATA_DIR>/rules/dev.wasm (side
    /// support-to-dev/dev, Data Center project DEV): replace one (write beside it, then rename
    /// over it) to hot-swap that side's rule. The node's config is <DATA_DIR>/twinsync.toml;
    /// pass it to the CLI with -c (`twinsync status -c target/demo/twinsync.toml`).
    #[cfg(feature = "sim")]
    Demo {
        /// Run the scripted scenario end to end and exit; non-zero on any divergence.
        #[arg(long)]
        check: bool,
        /// The rule both sides run.
        #[arg(long, default_value = "target/wasm32-wasip2/release/rule_basic.wasm")]
        rule: PathBuf,
        #[arg(long, default_value_t = 8081)]
        port_cloud: u16,
        #[arg(long, default_value_t = 8082)]
        port_dc: u16,
        /// The node's public listener (webhooks).
        #[arg(long, default_value_t = 7700)]
        port_node: u16,
        /// The node's admin listener (admin page, API, metrics) [default: 7702, or a free
        /// port when --port-node is 0].
        #[arg(long)]
        port_admin: Option<u16>,
        /// Where the demo node keeps its store, config and rules/ (wiped at start).
        #[arg(long, default_value = "target/demo")]
        data_dir: PathBuf,
    },
    /// Run a node: webhooks (public listener), workers, poller, the admin API (admin listener).
    Node {
        #[arg(short, long, default_value = "twinsync.toml")]
        config: PathBuf,
    },
    /// Put one issue under sync now (Exalate's manual "exalate").
    Sync {
        key: String,
        #[arg(short = 'C', long)]
        connection: String,
        #[arg(short, long, default_value = "twinsync.toml")]
        config: PathBuf,
    },
    /// Put every matching existing issue under sync, with a progress bar; resumable after a kill.
    Bulk {
        #[arg(short = 'C', long)]
        connection: String,
        /// The side whose issues to sync (default: the side with a trigger).
        #[arg(long)]
        side: Option<String>,
        /// Which issues (default: the side's trigger, else its whole project).
        #[arg(long)]
        jql: Option<String>,
        #[arg(short, long, default_value = "twinsync.toml")]
        config: PathBuf,
    },
    /// Connections, queues, twins, last sync and rule versions (asks the running node).
    Status {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Failed sync events, with the error and the rule version that handled them.
    Errors {
        #[arg(short = 'C', long)]
        connection: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Run a failed sync event again (after fixing its rule or data).
    Retry {
        event: i64,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Pause or resume a connection; a paused connection queues and loses nothing.
    #[command(subcommand)]
    Connection(ConnectionCommand),
}

/// How the CLI reaches a running node's admin API.
#[derive(clap::Args)]
struct NodeArgs {
    /// The node's config: its `admin_listen` address and admin token [default: twinsync.toml].
    #[arg(short, long)]
    config: Option<PathBuf>,
    /// The admin listener's URL, instead of the config's `admin_listen` (token: TWINSYNC_ADMIN_TOKEN, else the
    /// config's admin_token or the one the node made in its data directory).
    #[arg(long, value_name = "URL")]
    node: Option<String>,
}

impl NodeArgs {
    fn client(&self) -> anyhow::Result<admin_client::AdminClient> {
        Ok(admin_client::AdminClient::from_config(
            self.config.as_deref(),
            self.node.as_deref(),
        )?)
    }
}

#[derive(Subcommand)]
enum ConnectionCommand {
    /// Connections and their sides.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Stop syncing a connection; changes queue up and nothing is lost.
    Pause {
        name: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    Resume {
        name: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Print a one-time code that pairs a remote connection with a peer node.
    Invite {
        #[arg(short = 'C', long)]
        connection: String,
        /// How long the code works.
        #[arg(long, default_value_t = 60)]
        expires_in_minutes: u64,
        #[arg(short, long, default_value = "twinsync.toml")]
        config: PathBuf,
    },
    /// Pair with the peer node that made an invitation code (its node must be running).
    /// The code is read from standard input, or from --code-file.
    Accept {
        /// Read the code from this file instead of standard input.
        #[arg(long, value_name = "FILE", conflicts_with = "code")]
        code_file: Option<PathBuf>,
        /// The code itself; avoid: other users see it in `ps`, and it stays in shell history.
        code: Option<String>,
        #[arg(short, long, default_value = "twinsync.toml")]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Does the component fit the twinsync:rules contract? Prints world version, exports and hash.
    Check {
        rule: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Also run the rule round trips (outgoing here, incoming on the other side, its
        /// outgoing, incoming here) and report every field that does not come back to a
        /// fixed point: a sync loop. Non-zero exit when one does not.
        #[arg(long)]
        round_trip: bool,
        /// The other side's rule for --round-trip [default: the same rule].
        #[arg(long, value_name = "RULE", requires = "round_trip")]
        other: Option<PathBuf>,
        /// A sample issue of this side for --round-trip, as JSON (repeatable)
        /// [default: the stock sample, example-rules/samples/issue.json].
        #[arg(long, value_name = "FILE", requires = "round_trip")]
        issue: Vec<PathBuf>,
        /// A rule config entry `key=value` of this side for --round-trip; repeatable.
        #[arg(long = "config", value_name = "KEY=VALUE", requires = "round_trip")]
        config: Vec<String>,
        /// A rule config entry of the other side for --round-trip; repeatable.
        #[arg(
            long = "other-config",
            value_name = "KEY=VALUE",
            requires = "round_trip"
        )]
        other_config: Vec<String>,
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
        /// Take the rule config of this side of the node's config (`CONNECTION/SIDE`);
        /// `--config` entries override it.
        #[arg(long, value_name = "CONNECTION/SIDE")]
        side: Option<String>,
        /// The node's config, for `--side` (the demo's is <data dir>/twinsync.toml).
        #[arg(short = 'c', long, default_value = "twinsync.toml")]
        node_config: PathBuf,
    },
    /// Dry-run a candidate rule on a live issue, beside the rule serving that side now, and
    /// print both answers and their difference; nothing is synced (asks the running node).
    Try {
        rule: PathBuf,
        /// The side to try it on, `CONNECTION/SIDE`.
        #[arg(long, value_name = "CONNECTION/SIDE")]
        side: String,
        /// The issue key on that side.
        #[arg(long)]
        issue: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
}

fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", error_text(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, leaving out a cause whose text the message already
/// carries (most of the library's errors print their source themselves).
fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TWINSYNC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A log file or a pipe gets plain text: colour codes would split its fields.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Rules(RulesCommand::Check {
            rule,
            json,
            round_trip,
            other,
            issue,
            config,
            other_config,
        }) => {
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
        Command::Rules(RulesCommand::Try {
            rule,
            side,
            issue,
            json,
            node,
        }) => {
            let (connection, side) = side
                .split_once('/')
                .context("--side takes CONNECTION/SIDE")?;
            let module =
                std::fs::read(&rule).with_context(|| format!("reading {}", rule.display()))?;
            let report =
                runtime()?.block_on(node.client()?.try_rule(connection, side, &issue, module))?;
            print_answer(json, &report, admin_client::trial_text);
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules(RulesCommand::Test {
            rule,
            issue,
            incoming,
            local,
            config,
            first_sync,
            side,
            node_config,
        }) => {
            let config = match side {
                Some(side) => {
                    let mut entries = commands::side_config(&node_config, &side)?;
                    entries.extend(config);
                    entries
                }
                None => config,
            };
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
        #[cfg(feature = "sim")]
        Command::Sim(args) => {
            runtime()?.block_on(twinsync_jira_sim::run_cli(args))?;
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "sim")]
        Command::Demo {
            check,
            rule,
            port_cloud,
            port_dc,
            port_node,
            port_admin,
            data_dir,
        } => runtime()?.block_on(demo(
            check,
            twinsync::demo::DemoOptions {
                rule,
                port_a: port_cloud,
                port_b: port_dc,
                node_port: port_node,
                admin_port: port_admin.unwrap_or(if port_node == 0 {
                    0
                } else {
                    twinsync::config::DEFAULT_ADMIN_PORT
                }),
                data_dir,
            },
        )),
        Command::Node { config } => {
            runtime()?.block_on(twinsync::daemon::serve(&config))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sync {
            key,
            connection,
            config,
        } => {
            match commands::sync_one(&config, &connection, &key)? {
                Some(id) => out!("{key} queued for sync on {connection} (event {id})"),
                None => out!("{key} was already queued on {connection}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bulk {
            connection,
            side,
            jql,
            config,
        } => {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} issues queued {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let run = runtime()?.block_on(commands::bulk(
                &config,
                &connection,
                side.as_deref(),
                jql.as_deref(),
                |run| {
                    if let Some(total) = run.total {
                        bar.set_length(total.max(run.queued) as u64);
                    }
                    bar.set_position(run.queued as u64);
                },
            ))?;
            bar.finish_and_clear();
            out!(
                "{} issues queued for sync on {connection} ({})",
                run.queued,
                run.jql
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { json, node } => {
            let status = runtime()?.block_on(node.client()?.status())?;
            print_answer(json, &status, admin_client::status_table);
            Ok(ExitCode::SUCCESS)
        }
        Command::Errors {
            connection,
            limit,
            json,
            node,
        } => {
            let events =
                runtime()?.block_on(node.client()?.errors(connection.as_deref(), limit))?;
            print_answer(json, &events, admin_client::errors_table);
            Ok(ExitCode::SUCCESS)
        }
        Command::Retry { event, json, node } => {
            let answer = runtime()?.block_on(node.client()?.retry(event))?;
            print_answer(json, &answer, |_| format!("event {event} queued again\n"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Connection(ConnectionCommand::List { json, node }) => {
            let status = runtime()?.block_on(node.client()?.status())?;
            print_answer(json, &status, admin_client::connections_table);
            Ok(ExitCode::SUCCESS)
        }
        Command::Connection(ConnectionCommand::Pause { name, json, node }) => {
            let answer = runtime()?.block_on(node.client()?.set_paused(&name, true))?;
            print_answer(json, &answer, |_| {
                format!(
                    "{name} paused: changes queue up until `twinsync connection resume {name}`\n"
                )
            });
            Ok(ExitCode::SUCCESS)
        }
        Command::Connection(ConnectionCommand::Resume { name, json, node }) => {
            let answer = runtime()?.block_on(node.client()?.set_paused(&name, false))?;
            print_answer(json, &answer, |_| format!("{name} resumed\n"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Connection(ConnectionCommand::Invite {
            connection,
            expires_in_minutes,
            config,
        }) => {
            let config = twinsync::config::NodeConfig::load(&config)?;
            let store = twinsync::peer::enroll::open_store(&config)?;
            let code = twinsync::peer::enroll::invite(
                &config,
                &store,
                &connection,
                std::time::Duration::from_secs(expires_in_minutes.saturating_mul(60)),
            )?;
            out!("{code}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Connection(ConnectionCommand::Accept {
            code_file,
            code,
            config,
        }) => {
            let code = invitation_code(code, code_file.as_deref())?;
            let config = twinsync::config::NodeConfig::load(&config)?;
            let store = twinsync::peer::enroll::open_store(&config)?;
            let peer =
                runtime()?.block_on(twinsync::peer::enroll::accept(&config, &store, &code))?;
            out!(
                "connection {} paired with the peer at {}",
                peer.connection,
                peer.url
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `rules check --round-trip`: the check, then each sample's round trips; fails when a field
/// does not settle or a call fails.
fn round_trip_check(
    json: bool,
    info: &twinsync::rules::RuleInfo,
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

/// The invitation code for `connection accept`: from a file, the command line (with a
/// warning), or standard input (prompting when it is a terminal).
fn invitation_code(arg: Option<String>, file: Option<&std::path::Path>) -> anyhow::Result<String> {
    use std::io::{IsTerminal, Read};
    // A code is a few hundred bytes; reading stops well past that.
    const MAX_CODE_BYTES: u64 = 64 << 10;
    let (text, from) = match (arg, file) {
        (Some(code), _) => {
            eprintln!(
                "warning: a code on the command line is visible to other users (ps) and stays \
                 in shell history; pipe it in instead: twinsync connection accept < code.txt"
            );
            (code, "the command line".to_string())
        }
        (None, Some(path)) => {
            let mut text = String::new();
            std::fs::File::open(path)
                .and_then(|f| f.take(MAX_CODE_BYTES).read_to_string(&mut text))
                .with_context(|| {
                    format!("cannot read the invitation code from {}", path.display())
                })?;
            (text, path.display().to_string())
        }
        (None, None) => {
            let stdin = std::io::stdin();
            let mut text = String::new();
            if stdin.is_terminal() {
                eprint!("paste the invitation code, then press Enter: ");
                stdin
                    .read_line(&mut text)
                    .context("cannot read the invitation code")?;
            } else {
                stdin
                    .lock()
                    .take(MAX_CODE_BYTES)
                    .read_to_string(&mut text)
                    .context("cannot read the invitation code from standard input")?;
            }
            (text, "standard input".to_string())
        }
    };
    let code = text.trim();
    if code.is_empty() {
        anyhow::bail!(
            "no invitation code in {from}: give it on standard input or with --code-file"
        );
    }
    Ok(code.to_string())
}

/// Prints an admin API answer as JSON or through `table`.
fn print_answer(
    json: bool,
    answer: &serde_json::Value,
    table: impl Fn(&serde_json::Value) -> String,
) {
    if json {
        out!(
            "{}",
            serde_json::to_string_pretty(answer).unwrap_or_else(|_| answer.to_string())
        );
    } else {
        out_raw!("{}", table(answer));
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("starting the async runtime")
}

#[cfg(feature = "sim")]
async fn demo(check: bool, opts: twinsync::demo::DemoOptions) -> anyhow::Result<ExitCode> {
    let demo = twinsync::demo::Demo::start(&opts).await?;
    demo.print_banner();
    if check {
        out!("Running the scripted scenario:");
        let result = demo.check().await;
        demo.stop().await;
        return match result {
            Ok(()) => {
                out!("demo check passed");
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("demo check FAILED: {e}");
                Ok(ExitCode::FAILURE)
            }
        };
    }
    out!("A first issue, to watch it go across:");
    if let Err(e) = demo.check().await {
        eprintln!("  the first sync did not go through: {e}");
    }
    out!();
    out!("Syncing live; press Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    demo.stop().await;
    Ok(ExitCode::SUCCESS)
}
