//! The pipeline's workers: take one sync event at a time per issue, run the side's rule, and
//! either hand the replica across or reconcile the local twin.
//!
//! Outgoing: read the issue, run the outgoing rule, and send the replica only if
//! it differs from the last one sent (echo suppression). Incoming: run the
//! incoming rule on the replica and the local twin, plan the fewest changes,
//! apply them, record what was applied, and tell the sending side the twin's key
//! and the ids of what was copied. Every step is recorded in the store first, so
//! a crash resumes without losing or duplicating anything.
//!
//! `apply` carries a reconcile plan out in Jira; `concurrent` decides what this side has
//! not sent yet when a replica arrives (echo suppression, concurrent edits).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use crate::stop::Stop;
use tokio::sync::Notify;
use tracing::Instrument;

use super::clock::{
    Register, Registers, Version, Versions, edit_time, field_hashes, note_local_edits, theirs_wins,
    versions_of,
};
use super::envelope::{Envelope, RemovedItem, replica_hash};
use super::reconcile::{self, AttachmentOp, CommentOp, Plan};
use super::side::{LocalIssue, Side, TwinOrigin};
use super::workflow::{MAX_STEPS, Step, WorkflowGraph};
use crate::model::{Changes, Issue, Replica, SyncCause, SyncContext};
use crate::rules::{CallError, CallReport};
use crate::store::{
    Event, EventKind, EventState, ItemKind, ItemMapping, NewEvent, Origin, SentRecord, Store,
    StoreError, Twin,
};

mod apply;
mod concurrent;
mod error;

pub use error::EventError;

use concurrent::winning_fields;

/// How an event ended when it did not fail.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) state: EventState,
    pub(crate) rule_version: Option<String>,
    pub(crate) note: Option<String>,
}

