//! The node's configuration as rows: Jira instances and connections as JSON bodies marked
//! with where they came from (the TOML or the admin page), and triggers with their ids.
//! The store keeps the text; `crate::setup` gives it meaning.

use rusqlite::{OptionalExtension, params};

use super::text_enum::text_enum;
use super::{Result, Store, now_ms};

/// What a setup row describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupKind {
    /// A Jira instance (site).
    Instance,
    /// A connection and its sides.
    Connection,
}

text_enum!(SetupKind in "setup.kind" {
    Instance => "instance",
    Connection => "connection",
});

/// Who made a setup row or trigger: the TOML file (which owns its existence) or the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SetupOrigin {
    /// Declared in the node's TOML; edits in the page stand until the file's entry changes.
    Config,
    /// Made through the admin API.
    Page,
}

text_enum!(SetupOrigin in "setup.origin" {
    Config => "config",
    Page => "page",
});

/// One instance or connection as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupRow {
    /// Instance or connection.
    pub kind: SetupKind,
    /// Its name.
    pub name: String,
    /// Its definition, JSON.
    pub body: String,
    /// The TOML or the page.
    pub origin: SetupOrigin,
    /// For rows from the TOML: a hash of the file's entry when it was last taken in.
    pub config_hash: Option<String>,
}

/// A trigger: JQL that puts a side's matching issues under sync.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Trigger {
    /// Its id, for the admin API.
    pub id: i64,
    /// The connection.
    pub connection: String,
    /// The side whose Jira the JQL runs on.
    pub side: String,
    /// The JQL.
    pub jql: String,
    /// The admin's note.
    pub note: String,
    /// Whether it puts issues under sync.
    pub active: bool,
    /// The TOML or the page.
    pub origin: SetupOrigin,
    #[serde(skip)]
    pub(crate) config_hash: Option<String>,
}

/// A trigger to add.
#[derive(Debug, Clone, Copy)]
pub struct NewTrigger<'a> {
    /// The connection.
    pub connection: &'a str,
    /// The side whose Jira the JQL runs on.
    pub side: &'a str,
    /// The JQL.
    pub jql: &'a str,
    /// The admin's note.
    pub note: &'a str,
    /// Whether it puts issues under sync.
    pub active: bool,
    /// The TOML or the page.
    pub origin: SetupOrigin,
    /// For a trigger from the TOML: the hash of the file's entry.
    pub config_hash: Option<&'a str>,
}

/// A change to a trigger; unset fields stay.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerEdit {
    /// New JQL.
    pub jql: Option<String>,
    /// New note.
    pub note: Option<String>,
    /// Switch it on or off.
    pub active: Option<bool>,
}

const TRIGGER_COLUMNS: &str = "id, connection, side, jql, note, active, origin, config_hash";

fn trigger_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Trigger> {
    Ok(Trigger {
        id: r.get(0)?,
        connection: r.get(1)?,
        side: r.get(2)?,
        jql: r.get(3)?,
        note: r.get(4)?,
        active: r.get::<_, i64>(5)? != 0,
        origin: r.get(6)?,
        config_hash: r.get(7)?,
    })
}

