//! Detect: what puts an issue's change into the queue. Webhooks first; a JQL poller behind
//! them (webhooks get lost and arrive late); triggers; `twinsync sync` for one issue and
//! `twinsync bulk` for many.
//!
//! Detection only enqueues outgoing events. Duplicates are harmless: a waiting
//! outgoing event absorbs the next one, and an unchanged replica is never sent.

use std::sync::Arc;
use std::time::Duration;

use super::node::{Node, NodeError};
use super::side::{Side, SideError};
use crate::config::SyncMethod;
use crate::jira::webhook::WebhookError;
use crate::jira::{PageCursor, WebhookKind, webhook};
use crate::model::SyncCause;
use crate::stop::Stop;
use crate::store::{BulkRun, StoreError};

/// Why a change could not be detected or queued: a bad webhook, an unknown instance, Jira, the store or the node.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// A webhook the node cannot read.
    #[error("webhook for instance {instance}: {source}")]
    BadWebhook {
        /// The instance it claims to come from.
        instance: String,
        /// What is wrong with it.
        #[source]
        source: WebhookError,
    },
    /// A webhook for an instance the config does not name.
    #[error("webhook for unknown instance {0:?}")]
    UnknownInstance(String),
    /// A side's Jira work failed.
    #[error(transparent)]
    Jira(#[from] SideError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The node could not be built.
    #[error(transparent)]
    Node(#[from] Box<NodeError>),
    /// The side's direction is disabled: nothing crosses it, not even on request.
    #[error(
        "connection {connection:?}: the sync method of side {side:?} is disabled; enable it first"
    )]
    Disabled {
        /// The connection.
        connection: String,
        /// The side whose outgoing direction is disabled.
        side: String,
    },
}

/// Quotes a value for JQL.
fn jql_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Whether `key` matches the side's trigger (one search call).
async fn matches_trigger(side: &Side, key: &str) -> Result<bool, DetectError> {
    let Some(trigger) = &side.trigger else {
        return Ok(false);
    };
    let jql = format!("({trigger}) AND key = {}", jql_quote(key));
    let (issues, _, _) = side.jira.search_keys(&jql, &PageCursor::Start, 1).await?;
    Ok(!issues.is_empty())
}

/// Triggers tested together in one search, to keep its URL well under Jira's limits.
const TRIGGERS_PER_SEARCH: usize = 20;

