//! Comment and attachment id mappings between twins, and the tombstones deleted items leave.

use rusqlite::params;

use super::text_enum::text_enum;
use super::{Result, Store, now_ms};

/// The kinds of an issue's items that are mapped one by one between twins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A comment.
    Comment,
    /// An attachment.
    Attachment,
    /// A worklog.
    Worklog,
}

text_enum!(ItemKind in "item_map.kind" {
    Comment => "comment",
    Attachment => "attachment",
    Worklog => "worklog",
});

impl ItemKind {
    /// Every kind of mapped item.
    pub const ALL: [ItemKind; 3] = [ItemKind::Comment, ItemKind::Attachment, ItemKind::Worklog];
}

/// Who made an item: only copies we made (`Remote`) are ever updated or deleted by sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The item is this side's own; the other side holds a copy.
    Local,
    /// The item is a copy this side made of the other side's item.
    Remote,
}

text_enum!(Origin in "item_map.origin" {
    Local => "local",
    Remote => "remote",
});

/// A comment or attachment of a twin: its id on the replica's side and on this side.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ItemMapping {
    pub(crate) remote_id: String,
    pub(crate) local_id: String,
    pub(crate) origin: Origin,
    /// Hash of the content last written, to skip unchanged updates.
    pub(crate) content_hash: Option<String>,
}

impl Store {
    /// The comment or attachment mappings of one local issue.
    pub fn item_mappings(
        &self,
        connection: &str,
        side: &str,
        kind: ItemKind,
        local_key: &str,
    ) -> Result<Vec<ItemMapping>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT remote_id, local_id, origin, content_hash FROM item_map \
             WHERE connection = ?1 AND side = ?2 AND kind = ?3 AND local_key = ?4 \
             AND deleted_at IS NULL",
        )?;
        let rows = stmt.query_map(params![connection, side, kind.as_str(), local_key], |r| {
            Ok(ItemMapping {
                remote_id: r.get(0)?,
                local_id: r.get(1)?,
                origin: r.get(2)?,
                content_hash: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub(crate) fn put_item_mapping(
        &self,
        connection: &str,
        side: &str,
        kind: ItemKind,
        local_key: &str,
        mapping: &ItemMapping,
    ) -> Result<()> {
        self.put_item_mappings(connection, &[(side, kind, local_key, mapping)])
    }

    /// Writes several mappings in one transaction (both sides' views of one copied item:
    /// with only one of them written, the copy would come back as a new item).
    pub(crate) fn put_item_mappings(
        &self,
        connection: &str,
        rows: &[(&str, ItemKind, &str, &ItemMapping)],
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for (side, kind, local_key, m) in rows {
            tx.execute(
                "INSERT INTO item_map (connection, side, kind, local_key, remote_id, local_id, origin, content_hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (connection, side, kind, local_key, remote_id) \
                 DO UPDATE SET local_id = ?6, origin = ?7, content_hash = ?8",
                params![
                    connection,
                    side,
                    kind.as_str(),
                    local_key,
                    m.remote_id,
                    m.local_id,
                    m.origin.as_str(),
                    m.content_hash
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn delete_item_mapping(
        &self,
        connection: &str,
        side: &str,
        kind: ItemKind,
        local_key: &str,
        remote_id: &str,
    ) -> Result<()> {
        // A tombstone, not a deletion: an older state that still lists the item must not
        // bring it back as new.
        self.conn().execute(
            "UPDATE item_map SET deleted_at = ?6 WHERE connection = ?1 AND side = ?2 AND kind = ?3 \
             AND local_key = ?4 AND remote_id = ?5 AND deleted_at IS NULL",
            params![
                connection,
                side,
                kind.as_str(),
                local_key,
                remote_id,
                now_ms()
            ],
        )?;
        Ok(())
    }

    /// The ids (remote and local) of a twin's deleted items: what must never be copied again.
    pub(crate) fn item_tombstones(
        &self,
        connection: &str,
        side: &str,
        kind: ItemKind,
        local_key: &str,
    ) -> Result<Vec<(String, String)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT remote_id, local_id FROM item_map WHERE connection = ?1 AND side = ?2 \
             AND kind = ?3 AND local_key = ?4 AND deleted_at IS NOT NULL",
        )?;
        let rows = stmt.query_map(params![connection, side, kind.as_str(), local_key], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
