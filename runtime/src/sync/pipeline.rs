//! The pipeline's workers: take one sync event at a time per issue, run the side's rule, and
//! either hand the replica across or reconcile the local twin.
//!
//! Outgoing: read the issue, run the outgoing rule, and send the replica only if
//! it differs from the last one sent (echo suppression). Incoming: run the
//! incoming rule on the replica and the local twin, plan the fewest changes,
//! apply them, record what was applied, and tell the sending side the twin's key
//! and the ids of what was copied. Every step is recorded in the store first, so
//! a crash resumes without losing or duplicating anything.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tracing::Instrument;

use super::envelope::{Envelope, local_wins, replica_hash};
use super::reconcile::{self, AttachmentOp, CommentOp, Plan};
use super::side::{LocalIssue, Side, SideError, TwinOrigin};
use super::workflow::{MAX_STEPS, Step, WorkflowGraph};
use crate::model::{Changes, Issue, Replica, SyncContext, SyncEvent};
use crate::rules::{CallError, CallReport};
use crate::store::{
    Event, EventKind, EventState, ItemKind, ItemMapping, NewEvent, Origin, Store, StoreError, Twin,
};

/// Why an event did not finish, and what the queue does about it.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Try again later (Jira 5xx/429 after the client's own retries, a network fault).
    #[error("{0}")]
    Transient(String),
    /// An admin must look (a Jira 4xx, bad data): the issue waits for `retry`.
    #[error("{0}")]
    Permanent(String),
    /// The rule failed (`fail`, a trap, a limit): the issue waits for `retry` after a fix.
    #[error("{message}")]
    Rule { message: String, version: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SideError> for EventError {
    fn from(e: SideError) -> Self {
        if e.transient {
            EventError::Transient(e.message)
        } else {
            EventError::Permanent(e.message)
        }
    }
}

/// How an event ended when it did not fail.
#[derive(Debug)]
pub struct Finished {
    pub state: EventState,
    pub rule_version: Option<String>,
    pub note: Option<String>,
}

/// The node's sides by (connection, side), and what the workers share.
pub struct Pipeline {
    pub store: Arc<Store>,
    sides: HashMap<(String, String), Arc<Side>>,
    workflow: WorkflowGraph,
    /// Wakes idle workers when an event is enqueued.
    pub wake: Notify,
    /// Links to peer nodes: the transport of remote connections.
    pub(super) peers: Option<Arc<crate::peer::link::PeerLinks>>,
}

/// Retries a new sub-task waits for its parent's twin before it is created without the link.
const PARENT_WAIT_ATTEMPTS: i64 = 5;

/// Backoff for transient faults: 1 s, 2 s, 4 s ... capped at 5 minutes.
fn backoff_ms(attempts: i64) -> i64 {
    let exp = attempts.clamp(1, 9) - 1;
    (1000_i64 << exp).min(300_000)
}

impl Pipeline {
    pub fn new(store: Arc<Store>, sides: Vec<Arc<Side>>) -> Self {
        Pipeline {
            store,
            sides: sides
                .into_iter()
                .map(|s| ((s.connection.clone(), s.name.clone()), s))
                .collect(),
            workflow: WorkflowGraph::default(),
            wake: Notify::new(),
            peers: None,
        }
    }

    /// Remote connections reach their other side through these links.
    pub fn with_peers(mut self, peers: Arc<crate::peer::link::PeerLinks>) -> Self {
        self.peers = Some(peers);
        self
    }

    pub fn side(&self, connection: &str, side: &str) -> Option<&Arc<Side>> {
        self.sides.get(&(connection.to_string(), side.to_string()))
    }

    pub fn sides(&self) -> impl Iterator<Item = &Arc<Side>> {
        self.sides.values()
    }

    /// Puts an issue of a side under sync now: an outgoing event.
    pub fn enqueue_outgoing(
        &self,
        side: &Side,
        key: &str,
        cause: SyncEvent,
    ) -> Result<Option<i64>, StoreError> {
        let id = self.store.enqueue(&NewEvent {
            connection: side.connection.clone(),
            side: side.name.clone(),
            kind: EventKind::Outgoing,
            queue_key: key.to_string(),
            cause: cause_name(cause).into(),
            payload: None,
        })?;
        self.wake.notify_waiters();
        Ok(id)
    }

    /// Runs `workers` workers until `shutdown` resolves; events finish or stay queued.
    pub async fn run(self: Arc<Self>, workers: usize, shutdown: Arc<Notify>) {
        let mut tasks = Vec::new();
        for n in 0..workers {
            let me = self.clone();
            let shutdown = shutdown.clone();
            tasks.push(tokio::spawn(async move {
                tokio::select! {
                    _ = me.worker(n) => {}
                    _ = shutdown.notified() => {}
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
    }

    async fn worker(&self, n: usize) {
        loop {
            let claimed = self.store.claim_next();
            match claimed {
                Ok(Some(event)) => self.run_event(event).await,
                Ok(None) => {
                    let wait = match self.store.next_due() {
                        Ok(Some(due)) => (due - crate::store::now_ms()).clamp(10, 1000) as u64,
                        _ => 1000,
                    };
                    // Woken early by an enqueue; otherwise re-check for due retries.
                    let _ = tokio::time::timeout(Duration::from_millis(wait), self.wake.notified())
                        .await;
                }
                Err(e) => {
                    tracing::error!(worker = n, error = %e, "cannot read the event queue");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Handles one claimed event and records how it ended.
    pub async fn run_event(&self, event: Event) {
        let span = tracing::info_span!("event", id = event.id, connection = %event.connection,
            side = %event.side, kind = ?event.kind, key = %event.queue_key);
        let result = async {
            match event.kind {
                EventKind::Outgoing => self.outgoing(&event).await,
                EventKind::Incoming => self.incoming(&event).await,
            }
        }
        .instrument(span.clone())
        .await;
        let _enter = span.enter();
        let recorded = match result {
            Ok(done) => {
                tracing::debug!(state = done.state.as_str(), note = ?done.note, "event finished");
                self.store.complete(
                    event.id,
                    done.state,
                    done.rule_version.as_deref(),
                    done.note.as_deref(),
                )
            }
            Err(EventError::Transient(msg)) => {
                let delay = backoff_ms(event.attempts);
                tracing::warn!(error = %msg, retry_in_ms = delay, "transient fault; will retry");
                self.store.retry_later(event.id, delay, &msg, None)
            }
            Err(EventError::Permanent(msg)) => {
                tracing::error!(error = %msg, "sync event failed; the issue waits for `twinsync retry`");
                self.store.fail(event.id, &msg, None)
            }
            Err(EventError::Rule { message, version }) => {
                tracing::error!(error = %message, rule_version = %version, "rule failed; the issue waits for `twinsync retry`");
                self.store.fail(event.id, &message, Some(&version))
            }
            Err(EventError::Store(e)) => {
                tracing::error!(error = %e, "store error; will retry");
                self.store
                    .retry_later(event.id, backoff_ms(event.attempts), &e.to_string(), None)
            }
        };
        if let Err(e) = recorded {
            tracing::error!(error = %e, "cannot record the end of the event; it will run again");
        }
    }

    fn side_of(&self, event: &Event) -> Result<Arc<Side>, EventError> {
        self.side(&event.connection, &event.side)
            .cloned()
            .ok_or_else(|| {
                EventError::Permanent(format!(
                    "connection {:?} has no side {:?} on this node (removed from the config?)",
                    event.connection, event.side
                ))
            })
    }

    /// Runs a rule call off the async runtime and turns its outcome into the event's result.
    async fn call_rule<T: Send + 'static>(
        side: &Side,
        call: impl FnOnce(&crate::rules::LoadedRule) -> CallReport<T> + Send + 'static,
    ) -> Result<(T, String), Result<Finished, EventError>> {
        let rule = side
            .slot
            .current()
            .map_err(|e| Err(EventError::Permanent(e.to_string())))?;
        let report = tokio::task::spawn_blocking(move || call(&rule))
            .await
            .map_err(|e| Err(EventError::Transient(format!("rule call aborted: {e}"))))?;
        for line in &report.logs {
            tracing::info!(rule = %report.rule, level = line.level, "rule log: {}", line.message);
        }
        side.slot.record_logs(report.rule.version(), &report.logs);
        let version = report.rule.version().to_string();
        match report.result {
            Ok(v) => Ok((v, version)),
            Err(CallError::Skip { reason, .. }) => Err(Ok(Finished {
                state: EventState::Skipped,
                rule_version: Some(version),
                note: Some(reason),
            })),
            Err(e) => Err(Err(EventError::Rule {
                message: format!("connection {}, side {}: {e}", side.connection, side.name),
                version,
            })),
        }
    }

    async fn outgoing(&self, event: &Event) -> Result<Finished, EventError> {
        let side = self.side_of(event)?;
        let key = event.queue_key.clone();
        let Some(LocalIssue { issue, .. }) = side.jira.get_issue(&key).await? else {
            return Ok(Finished {
                state: EventState::Done,
                rule_version: None,
                note: Some(format!("{key} no longer exists on {}", side.instance)),
            });
        };
        let twin = self
            .store
            .twin_by_local(&side.connection, &side.name, &key)?;
        let ctx = SyncContext {
            connection: side.connection.clone(),
            local_side: side.name.clone(),
            remote_side: side.other.clone(),
            first_sync: twin.as_ref().and_then(|t| t.remote_key.as_ref()).is_none(),
            local_key: Some(key.clone()),
            remote_key: twin.as_ref().and_then(|t| t.remote_key.clone()),
            event: cause_event(&event.cause),
        };
        let (limits, config) = (side.limits, side.config.clone());
        let updated = issue.updated.clone();
        let (replica, version) =
            match Self::call_rule(&side, move |r| r.outgoing(issue, ctx, &limits, &config)).await {
                Ok(v) => v,
                Err(end) => return end,
            };
        let hash = replica_hash(&replica);
        if twin.as_ref().and_then(|t| t.sent_hash.as_deref()) == Some(hash.as_str()) {
            return Ok(Finished {
                state: EventState::Done,
                rule_version: Some(version),
                note: Some("nothing the rule exports changed; nothing sent".into()),
            });
        }
        let previous = twin
            .as_ref()
            .and_then(|t| t.sent_replica.as_deref())
            .and_then(|j| serde_json::from_str::<Envelope>(j).ok());
        let fields_changed =
            previous.is_none_or(|p| fields_only(&p.replica) != fields_only(&replica));
        let envelope = Envelope {
            origin_side: side.name.clone(),
            origin_key: key.clone(),
            replica,
            seq: twin.as_ref().map_or(0, |t| t.sent_seq) + 1,
            ack: twin.as_ref().map_or(0, |t| t.applied_seq),
            updated,
            fields_changed,
        };
        // Deliver before recording "sent": a crash in between re-sends (harmless), never loses.
        self.deliver(&side, &envelope)?;
        self.store.ensure_twin(&side.connection, &side.name, &key)?;
        self.store.record_sent(
            &side.connection,
            &side.name,
            &key,
            &hash,
            &envelope.to_json(),
            Some((envelope.seq, &envelope.updated, envelope.fields_changed)),
        )?;
        Ok(Finished {
            state: EventState::Done,
            rule_version: Some(version),
            note: None,
        })
    }

    /// The in-process transport of a local connection: the replica becomes an incoming event
    /// of the other side. A remote connection queues it for the peer instead.
    fn deliver(&self, side: &Side, envelope: &Envelope) -> Result<(), EventError> {
        if let Some(peers) = self.peer_links(&side.connection) {
            return self.deliver_to_peer(peers, side, envelope);
        }
        let other = self.side(&side.connection, &side.other).ok_or_else(|| {
            EventError::Permanent(format!(
                "connection {:?}: the other side {:?} is not on this node",
                side.connection, side.other
            ))
        })?;
        self.receive(other, envelope)
    }

    /// A replica arrived for `other`: it becomes an incoming event of that side.
    pub fn receive(&self, other: &Side, envelope: &Envelope) -> Result<(), EventError> {
        // The receiving side orders by its local twin when it has one, else by the remote key.
        let queue_key =
            match self
                .store
                .twin_by_remote(&other.connection, &other.name, &envelope.origin_key)?
            {
                Some(t) => t.local_key,
                None => format!("remote:{}", envelope.origin_key),
            };
        self.store.enqueue(&NewEvent {
            connection: other.connection.clone(),
            side: other.name.clone(),
            kind: EventKind::Incoming,
            queue_key,
            cause: "replica".into(),
            payload: Some(envelope.to_json()),
        })?;
        self.wake.notify_waiters();
        Ok(())
    }

    async fn incoming(&self, event: &Event) -> Result<Finished, EventError> {
        let side = self.side_of(event)?;
        let envelope: Envelope = serde_json::from_str(event.payload.as_deref().unwrap_or(""))
            .map_err(|e| {
                EventError::Permanent(format!("unreadable replica in event {}: {e}", event.id))
            })?;
        let hash = replica_hash(&envelope.replica);
        let twin = self
            .store
            .twin_by_remote(&side.connection, &side.name, &envelope.origin_key)?;
        // A redelivery carries a sequence number already seen. (An equal hash alone is not
        // enough: an issue may return to an earlier state, and that must cross too.)
        let seen = twin.as_ref().is_some_and(|t| {
            envelope.seq > 0 && envelope.seq <= t.applied_seq
                || envelope.seq == 0 && t.applied_hash.as_deref() == Some(hash.as_str())
        });
        if seen {
            return Ok(Finished {
                state: EventState::Done,
                rule_version: None,
                note: Some("replica already applied".into()),
            });
        }
        let local = match &twin {
            Some(t) => side.jira.get_issue(&t.local_key).await?,
            None => self.find_unfinished_creation(&side, &envelope).await?,
        };
        let (mut unsent, mut take_fields) = (false, true);
        if let (Some(twin), Some(current)) = (&twin, &local) {
            let verdict = self
                .concurrent_edit(&side, twin, current, &envelope)
                .await?;
            (unsent, take_fields) = (verdict.unsent, verdict.fields);
        }
        let local_key = local.as_ref().map(|l| l.issue.key.clone());
        let ctx = SyncContext {
            connection: side.connection.clone(),
            local_side: side.name.clone(),
            remote_side: side.other.clone(),
            first_sync: local.is_none(),
            local_key: local_key.clone(),
            remote_key: Some(envelope.origin_key.clone()),
            event: SyncEvent::Replica,
        };
        let (limits, config) = (side.limits, side.config.clone());
        let replica = envelope.replica.clone();
        let local_issue = local.as_ref().map(|l| l.issue.clone());
        let (changes, version) = match Self::call_rule(&side, move |r| {
            r.incoming(replica, local_issue, ctx, &limits, &config)
        })
        .await
        {
            Ok(v) => v,
            Err(end) => return end,
        };
        // Their fields are stale copies of a concurrent edit here: take only their comment and attachment sets.
        let changes = if take_fields {
            changes
        } else {
            sets_only(changes)
        };
        let changes = self.link_parent(&side, changes, local.is_none(), event.attempts)?;
        // A retried event may have reached Jira before the node stopped (or Jira failed after
        // handling a request): copies it made then are adopted, not made again.
        let retried = event.attempts > 1;
        let (key, plan) = self
            .apply(&side, &envelope, &changes, local.as_ref(), retried)
            .await?;
        self.store.record_applied(
            &side.connection,
            &side.name,
            &key,
            &hash,
            &envelope.to_json(),
        )?;
        self.store
            .record_seen(&side.connection, &side.name, &key, envelope.seq)?;
        if unsent {
            // Local changes not yet sent (a lost webhook, a comment): send the merged state.
            self.enqueue_outgoing(&side, &key, SyncEvent::Updated)?;
        } else if !plan.is_empty() {
            self.suppress_echo(&side, &key, local.as_ref().map(|l| &l.issue), &plan)
                .await?;
        }
        Ok(Finished {
            state: EventState::Done,
            rule_version: Some(version),
            note: None,
        })
    }

    /// After a crash between Jira's answer to "create" and the store's record of the twin, the
    /// creation is still noted: the node looks for the issue it marked, and links it.
    async fn find_unfinished_creation(
        &self,
        side: &Side,
        envelope: &Envelope,
    ) -> Result<Option<LocalIssue>, EventError> {
        let Some(started) =
            self.store
                .unfinished_creation(&side.connection, &side.name, &envelope.origin_key)?
        else {
            return Ok(None);
        };
        let origin = TwinOrigin {
            connection: &side.connection,
            side: &envelope.origin_side,
            key: &envelope.origin_key,
        };
        let Some(found) = side
            .jira
            .find_created(&side.project, &origin, started)
            .await?
        else {
            return Ok(None);
        };
        tracing::warn!(key = %found.issue.key, remote = %envelope.origin_key,
            "found the twin created before a crash; linking it instead of creating another");
        self.link(side, &found.issue.key, &envelope.origin_key)?;
        Ok(Some(found))
    }

    /// The rule names the parent by its key on the other side; the local twin of that parent
    /// becomes the parent here. A new sub-task waits (a few retries) for its parent to sync first.
    fn link_parent(
        &self,
        side: &Side,
        mut changes: Changes,
        creating: bool,
        attempts: i64,
    ) -> Result<Changes, EventError> {
        let Some(remote_parent) = changes.parent.take() else {
            return Ok(changes);
        };
        match self
            .store
            .twin_by_remote(&side.connection, &side.name, &remote_parent)?
        {
            Some(twin) => changes.parent = Some(twin.local_key),
            None if creating && attempts < PARENT_WAIT_ATTEMPTS => {
                return Err(EventError::Transient(format!(
                    "parent {remote_parent} has no twin on side {} yet; waiting for it to sync",
                    side.name
                )));
            }
            None => {
                tracing::info!(parent = %remote_parent, "parent is not under sync; syncing without the link")
            }
        }
        Ok(changes)
    }

    fn link(&self, side: &Side, local_key: &str, origin_key: &str) -> Result<(), EventError> {
        if let Some(peers) = self.peer_links(&side.connection) {
            return self.link_with_peer(peers, side, local_key, origin_key);
        }
        // With the ack: the sending side learns its twin's key (in-process for a local
        // connection), in the same transaction.
        self.store.link_twin_pair(
            &side.connection,
            (&side.name, local_key),
            (&side.other, origin_key),
        )?;
        Ok(())
    }

    /// Carries out the reconcile plan; returns the local key.
    async fn apply(
        &self,
        side: &Side,
        envelope: &Envelope,
        changes: &Changes,
        local: Option<&LocalIssue>,
        retried: bool,
    ) -> Result<(String, Plan), EventError> {
        let (conn, name) = (&side.connection, &side.name);
        let local_key = local.map(|l| l.issue.key.clone());
        let (comment_map, attachment_map) = match &local_key {
            Some(k) => (
                self.store.item_mappings(conn, name, ItemKind::Comment, k)?,
                self.store
                    .item_mappings(conn, name, ItemKind::Attachment, k)?,
            ),
            None => (Vec::new(), Vec::new()),
        };
        let plan: Plan = reconcile::plan(
            changes,
            local.map(|l| &l.issue),
            &comment_map,
            &attachment_map,
        );
        if plan.is_empty() {
            return local_key
                .map(|k| (k, plan))
                .ok_or_else(|| EventError::Permanent("empty plan without a twin".into()));
        }
        let key = if plan.create {
            self.store
                .begin_creation(conn, name, &envelope.origin_key)?;
            let origin = TwinOrigin {
                connection: &side.connection,
                side: &envelope.origin_side,
                key: &envelope.origin_key,
            };
            let key = side
                .jira
                .create_issue(&side.project, &plan.fields, &origin)
                .await?;
            self.link(side, &key, &envelope.origin_key)?;
            tracing::info!(local = %key, remote = %envelope.origin_key, "twin created");
            key
        } else {
            let key = local_key.clone().unwrap_or_default();
            if plan.fields != Changes::default() {
                side.jira.edit_issue(&key, &plan.fields).await?;
            }
            key
        };
        if let Some(target) = &plan.status {
            let start = if plan.create { None } else { local };
            self.walk_to_status(side, &key, target, start).await?;
        }
        let mut orphans = match local {
            Some(l) if retried => Orphans::of(&l.issue, &comment_map, &attachment_map),
            _ => Orphans::default(),
        };
        for op in &plan.comments {
            self.apply_comment(side, envelope, &key, op, &mut orphans)
                .await?;
        }
        for op in &plan.attachments {
            self.apply_attachment(side, envelope, &key, op, &mut orphans)
                .await?;
        }
        Ok((key, plan))
    }

    async fn walk_to_status(
        &self,
        side: &Side,
        key: &str,
        target: &str,
        known: Option<&LocalIssue>,
    ) -> Result<(), EventError> {
        let current = match known {
            Some(l) => l.issue.clone(),
            None => side
                .jira
                .get_issue(key)
                .await?
                .map(|l| l.issue)
                .ok_or_else(|| {
                    EventError::Transient(format!("{key} was created but cannot be read yet"))
                })?,
        };
        let scope = format!("{}/{}", current.project, current.issue_type);
        let mut status = current.status;
        let mut visited = HashSet::new();
        for _ in 0..MAX_STEPS {
            let available = side.jira.transitions(key).await?;
            match self
                .workflow
                .next_step(&scope, &status, target, &available, &visited)
            {
                Step::Arrived => return Ok(()),
                Step::Unreachable => break,
                Step::Take(id) => {
                    visited.insert(status.to_lowercase());
                    side.jira.transition(key, &id).await?;
                    status = available
                        .iter()
                        .find(|a| a.id == id)
                        .map(|a| a.to.clone())
                        .unwrap_or_default();
                    if status.eq_ignore_ascii_case(target) {
                        return Ok(());
                    }
                }
            }
        }
        Err(EventError::Permanent(format!(
            "{key} on {}: status {target:?} cannot be reached from {status:?} through the workflow's transitions",
            side.instance
        )))
    }

    async fn apply_comment(
        &self,
        side: &Side,
        envelope: &Envelope,
        key: &str,
        op: &CommentOp,
        orphans: &mut Orphans,
    ) -> Result<(), EventError> {
        let (conn, name) = (&side.connection, &side.name);
        match op {
            CommentOp::Add {
                remote_id,
                body,
                internal,
                hash,
            } => {
                let local_id = match orphans.take_comment(hash) {
                    Some(id) => {
                        tracing::info!(key, comment = %id, "adopting a copy an earlier attempt made");
                        id
                    }
                    None => side.jira.add_comment(key, body, *internal).await?,
                };
                self.record_copy(
                    side,
                    envelope,
                    ItemKind::Comment,
                    key,
                    ItemMapping {
                        remote_id: remote_id.clone(),
                        local_id,
                        origin: Origin::Remote,
                        content_hash: Some(hash.clone()),
                    },
                )?;
            }
            CommentOp::Update {
                local_id,
                remote_id,
                body,
                internal,
                hash,
            } => {
                side.jira
                    .update_comment(key, local_id, body, *internal)
                    .await?;
                self.store.put_item_mapping(
                    conn,
                    name,
                    ItemKind::Comment,
                    key,
                    &ItemMapping {
                        remote_id: remote_id.clone(),
                        local_id: local_id.clone(),
                        origin: Origin::Remote,
                        content_hash: Some(hash.clone()),
                    },
                )?;
            }
            CommentOp::Delete {
                local_id,
                remote_id,
            } => {
                side.jira.delete_comment(key, local_id).await?;
                self.forget_copy(side, envelope, ItemKind::Comment, key, remote_id, local_id)?;
            }
        }
        Ok(())
    }

    async fn apply_attachment(
        &self,
        side: &Side,
        envelope: &Envelope,
        key: &str,
        op: &AttachmentOp,
        orphans: &mut Orphans,
    ) -> Result<(), EventError> {
        match op {
            AttachmentOp::Add {
                remote_id,
                filename,
            } => {
                // Only attachments the replica listed can be fetched from the other side.
                let Some(listed) = envelope
                    .replica
                    .attachments
                    .iter()
                    .find(|a| &a.id == remote_id)
                else {
                    return Err(EventError::Permanent(format!(
                        "attachment {remote_id} is not listed in the replica of {}; refusing to fetch it",
                        envelope.origin_key
                    )));
                };
                let local_id = match orphans.take_attachment(filename, listed.size) {
                    Some(id) => {
                        tracing::info!(key, attachment = %id, "adopting a copy an earlier attempt made");
                        id
                    }
                    None => {
                        let spooled = self.fetch_attachment(side, remote_id).await?;
                        side.jira.upload_attachment(key, filename, &spooled).await?
                    }
                };
                self.record_copy(
                    side,
                    envelope,
                    ItemKind::Attachment,
                    key,
                    ItemMapping {
                        remote_id: remote_id.clone(),
                        local_id,
                        origin: Origin::Remote,
                        content_hash: None,
                    },
                )?;
            }
            AttachmentOp::Delete {
                local_id,
                remote_id,
            } => {
                side.jira.delete_attachment(local_id).await?;
                self.forget_copy(
                    side,
                    envelope,
                    ItemKind::Attachment,
                    key,
                    remote_id,
                    local_id,
                )?;
            }
        }
        Ok(())
    }

    /// This side made a copy of one of the other side's items: its own mapping, and the other
    /// side's (in the same transaction on this node, by ack for a peer), so the copy is never
    /// taken for a new item when it comes back.
    fn record_copy(
        &self,
        side: &Side,
        envelope: &Envelope,
        kind: ItemKind,
        key: &str,
        own: ItemMapping,
    ) -> Result<(), EventError> {
        if let Some(peers) = self.peer_links(&side.connection) {
            return self.record_copy_with_peer(peers, side, envelope, kind, key, own);
        }
        let mirror = ItemMapping {
            remote_id: own.local_id.clone(),
            local_id: own.remote_id.clone(),
            origin: Origin::Local,
            content_hash: None,
        };
        self.store.put_item_mappings(
            &side.connection,
            &[
                (&side.name, kind, key, &own),
                (&side.other, kind, &envelope.origin_key, &mirror),
            ],
        )?;
        Ok(())
    }

    /// This side deleted its copy of one of the other side's items: both mappings go.
    fn forget_copy(
        &self,
        side: &Side,
        envelope: &Envelope,
        kind: ItemKind,
        key: &str,
        remote_id: &str,
        local_id: &str,
    ) -> Result<(), EventError> {
        self.store
            .delete_item_mapping(&side.connection, &side.name, kind, key, remote_id)?;
        if let Some(peers) = self.peer_links(&side.connection) {
            return self.forget_copy_with_peer(peers, side, envelope, kind, remote_id, local_id);
        }
        self.store.delete_item_mapping(
            &side.connection,
            &side.other,
            kind,
            &envelope.origin_key,
            local_id,
        )?;
        Ok(())
    }

    /// What this side's outgoing rule makes of the local issue now (`None` if it skips or fails).
    async fn current_replica(
        &self,
        side: &Side,
        issue: Issue,
        remote_key: Option<String>,
    ) -> Option<Replica> {
        let ctx = SyncContext {
            connection: side.connection.clone(),
            local_side: side.name.clone(),
            remote_side: side.other.clone(),
            first_sync: false,
            local_key: Some(issue.key.clone()),
            remote_key,
            event: SyncEvent::Updated,
        };
        let (limits, config) = (side.limits, side.config.clone());
        // A rule that skips or fails here will say so again on the next outgoing event.
        Self::call_rule(side, move |r| r.outgoing(issue, ctx, &limits, &config))
            .await
            .ok()
            .map(|(r, _)| r)
    }

    /// How to apply a replica, given what this side changed since the other side last heard
    /// of it. When both sides changed fields, the later change wins the issue's fields (ties:
    /// the side name that sorts last); both sides decide alike, so they converge with no
    /// ping-pong. Comments and attachments never conflict: they are sets merged through the
    /// id mappings, and always land.
    async fn concurrent_edit(
        &self,
        side: &Side,
        twin: &Twin,
        current: &LocalIssue,
        envelope: &Envelope,
    ) -> Result<Verdict, EventError> {
        let now = self
            .current_replica(side, current.issue.clone(), twin.remote_key.clone())
            .await;
        let sent = twin
            .sent_replica
            .as_deref()
            .and_then(|j| serde_json::from_str::<Envelope>(j).ok())
            .map(|e| e.replica);
        let (unsent, unsent_fields) = match (&now, &sent) {
            (Some(now), Some(sent)) => (now != sent, fields_only(now) != fields_only(sent)),
            // No record of a send yet (a twin whose creating event is being retried): its
            // fields are what this node wrote, but a comment or attachment no mapping knows was
            // added by someone here, and has not gone out.
            _ => (self.has_unmapped_items(side, &current.issue)?, false),
        };
        if !unsent_fields && envelope.ack >= twin.sent_seq {
            return Ok(Verdict {
                unsent,
                fields: true,
            });
        }
        // Concurrent. Only a field edit on both sides is a conflict: a side that only added
        // comments or attachments sends fields the other side has moved past.
        if !envelope.fields_changed {
            return Ok(Verdict {
                unsent,
                fields: false,
            });
        }
        let mine_changed_fields = unsent_fields || twin.sent_fields_seq > envelope.ack;
        if !mine_changed_fields {
            return Ok(Verdict {
                unsent,
                fields: true,
            });
        }
        let mine = if unsent_fields {
            current.issue.updated.as_str()
        } else {
            twin.sent_updated.as_deref().unwrap_or("")
        };
        if !local_wins(mine, &side.name, &envelope.updated, &envelope.origin_side) {
            return Ok(Verdict {
                unsent,
                fields: true,
            });
        }
        // This side's fields win; their comment and attachment sets still land (they never
        // conflict), and this side's newer fields go out after.
        tracing::info!(key = %twin.local_key, remote = %envelope.origin_key, local = mine,
            remote_updated = %envelope.updated,
            "concurrent field edit: this side's later version wins; taking only the other side's comments and attachments");
        Ok(Verdict {
            unsent,
            fields: false,
        })
    }

    /// Whether the issue has a comment or attachment that no id mapping knows.
    fn has_unmapped_items(&self, side: &Side, issue: &Issue) -> Result<bool, EventError> {
        let mut known: HashSet<String> = HashSet::new();
        for kind in [ItemKind::Comment, ItemKind::Attachment] {
            known.extend(
                self.store
                    .item_mappings(&side.connection, &side.name, kind, &issue.key)?
                    .into_iter()
                    .map(|m| m.local_id),
            );
        }
        Ok(issue
            .comments
            .iter()
            .map(|c| &c.id)
            .chain(issue.attachments.iter().map(|a| &a.id))
            .any(|id| !known.contains(id)))
    }

    /// Records what this side would send now, so the webhook for our own change sends nothing.
    /// If the issue changed in any way the plan does not explain (someone edited it while the
    /// change was applied), nothing is recorded and the merged state goes out instead.
    async fn suppress_echo(
        &self,
        side: &Side,
        key: &str,
        before: Option<&Issue>,
        plan: &Plan,
    ) -> Result<(), EventError> {
        let Some(LocalIssue { issue, .. }) = side.jira.get_issue(key).await? else {
            return Ok(());
        };
        let (conn, name) = (&side.connection, &side.name);
        let mut known: HashSet<String> = HashSet::new();
        for kind in [ItemKind::Comment, ItemKind::Attachment] {
            known.extend(
                self.store
                    .item_mappings(conn, name, kind, key)?
                    .into_iter()
                    .map(|m| m.local_id),
            );
        }
        if foreign_change(before, &issue, plan, &known) {
            tracing::info!(
                key,
                "the issue also changed locally while a change was applied; sending the merged state"
            );
            self.enqueue_outgoing(side, key, SyncEvent::Updated)?;
            return Ok(());
        }
        let twin = self.store.twin_by_local(conn, name, key)?;
        let Some(replica) = self
            .current_replica(side, issue, twin.and_then(|t| t.remote_key))
            .await
        else {
            return Ok(());
        };
        let envelope = Envelope {
            origin_side: side.name.clone(),
            origin_key: key.to_string(),
            replica,
            seq: 0,
            ack: 0,
            updated: String::new(),
            fields_changed: false,
        };
        self.store.record_sent(
            conn,
            name,
            key,
            &replica_hash(&envelope.replica),
            &envelope.to_json(),
            None,
        )?;
        Ok(())
    }
}

/// Comments and attachments of the local twin that no mapping knows: after an interrupted
/// attempt, the copies it made before the node could record them.
#[derive(Default)]
struct Orphans {
    /// (id, content hash)
    comments: Vec<(String, String)>,
    /// (id, file name, size)
    attachments: Vec<(String, String, u64)>,
}

impl Orphans {
    fn of(
        issue: &crate::model::Issue,
        comments: &[ItemMapping],
        attachments: &[ItemMapping],
    ) -> Orphans {
        let known = |map: &[ItemMapping], id: &str| map.iter().any(|m| m.local_id == id);
        Orphans {
            comments: issue
                .comments
                .iter()
                .filter(|c| !known(comments, &c.id))
                .map(|c| (c.id.clone(), reconcile::comment_hash(&c.body, c.internal)))
                .collect(),
            attachments: issue
                .attachments
                .iter()
                .filter(|a| !known(attachments, &a.id))
                .map(|a| (a.id.clone(), a.filename.clone(), a.size))
                .collect(),
        }
    }

    fn take_comment(&mut self, hash: &str) -> Option<String> {
        let i = self.comments.iter().position(|(_, h)| h == hash)?;
        Some(self.comments.remove(i).0)
    }

    fn take_attachment(&mut self, filename: &str, size: u64) -> Option<String> {
        let i = self
            .attachments
            .iter()
            .position(|(_, f, s)| f == filename && *s == size)?;
        Some(self.attachments.remove(i).0)
    }
}

/// How to apply a replica that arrives for an existing twin.
struct Verdict {
    /// This side has local changes the other side has not seen: they go out after applying.
    unsent: bool,
    /// Take its fields, or only its comment and attachment sets.
    fields: bool,
}

/// Whether `after` differs from `before` in a way the applied plan does not explain: a field
/// it did not write, a comment or attachment nobody synced, a comment body it did not update.
fn foreign_change(
    before: Option<&Issue>,
    after: &Issue,
    plan: &Plan,
    known: &HashSet<String>,
) -> bool {
    let before_ids: HashSet<&str> = before
        .into_iter()
        .flat_map(|b| {
            b.comments
                .iter()
                .map(|c| c.id.as_str())
                .chain(b.attachments.iter().map(|a| a.id.as_str()))
        })
        .collect();
    let new_item = |id: &str| !before_ids.contains(id) && !known.contains(id);
    if after.comments.iter().any(|c| new_item(&c.id))
        || after.attachments.iter().any(|a| new_item(&a.id))
    {
        return true;
    }
    let Some(before) = before else {
        return false;
    };
    let updated: HashSet<&str> = plan
        .comments
        .iter()
        .filter_map(|op| match op {
            reconcile::CommentOp::Update { local_id, .. } => Some(local_id.as_str()),
            _ => None,
        })
        .collect();
    let body_changed = after.comments.iter().any(|c| {
        !updated.contains(c.id.as_str())
            && before
                .comments
                .iter()
                .find(|b| b.id == c.id)
                .is_some_and(|b| b.body.text.trim() != c.body.text.trim())
    });
    let f = &plan.fields;
    let sets = |a: &[String], b: &[String]| {
        a.iter().collect::<std::collections::BTreeSet<_>>() != b.iter().collect()
    };
    body_changed
        || (f.summary.is_none() && before.summary != after.summary)
        || (f.priority.is_none() && before.priority != after.priority)
        || (f.issue_type.is_none() && before.issue_type != after.issue_type)
        || (f.due_date.is_none() && before.due_date != after.due_date)
        || (f.labels.is_none() && sets(&before.labels, &after.labels))
        || (f.components.is_none() && sets(&before.components, &after.components))
        || (f.assignee.is_none() && before.assignee != after.assignee)
        || (plan.status.is_none() && !before.status.eq_ignore_ascii_case(&after.status))
        || (f.description.is_none()
            && before.description.as_ref().map(|d| d.text.trim())
                != after.description.as_ref().map(|d| d.text.trim()))
}

/// Changes reduced to the comment and attachment sets.
fn sets_only(c: Changes) -> Changes {
    Changes {
        comments: c.comments,
        attachments: c.attachments,
        ..Changes::default()
    }
}

/// A replica without its comment and attachment sets, which merge rather than conflict.
fn fields_only(r: &Replica) -> Replica {
    Replica {
        comments: Vec::new(),
        attachments: Vec::new(),
        ..r.clone()
    }
}

fn cause_name(e: SyncEvent) -> &'static str {
    match e {
        SyncEvent::Created => "created",
        SyncEvent::Updated => "updated",
        SyncEvent::Manual => "manual",
        SyncEvent::Bulk => "bulk",
        SyncEvent::Trigger => "trigger",
        SyncEvent::Replica => "replica",
    }
}

fn cause_event(s: &str) -> SyncEvent {
    match s {
        "created" => SyncEvent::Created,
        "manual" => SyncEvent::Manual,
        "bulk" => SyncEvent::Bulk,
        "trigger" => SyncEvent::Trigger,
        "replica" => SyncEvent::Replica,
        _ => SyncEvent::Updated,
    }
}