/// The node's sides by (connection, side), and what the workers share.
pub struct Pipeline {
    pub(crate) store: Arc<Store>,
    sides: HashMap<(String, String), Arc<Side>>,
    workflow: WorkflowGraph,
    /// Wakes idle workers when an event is enqueued.
    pub(crate) wake: Notify,
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
    pub(crate) fn new(store: Arc<Store>, sides: Vec<Arc<Side>>) -> Self {
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
    pub(crate) fn with_peers(mut self, peers: Arc<crate::peer::link::PeerLinks>) -> Self {
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
        cause: SyncCause,
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

    /// Runs `workers` workers until `stop` is raised; each finishes the event in hand first.
    pub(crate) async fn run(self: Arc<Self>, workers: usize, stop: Stop) {
        let mut tasks = Vec::new();
        for n in 0..workers {
            let me = self.clone();
            let stop = stop.clone();
            tasks.push(tokio::spawn(async move { me.worker(n, stop).await }));
        }
        for t in tasks {
            let _ = t.await;
        }
    }

    async fn worker(&self, n: usize, mut stop: Stop) {
        // The stop is looked at only between events: an event once claimed runs to its end.
        while !stop.is_stopped() {
            // Registered before looking at the queue, so an event enqueued meanwhile wakes it.
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let claimed = self.store.claim_next();
            let wait = match claimed {
                Ok(Some(event)) => {
                    self.run_event(event).await;
                    continue;
                }
                Ok(None) => match self.store.next_due() {
                    Ok(Some(due)) => (due - crate::store::now_ms()).clamp(10, 1000) as u64,
                    _ => 1000,
                },
                Err(e) => {
                    tracing::error!(worker = n, error = %e, "cannot read the event queue");
                    1000
                }
            };
            // Woken early by an enqueue or the stop; otherwise re-check for due retries.
            tokio::select! {
                _ = tokio::time::timeout(Duration::from_millis(wait), notified) => {}
                _ = stop.stopped() => {}
            }
        }
    }

    /// Handles one claimed event and records how it ended.
    pub async fn run_event(&self, event: Event) {
        crate::failpoint!("event-claimed");
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
            Err(ref e @ EventError::Rule { ref version, .. }) => {
                let message = e.to_string();
                tracing::error!(error = %message, rule_version = %version, "rule failed; the issue waits for `twinsync retry`");
                self.store.fail(event.id, &message, Some(version))
            }
            Err(EventError::Store(e)) => {
                tracing::error!(error = %e, "store error; will retry");
                self.store
                    .retry_later(event.id, backoff_ms(event.attempts), &e.to_string(), None)
            }
            Err(e) if e.is_transient() => {
                let (msg, delay) = (e.to_string(), backoff_ms(event.attempts));
                tracing::warn!(error = %msg, retry_in_ms = delay, "transient fault; will retry");
                self.store.retry_later(event.id, delay, &msg, None)
            }
            Err(e) => {
                let msg = e.to_string();
                tracing::error!(error = %msg, "sync event failed; the issue waits for `twinsync retry`");
                self.store.fail(event.id, &msg, None)
            }
        };
        if let Err(e) = recorded {
            tracing::error!(error = %e, "cannot record the end of the event; it will run again");
        }
        crate::failpoint!("event-done");
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
            .map_err(|e| Err(EventError::NoRule(e)))?;
        let report = tokio::task::spawn_blocking(move || call(&rule))
            .await
            .map_err(|e| Err(EventError::Aborted(e)))?;
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
            Err(source) => Err(Err(EventError::Rule {
                connection: side.connection.clone(),
                side: side.name.clone(),
                version,
                source: Box::new(source),
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
            cause: cause_from_name(&event.cause),
        };
        let (limits, config) = (side.limits, side.config.clone());
        let updated = issue.updated.clone();
        let removed = self.removed_copies(&side, &issue)?;
        let (replica, version) =
            match Self::call_rule(&side, move |r| r.outgoing(issue, ctx, &limits, &config)).await {
                Ok(v) => v,
                Err(end) => return end,
            };
        crate::failpoint!("outgoing-rule-run");
        let mut registers = registers_of(twin.as_ref())?;
        let edited = note_local_edits(
            &mut registers,
            &field_hashes(&replica),
            edit_time(&updated),
            &side.name,
        );
        let registers_json = encode_registers(&registers)?;
        let hash = replica_hash(&replica);
        // Equal content is not enough: a field edited back to what was last sent carries a
        // new version the other side must hear of.
        if removed.is_empty()
            && edited.is_empty()
            && twin.as_ref().and_then(|t| t.sent_hash.as_deref()) == Some(hash.as_str())
        {
            self.store
                .record_nothing_unsent(&side.connection, &side.name, &key, &updated)?;
            return Ok(Finished {
                state: EventState::Done,
                rule_version: Some(version),
                note: Some("nothing the rule exports changed; nothing sent".into()),
            });
        }
        let envelope = Envelope {
            origin_side: side.name.clone(),
            origin_key: key.clone(),
            replica,
            seq: self
                .store
                .take_sent_seq(&side.connection, &side.name, &key)?,
            versions: versions_of(&registers),
            removed: removed
                .iter()
                .map(|(kind, m)| RemovedItem {
                    kind: kind.as_str().to_string(),
                    id: m.remote_id.clone(),
                })
                .collect(),
        };
        // Deliver before recording "sent": a crash in between re-sends (harmless), never loses.
        self.deliver(&side, &envelope)?;
        crate::failpoint!("replica-delivered");
        self.store.ensure_twin(&side.connection, &side.name, &key)?;
        for (kind, m) in &removed {
            self.store.delete_item_mapping(
                &side.connection,
                &side.name,
                *kind,
                &key,
                &m.remote_id,
            )?;
        }
        self.store.record_sent(
            &side.connection,
            &side.name,
            &key,
            &SentRecord {
                hash: &hash,
                replica: &envelope.to_json(),
                left: Some((envelope.seq, &updated, !edited.is_empty())),
                registers: Some(&registers_json),
            },
        )?;
        crate::failpoint!("sent-recorded");
        Ok(Finished {
            state: EventState::Done,
            rule_version: Some(version),
            note: None,
        })
    }

    /// Copies this side made of the other side's items that are gone from the issue: someone
    /// deleted them here, and the deletion crosses back.
    fn removed_copies(
        &self,
        side: &Side,
        issue: &Issue,
    ) -> Result<Vec<(ItemKind, ItemMapping)>, EventError> {
        let mut gone = Vec::new();
        for kind in [ItemKind::Comment, ItemKind::Attachment] {
            let present: HashSet<&str> = match kind {
                ItemKind::Comment => issue.comments.iter().map(|c| c.id.as_str()).collect(),
                ItemKind::Attachment => issue.attachments.iter().map(|a| a.id.as_str()).collect(),
            };
            for m in self
                .store
                .item_mappings(&side.connection, &side.name, kind, &issue.key)?
            {
                if m.origin == Origin::Remote && !present.contains(m.local_id.as_str()) {
                    gone.push((kind, m));
                }
            }
        }
        Ok(gone)
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
    pub(crate) fn receive(&self, other: &Side, envelope: &Envelope) -> Result<(), EventError> {
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
        let envelope: Envelope =
            serde_json::from_str(event.payload.as_deref().unwrap_or("")).map_err(
                EventError::json(format!("unreadable replica in event {}", event.id)),
            )?;
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
        // A twin found after an interrupted creation has no row yet when `twin` was read.
        let twin = match (&twin, &local) {
            (None, Some(l)) => {
                self.store
                    .twin_by_local(&side.connection, &side.name, &l.issue.key)?
            }
            _ => twin,
        };
        // A twin made (again) here has no local state: every field of the replica lands.
        let mut registers = match &local {
            Some(_) => registers_of(twin.as_ref())?,
            None => Registers::new(),
        };
        let (mut unsent, mut hashes, mut state) = (false, BTreeMap::new(), None);
        if let (Some(twin), Some(current)) = (&twin, &local) {
            let s = self
                .local_edits(&side, twin, current, &mut registers)
                .await?;
            (unsent, hashes) = (s.unsent, s.hashes.clone());
            state = Some(s);
        }
        let local_key = local.as_ref().map(|l| l.issue.key.clone());
        let ctx = SyncContext {
            connection: side.connection.clone(),
            local_side: side.name.clone(),
            remote_side: side.other.clone(),
            first_sync: local.is_none(),
            local_key: local_key.clone(),
            remote_key: Some(envelope.origin_key.clone()),
            cause: SyncCause::Replica,
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
        crate::failpoint!("incoming-rule-run");
        if let (Some(state), Some(current)) = (&state, &local) {
            state.forget_agreeing(&mut registers, &changes, &current.issue);
        }
        // Per field, the newer version wins; the item sets always merge.
        let (changes, taken, kept) = winning_fields(changes, &registers, &envelope.versions);
        if !kept.is_empty() {
            tracing::info!(key = ?local_key, remote = %envelope.origin_key, fields = ?kept,
                "concurrent field edit: this side's newer versions win these fields");
            unsent = true;
        }
        let taken: Vec<(String, Version)> = taken
            .into_iter()
            .filter_map(|f| envelope.versions.get(&f).cloned().map(|v| (f, v)))
            .collect();
        let changes = self.link_parent(&side, changes, local.is_none(), event.attempts)?;
        // A retried event may have reached Jira before the node stopped (or Jira failed after
        // handling a request): copies it made then are adopted, not made again.
        let retried = event.attempts > 1;
        let applied = match self
            .apply(&side, &envelope, &changes, local.as_ref(), retried)
            .await
        {
            Ok((key, plan)) => self
                .apply_removed(&side, &envelope, &key, local.as_ref())
                .await
                .map(|()| (key, plan)),
            Err(e) => Err(e),
        };
        let (key, plan) = match applied {
            Ok(done) => done,
            Err(e) => return Err(self.gone_meanwhile(&side, &envelope.origin_key, e).await),
        };
        self.store.record_applied(
            &side.connection,
            &side.name,
            &key,
            &hash,
            &envelope.to_json(),
        )?;
        self.store
            .record_seen(&side.connection, &side.name, &key, envelope.seq)?;
        self.settle(
            &side,
            &key,
            local.as_ref().map(|l| &l.issue),
            &plan,
            unsent,
            registers,
            &taken,
            &hashes,
        )
        .await?;
        Ok(Finished {
            state: EventState::Done,
            rule_version: Some(version),
            note: None,
        })
    }

    /// A write that failed because someone deleted the twin meanwhile is no fault of the
    /// event: it is retried, and the retry makes the twin again instead of waiting for an admin.
    async fn gone_meanwhile(&self, side: &Side, origin_key: &str, e: EventError) -> EventError {
        // Only a Jira answer that would wait for an admin is worth a look at the twin.
        if !matches!(&e, EventError::Side(_) | EventError::Permanent(_)) || e.is_transient() {
            return e;
        }
        let twin = self
            .store
            .twin_by_remote(&side.connection, &side.name, origin_key);
        let Ok(Some(twin)) = twin else {
            return e;
        };
        match side.jira.get_issue(&twin.local_key).await {
            Ok(None) => {
                tracing::warn!(key = %twin.local_key, remote = origin_key, error = %e,
                    "the twin was deleted while a change was applied; the retry makes it again");
                EventError::Transient(format!("{e} ({} was deleted meanwhile)", twin.local_key))
            }
            _ => e,
        }
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
}

/// A twin side's registers as stored (none yet: empty).
fn registers_of(twin: Option<&Twin>) -> Result<Registers, EventError> {
    match twin.and_then(|t| t.registers.as_deref()) {
        None => Ok(Registers::new()),
        Some(json) => serde_json::from_str(json).map_err(EventError::json(format!(
            "the stored field versions of {} are unreadable",
            twin.map_or("", |t| t.local_key.as_str())
        ))),
    }
}

fn encode_registers(registers: &Registers) -> Result<String, EventError> {
    serde_json::to_string(registers).map_err(EventError::json("cannot encode the field versions"))
}

fn cause_name(e: SyncCause) -> &'static str {
    match e {
        SyncCause::Created => "created",
        SyncCause::Updated => "updated",
        SyncCause::Manual => "manual",
        SyncCause::Bulk => "bulk",
        SyncCause::Trigger => "trigger",
        SyncCause::Replica => "replica",
    }
}

fn cause_from_name(s: &str) -> SyncCause {
    match s {
        "created" => SyncCause::Created,
        "manual" => SyncCause::Manual,
        "bulk" => SyncCause::Bulk,
        "trigger" => SyncCause::Trigger,
        "replica" => SyncCause::Replica,
        _ => SyncCause::Updated,
    }
}
