//! Twins: local key <-> remote key, the last replica sent and applied, registers, and
//! creations in progress (comment and attachment id mappings are in `items`).

use rusqlite::{OptionalExtension, Row, params};

use super::{Result, Store, now_ms};

/// What a side records as sent to the other side.
pub struct SentRecord<'a> {
    /// Hash of the replica.
    pub(crate) hash: &'a str,
    /// The envelope, JSON.
    pub(crate) replica: &'a str,
    /// `Some((seq, updated, fields edited))` for a replica that really left; `None` for the
    /// echo record after applying a remote change.
    pub(crate) left: Option<(i64, &'a str, bool)>,
    /// The field registers (JSON) to keep with it, if they changed.
    pub(crate) registers: Option<&'a str>,
}

/// One side's view of a twin.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Twin {
    pub(crate) connection: String,
    pub(crate) side: String,
    /// The key on this side.
    pub local_key: String,
    /// The twin's key on the other side, once known.
    pub remote_key: Option<String>,
    /// Hash of the last replica this side sent (echo suppression).
    pub(crate) sent_hash: Option<String>,
    pub(crate) sent_replica: Option<String>,
    /// Hash of the last replica this side applied (duplicate deliveries are no-ops).
    pub(crate) applied_hash: Option<String>,
    pub(crate) applied_replica: Option<String>,
    /// Replicas this side has sent for the twin.
    pub sent_seq: i64,
    /// The local issue's `updated` when the last replica was sent.
    pub(crate) sent_updated: Option<String>,
    /// The other side's sequence number of the last replica applied (or deliberately not applied) here.
    pub applied_seq: i64,
    /// The sequence number of this side's last send that changed fields.
    pub(crate) sent_fields_seq: i64,
    /// The local issue's `updated` when the node last found nothing to send for it.
    pub(crate) seen_updated: Option<String>,
    /// The per-field registers (JSON of `sync::clock::Registers`).
    pub registers: Option<String>,
    /// When `twinsync connect` linked two issues that existed before, as this twin.
    pub connected_at: Option<i64>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

const TWIN_COLUMNS: &str = "connection, side, local_key, remote_key, sent_hash, sent_replica, \
                            applied_hash, applied_replica, created_at, updated_at, sent_seq, \
                            sent_updated, applied_seq, sent_fields_seq, seen_updated, registers, \
                            connected_at";

fn twin(row: &Row<'_>) -> rusqlite::Result<Twin> {
    Ok(Twin {
        connection: row.get(0)?,
        side: row.get(1)?,
        local_key: row.get(2)?,
        remote_key: row.get(3)?,
        sent_hash: row.get(4)?,
        sent_replica: row.get(5)?,
        applied_hash: row.get(6)?,
        applied_replica: row.get(7)?,
        created_at: row.get(8)?,
        updated_at: row.get(9)?,
        sent_seq: row.get(10)?,
        sent_updated: row.get(11)?,
        applied_seq: row.get(12)?,
        sent_fields_seq: row.get(13)?,
        seen_updated: row.get(14)?,
        registers: row.get(15)?,
        connected_at: row.get(16)?,
    })
}

/// Links one side's row of a twin, and ends the creation it may have been waiting on.
fn link_in(
    tx: &rusqlite::Transaction<'_>,
    connection: &str,
    side: &str,
    local_key: &str,
    remote_key: &str,
    now: i64,
) -> rusqlite::Result<()> {
    // A twin made again (the old one was deleted) takes the place of the old row, which still
    // holds the remote key.
    tx.execute(
        "DELETE FROM twins WHERE connection = ?1 AND side = ?2 AND remote_key = ?3 AND local_key != ?4",
        params![connection, side, remote_key, local_key],
    )?;
    tx.execute(
        "INSERT INTO twins (connection, side, local_key, remote_key, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5) \
         ON CONFLICT (connection, side, local_key) DO UPDATE SET remote_key = ?4, updated_at = ?5",
        params![connection, side, local_key, remote_key, now],
    )?;
    tx.execute(
        "DELETE FROM creations WHERE connection = ?1 AND side = ?2 AND remote_key = ?3",
        params![connection, side, remote_key],
    )?;
    Ok(())
}

/// Adds the twin row of a local issue (no remote key yet) if there is none.
fn ensure_in(
    conn: &rusqlite::Connection,
    connection: &str,
    side: &str,
    local_key: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO twins (connection, side, local_key, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![connection, side, local_key, now],
    )?;
    Ok(())
}

