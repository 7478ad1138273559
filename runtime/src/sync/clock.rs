//! Field versions: one last-writer-wins register per replica field, versioned by a hybrid
//! logical clock reading, so both sides of a twin pick the same winner of a concurrent edit
//! from the same facts, in whatever order replicas arrive (see `docs/sync.md`).
//!
//! A register holds the version that set the field and the hash of this side's replica value
//! at that moment. A local edit is a value whose hash differs from its register's: it gets a
//! fresh version. A value this side wrote for the other side keeps the other side's version,
//! and a comment, an attachment or any other change that leaves the field alone never moves it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::Replica;

/// A hybrid logical clock reading: the edit's wall-clock milliseconds, a counter for an edit
/// that must come after a version whose clock reads later, and the side as tie-break.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct Version {
    pub(crate) ms: i64,
    pub(crate) count: u32,
    pub(crate) side: String,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}@{}", self.ms, self.count, self.side)
    }
}

impl Version {
    /// The version of an edit `side` made at `at_ms` (the issue's `updated` time in its Jira)
    /// to a field whose register held `floor`: after `floor` whatever the clocks say, so an
    /// edit always beats the value it replaced, and otherwise ordered by when it was made.
    pub(crate) fn after(floor: Option<&Version>, at_ms: i64, side: &str) -> Version {
        match floor {
            Some(f) if at_ms <= f.ms => Version {
                ms: f.ms,
                count: f.count.saturating_add(1),
                side: side.to_string(),
            },
            _ => Version {
                ms: at_ms,
                count: 0,
                side: side.to_string(),
            },
        }
    }
}

/// Milliseconds since the epoch of a Jira `updated` time, or now when it cannot be read.
pub(crate) fn edit_time(updated: &str) -> i64 {
    chrono::DateTime::parse_from_str(updated, "%Y-%m-%dT%H:%M:%S%.3f%z")
        .map(|t| t.timestamp_millis())
        .unwrap_or_else(|_| crate::store::now_ms())
}

/// One field's register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Register {
    pub(crate) version: Version,
    /// Hash of this side's replica value of the field when the version was set.
    pub(crate) hash: String,
}

/// A twin's registers on one side, by field name.
pub(crate) type Registers = BTreeMap<String, Register>;

/// The versions a replica carries, by field name.
pub(crate) type Versions = BTreeMap<String, Version>;

/// Replica members that are not fields with versions: identity, metadata and the item sets.
const NOT_FIELDS: [&str; 9] = [
    "key",
    "project",
    "created",
    "updated",
    "comments",
    "attachments",
    "worklogs",
    "links",
    "custom_fields",
];

/// The field values of a replica by register name: each top-level field, and each custom
/// field as `custom:<id>` (comments and attachments are sets with their own mappings).
pub(crate) fn field_values(replica: &Replica) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(replica) {
        for (name, value) in map {
            if !NOT_FIELDS.contains(&name.as_str()) {
                out.insert(name, value);
            }
        }
    }
    for cf in &replica.custom_fields {
        let value = serde_json::to_value(&cf.value).unwrap_or(serde_json::Value::Null);
        out.insert(custom_name(&cf.id), value);
    }
    out
}

/// The register name of a custom field.
pub(crate) fn custom_name(id: &str) -> String {
    format!("custom:{id}")
}

/// The hash of each field value of a replica.
pub(crate) fn field_hashes(replica: &Replica) -> BTreeMap<String, String> {
    field_values(replica)
        .into_iter()
        .map(|(name, value)| {
            let bytes = serde_json::to_vec(&value).unwrap_or_default();
            (name, hex::encode(&Sha256::digest(&bytes)[..12]))
        })
        .collect()
}

/// Gives every field whose value moved away from its register a fresh version: these are the
/// side's own edits. Returns the names of the fields that changed.
pub(crate) fn note_local_edits(
    registers: &mut Registers,
    now: &BTreeMap<String, String>,
    at_ms: i64,
    side: &str,
) -> Vec<String> {
    let mut changed = Vec::new();
    for (name, hash) in now {
        let old = registers.get(name);
        if old.is_none_or(|r| &r.hash != hash) {
            let version = Version::after(old.map(|r| &r.version), at_ms, side);
            registers.insert(
                name.clone(),
                Register {
                    version,
                    hash: hash.clone(),
                },
            );
            changed.push(name.clone());
        }
    }
    changed
}

/// The versions to send beside a replica.
pub(crate) fn versions_of(registers: &Registers) -> Versions {
    registers
        .iter()
        .map(|(k, r)| (k.clone(), r.version.clone()))
        .collect()
}

/// Whether the other side's value of `field` (set at `theirs`) beats this side's register.
/// Both sides compare the same two versions, and versions are totally ordered, so exactly
/// one side wins; a field this side holds no version of always takes the other side's value.
pub(crate) fn theirs_wins(registers: &Registers, field: &str, theirs: Option<&Version>) -> bool {
    match (registers.get(field), theirs) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(mine), Some(theirs)) => theirs > &mine.version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(ms: i64, count: u32, side: &str) -> Version {
        Version {
            ms,
            count,
            side: side.into(),
        }
    }

    #[test]
    fn versions_order_by_time_then_count_then_side() {
        assert!(v(2, 0, "a") > v(1, 9, "z"));
        assert!(v(1, 1, "a") > v(1, 0, "z"));
        assert!(v(1, 0, "b") > v(1, 0, "a"));
    }

    #[test]
    fn an_edit_comes_after_what_it_replaced_whatever_the_clocks_say() {
        let seen = v(5_000, 2, "b");
        assert!(Version::after(Some(&seen), 4_000, "a") > seen);
        assert_eq!(Version::after(Some(&seen), 6_000, "a"), v(6_000, 0, "a"));
        assert_eq!(Version::after(None, 7, "a"), v(7, 0, "a"));
        assert_eq!(edit_time("2026-11-25T10:00:00.250+0000"), 1_795_600_800_250);
    }

    #[test]
    fn exactly_one_side_wins_a_field_whatever_the_order() {
        let mut a = Registers::new();
        let mut b = Registers::new();
        note_local_edits(&mut a, &[("summary".into(), "x".into())].into(), 10, "a");
        note_local_edits(&mut b, &[("summary".into(), "y".into())].into(), 10, "b");
        let va = a["summary"].version.clone();
        let vb = b["summary"].version.clone();
        assert_ne!(
            theirs_wins(&a, "summary", Some(&vb)),
            theirs_wins(&b, "summary", Some(&va))
        );
    }

    #[test]
    fn a_comment_only_change_moves_no_field_version() {
        let mut replica = Replica {
            summary: Some("s".into()),
            ..Replica::default()
        };
        let mut regs = Registers::new();
        note_local_edits(&mut regs, &field_hashes(&replica), 10, "a");
        let before = regs.clone();
        replica.comments.push(crate::model::Comment::default());
        replica.updated = Some("2026-11-30T10:00:00.000+0000".into());
        let moved = note_local_edits(&mut regs, &field_hashes(&replica), 20, "a");
        assert!(moved.is_empty(), "{moved:?}");
        assert_eq!(regs, before);
    }
}
