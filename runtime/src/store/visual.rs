//! A Visual-mode connection's mapping documents: the draft the admin page edits and the
//! one last published. The published document's compiled keys live in the sides' config;
//! the document keeps what the keys cannot (the order, the pairs as the admin drew them).

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, now_ms};

/// Which of a connection's two documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingState {
    /// Being edited; the node does not run it.
    Draft,
    /// Published: the sides' config was compiled from it.
    Published,
}

impl MappingState {
    fn as_str(self) -> &'static str {
        match self {
            MappingState::Draft => "draft",
            MappingState::Published => "published",
        }
    }
}

impl Store {
    /// A connection's mapping document (JSON) in `state`, with when it was written.
    pub fn visual_mapping(
        &self,
        connection: &str,
        state: MappingState,
    ) -> Result<Option<(String, i64)>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT document, updated_at FROM visual_mappings WHERE connection = ?1 AND state = ?2",
                params![connection, state.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Writes a connection's mapping document in `state`.
    pub fn put_visual_mapping(
        &self,
        connection: &str,
        state: MappingState,
        document: &str,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO visual_mappings (connection, state, document, updated_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (connection, state) DO UPDATE SET document = ?3, updated_at = ?4",
            params![connection, state.as_str(), document, now_ms()],
        )?;
        Ok(())
    }

    /// Drops a connection's document in `state` (`None`: both); true if there was one.
    pub fn remove_visual_mapping(
        &self,
        connection: &str,
        state: Option<MappingState>,
    ) -> Result<bool> {
        let n = match state {
            Some(s) => self.conn().execute(
                "DELETE FROM visual_mappings WHERE connection = ?1 AND state = ?2",
                params![connection, s.as_str()],
            )?,
            None => self.conn().execute(
                "DELETE FROM visual_mappings WHERE connection = ?1",
                params![connection],
            )?,
        };
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_and_a_published_document_live_side_by_side() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("s.db")).unwrap();
        assert_eq!(s.visual_mapping("c", MappingState::Draft).unwrap(), None);
        s.put_visual_mapping("c", MappingState::Draft, "{\"a\":1}")
            .unwrap();
        s.put_visual_mapping("c", MappingState::Draft, "{\"a\":2}")
            .unwrap();
        s.put_visual_mapping("c", MappingState::Published, "{\"a\":0}")
            .unwrap();
        let draft = s.visual_mapping("c", MappingState::Draft).unwrap().unwrap();
        assert_eq!(draft.0, "{\"a\":2}");
        assert!(
            s.remove_visual_mapping("c", Some(MappingState::Draft))
                .unwrap()
        );
        assert!(
            !s.remove_visual_mapping("c", Some(MappingState::Draft))
                .unwrap()
        );
        assert!(
            s.visual_mapping("c", MappingState::Published)
                .unwrap()
                .is_some()
        );
        assert!(s.remove_visual_mapping("c", None).unwrap());
    }
}