/// Whether `key` matches any trigger of `sides` (all on one instance), with one search per
/// group of triggers: most changes match none, and many connections on one project would
/// otherwise cost a search each.
async fn any_trigger_matches(sides: &[&Arc<Side>], key: &str) -> Result<bool, DetectError> {
    for group in sides.chunks(TRIGGERS_PER_SEARCH) {
        let any = group
            .iter()
            .filter_map(|s| s.trigger.as_deref())
            .map(|t| format!("({t})"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let jql = format!("key = {} AND ({any})", jql_quote(key));
        let (issues, _, _) = group[0]
            .jira
            .search_keys(&jql, &PageCursor::Start, 1)
            .await?;
        if !issues.is_empty() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Enqueues `key` on each of `sides` (one instance, one project) where it is under sync
/// or where the side's trigger now matches it; returns how many queued it.
async fn consider(
    node: &Node,
    sides: &[Arc<Side>],
    key: &str,
    cause: SyncCause,
) -> Result<usize, DetectError> {
    let mut queued = 0;
    let mut untwinned = Vec::new();
    // Only an automatic direction sends what webhooks and triggers find.
    for side in sides.iter().filter(|s| s.sync == SyncMethod::Automatic) {
        let twinned = node
            .store
            .twin_by_local(&side.connection, &side.name, key)?
            .is_some();
        if twinned {
            node.pipeline.enqueue_outgoing(side, key, cause)?;
            queued += 1;
        } else if side.trigger.is_some()
            && cause != SyncCause::Deleted
            && node
                .store
                .twin_end(&side.connection, &side.name, key)?
                .is_none()
        {
            // An issue whose twin ended (its other half deleted) is not new: no trigger takes it again.
            untwinned.push(side);
        }
    }
    if untwinned.len() > 1 && !any_trigger_matches(&untwinned, key).await? {
        return Ok(queued);
    }
    for side in untwinned {
        if matches_trigger(side, key).await? {
            node.pipeline.enqueue_outgoing(side, key, cause)?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// The changelog field of a remote issue link's creation or deletion.
const REMOTE_LINK_FIELD: &str = "RemoteIssueLink";

/// Handles a webhook body from `instance`; returns how many sides queued the issue.
pub(crate) async fn on_webhook(
    node: &Node,
    instance: &str,
    body: &[u8],
) -> Result<usize, DetectError> {
    if node.client(instance).is_none() {
        return Err(DetectError::UnknownInstance(instance.to_string()));
    }
    let event = webhook::parse(body).map_err(|source| DetectError::BadWebhook {
        instance: instance.to_string(),
        source,
    })?;
    let Some(key) = event.issue_key.clone() else {
        return Ok(0);
    };
    // Remote links never reach a rule: a change to them alone (the node's own sync status
    // links among them) has nothing to send.
    if matches!(event.kind, WebhookKind::IssueUpdated)
        && !event.changes.is_empty()
        && event
            .changes
            .iter()
            .all(|c| c.field.eq_ignore_ascii_case(REMOTE_LINK_FIELD))
    {
        return Ok(0);
    }
    let cause = match event.kind {
        WebhookKind::IssueCreated => SyncCause::Created,
        // Only a twinned issue's deletion crosses; the other side's rule says what follows.
        WebhookKind::IssueDeleted => SyncCause::Deleted,
        _ => SyncCause::Updated,
    };
    let project = key
        .rsplit_once('-')
        .map_or(key.as_str(), |(p, _)| p)
        .to_string();
    let sides: Vec<Arc<Side>> = node
        .pipeline
        .sides()
        .into_iter()
        .filter(|s| s.instance == instance && s.project.eq_ignore_ascii_case(&project))
        .collect();
    let queued = consider(node, &sides, &key, cause).await?;
    tracing::debug!(instance, key = %key, kind = ?event.kind, queued, "webhook");
    Ok(queued)
}

/// Minutes of overlap between polls: JQL dates have minute precision and clocks drift.
const POLL_OVERLAP_MINUTES: i64 = 2;

/// One poll of one side: issues updated since the watermark that are under sync or match the
/// trigger. A manual or disabled direction polls nothing.
pub async fn poll_side(node: &Node, side: &Arc<Side>) -> Result<usize, DetectError> {
    let now = crate::store::now_ms();
    if side.sync != SyncMethod::Automatic {
        node.store
            .set_watermark(&side.connection, &side.name, "poll", &now.to_string())?;
        return Ok(0);
    }
    let since = node
        .store
        .watermark(&side.connection, &side.name, "poll")?
        .and_then(|w| w.parse::<i64>().ok())
        .unwrap_or(now - 60 * 60_000);
    let queued = queue_changed_since(node, side, since, now, SyncCause::Updated).await?;
    node.store
        .set_watermark(&side.connection, &side.name, "poll", &now.to_string())?;
    Ok(queued)
}

/// Where the store keeps when a side's direction was disabled, for its catch-up.
pub(crate) const DISABLED_SINCE: &str = "disabled-since";

/// After a disabled direction is enabled again, at the admin's request: queues every issue
/// of the side changed since it was disabled (twinned, or matching the trigger of an
/// automatic side), so what changed meanwhile crosses now. Returns how many were queued.
pub async fn catch_up(node: &Node, side: &Arc<Side>) -> Result<usize, DetectError> {
    if side.sync == SyncMethod::Disabled {
        return Err(DetectError::Disabled {
            connection: side.connection.clone(),
            side: side.name.clone(),
        });
    }
    let Some(since) = node
        .store
        .watermark(&side.connection, &side.name, DISABLED_SINCE)?
        .and_then(|w| w.parse::<i64>().ok())
    else {
        return Ok(0);
    };
    let now = crate::store::now_ms();
    let queued = queue_changed_since(node, side, since, now, SyncCause::Manual).await?;
    node.store
        .remove_watermark(&side.connection, &side.name, DISABLED_SINCE)?;
    tracing::info!(connection = %side.connection, side = %side.name, queued,
        "catch-up queued what changed while the direction was disabled");
    Ok(queued)
}

/// Queues the side's issues updated since `since` (ms) that are under sync, or that its
/// trigger matches when the side is automatic; returns how many were queued.
async fn queue_changed_since(
    node: &Node,
    side: &Arc<Side>,
    since: i64,
    now: i64,
    cause: SyncCause,
) -> Result<usize, DetectError> {
    // Relative dates avoid the time zone JQL would read an absolute date in.
    let minutes = ((now - since) / 60_000 + POLL_OVERLAP_MINUTES).max(1);
    let recent = format!("updated >= -{minutes}m");
    let mut queued = 0;
    // A twin whose issue has not changed since the node last sent it, or last found nothing
    // to send (its own writes included), needs no event: the overlap window finds the same
    // issues poll after poll.
    let unchanged = |twin: &crate::store::Twin, updated: &str| {
        !updated.is_empty()
            && (twin.sent_updated.as_deref() == Some(updated)
                || twin.seen_updated.as_deref() == Some(updated))
    };
    // Issues under sync: every recent change of the project, kept if twinned.
    let project_jql = format!("project = {} AND {recent}", jql_quote(&side.project));
    for (key, updated) in search_all_keys(side, &project_jql).await? {
        let Some(twin) = node
            .store
            .twin_by_local(&side.connection, &side.name, &key)?
        else {
            continue;
        };
        if !unchanged(&twin, &updated)
            && node.pipeline.enqueue_outgoing(side, &key, cause)?.is_some()
        {
            queued += 1;
        }
    }
    // Issues the trigger matches now, twinned or not.
    if let Some(trigger) = side
        .trigger
        .as_ref()
        .filter(|_| side.sync == SyncMethod::Automatic)
    {
        let trigger_jql = format!("({trigger}) AND {recent}");
        for (key, updated) in search_all_keys(side, &trigger_jql).await? {
            let twin = node
                .store
                .twin_by_local(&side.connection, &side.name, &key)?;
            if !twin.is_some_and(|t| unchanged(&t, &updated))
                && node
                    .pipeline
                    .enqueue_outgoing(side, &key, SyncCause::Trigger)?
                    .is_some()
            {
                queued += 1;
            }
        }
    }
    Ok(queued)
}

/// Every issue `jql` matches, as its key and its `updated` time.
async fn search_all_keys(side: &Side, jql: &str) -> Result<Vec<(String, String)>, DetectError> {
    let mut cursor = PageCursor::Start;
    let mut keys = Vec::new();
    loop {
        let (issues, next, _) = side.jira.search_keys(jql, &cursor, 100).await?;
        keys.extend(issues.into_iter().map(|i| (i.key, i.updated)));
        match next {
            Some(n) => cursor = n,
            None => return Ok(keys),
        }
    }
}

/// Polls every side every `interval` until `stop`; a failed poll is logged and tried next time.
pub(crate) async fn run_poller(node: Arc<Node>, interval: Duration, mut stop: Stop) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.stopped() => return,
        }
        let sides: Vec<Arc<Side>> = node.pipeline.sides();
        for side in sides {
            match poll_side(&node, &side).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(connection = %side.connection, side = %side.name, queued = n, "poll found changes")
                }
                Err(e) => {
                    tracing::warn!(connection = %side.connection, side = %side.name, error = %e, "poll failed; trying again next time")
                }
            }
        }
    }
}

/// `twinsync sync KEY -C NAME`: puts one issue under sync now, trigger or not.
pub fn sync_one(node: &Node, connection: &str, key: &str) -> Result<Option<i64>, DetectError> {
    let side = node.side_for_key(connection, key)?;
    if side.sync == SyncMethod::Disabled {
        return Err(DetectError::Disabled {
            connection: side.connection.clone(),
            side: side.name.clone(),
        });
    }
    node.store.ensure_twin(&side.connection, &side.name, key)?;
    Ok(node
        .pipeline
        .enqueue_outgoing(&side, key, SyncCause::Manual)?)
}

/// `twinsync bulk`: queues every issue matching `jql` on `side`, page by page, resumable:
/// the cursor is saved after each page, so a killed run goes on where it stopped.
pub async fn bulk(
    node: &Node,
    side: &Arc<Side>,
    jql: &str,
    mut progress: impl FnMut(&BulkRun),
) -> Result<BulkRun, DetectError> {
    if side.sync == SyncMethod::Disabled {
        return Err(DetectError::Disabled {
            connection: side.connection.clone(),
            side: side.name.clone(),
        });
    }
    let mut run = node.store.bulk_run(&side.connection, &side.name, jql)?;
    let mut cursor = match run.cursor.as_deref() {
        Some(c) => serde_json::from_str::<CursorState>(c)
            .map(CursorState::into_cursor)
            .unwrap_or(PageCursor::Start),
        None => PageCursor::Start,
    };
    progress(&run);
    let mut side = side.clone();
    loop {
        // A change of setup meanwhile: go on with the side as it is now, or end with it.
        side = match node.pipeline.side(&side.connection, &side.name) {
            Some(now) if now.sync != SyncMethod::Disabled => now,
            Some(_) => {
                return Err(DetectError::Disabled {
                    connection: side.connection.clone(),
                    side: side.name.clone(),
                });
            }
            None => {
                return Err(DetectError::Node(Box::new(NodeError::Other(format!(
                    "connection {:?} no longer has side {:?}; the bulk run ends",
                    side.connection, side.name
                )))));
            }
        };
        let (issues, next, total) = side.jira.search_keys(jql, &cursor, 50).await?;
        if total.is_some() {
            run.total = total.map(|t| t as i64);
        }
        for issue in &issues {
            node.store
                .ensure_twin(&side.connection, &side.name, &issue.key)?;
            node.pipeline
                .enqueue_outgoing(&side, &issue.key, SyncCause::Bulk)?;
            run.queued += 1;
        }
        match next {
            Some(n) => {
                run.cursor = serde_json::to_string(&CursorState::from(&n)).ok();
                cursor = n;
                node.store.update_bulk_run(&run)?;
                progress(&run);
            }
            None => {
                run.done = true;
                run.total = Some(run.queued);
                node.store.update_bulk_run(&run)?;
                progress(&run);
                return Ok(run);
            }
        }
    }
}

/// Runs a bulk sync in the background (the admin page's "Bulk sync" on a trigger): its
/// progress is in the store as it goes, it ends at the node's stop, and a restart resumes it.
pub(crate) fn spawn_bulk(node: Arc<Node>, side: Arc<Side>, jql: String) {
    let Ok(run) = node.store.bulk_run(&side.connection, &side.name, &jql) else {
        tracing::error!(connection = %side.connection, side = %side.name, "cannot record the bulk run");
        return;
    };
    if !node.bulk_started(run.id) {
        return;
    }
    tokio::spawn(async move {
        let mut stop = node.stop_signal();
        let outcome = tokio::select! {
            r = bulk(&node, &side, &jql, |_| {}) => Some(r),
            _ = stop.stopped() => None,
        };
        node.bulk_ended(run.id);
        match outcome {
            Some(Ok(run)) => tracing::info!(connection = %side.connection, side = %side.name,
                queued = run.queued, "bulk sync queued every matching issue"),
            Some(Err(e)) => tracing::error!(connection = %side.connection, side = %side.name,
                error = %e, "bulk sync stopped; it resumes at the next start"),
            None => tracing::info!(connection = %side.connection, side = %side.name,
                "bulk sync paused by the node's stop; it resumes at the next start"),
        }
    });
}

/// Resumes the bulk runs a stop or crash left unfinished, for sides the node still has.
pub(crate) fn resume_bulk(node: &Arc<Node>) {
    let runs = match node.store.bulk_runs(None, 1000) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot read unfinished bulk runs");
            return;
        }
    };
    for (run, _, _) in runs.into_iter().filter(|(r, _, _)| !r.done) {
        if let Some(side) = node.pipeline.side(&run.connection, &run.side) {
            tracing::info!(connection = %run.connection, side = %run.side, queued = run.queued,
                "resuming a bulk sync");
            spawn_bulk(node.clone(), side, run.jql.clone());
        }
    }
}

/// A page cursor as saved in the store.
#[derive(serde::Serialize, serde::Deserialize)]
enum CursorState {
    Token(String),
    Offset(u64),
    Start,
}

impl From<&PageCursor> for CursorState {
    fn from(c: &PageCursor) -> Self {
        match c {
            PageCursor::Token(t) => CursorState::Token(t.clone()),
            PageCursor::Offset(o) => CursorState::Offset(*o),
            PageCursor::Start => CursorState::Start,
        }
    }
}

impl CursorState {
    fn into_cursor(self) -> PageCursor {
        match self {
            CursorState::Token(t) => PageCursor::Token(t),
            CursorState::Offset(o) => PageCursor::Offset(o),
            CursorState::Start => PageCursor::Start,
        }
    }
}

impl From<NodeError> for DetectError {
    fn from(e: NodeError) -> Self {
        DetectError::Node(Box::new(e))
    }
}
