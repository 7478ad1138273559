//! `twinsync status`, `errors` and `retry`: ask the running node's admin API about its
//! connections and failed sync events.

use std::process::ExitCode;

use crate::cli::args::NodeArgs;
use crate::cli::output::print_answer;
use crate::cli::{runtime, tables};

/// `twinsync status`: connections, queues, twins, last sync and rule versions.
pub(crate) fn status(json: bool, node: &NodeArgs) -> anyhow::Result<ExitCode> {
    let status = runtime()?.block_on(node.client()?.status())?;
    print_answer(json, &status, tables::status_table);
    Ok(ExitCode::SUCCESS)
}

/// `twinsync errors`: failed sync events, newest first.
pub(crate) fn errors(
    connection: Option<&str>,
    limit: i64,
    json: bool,
    node: &NodeArgs,
) -> anyhow::Result<ExitCode> {
    let events = runtime()?.block_on(node.client()?.errors(connection, limit))?;
    print_answer(json, &events, tables::errors_table);
    Ok(ExitCode::SUCCESS)
}

/// `twinsync retry EVENT`: queues a failed sync event again.
pub(crate) fn retry(event: i64, json: bool, node: &NodeArgs) -> anyhow::Result<ExitCode> {
    let answer = runtime()?.block_on(node.client()?.retry(event))?;
    print_answer(json, &answer, |_| format!("event {event} queued again\n"));
    Ok(ExitCode::SUCCESS)
}
