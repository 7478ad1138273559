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
//! This file holds the pipeline, its wiring and the event loop (workers, one event's run
//! and its recording). `outgoing` runs the outgoing rule and hands the replica across;
//! `incoming` runs the incoming rule and reconciles the local twin; `apply` carries a
//! reconcile plan out in Jira; `concurrent` decides what this side has not sent yet when
//! a replica arrives (echo suppression, concurrent edits); `deletion` carries a twin's
//! deletion across and carries out the other side's policy; `links` names links' other ends by
//! their twins and carries out the desired set of links; `versions` settles version names the project lacks.

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
use super::reconcile::{self, AttachmentOp, CommentOp, Plan, WorklogOp};
use super::side::{LocalIssue, Side, TwinOrigin};
use super::status_link::{Half, Outcome, StatusLinks, SyncStatus, browse_url};
use super::workflow::{MAX_STEPS, Step, WorkflowGraph};
use crate::model::{Changes, Issue, Replica, SyncCause, SyncContext};
use crate::rules::{CallError, CallReport};
use crate::store::{
    Event, EventKind, EventState, ItemKind, ItemMapping, NewEvent, Origin, SentRecord, Store,
    StoreError, Twin,
};

mod apply;
mod concurrent;
mod deletion;
mod error;
mod incoming;
mod links;
mod mentions;
mod outgoing;
mod versions;

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
    /// Swapped whole when the node's setup changes; an event in hand keeps the side it took.
    sides: std::sync::RwLock<Arc<SideMap>>,
    workflow: WorkflowGraph,
    /// Wakes idle workers when an event is enqueued.
    pub(crate) wake: Notify,
    /// Links to peer nodes: the transport of remote connections.
    pub(super) peers: Option<Arc<crate::peer::link::PeerLinks>>,
    /// Each twin's sync status, written into Jira as events end.
    status: StatusLinks,
    /// Events in hand, counted until their sync status is written too.
    in_hand: std::sync::atomic::AtomicUsize,
}

/// One unit of work in hand for [`Pipeline::is_idle`], counted while it lives.
struct InHand<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> InHand<'a> {
    fn count(n: &'a std::sync::atomic::AtomicUsize) -> Self {
        n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        InHand(n)
    }
}

impl Drop for InHand<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The node's sides by (connection, side).
type SideMap = HashMap<(String, String), Arc<Side>>;

