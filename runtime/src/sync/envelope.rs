//! What crosses a connection: a replica with where it came from, and its content hash.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::Replica;

/// A replica on its way to the other side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The side that sent it.
    pub origin_side: String,
    /// The issue key on the sending side (the twin's remote key on the receiving side).
    pub origin_key: String,
    pub replica: Replica,
    /// The sender's count of replicas sent for this twin, this one included.
    #[serde(default)]
    pub seq: i64,
    /// The last of the receiver's replicas the sender had seen: lower than what the receiver
    /// has sent means the two sides changed the issue concurrently.
    #[serde(default)]
    pub ack: i64,
    /// The origin issue's `updated` when this replica was made: breaks concurrent-edit ties.
    #[serde(default)]
    pub updated: String,
    /// Whether the replica's fields differ from the sender's previous one; `false` when only
    /// comments or attachments changed, so its fields must not overwrite a concurrent edit.
    #[serde(default = "changed")]
    pub fields_changed: bool,
}

fn changed() -> bool {
    true
}

/// Whether this side's version wins a concurrent edit: the later `updated` wins, and on a
/// tie the side whose name sorts last. Both sides compare the same two pairs, so they agree.
pub fn local_wins(
    local_updated: &str,
    local_side: &str,
    remote_updated: &str,
    remote_side: &str,
) -> bool {
    let parse = |s: &str| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.3f%z").ok();
    let order = match (parse(local_updated), parse(remote_updated)) {
        (Some(l), Some(r)) => l.cmp(&r),
        _ => local_updated.cmp(remote_updated),
    };
    order.then_with(|| local_side.cmp(remote_side)).is_gt()
}

impl Envelope {
    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The content hash of a replica: equal replicas (what the rule exports) hash equal.
pub fn replica_hash(replica: &Replica) -> String {
    let json = serde_json::to_vec(replica).unwrap_or_default();
    hex::encode(&Sha256::digest(&json)[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_edits_have_one_winner_seen_from_both_sides() {
        let (t1, t2) = (
            "2026-11-25T10:00:00.000+0000",
            "2026-11-25T11:00:00.000+0100",
        );
        // t2 is 10:00 UTC too: a tie, broken by side name; both sides agree.
        assert!(local_wins(t2, "b", t1, "a"));
        assert!(!local_wins(t1, "a", t2, "b"));
        let later = "2026-11-25T10:00:01.000+0000";
        assert!(local_wins(later, "a", t1, "b"));
        assert!(!local_wins(t1, "b", later, "a"));
    }
}