impl Store {
    /// Sets columns of one side's twin row: `set` is the SQL assignments, whose parameters
    /// are `?4` on, in the order of `values`.
    fn update_twin(
        &self,
        (connection, side, local_key): (&str, &str, &str),
        set: &str,
        values: &[&dyn rusqlite::ToSql],
    ) -> Result<()> {
        let key: [&dyn rusqlite::ToSql; 3] = [&connection, &side, &local_key];
        let all: Vec<&dyn rusqlite::ToSql> = key.iter().chain(values).copied().collect();
        self.conn().execute(
            &format!(
                "UPDATE twins SET {set} WHERE connection = ?1 AND side = ?2 AND local_key = ?3"
            ),
            all.as_slice(),
        )?;
        Ok(())
    }

    /// This side's twin record of the local issue `local_key`, if it has one.
    pub fn twin_by_local(
        &self,
        connection: &str,
        side: &str,
        local_key: &str,
    ) -> Result<Option<Twin>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {TWIN_COLUMNS} FROM twins WHERE connection = ?1 AND side = ?2 AND local_key = ?3"),
                params![connection, side, local_key],
                twin,
            )
            .optional()?)
    }

    pub(crate) fn twin_by_remote(
        &self,
        connection: &str,
        side: &str,
        remote_key: &str,
    ) -> Result<Option<Twin>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {TWIN_COLUMNS} FROM twins WHERE connection = ?1 AND side = ?2 AND remote_key = ?3"),
                params![connection, side, remote_key],
                twin,
            )
            .optional()?)
    }

    /// Twins of a connection side, a page at a time, most recently synced first.
    pub fn twins(
        &self,
        connection: &str,
        side: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Twin>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {TWIN_COLUMNS} FROM twins WHERE connection = ?1 AND side = ?2 \
             ORDER BY updated_at DESC, local_key LIMIT ?3 OFFSET ?4"
        ))?;
        let rows = stmt.query_map(params![connection, side, limit, offset], twin)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Puts a local issue under sync (no remote key yet) if it is not already.
    pub fn ensure_twin(&self, connection: &str, side: &str, local_key: &str) -> Result<()> {
        Ok(ensure_in(
            &self.conn(),
            connection,
            side,
            local_key,
            now_ms(),
        )?)
    }

    /// Links both sides of a twin of a local connection in one transaction: a crash
    /// between two separate writes would leave one side unlinked, and that side would
    /// later take its twin's replica for a new issue and create a duplicate.
    pub(crate) fn link_twin_pair(
        &self,
        connection: &str,
        (side, local_key): (&str, &str),
        (other, remote_key): (&str, &str),
    ) -> Result<()> {
        let now = now_ms();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        link_in(&tx, connection, side, local_key, remote_key, now)?;
        link_in(&tx, connection, other, remote_key, local_key, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Links two issues that existed before as a twin of a local connection (`twinsync
    /// connect`), with an outgoing event on each side for its first sync, in one transaction:
    /// a crash leaves the pair either wholly linked and queued or not linked at all.
    /// Returns false, changing nothing, when either issue is already a twin on its side.
    pub(crate) fn connect_twins(
        &self,
        connection: &str,
        (side, local_key): (&str, &str),
        (other, remote_key): (&str, &str),
    ) -> Result<bool> {
        let now = now_ms();
        let mut conn = self.conn();
        // Immediate: a read that later writes would fail at once if the node wrote between.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let taken: i64 = tx.query_row(
            "SELECT COUNT(*) FROM twins WHERE connection = ?1 AND \
             ((side = ?2 AND (local_key = ?3 OR remote_key = ?5)) OR \
              (side = ?4 AND (local_key = ?5 OR remote_key = ?3)))",
            params![connection, side, local_key, other, remote_key],
            |r| r.get(0),
        )?;
        if taken > 0 {
            return Ok(false);
        }
        for (s, key, remote) in [
            (side, local_key, remote_key),
            (other, remote_key, local_key),
        ] {
            tx.execute(
                "INSERT INTO twins (connection, side, local_key, remote_key, connected_at, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?5)",
                params![connection, s, key, remote, now],
            )?;
            tx.execute(
                "INSERT INTO events (connection, side, kind, queue_key, cause, created_at, updated_at) \
                 VALUES (?1, ?2, 'outgoing', ?3, 'manual', ?4, ?4)",
                params![connection, s, key, now],
            )?;
        }
        tx.commit()?;
        Ok(true)
    }

    /// Records the remote key of a twin (from an ack, or after creating it here).
    pub fn link_twin(
        &self,
        connection: &str,
        side: &str,
        local_key: &str,
        remote_key: &str,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        link_in(&tx, connection, side, local_key, remote_key, now_ms())?;
        tx.commit()?;
        Ok(())
    }

    /// Ends this side's twin of `local_key` in one transaction: its row and its item mappings
    /// go, and the end is kept (`how`: "deleted" or "unlinked") so the issue is not taken for
    /// a new one later.
    pub(crate) fn end_twin(
        &self,
        connection: &str,
        side: &str,
        local_key: &str,
        remote_key: &str,
        how: &str,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO twin_ends (connection, side, local_key, remote_key, how, ended_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![connection, side, local_key, remote_key, how, now_ms()],
        )?;
        tx.execute(
            "DELETE FROM twins WHERE connection = ?1 AND side = ?2 AND local_key = ?3",
            params![connection, side, local_key],
        )?;
        tx.execute(
            "DELETE FROM item_map WHERE connection = ?1 AND side = ?2 AND local_key = ?3",
            params![connection, side, local_key],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// How this side's twin of `local_key` ended ("deleted" or "unlinked"), if it did.
    pub fn twin_end(
        &self,
        connection: &str,
        side: &str,
        local_key: &str,
    ) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT how FROM twin_ends WHERE connection = ?1 AND side = ?2 AND local_key = ?3",
                params![connection, side, local_key],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Takes the next sequence number for a replica of this twin, durably, before it leaves: a
    /// crash after delivering and before `record_sent` must not send other content under a
    /// number the receiver has already seen (it would drop it as a redelivery).
    pub(crate) fn take_sent_seq(
        &self,
        connection: &str,
        side: &str,
        local_key: &str,
    ) -> Result<i64> {
        let conn = self.conn();
        ensure_in(&conn, connection, side, local_key, now_ms())?;
        Ok(conn.query_row(
            "UPDATE twins SET sent_seq = sent_seq + 1 WHERE connection = ?1 AND side = ?2 AND local_key = ?3 \
             RETURNING sent_seq",
            params![connection, side, local_key],
            |r| r.get(0),
        )?)
    }

    /// Records what this side now considers sent (and, with it, its field registers).
    pub(crate) fn record_sent(
        &self,
        connection: &str,
        side: &str,
        local_key: &str,
        sent: &SentRecord<'_>,
    ) -> Result<()> {
        let (seq, updated, fields) = match sent.left {
            Some((seq, updated, fields)) => (Some(seq), Some(updated), fields),
            None => (None, None, false),
        };
        self.update_twin(
            (connection, side, local_key),
            "sent_hash = ?4, sent_replica = ?5, updated_at = ?6, \
             sent_seq = COALESCE(?7, sent_seq), sent_updated = COALESCE(?8, sent_updated), \
             sent_fields_seq = CASE WHEN ?9 THEN COALESCE(?7, sent_fields_seq) ELSE sent_fields_seq END, \
             registers = COALESCE(?10, registers)",
            &[&sent.hash, &sent.replica, &now_ms(), &seq, &updated, &fields, &sent.registers],
        )
    }

    /// Records a twin side's per-field registers (JSON).
    pub(crate) fn record_registers(
        &self,
        connection: &str,
        side: &str,
        local_key: &str,
        registers: &str,
    ) -> Result<()> {
        self.update_twin(
            (connection, side, local_key),
            "registers = ?4, updated_at = ?5",
            &[&registers, &now_ms()],
        )
    }

    /// Notes the local issue's `updated` at a moment it had nothing unsent.
    pub(crate) fn record_nothing_unsent(
        &self,
        connection: &str,
        side: &str,
        local_key: &str,
        updated: &str,
    ) -> Result<()> {
        self.update_twin(
            (connection, side, local_key),
            "seen_updated = ?4",
            &[&updated],
        )
    }

    /// Notes that the other side's replica `seq` has been seen here (applied or lost a conflict).
    pub(crate) fn record_seen(
        &self,
        connection: &str,
        side: &str,
        local_key: &str,
        seq: i64,
    ) -> Result<()> {
        self.update_twin(
            (connection, side, local_key),
            "applied_seq = MAX(applied_seq, ?4), updated_at = ?5",
            &[&seq, &now_ms()],
        )
    }

    pub(crate) fn record_applied(
        &self,
        connection: &str,
        side: &str,
        local_key: &str,
        hash: &str,
        replica: &str,
    ) -> Result<()> {
        self.update_twin(
            (connection, side, local_key),
            "applied_hash = ?4, applied_replica = ?5, updated_at = ?6",
            &[&hash, &replica, &now_ms()],
        )
    }

    /// Notes that a twin for `remote_key` is being created, before the Jira call.
    pub(crate) fn begin_creation(
        &self,
        connection: &str,
        side: &str,
        remote_key: &str,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT OR IGNORE INTO creations (connection, side, remote_key, started_at) VALUES (?1, ?2, ?3, ?4)",
            params![connection, side, remote_key, now_ms()],
        )?;
        Ok(())
    }

    /// When a creation of a twin for `remote_key` began and never finished (a crash in between).
    pub(crate) fn unfinished_creation(
        &self,
        connection: &str,
        side: &str,
        remote_key: &str,
    ) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT started_at FROM creations WHERE connection = ?1 AND side = ?2 AND remote_key = ?3",
                params![connection, side, remote_key],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Linked twins as one side sees them (each side of a local connection has its own rows).
    pub fn twin_count(&self, connection: &str, side: &str) -> Result<i64> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM twins WHERE connection = ?1 AND side = ?2 AND remote_key IS NOT NULL",
            params![connection, side],
            |r| r.get(0),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ItemKind, ItemMapping, Origin};

    #[test]
    fn a_twin_made_again_takes_the_place_of_the_old_one() {
        let s = Store::in_memory().unwrap();
        s.link_twin_pair("c", ("b", "B-7"), ("a", "A-1")).unwrap();
        // B-7 was deleted and B-8 made in its place.
        s.link_twin_pair("c", ("b", "B-8"), ("a", "A-1")).unwrap();
        let twin = s.twin_by_remote("c", "b", "A-1").unwrap().unwrap();
        assert_eq!(twin.local_key, "B-8");
        assert_eq!(s.twin_by_local("c", "b", "B-7").unwrap(), None);
        let theirs = s.twin_by_local("c", "a", "A-1").unwrap().unwrap();
        assert_eq!(theirs.remote_key.as_deref(), Some("B-8"));
        s.link_twin("c", "b", "B-9", "A-1").unwrap();
        assert_eq!(
            s.twin_by_remote("c", "b", "A-1")
                .unwrap()
                .unwrap()
                .local_key,
            "B-9"
        );
    }

    #[test]
    fn connecting_links_both_sides_at_once_and_never_over_a_twin() {
        let s = Store::in_memory().unwrap();
        assert!(s.connect_twins("c", ("a", "A-1"), ("b", "B-1")).unwrap());
        let a = s.twin_by_local("c", "a", "A-1").unwrap().unwrap();
        let b = s.twin_by_local("c", "b", "B-1").unwrap().unwrap();
        assert_eq!(a.remote_key.as_deref(), Some("B-1"));
        assert_eq!(b.remote_key.as_deref(), Some("A-1"));
        assert!(a.connected_at.is_some() && a.registers.is_none() && a.sent_seq == 0);
        // Neither issue may join a second pair, nor the same pair twice.
        assert!(!s.connect_twins("c", ("a", "A-1"), ("b", "B-2")).unwrap());
        assert!(!s.connect_twins("c", ("a", "A-2"), ("b", "B-1")).unwrap());
        assert!(!s.connect_twins("c", ("a", "A-1"), ("b", "B-1")).unwrap());
        assert_eq!(s.twin_by_local("c", "b", "B-2").unwrap(), None);
        assert_eq!(s.queue_stats(Some("c")).unwrap().pending, 2);
        // An issue under sync whose twin is still on its way is no candidate either.
        s.ensure_twin("c", "a", "A-5").unwrap();
        assert!(!s.connect_twins("c", ("a", "A-5"), ("b", "B-5")).unwrap());
        assert_eq!(s.twin_by_local("c", "b", "B-5").unwrap(), None);
    }

    #[test]
    fn link_and_find_both_ways() {
        let s = Store::in_memory().unwrap();
        s.begin_creation("c", "b", "A-1").unwrap();
        assert!(s.unfinished_creation("c", "b", "A-1").unwrap().is_some());
        s.link_twin("c", "b", "B-7", "A-1").unwrap();
        assert_eq!(s.unfinished_creation("c", "b", "A-1").unwrap(), None);
        assert_eq!(
            s.twin_by_remote("c", "b", "A-1")
                .unwrap()
                .unwrap()
                .local_key,
            "B-7"
        );
        s.record_sent(
            "c",
            "b",
            "B-7",
            &SentRecord {
                hash: "h1",
                replica: "{}",
                left: Some((1, "t", true)),
                registers: None,
            },
        )
        .unwrap();
        assert_eq!(
            s.twin_by_local("c", "b", "B-7")
                .unwrap()
                .unwrap()
                .sent_hash
                .as_deref(),
            Some("h1")
        );
    }

    #[test]
    fn item_mappings_upsert() {
        let s = Store::in_memory().unwrap();
        let m = ItemMapping {
            remote_id: "10".into(),
            local_id: "20".into(),
            origin: Origin::Remote,
            content_hash: Some("x".into()),
        };
        s.put_item_mapping("c", "a", ItemKind::Comment, "A-1", &m)
            .unwrap();
        s.put_item_mapping(
            "c",
            "a",
            ItemKind::Comment,
            "A-1",
            &ItemMapping {
                content_hash: Some("y".into()),
                ..m.clone()
            },
        )
        .unwrap();
        let all = s.item_mappings("c", "a", ItemKind::Comment, "A-1").unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].content_hash.as_deref(), Some("y"));
        s.delete_item_mapping("c", "a", ItemKind::Comment, "A-1", "10")
            .unwrap();
        assert!(
            s.item_mappings("c", "a", ItemKind::Comment, "A-1")
                .unwrap()
                .is_empty()
        );
    }
}
