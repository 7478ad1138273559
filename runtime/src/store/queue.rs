//! The durable queue of sync events: per-issue FIFO, issues in parallel, failures block only their issue.

use rusqlite::{OptionalExtension, Row, params};

use super::text_enum::text_enum;
use super::{Result, Store, StoreError, now_ms};

/// What a worker does with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A local issue changed: run the outgoing rule and send the replica if it changed.
    Outgoing,
    /// A replica arrived: run the incoming rule and reconcile the local twin.
    Incoming,
}

text_enum!(EventKind in "events.kind" {
    Outgoing => "outgoing",
    Incoming => "incoming",
});

/// Where a sync event is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventState {
    /// Waiting to run (possibly not before a retry time).
    Pending,
    /// A worker has it.
    Running,
    /// Waits for `twinsync retry` (a rule failure or a permanent Jira error); blocks its issue.
    Failed,
    /// Handled.
    Done,
    /// The rule skipped it: recorded, not an error.
    Skipped,
}

text_enum!(EventState in "events.state" {
    Pending => "pending",
    Running => "running",
    Failed => "failed",
    Done => "done",
    Skipped => "skipped",
});

/// An event to enqueue.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub(crate) connection: String,
    pub(crate) side: String,
    pub(crate) kind: EventKind,
    /// Orders events: one issue's events run one at a time, in order.
    pub(crate) queue_key: String,
    /// What caused it (`created`, `updated`, `manual`, `bulk`, `trigger`, `poll`, `replica`).
    pub(crate) cause: String,
    /// For incoming events: the replica (JSON) and where it came from.
    pub(crate) payload: Option<String>,
}

/// A sync event as the queue holds it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Event {
    /// The event's id, which `twinsync retry` takes.
    pub id: i64,
    pub(crate) connection: String,
    /// The side it runs on.
    pub side: String,
    /// What it does.
    pub kind: EventKind,
    /// Orders events: one issue's events run one at a time, in order.
    pub queue_key: String,
    pub(crate) cause: String,
    #[serde(skip)]
    pub(crate) payload: Option<String>,
    /// Where it is in its life.
    pub state: EventState,
    /// How many times it has run.
    pub attempts: i64,
    pub(crate) not_before: i64,
    /// The last run's error, if it failed.
    pub last_error: Option<String>,
    /// The version of the rule that handled it last.
    pub rule_version: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

/// Counts per state, for status and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct QueueStats {
    /// Events waiting to run.
    pub pending: i64,
    /// Events a worker has.
    pub running: i64,
    /// Events waiting for a retry.
    pub failed: i64,
    /// Events handled.
    pub done: i64,
    /// Events the rule skipped.
    pub skipped: i64,
}

/// The oldest pending, due event of an active connection whose issue has nothing older open
/// and nothing running. An issue's events carry its local key, or `remote:<key>` while its twin
/// is being made; both keys of a linked twin hold the same issue, so an update can never run
/// beside the event still creating or applying to it.
const NEXT_RUNNABLE: &str = "FROM events e INDEXED BY events_pending \
     WHERE e.state = 'pending' AND e.not_before <= ?1 \
     AND NOT EXISTS (SELECT 1 FROM connections c WHERE c.name = e.connection AND c.state != 'active') \
     AND NOT EXISTS (SELECT 1 FROM events p WHERE p.connection = e.connection AND p.side = e.side \
         AND p.queue_key IN ( \
             e.queue_key, \
             (SELECT t.local_key FROM twins t WHERE t.connection = e.connection AND t.side = e.side \
                 AND e.queue_key LIKE 'remote:%' AND t.remote_key = substr(e.queue_key, 8)), \
             (SELECT 'remote:' || t.remote_key FROM twins t WHERE t.connection = e.connection \
                 AND t.side = e.side AND t.local_key = e.queue_key AND t.remote_key IS NOT NULL)) \
         AND ((p.id < e.id AND p.state IN ('pending', 'running', 'failed')) OR p.state = 'running')) \
     ORDER BY e.id";

const COLUMNS: &str = "id, connection, side, kind, queue_key, cause, payload, state, attempts, \
                       not_before, last_error, rule_version, created_at, updated_at";

fn event(row: &Row<'_>) -> rusqlite::Result<Event> {
    Ok(Event {
        id: row.get(0)?,
        connection: row.get(1)?,
        side: row.get(2)?,
        kind: row.get(3)?,
        queue_key: row.get(4)?,
        cause: row.get(5)?,
        payload: row.get(6)?,
        state: row.get(7)?,
        attempts: row.get(8)?,
        not_before: row.get(9)?,
        last_error: row.get(10)?,
        rule_version: row.get(11)?,
        created_at: row.get(12)?,
        updated_at: row.get(13)?,
    })
}

