//! State and kind enums stored as text: one macro gives each its text (both ways), `ToSql` and a strict `FromSql`.
//!
//! A text the node does not know (a newer node's state, a hand edit) is an
//! error naming the column and the text, never read as some default state.

/// A stored text that names no value of the column's enum.
#[derive(Debug, thiserror::Error)]
#[error("unknown {column} '{text}' in the store")]
pub struct UnknownText {
    /// `table.column`.
    pub column: &'static str,
    pub text: String,
}

/// Implements `as_str`, `from_text`, `ToSql` and `FromSql` for a fieldless enum kept in `$column` as text.
macro_rules! text_enum {
    ($ty:ident in $column:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// The value's text in the store (and, where the value travels, on the wire).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }

            /// The value whose text is `text`, if any.
            pub fn from_text(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($ty::$variant),)+
                    _ => None,
                }
            }
        }

        impl rusqlite::types::ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl rusqlite::types::FromSql for $ty {
            fn column_result(
                v: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                let text = v.as_str()?;
                $ty::from_text(text).ok_or_else(|| {
                    rusqlite::types::FromSqlError::Other(Box::new(
                        $crate::store::text_enum::UnknownText {
                            column: $column,
                            text: text.to_string(),
                        },
                    ))
                })
            }
        }
    };
}

pub(crate) use text_enum;

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::super::{ConnectionState, EventKind, NewEvent, Store};

    /// Writes `sql` into the store file past its CHECK constraints, as a newer node or a hand edit could.
    fn write_raw(path: &std::path::Path, sql: &str) {
        let raw = Connection::open(path).unwrap();
        raw.execute_batch(&format!("PRAGMA ignore_check_constraints = ON; {sql}"))
            .unwrap();
    }

    #[test]
    fn an_unknown_state_in_the_file_is_an_error_naming_column_and_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.db");
        let s = Store::open(&path).unwrap();
        let id = s
            .enqueue(&NewEvent {
                connection: "c".into(),
                side: "a".into(),
                kind: EventKind::Outgoing,
                queue_key: "A-1".into(),
                cause: "updated".into(),
                payload: None,
            })
            .unwrap()
            .unwrap();
        s.set_connection_state("c", ConnectionState::Paused)
            .unwrap();
        s.bulk_run("c", "a", "project = A").unwrap();
        write_raw(
            &path,
            &format!(
                "UPDATE events SET state = 'archived' WHERE id = {id}; \
                 UPDATE connections SET state = 'frozen' WHERE name = 'c'; \
                 UPDATE bulk_runs SET state = 'halted';"
            ),
        );
        let e = s.events(None, None, 10, 0).unwrap_err();
        let text = crate::text::error_chain(&e);
        assert!(text.contains("unknown events.state 'archived'"), "{text}");
        let e = s.queue_stats(None).unwrap_err();
        assert!(crate::text::error_chain(&e).contains("'archived'"));
        let e = s.connection_state("c").unwrap_err();
        let text = crate::text::error_chain(&e);
        assert!(
            text.contains("unknown connections.state 'frozen'"),
            "{text}"
        );
        let e = s.bulk_runs(None, 10).unwrap_err();
        let text = crate::text::error_chain(&e);
        assert!(text.contains("unknown bulk_runs.state 'halted'"), "{text}");
        // A connection with no row at all is active: it was never paused.
        assert_eq!(
            s.connection_state("other").unwrap(),
            ConnectionState::Active
        );
    }
}
