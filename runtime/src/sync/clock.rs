//! Field versions: a hybrid logical clock per node and one last-writer-wins register per
//! replica field, so both sides of a twin pick the same winner of a concurrent edit from the
//! same facts, in whatever order replicas arrive (see `docs/sync.md`).
//!
//! A register holds the version that set the field and the hash of this side's replica value
//! at that moment. A local edit is a value whose hash differs from its register's: it gets a
//! fresh version. A value this side wrote for the other side keeps the other side's version,
//! and a comment, an attachment or any other change that leaves the field alone never moves it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::Replica;

/// A hybrid logical clock reading: wall-clock milliseconds, a counter for events within one
/// millisecond (or behind a clock seen from the other side), and the side as tie-break.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Version {
    pub ms: i64,
    pub count: u32,
    pub side: String,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}@{}", self.ms, self.count, self.side)
    }
}

/// A node's hybrid logical clock: never goes back, and moves past every version it has seen.
#[derive(Debug, Default)]
pub struct Hlc {
    last: Mutex<(i64, u32)>,
}

impl Hlc {
    /// A clock that starts after `seen` (the newest version in the store at start-up).
    pub fn starting_after(seen: Option<&Version>) -> Hlc {
        Hlc {
            last: Mutex::new(seen.map_or((0, 0), |v| (v.ms, v.count))),
        }
    }

    /// A new version for a change `side` made now.
    pub fn tick(&self, side: &str) -> Version {
        let now = crate::store::now_ms();
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        *last = if now > last.0 {
            (now, 0)
        } else {
            (last.0, last.1.saturating_add(1))
        };
        Version {
            ms: last.0,
            count: last.1,
            side: side.to_string(),
        }
    }

    /// Moves the clock past a version that arrived from the other side.
    pub fn observe(&self, v: &Version) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if (v.ms, v.count) > *last {
            *last = (v.ms, v.count);
        }
    }
}

/// One field's register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    pub version: Version,
    /// Hash of this side's replica value of the field when the version was set.
    pub hash: String,
}

/// A twin's registers on one side, by field name.
pub type Registers = BTreeMap<String, Register>;

/// The versions a replica carries, by field name.
pub type Versions = BTreeMap<String, Version>;

/// Replica members that are not fields with versions: identity, metadata and the item sets.
const NOT_FIELDS: [&str; 7] = [
    "key",
    "project",
    "created",
    "updated",
    "comments",
    "attachments",
    "custom_fields",
];

/// The field values of a replica by register name: each top-level field, and each custom
/// field as `custom:<id>` (comments and attachments are sets with their own mappings).
pub fn field_values(replica: &Replica) -> BTreeMap<String, serde_json::Value> {
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
pub fn custom_name(id: &str) -> String {
    format!("custom:{id}")
}

/// The hash of each field value of a replica.
pub fn field_hashes(replica: &Replica) -> BTreeMap<String, String> {
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
pub fn note_local_edits(
    registers: &mut Registers,
    now: &BTreeMap<String, String>,
    clock: &Hlc,
    side: &str,
) -> Vec<String> {
    let mut changed = Vec::new();
    for (name, hash) in now {
        let moved = registers.get(name).is_none_or(|r| &r.hash != hash);
        if moved {
            registers.insert(
                name.clone(),
                Register {
                    version: clock.tick(side),
                    hash: hash.clone(),
                },
            );
            changed.push(name.clone());
        }
    }
    changed
}

/// The versions to send beside a replica.
pub fn versions_of(registers: &Registers) -> Versions {
    registers
        .iter()
        .map(|(k, r)| (k.clone(), r.version.clone()))
        .collect()
}

/// Whether the other side's value of `field` (set at `theirs`) beats this side's register.
/// Both sides compare the same two versions, and versions are totally ordered, so exactly
/// one side wins; a field this side holds no version of always takes the other side's value.
pub fn theirs_wins(registers: &Registers, field: &str, theirs: Option<&Version>) -> bool {
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
    fn the_clock_never_goes_back_and_passes_what_it_saw() {
        let clock = Hlc::default();
        let a = clock.tick("a");
        let far = v(a.ms + 60_000, 3, "b");
        clock.observe(&far);
        let b = clock.tick("a");
        assert!(b > far, "{b} after {far}");
        assert!(clock.tick("a") > b);
    }

    #[test]
    fn exactly_one_side_wins_a_field_whatever_the_order() {
        let clock = Hlc::default();
        let mut a = Registers::new();
        let mut b = Registers::new();
        note_local_edits(
            &mut a,
            &[("summary".into(), "x".into())].into(),
            &clock,
            "a",
        );
        note_local_edits(
            &mut b,
            &[("summary".into(), "y".into())].into(),
            &clock,
            "b",
        );
        let va = a["summary"].version.clone();
        let vb = b["summary"].version.clone();
        assert_ne!(
            theirs_wins(&a, "summary", Some(&vb)),
            theirs_wins(&b, "summary", Some(&va))
        );
    }

    #[test]
    fn a_comment_only_change_moves_no_field_version() {
        let clock = Hlc::default();
        let mut replica = Replica {
            summary: Some("s".into()),
            ..Replica::default()
        };
        let mut regs = Registers::new();
        note_local_edits(&mut regs, &field_hashes(&replica), &clock, "a");
        let before = regs.clone();
        replica.comments.push(crate::model::Comment::default());
        replica.updated = Some("2026-11-30T10:00:00.000+0000".into());
        let moved = note_local_edits(&mut regs, &field_hashes(&replica), &clock, "a");
        assert!(moved.is_empty(), "{moved:?}");
        assert_eq!(regs, before);
    }
}
