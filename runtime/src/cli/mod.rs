//! The binary's side of `twinsync`: the command line's shape, the admin API client, the
//! commands and the demo. The library does the work; this turns arguments into its calls.

#[macro_use]
mod output;
pub(crate) mod admin_client;
pub(crate) mod args;
mod commands;
#[cfg(feature = "sim")]
mod demo;
mod tables;

use std::process::ExitCode;

use anyhow::Context as _;

use args::{Cli, Command};
use commands::{connect, connection, rules, status, sync};

/// Runs the parsed command; the exit code says whether it succeeded.
pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Rules(command) => rules::run(command),
        Command::Connection(command) => connection::run(command),
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
        } => runtime()?.block_on(demo::run(
            check,
            demo::DemoOptions {
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
            runtime()?.block_on(twinsync::daemon::serve(config.as_deref()))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Config(args::ConfigCommand::Export { config }) => {
            let config = twinsync::config::NodeConfig::load(&config)?;
            out!("{}", twinsync::setup::export_node(&config)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Sync {
            key,
            connection,
            config,
        } => sync::sync(&config, &connection, &key),
        Command::Bulk {
            connection,
            side,
            jql,
            config,
        } => sync::bulk(&config, &connection, side.as_deref(), jql.as_deref()),
        Command::Connect {
            connection,
            jql,
            match_by,
            yes,
            approve,
            json,
            config,
        } => connect::connect(
            &config,
            &connection,
            &jql,
            &match_by,
            connect::Approval::of(yes, approve.as_deref()),
            json,
        ),
        Command::Status { json, node } => status::status(json, &node),
        Command::Errors {
            connection,
            limit,
            json,
            node,
        } => status::errors(connection.as_deref(), limit, json, &node),
        Command::Retry { event, json, node } => status::retry(event, json, &node),
    }
}

/// A runtime for one command's async work.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("starting the async runtime")
}
