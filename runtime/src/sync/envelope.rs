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
