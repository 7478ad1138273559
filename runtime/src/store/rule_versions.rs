//! The history of each side's rule as an admin published it: every version's hash, size,
//! note, when it was uploaded and published, and where its copy lives in the data directory,
//! so that any earlier version can be published again (a rollback).

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, now_ms};

/// One version of a side's rule in its history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleVersion {
    /// The connection.
    pub connection: String,
    /// The side of the connection.
    pub side: String,
    /// The version's number on this side: 0 is the file the side had before its first
    /// publish, then 1, 2, ...
    pub version: i64,
    /// The component's SHA-256 (hex).
    pub sha256: String,
    /// The component's size in bytes.
    pub size: i64,
    /// What the admin said about it ("rollback to v3" for a rollback).
    pub note: String,
    /// The copy of the component kept in the data directory.
    pub file: String,
    /// When it was uploaded (ms since the epoch).
    pub uploaded_at: i64,
    /// When it was published (ms since the epoch); `None` while it is being published, or
    /// if its publication failed.
    pub published_at: Option<i64>,
}

const COLUMNS: &str =
    "connection, side, version, sha256, size, note, file, uploaded_at, published_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RuleVersion> {
    Ok(RuleVersion {
        connection: r.get(0)?,
        side: r.get(1)?,
        version: r.get(2)?,
        sha256: r.get(3)?,
        size: r.get(4)?,
        note: r.get(5)?,
        file: r.get(6)?,
        uploaded_at: r.get(7)?,
        published_at: r.get(8)?,
    })
}

impl Store {
    /// Forgets every rule version of a connection (it was deleted).
    pub fn remove_rule_versions(&self, connection: &str) -> Result<usize> {
        Ok(self.conn().execute(
            "DELETE FROM rule_versions WHERE connection = ?1",
            [connection],
        )?)
    }

    /// A side's rule history, newest version first.
    pub fn rule_versions(&self, connection: &str, side: &str) -> Result<Vec<RuleVersion>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM rule_versions WHERE connection = ?1 AND side = ?2 \
             ORDER BY version DESC"
        ))?;
        let rows = stmt.query_map(params![connection, side], row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One version of a side's rule, if the history has it.
    pub fn rule_version(
        &self,
        connection: &str,
        side: &str,
        version: i64,
    ) -> Result<Option<RuleVersion>> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM rule_versions \
                     WHERE connection = ?1 AND side = ?2 AND version = ?3"
                ),
                params![connection, side, version],
                row,
            )
            .optional()?)
    }

    /// The number the next version of a side's rule gets: one more than the newest, or 1.
    pub fn next_rule_version(&self, connection: &str, side: &str) -> Result<i64> {
        let newest: Option<i64> = self.conn().query_row(
            "SELECT MAX(version) FROM rule_versions WHERE connection = ?1 AND side = ?2",
            params![connection, side],
            |r| r.get(0),
        )?;
        Ok(newest.map_or(1, |v| v + 1))
    }

    /// Records a version in a side's history (its `uploaded_at` given, e.g. a file's time).
    pub fn add_rule_version(&self, v: &RuleVersion) -> Result<()> {
        self.conn().execute(
            &format!(
                "INSERT INTO rule_versions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ),
            params![
                v.connection,
                v.side,
                v.version,
                v.sha256,
                v.size,
                v.note,
                v.file,
                v.uploaded_at,
                v.published_at
            ],
        )?;
        Ok(())
    }

    /// Marks a version published now; returns the time.
    pub fn publish_rule_version(&self, connection: &str, side: &str, version: i64) -> Result<i64> {
        let at = now_ms();
        self.conn().execute(
            "UPDATE rule_versions SET published_at = ?4 \
             WHERE connection = ?1 AND side = ?2 AND version = ?3",
            params![connection, side, version, at],
        )?;
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(v: i64, published_at: Option<i64>) -> RuleVersion {
        RuleVersion {
            connection: "c".into(),
            side: "a".into(),
            version: v,
            sha256: format!("{v:064}"),
            size: 10 * v,
            note: format!("v{v}"),
            file: format!("rule-versions/c/a/{v}.wasm"),
            uploaded_at: 1000 + v,
            published_at,
        }
    }

    #[test]
    fn a_sides_history_is_numbered_and_listed_newest_first() {
        let store = Store::in_memory().expect("store");
        assert_eq!(store.next_rule_version("c", "a").expect("next"), 1);
        store.add_rule_version(&version(0, Some(5))).expect("v0");
        store.add_rule_version(&version(1, None)).expect("v1");
        assert_eq!(store.next_rule_version("c", "a").expect("next"), 2);
        assert_eq!(store.next_rule_version("c", "b").expect("other side"), 1);
        let at = store.publish_rule_version("c", "a", 1).expect("publish");
        let list = store.rule_versions("c", "a").expect("list");
        assert_eq!(list.iter().map(|v| v.version).collect::<Vec<_>>(), [1, 0]);
        assert_eq!(list[0].published_at, Some(at));
        assert_eq!(
            store.rule_version("c", "a", 0).expect("get"),
            Some(version(0, Some(5)))
        );
        assert_eq!(store.rule_version("c", "a", 7).expect("get"), None);
        assert!(
            store.add_rule_version(&version(1, None)).is_err(),
            "a version number is never reused"
        );
    }
}
