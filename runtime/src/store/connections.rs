//! Connection state (active, paused, deleted), detection watermarks and bulk runs.

use rusqlite::{OptionalExtension, params};

use super::text_enum::text_enum;
use super::{Result, Store, now_ms};

/// Whether a connection syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// Syncing.
    Active,
    /// Events queue up and nothing runs until resumed; nothing is lost.
    Paused,
    /// Deleted on this node (or by the peer); nothing more syncs.
    Deleted,
}

text_enum!(ConnectionState in "connections.state" {
    Active => "active",
    Paused => "paused",
    Deleted => "deleted",
});

/// Progress of a `twinsync bulk` run; resumable from `cursor` after a kill.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BulkRun {
    /// Its id.
    pub id: i64,
    pub(crate) connection: String,
    pub(crate) side: String,
    /// The JQL that selects the issues.
    pub jql: String,
    pub(crate) cursor: Option<String>,
    /// Issues queued so far.
    pub queued: i64,
    /// How many issues the JQL matches, once Jira has said.
    pub total: Option<i64>,
    /// Every page has been queued.
    pub done: bool,
}

/// A bulk run's `state` column: `done` or still `running`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BulkState {
    Running,
    Done,
}

text_enum!(BulkState in "bulk_runs.state" {
    Running => "running",
    Done => "done",
});

/// The columns every bulk-run query selects first, in [`bulk_run_row`]'s order.
const BULK_RUN_COLUMNS: &str = "id, connection, side, jql, cursor, queued, total, state";

fn bulk_run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BulkRun> {
    Ok(BulkRun {
        id: r.get(0)?,
        connection: r.get(1)?,
        side: r.get(2)?,
        jql: r.get(3)?,
        cursor: r.get(4)?,
        queued: r.get(5)?,
        total: r.get(6)?,
        done: r.get::<_, BulkState>(7)? == BulkState::Done,
    })
}

impl Store {
    /// The connection's state; one this store has not seen is active.
    pub fn connection_state(&self, name: &str) -> Result<ConnectionState> {
        let state: Option<ConnectionState> = self
            .conn()
            .query_row(
                "SELECT state FROM connections WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?;
        // No row: the connection was never paused or deleted.
        Ok(state.unwrap_or(ConnectionState::Active))
    }

    pub(crate) fn set_connection_state(&self, name: &str, state: ConnectionState) -> Result<()> {
        self.conn().execute(
            "INSERT INTO connections (name, state, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET state = ?2, updated_at = ?3",
            params![name, state.as_str(), now_ms()],
        )?;
        Ok(())
    }

    /// A detection watermark of one side (`poll`, `disabled-since`, ...), if it has one.
    pub fn watermark(&self, connection: &str, side: &str, source: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT value FROM watermarks WHERE connection = ?1 AND side = ?2 AND source = ?3",
                params![connection, side, source],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub(crate) fn set_watermark(
        &self,
        connection: &str,
        side: &str,
        source: &str,
        value: &str,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO watermarks (connection, side, source, value) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (connection, side, source) DO UPDATE SET value = ?4",
            params![connection, side, source, value],
        )?;
        Ok(())
    }

    /// Forgets a watermark (a catch-up that was done).
    pub(crate) fn remove_watermark(
        &self,
        connection: &str,
        side: &str,
        source: &str,
    ) -> Result<()> {
        self.conn().execute(
            "DELETE FROM watermarks WHERE connection = ?1 AND side = ?2 AND source = ?3",
            params![connection, side, source],
        )?;
        Ok(())
    }

    /// The unfinished bulk run for this connection side and JQL, or a new one.
    pub fn bulk_run(&self, connection: &str, side: &str, jql: &str) -> Result<BulkRun> {
        let conn = self.conn();
        let existing = conn
            .query_row(
                &format!(
                    "SELECT {BULK_RUN_COLUMNS} FROM bulk_runs \
                     WHERE connection = ?1 AND side = ?2 AND jql = ?3 AND state = 'running' ORDER BY id DESC LIMIT 1"
                ),
                params![connection, side, jql],
                bulk_run_row,
            )
            .optional()?;
        if let Some(run) = existing {
            return Ok(run);
        }
        let now = now_ms();
        conn.execute(
            "INSERT INTO bulk_runs (connection, side, jql, started_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
            params![connection, side, jql, now],
        )?;
        Ok(BulkRun {
            id: conn.last_insert_rowid(),
            connection: connection.into(),
            side: side.into(),
            jql: jql.into(),
            cursor: None,
            queued: 0,
            total: None,
            done: false,
        })
    }

    /// Bulk runs, newest first, with when each started and last moved (ms since the epoch).
    pub(crate) fn bulk_runs(
        &self,
        connection: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(BulkRun, i64, i64)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {BULK_RUN_COLUMNS}, started_at, updated_at \
             FROM bulk_runs WHERE (?1 IS NULL OR connection = ?1) ORDER BY id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![connection, limit], |r| {
            Ok((bulk_run_row(r)?, r.get(8)?, r.get(9)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub(crate) fn update_bulk_run(&self, run: &BulkRun) -> Result<()> {
        self.conn().execute(
            "UPDATE bulk_runs SET cursor = ?2, queued = ?3, total = ?4, state = ?5, updated_at = ?6 WHERE id = ?1",
            params![
                run.id,
                run.cursor,
                run.queued,
                run.total,
                if run.done {
                    BulkState::Done
                } else {
                    BulkState::Running
                },
                now_ms()
            ],
        )?;
        Ok(())
    }
}