fn by_name(sides: Vec<Arc<Side>>) -> SideMap {
    sides
        .into_iter()
        .map(|s| ((s.connection.clone(), s.name.clone()), s))
        .collect()
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
            sides: std::sync::RwLock::new(Arc::new(by_name(sides))),
            workflow: WorkflowGraph::default(),
            wake: Notify::new(),
            peers: None,
            status: StatusLinks::default(),
            in_hand: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Remote connections reach their other side through these links.
    pub(crate) fn with_peers(mut self, peers: Arc<crate::peer::link::PeerLinks>) -> Self {
        self.peers = Some(peers);
        self
    }

    fn side_map(&self) -> Arc<SideMap> {
        self.sides.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The side `side` of `connection`, as the node's setup has it now.
    pub fn side(&self, connection: &str, side: &str) -> Option<Arc<Side>> {
        self.side_map()
            .get(&(connection.to_string(), side.to_string()))
            .cloned()
    }

    /// Every side the node runs now.
    pub fn sides(&self) -> Vec<Arc<Side>> {
        let mut sides: Vec<Arc<Side>> = self.side_map().values().cloned().collect();
        sides.sort_by(|a, b| (&a.connection, &a.name).cmp(&(&b.connection, &b.name)));
        sides
    }

    /// Replaces the node's sides (a change of setup); events already in hand finish on theirs.
    pub(crate) fn set_sides(&self, sides: Vec<Arc<Side>>) {
        *self.sides.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(by_name(sides));
        self.wake.notify_waiters();
    }

    /// Puts an issue of a side under sync now: an outgoing event.
    pub fn enqueue_outgoing(
        &self,
        side: &Side,
        key: &str,
        cause: SyncCause,
    ) -> Result<Option<i64>, StoreError> {
        // A manual direction queues only what an admin asks for; a disabled one queues nothing.
        if !side.sync.sends(cause) {
            return Ok(None);
        }
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

    /// Whether no event is in hand here, its sync status write included (a done event's
    /// status is written after the event is recorded).
    pub fn is_idle(&self) -> bool {
        self.in_hand.load(std::sync::atomic::Ordering::SeqCst) == 0
    }

    /// Handles one claimed event and records how it ended.
    pub async fn run_event(&self, event: Event) {
        let _counted = InHand::count(&self.in_hand);
        crate::failpoint!("event-claimed");
        let stamp = self.status.stamp();
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
        let outcome = Outcome::of(event.kind, &result);
        let enter = span.enter();
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
        drop(enter);
        self.write_status(&event, outcome, stamp)
            .instrument(span)
            .await;
    }

    /// The peer applied what this side sent and named its twin: this half is in sync now.
    pub(crate) async fn acked(&self, side: &Side, origin_key: &str, twin_key: &str) {
        let _counted = InHand::count(&self.in_hand);
        let stamp = self.status.stamp();
        let here = Half {
            side,
            key: origin_key,
            other_key: twin_key,
            other_url: None,
        };
        self.status
            .write(&self.store, &here, &SyncStatus::Synced, stamp)
            .await;
    }

    /// Writes the twin's sync status after an event on it ended: on this side's issue, and on
    /// the other half too when the outcome is the pair's and that half is on this node.
    async fn write_status(&self, event: &Event, outcome: Outcome, stamp: u64) {
        if outcome == Outcome::Unchanged {
            return;
        }
        let Some(side) = self.side(&event.connection, &event.side) else {
            return;
        };
        let twin = match event.queue_key.strip_prefix("remote:") {
            Some(remote) => self
                .store
                .twin_by_remote(&side.connection, &side.name, remote),
            None => self
                .store
                .twin_by_local(&side.connection, &side.name, &event.queue_key),
        };
        let twin = match twin {
            Ok(Some(t)) => t,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the twin to write its sync status");
                return;
            }
        };
        // No status without the other half's key.
        let Some(remote_key) = twin.remote_key.as_deref() else {
            return;
        };
        // A local connection's other side runs on this node.
        let other = self.side(&side.connection, &side.other);
        let (own, pair) = match outcome {
            // The other side's incoming event settles both halves when it ends; a "pending"
            // written now would be undone a moment later, at two Jira calls each way.
            Outcome::Sent if other.is_some() => return,
            // A peer node writes its own half; this side's part is done.
            Outcome::Sent => (SyncStatus::Synced, false),
            Outcome::Synced => (SyncStatus::Synced, true),
            Outcome::Pending => (SyncStatus::Pending, true),
            Outcome::Error(reason) => (SyncStatus::Error(reason), true),
            Outcome::Unchanged => return,
        };
        let here = Half {
            side: &side,
            key: &twin.local_key,
            other_key: remote_key,
            other_url: other
                .as_ref()
                .map(|o| browse_url(o.jira.client().base_url(), remote_key)),
        };
        self.status.write(&self.store, &here, &own, stamp).await;
        if let (true, Some(o)) = (pair, other) {
            let there = Half {
                side: &o,
                key: remote_key,
                other_key: &twin.local_key,
                other_url: Some(browse_url(side.jira.client().base_url(), &twin.local_key)),
            };
            self.status.write(&self.store, &there, &own, stamp).await;
        }
    }

    fn side_of(&self, event: &Event) -> Result<Arc<Side>, EventError> {
        self.side(&event.connection, &event.side).ok_or_else(|| {
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

/// The ids of the issue's items of one kind.
fn item_ids(issue: &Issue, kind: ItemKind) -> HashSet<&str> {
    match kind {
        ItemKind::Comment => issue.comments.iter().map(|c| c.id.as_str()).collect(),
        ItemKind::Attachment => issue.attachments.iter().map(|a| a.id.as_str()).collect(),
        ItemKind::Worklog => issue.worklogs.iter().map(|w| w.id.as_str()).collect(),
    }
}

fn cause_name(e: SyncCause) -> &'static str {
    match e {
        SyncCause::Created => "created",
        SyncCause::Updated => "updated",
        SyncCause::Manual => "manual",
        SyncCause::Bulk => "bulk",
        SyncCause::Trigger => "trigger",
        SyncCause::Replica => "replica",
        SyncCause::Deleted => "deleted",
    }
}

fn cause_from_name(s: &str) -> SyncCause {
    match s {
        "created" => SyncCause::Created,
        "manual" => SyncCause::Manual,
        "bulk" => SyncCause::Bulk,
        "trigger" => SyncCause::Trigger,
        "replica" => SyncCause::Replica,
        "deleted" => SyncCause::Deleted,
        _ => SyncCause::Updated,
    }
}
