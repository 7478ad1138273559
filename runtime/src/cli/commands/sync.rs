//! `twinsync sync KEY` and `twinsync bulk`: put issues under sync by writing to the node's
//! store, without a running node. The store is SQLite in WAL mode, so these work while the
//! node runs; its workers see the change within a second.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use twinsync::config::NodeConfig;
use twinsync::store::BulkRun;
use twinsync::sync::detect;
use twinsync::sync::node::Node;

/// `twinsync sync KEY -C NAME`.
pub(crate) fn sync(config_path: &Path, connection: &str, key: &str) -> anyhow::Result<ExitCode> {
    let node = Node::build(NodeConfig::load(config_path)?)?;
    match detect::sync_one(&node, connection, key)? {
        Some(id) => out!("{key} queued for sync on {connection} (event {id})"),
        None => out!("{key} was already queued on {connection}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `twinsync bulk -C NAME [--side S] [--jql Q]`, with a progress bar.
pub(crate) fn bulk(
    config_path: &Path,
    connection: &str,
    side: Option<&str>,
    jql: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} issues queued {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let run = super::super::runtime()?.block_on(queue_matching(
        config_path,
        connection,
        side,
        jql,
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

/// Queues every issue of one side that `jql` matches (default: the side with a trigger, and
/// its trigger, else its whole project); `progress` sees the run after each page.
async fn queue_matching(
    config_path: &Path,
    connection: &str,
    side: Option<&str>,
    jql: Option<&str>,
    progress: impl FnMut(&BulkRun),
) -> anyhow::Result<BulkRun> {
    let node: Arc<Node> = Node::build(NodeConfig::load(config_path)?)?;
    let sides: Vec<_> = node
        .pipeline
        .sides()
        .into_iter()
        .filter(|s| s.connection == connection)
        .collect();
    let Some(first) = sides.first() else {
        anyhow::bail!("no connection named {connection:?}");
    };
    let side = match side {
        Some(name) => sides
            .iter()
            .find(|s| s.name == name)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("connection {connection:?} has no side {name:?}"))?,
        // Default: the side with a trigger, else the first.
        None => sides
            .iter()
            .find(|s| s.trigger.is_some())
            .unwrap_or(first)
            .clone(),
    };
    let jql = match (jql, &side.trigger) {
        (Some(q), _) => q.to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => format!("project = \"{}\"", side.project),
    };
    Ok(detect::bulk(&node, &side, &jql, progress).await?)
}