impl Store {
    /// Adds an event. An outgoing event for an issue that already has one waiting is
    /// folded into it: the worker reads the issue's current state anyway.
    /// Returns the new event's id, or `None` when it was folded.
    pub(crate) fn enqueue(&self, e: &NewEvent) -> Result<Option<i64>> {
        let conn = self.conn();
        // A deletion is never folded into a waiting change: that one would find the issue gone.
        if e.kind == EventKind::Outgoing && e.cause != "deleted" {
            let waiting: Option<i64> = conn
                .query_row(
                    "SELECT id FROM events WHERE connection = ?1 AND side = ?2 AND queue_key = ?3 \
                     AND kind = 'outgoing' AND state = 'pending' LIMIT 1",
                    params![e.connection, e.side, e.queue_key],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = waiting {
                // An admin's request keeps its cause: a manual direction sends only those.
                if matches!(e.cause.as_str(), "manual" | "bulk") {
                    conn.execute(
                        "UPDATE events SET cause = ?2 WHERE id = ?1",
                        params![id, e.cause],
                    )?;
                }
                return Ok(None);
            }
        }
        let now = now_ms();
        conn.execute(
            "INSERT INTO events (connection, side, kind, queue_key, cause, payload, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            params![e.connection, e.side, e.kind.as_str(), e.queue_key, e.cause, e.payload, now],
        )?;
        Ok(Some(conn.last_insert_rowid()))
    }

    /// Takes the next runnable event: pending, due, of an active connection, and the
    /// oldest unfinished event of its issue (so one issue's events run in order).
    pub(crate) fn claim_next(&self) -> Result<Option<Event>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let now = now_ms();
        let found = tx
            .query_row(
                &format!("SELECT {COLUMNS} {NEXT_RUNNABLE} LIMIT 1"),
                [now],
                event,
            )
            .optional()?;
        let Some(mut ev) = found else {
            return Ok(None);
        };
        tx.execute(
            "UPDATE events SET state = 'running', attempts = attempts + 1, updated_at = ?2 WHERE id = ?1",
            params![ev.id, now],
        )?;
        tx.commit()?;
        ev.state = EventState::Running;
        ev.attempts += 1;
        Ok(Some(ev))
    }