impl Store {
    /// Every setup row of one kind, by name.
    pub fn setup_rows(&self, kind: SetupKind) -> Result<Vec<SetupRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT kind, name, body, origin, config_hash FROM setup WHERE kind = ?1 ORDER BY name",
        )?;
        let rows = stmt.query_map([kind], |r| {
            Ok(SetupRow {
                kind: r.get(0)?,
                name: r.get(1)?,
                body: r.get(2)?,
                origin: r.get(3)?,
                config_hash: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One setup row.
    pub fn setup_row(&self, kind: SetupKind, name: &str) -> Result<Option<SetupRow>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT kind, name, body, origin, config_hash FROM setup WHERE kind = ?1 AND name = ?2",
                params![kind, name],
                |r| {
                    Ok(SetupRow {
                        kind: r.get(0)?,
                        name: r.get(1)?,
                        body: r.get(2)?,
                        origin: r.get(3)?,
                        config_hash: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// Writes a setup row whole, replacing one of the same kind and name.
    pub fn put_setup_row(&self, row: &SetupRow) -> Result<()> {
        self.conn().execute(
            "INSERT INTO setup (kind, name, body, origin, config_hash, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (kind, name) DO UPDATE SET body = ?3, origin = ?4, config_hash = ?5, updated_at = ?6",
            params![row.kind, row.name, row.body, row.origin, row.config_hash, now_ms()],
        )?;
        Ok(())
    }

    /// Adds a setup row only if none of that kind and name exists; returns whether it did.
    pub fn add_setup_row(&self, row: &SetupRow) -> Result<bool> {
        let n = self.conn().execute(
            "INSERT OR IGNORE INTO setup (kind, name, body, origin, config_hash, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                row.kind,
                row.name,
                row.body,
                row.origin,
                row.config_hash,
                now_ms()
            ],
        )?;
        Ok(n == 1)
    }

    /// Removes a setup row; a connection's triggers go with it. Returns whether it existed.
    pub fn remove_setup_row(&self, kind: SetupKind, name: &str) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "DELETE FROM setup WHERE kind = ?1 AND name = ?2",
            params![kind, name],
        )?;
        if kind == SetupKind::Connection {
            tx.execute("DELETE FROM triggers WHERE connection = ?1", [name])?;
        }
        tx.commit()?;
        Ok(n == 1)
    }

    /// Triggers, of one connection or all, oldest first.
    pub fn triggers(&self, connection: Option<&str>) -> Result<Vec<Trigger>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {TRIGGER_COLUMNS} FROM triggers WHERE (?1 IS NULL OR connection = ?1) ORDER BY id"
        ))?;
        let rows = stmt.query_map([connection], trigger_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One trigger.
    pub fn trigger(&self, id: i64) -> Result<Option<Trigger>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {TRIGGER_COLUMNS} FROM triggers WHERE id = ?1"),
                [id],
                trigger_row,
            )
            .optional()?)
    }

    /// Adds a trigger; returns its id.
    pub fn add_trigger(&self, t: &NewTrigger<'_>) -> Result<i64> {
        let conn = self.conn();
        let now = now_ms();
        conn.execute(
            "INSERT INTO triggers (connection, side, jql, note, active, origin, config_hash, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            params![t.connection, t.side, t.jql, t.note, t.active, t.origin, t.config_hash, now],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Changes a trigger; returns it as it now is, or `None` when there is no such trigger.
    pub fn edit_trigger(&self, id: i64, edit: &TriggerEdit) -> Result<Option<Trigger>> {
        self.conn().execute(
            "UPDATE triggers SET jql = COALESCE(?2, jql), note = COALESCE(?3, note), \
             active = COALESCE(?4, active), updated_at = ?5 WHERE id = ?1",
            params![id, edit.jql, edit.note, edit.active, now_ms()],
        )?;
        self.trigger(id)
    }

    /// Removes a trigger; returns whether it existed.
    pub fn remove_trigger(&self, id: i64) -> Result<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM triggers WHERE id = ?1", [id])?
            == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, body: &str, origin: SetupOrigin) -> SetupRow {
        SetupRow {
            kind: SetupKind::Instance,
            name: name.into(),
            body: body.into(),
            origin,
            config_hash: None,
        }
    }

    #[test]
    fn setup_rows_are_added_once_replaced_and_removed() {
        let store = Store::in_memory().expect("store");
        assert!(
            store
                .add_setup_row(&row("a", "{}", SetupOrigin::Page))
                .expect("add")
        );
        assert!(
            !store
                .add_setup_row(&row("a", "{\"x\":1}", SetupOrigin::Page))
                .expect("add again"),
            "a second add leaves the first"
        );
        store
            .put_setup_row(&row("a", "{\"x\":2}", SetupOrigin::Config))
            .expect("put");
        let got = store
            .setup_row(SetupKind::Instance, "a")
            .expect("read")
            .expect("row");
        assert_eq!(
            (got.body.as_str(), got.origin),
            ("{\"x\":2}", SetupOrigin::Config)
        );
        assert!(
            store
                .remove_setup_row(SetupKind::Instance, "a")
                .expect("rm")
        );
        assert!(
            store
                .setup_rows(SetupKind::Instance)
                .expect("list")
                .is_empty()
        );
    }

    #[test]
    fn triggers_are_edited_in_part_and_go_with_their_connection() {
        let store = Store::in_memory().expect("store");
        let id = store
            .add_trigger(&NewTrigger {
                connection: "c",
                side: "a",
                jql: "project = A",
                note: "n",
                active: true,
                origin: SetupOrigin::Page,
                config_hash: None,
            })
            .expect("add");
        let edited = store
            .edit_trigger(
                id,
                &TriggerEdit {
                    active: Some(false),
                    ..TriggerEdit::default()
                },
            )
            .expect("edit")
            .expect("trigger");
        assert_eq!((edited.jql.as_str(), edited.active), ("project = A", false));
        assert!(
            store
                .edit_trigger(id + 1, &TriggerEdit::default())
                .expect("edit")
                .is_none()
        );
        store
            .put_setup_row(&SetupRow {
                kind: SetupKind::Connection,
                ..row("c", "{}", SetupOrigin::Page)
            })
            .expect("put");
        store
            .remove_setup_row(SetupKind::Connection, "c")
            .expect("rm");
        assert!(store.triggers(None).expect("list").is_empty());
    }
}
