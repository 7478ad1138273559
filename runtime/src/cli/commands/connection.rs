//! `twinsync connection …`: list, pause and resume connections through the running node's
//! admin API; `invite` and `accept` pair a remote connection (`pairing`).

use std::process::ExitCode;

use super::pairing;
use crate::cli::args::ConnectionCommand;
use crate::cli::output::print_answer;
use crate::cli::{runtime, tables};

/// Runs one `twinsync connection …` command.
pub(crate) fn run(command: ConnectionCommand) -> anyhow::Result<ExitCode> {
    match command {
        ConnectionCommand::List { json, node } => {
            let status = runtime()?.block_on(node.client()?.status())?;
            print_answer(json, &status, tables::connections_table);
        }
        ConnectionCommand::Pause { name, json, node } => {
            let answer = runtime()?.block_on(node.client()?.set_paused(&name, true))?;
            print_answer(json, &answer, |_| {
                format!(
                    "{name} paused: changes queue up until `twinsync connection resume {name}`\n"
                )
            });
        }
        ConnectionCommand::Resume { name, json, node } => {
            let answer = runtime()?.block_on(node.client()?.set_paused(&name, false))?;
            print_answer(json, &answer, |_| format!("{name} resumed\n"));
        }
        ConnectionCommand::Invite {
            connection,
            expires_in_minutes,
            config,
        } => pairing::invite(&config, &connection, expires_in_minutes)?,
        ConnectionCommand::Accept {
            code_file,
            code,
            config,
        } => pairing::accept(&config, code, code_file.as_deref())?,
    }
    Ok(ExitCode::SUCCESS)
}