    /// Every event that could run at `now`: the head of each issue's queue. A scheduler that
    /// picks among them (the model tests) explores the orders the workers could take.
    pub fn runnable(&self, now: i64) -> Result<Vec<Event>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} {NEXT_RUNNABLE}"))?;
        let rows = stmt.query_map([now], event)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Claims one event that [`Store::runnable`] listed, if it is still pending.
    pub fn claim(&self, id: i64) -> Result<Option<Event>> {
        let conn = self.conn();
        let changed = conn.execute(
            "UPDATE events SET state = 'running', attempts = attempts + 1, updated_at = ?2 \
             WHERE id = ?1 AND state = 'pending'",
            params![id, now_ms()],
        )?;
        if changed == 0 {
            return Ok(None);
        }
        Ok(conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM events WHERE id = ?1"),
                [id],
                event,
            )
            .optional()?)
    }

    /// The event is finished; records the rule version that handled it.
    pub(crate) fn complete(
        &self,
        id: i64,
        state: EventState,
        rule_version: Option<&str>,
        note: Option<&str>,
    ) -> Result<()> {
        self.conn().execute(
            "UPDATE events SET state = ?2, rule_version = COALESCE(?3, rule_version), last_error = ?4, \
             updated_at = ?5 WHERE id = ?1",
            params![id, state.as_str(), rule_version, note, now_ms()],
        )?;
        Ok(())
    }

    /// A transient fault: try again after `delay_ms`; the issue waits, others go on.
    pub(crate) fn retry_later(
        &self,
        id: i64,
        delay_ms: i64,
        error: &str,
        rule_version: Option<&str>,
    ) -> Result<()> {
        let now = now_ms();
        self.conn().execute(
            "UPDATE events SET state = 'pending', not_before = ?2, last_error = ?3, \
             rule_version = COALESCE(?4, rule_version), updated_at = ?5 WHERE id = ?1",
            params![id, now + delay_ms, error, rule_version, now],
        )?;
        Ok(())
    }

    /// A failure only an admin can clear: the event waits for `retry`, blocking its issue.
    pub(crate) fn fail(&self, id: i64, error: &str, rule_version: Option<&str>) -> Result<()> {
        self.conn().execute(
            "UPDATE events SET state = 'failed', last_error = ?2, rule_version = COALESCE(?3, rule_version), \
             updated_at = ?4 WHERE id = ?1",
            params![id, error, rule_version, now_ms()],
        )?;
        Ok(())
    }

    /// `twinsync retry EVENT`: a failed event runs again now.
    pub(crate) fn retry(&self, id: i64) -> Result<()> {
        let conn = self.conn();
        let state: Option<String> = conn
            .query_row("SELECT state FROM events WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        match state.as_deref() {
            None => Err(StoreError::NoEvent(id)),
            Some("failed") => {
                conn.execute(
                    "UPDATE events SET state = 'pending', not_before = 0, updated_at = ?2 WHERE id = ?1",
                    params![id, now_ms()],
                )?;
                Ok(())
            }
            Some(other) => Err(StoreError::NotRetryable {
                id,
                state: other.to_string(),
            }),
        }
    }

    /// Events in a state, newest first, a page at a time.
    pub fn events(
        &self,
        state: Option<EventState>,
        connection: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Event>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM events WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR connection = ?2) \
             ORDER BY id DESC LIMIT ?3 OFFSET ?4"
        ))?;
        let rows = stmt.query_map(
            params![state.map(EventState::as_str), connection, limit, offset],
            event,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One issue's events on one side, newest first: those queued under any of `keys` (its
    /// local key, and `remote:<key>` while its twin was being made). Read only.
    pub fn issue_events(
        &self,
        connection: &str,
        side: &str,
        keys: &[&str],
        limit: i64,
    ) -> Result<Vec<Event>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM events INDEXED BY events_by_issue \
             WHERE connection = ?1 AND side = ?2 AND queue_key = ?3 ORDER BY id DESC LIMIT ?4"
        ))?;
        let mut all = Vec::new();
        for key in keys {
            let rows = stmt.query_map(params![connection, side, key, limit], event)?;
            all.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
        }
        all.sort_by_key(|e| std::cmp::Reverse(e.id));
        all.truncate(limit.max(0) as usize);
        Ok(all)
    }

    /// Counts per state, of one connection or of all.
    pub fn queue_stats(&self, connection: Option<&str>) -> Result<QueueStats> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT state, COUNT(*) FROM events WHERE (?1 IS NULL OR connection = ?1) GROUP BY state",
        )?;
        let mut stats = QueueStats::default();
        let rows = stmt.query_map(params![connection], |r| {
            Ok((r.get::<_, EventState>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (state, n) = row?;
            match state {
                EventState::Pending => stats.pending = n,
                EventState::Running => stats.running = n,
                EventState::Failed => stats.failed = n,
                EventState::Done => stats.done = n,
                EventState::Skipped => stats.skipped = n,
            }
        }
        Ok(stats)
    }

    /// When an event of `connection` last finished as done (ms since the epoch), if ever.
    pub(crate) fn last_done_at(&self, connection: &str) -> Result<Option<i64>> {
        Ok(self.conn().query_row(
            "SELECT MAX(updated_at) FROM events WHERE connection = ?1 AND state = 'done'",
            params![connection],
            |r| r.get(0),
        )?)
    }

    /// Whether any event is pending or running (failed ones wait for an admin).
    pub fn has_open_events(&self) -> Result<bool> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM events WHERE state IN ('pending', 'running'))",
            [],
            |r| r.get(0),
        )?)
    }

    /// The earliest time a pending event becomes due, for the worker's sleep.
    pub(crate) fn next_due(&self) -> Result<Option<i64>> {
        Ok(self.conn().query_row(
            "SELECT MIN(not_before) FROM events WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(key: &str, kind: EventKind) -> NewEvent {
        NewEvent {
            connection: "c".into(),
            side: "a".into(),
            kind,
            queue_key: key.into(),
            cause: "updated".into(),
            payload: None,
        }
    }

    #[test]
    fn one_issue_in_order_others_in_parallel() {
        let s = Store::in_memory().unwrap();
        let a1 = s.enqueue(&ev("A-1", EventKind::Incoming)).unwrap().unwrap();
        let a2 = s.enqueue(&ev("A-1", EventKind::Incoming)).unwrap().unwrap();
        let b1 = s.enqueue(&ev("B-1", EventKind::Incoming)).unwrap().unwrap();
        assert_eq!(s.claim_next().unwrap().unwrap().id, a1);
        // A-1's second event waits for the first; B-1 goes ahead.
        assert_eq!(s.claim_next().unwrap().unwrap().id, b1);
        assert!(s.claim_next().unwrap().is_none());
        s.fail(a1, "rule failed", Some("abc")).unwrap();
        assert!(
            s.claim_next().unwrap().is_none(),
            "a failed event blocks its issue"
        );
        s.retry(a1).unwrap();
        assert_eq!(s.claim_next().unwrap().unwrap().id, a1);
        s.complete(a1, EventState::Done, Some("abc"), None).unwrap();
        assert_eq!(s.claim_next().unwrap().unwrap().id, a2);
    }

    #[test]
    fn claiming_walks_an_index_instead_of_sorting_the_backlog() {
        let s = Store::in_memory().unwrap();
        let plan: Vec<String> = {
            let conn = s.conn();
            let mut stmt = conn
                .prepare(&format!("EXPLAIN QUERY PLAN SELECT id {NEXT_RUNNABLE}"))
                .unwrap();
            stmt.query_map([0], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        assert!(!plan.iter().any(|l| l.contains("TEMP B-TREE")), "{plan:#?}");
    }

    #[test]
    fn both_keys_of_a_twin_hold_the_same_issue() {
        let s = Store::in_memory().unwrap();
        // The twin is being created under its remote key...
        let create = s
            .enqueue(&ev("remote:A-1", EventKind::Incoming))
            .unwrap()
            .unwrap();
        assert_eq!(s.claim_next().unwrap().unwrap().id, create);
        // ...and linked before that event ends; a later replica is queued under the local key.
        s.link_twin("c", "a", "B-7", "A-1").unwrap();
        let update = s.enqueue(&ev("B-7", EventKind::Incoming)).unwrap().unwrap();
        assert!(
            s.claim_next().unwrap().is_none(),
            "the update waits for the creation"
        );
        s.complete(create, EventState::Done, None, None).unwrap();
        assert_eq!(s.claim_next().unwrap().unwrap().id, update);
        // A running event of an issue does not keep other issues waiting.
        let other = s.enqueue(&ev("B-8", EventKind::Outgoing)).unwrap().unwrap();
        let same = s
            .enqueue(&ev("remote:A-1", EventKind::Incoming))
            .unwrap()
            .unwrap();
        assert_eq!(s.claim_next().unwrap().unwrap().id, other);
        assert!(
            s.claim_next().unwrap().is_none(),
            "{same} waits for the running update"
        );
    }

    #[test]
    fn pending_outgoing_events_fold() {
        let s = Store::in_memory().unwrap();
        assert!(
            s.enqueue(&ev("A-1", EventKind::Outgoing))
                .unwrap()
                .is_some()
        );
        assert!(
            s.enqueue(&ev("A-1", EventKind::Outgoing))
                .unwrap()
                .is_none()
        );
        assert_eq!(s.queue_stats(None).unwrap().pending, 1);
    }

    #[test]
    fn an_admins_request_folded_into_a_waiting_event_keeps_its_cause() {
        let s = Store::in_memory().unwrap();
        let id = s.enqueue(&ev("A-1", EventKind::Outgoing)).unwrap().unwrap();
        let mut asked = ev("A-1", EventKind::Outgoing);
        asked.cause = "manual".into();
        assert!(s.enqueue(&asked).unwrap().is_none(), "folded");
        let held = s.claim(id).unwrap().expect("the waiting event");
        assert_eq!(held.cause, "manual", "a manual direction sends it");
    }

    #[test]
    fn retry_refuses_events_that_did_not_fail() {
        let s = Store::in_memory().unwrap();
        let id = s.enqueue(&ev("A-1", EventKind::Outgoing)).unwrap().unwrap();
        assert!(matches!(s.retry(id), Err(StoreError::NotRetryable { .. })));
        assert!(matches!(s.retry(999), Err(StoreError::NoEvent(999))));
    }

    #[test]
    fn paused_connections_queue_but_do_not_run() {
        let s = Store::in_memory().unwrap();
        s.set_connection_state("c", super::super::ConnectionState::Paused)
            .unwrap();
        s.enqueue(&ev("A-1", EventKind::Outgoing)).unwrap();
        assert!(s.claim_next().unwrap().is_none());
        s.set_connection_state("c", super::super::ConnectionState::Active)
            .unwrap();
        assert!(s.claim_next().unwrap().is_some());
    }
}
