//! What crosses a connection: a replica with where it came from, the version of each of its
//! fields, and the receiver's items whose copies were deleted on the sending side.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::clock::Versions;
use crate::model::Replica;

/// A replica on its way to the other side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The side that sent it.
    pub(crate) origin_side: String,
    /// The issue key on the sending side (the twin's remote key on the receiving side).
    pub origin_key: String,
    /// What the sending side's outgoing rule let leave.
    pub replica: Replica,
    /// The sender's count of replicas sent for this twin, this one included: a redelivered or
    /// overtaken replica carries a number the receiver has already seen.
    #[serde(default)]
    pub(crate) seq: i64,
    /// The version that set each field of the replica (see `clock`): the receiver takes a
    /// field only if this version beats its own register of the field.
    #[serde(default)]
    pub(crate) versions: Versions,
    /// The receiver's own items (comments, attachments) whose copies were deleted on the
    /// sending side: the deletion crosses back, and the receiver deletes the item too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) removed: Vec<RemovedItem>,
    /// The sending side's issue was deleted: the replica holds only its key, and the
    /// receiver's rule says what becomes of the twin.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) deleted: bool,
}

/// One of the receiver's items whose copy the sender's side deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RemovedItem {
    /// "comment", "attachment" or "worklog".
    pub(crate) kind: String,
    /// The item's id on the receiving side.
    pub(crate) id: String,
}

impl Envelope {
    /// The envelope as JSON, as it crosses a connection.
    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The content hash of a replica: equal replicas (what the rule exports) hash equal.
pub(crate) fn replica_hash(replica: &Replica) -> String {
    let json = serde_json::to_vec(replica).unwrap_or_default();
    hex::encode(&Sha256::digest(&json)[..16])
}
