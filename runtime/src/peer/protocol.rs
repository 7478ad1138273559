//! The messages peer nodes exchange, their routes, and a client that sends them signed over
//! pinned HTTPS. Decoding is strict about size and shape: a peer's bytes are untrusted input.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::identity::Identity;
use super::{PeerError, sign};
use crate::text::error_chain;

/// Where a node accepting an invitation pairs with the inviting node.
pub const ACCEPT_PATH: &str = "/peer/v1/accept";
/// Where a peer delivers a replica.
pub const REPLICA_PATH: &str = "/peer/v1/replica";
/// Where a peer delivers an ack (the twin's key and the items' ids).
pub const ACK_PATH: &str = "/peer/v1/ack";
pub(crate) const ATTACHMENT_PATH: &str = "/peer/v1/attachment";

/// Largest body a peer request may carry (attachments travel separately, streamed).
pub const MAX_BODY_BYTES: usize = 8 << 20;

/// A replica for the receiving node's side of `connection`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicaMessage {
    pub(crate) connection: String,
    /// The envelope as the pipeline writes it (JSON).
    pub envelope: serde_json::Value,
}

/// What the receiving side tells the sender after applying a replica.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckMessage {
    pub(crate) connection: String,
    /// The sender's issue key the ack is about.
    pub(crate) origin_key: String,
    /// The twin's key on the acking side, once it exists.
    #[serde(default)]
    pub(crate) twin_key: Option<String>,
    /// Copies the acking side made (or removed) of the sender's comments and attachments.
    #[serde(default)]
    pub(crate) items: Vec<ItemAck>,
    /// The twin key this one replaces: the acking side made the twin again after its issue
    /// there was deleted. The sender re-links only if it names the key it knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) replaces: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemAck {
    /// `comment` or `attachment`.
    pub(crate) kind: String,
    /// The item's id on the sender's side.
    pub(crate) origin_id: String,
    /// The copy's id on the acking side.
    pub(crate) copy_id: String,
    /// The copy was removed (the sender's item was deleted): forget the pair.
    #[serde(default)]
    pub(crate) removed: bool,
}

/// Sent by the accepting node to the inviter, signed with the acceptor's key.
pub use super::invite::Acceptance;

/// The inviter's answer to an acceptance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Accepted {
    pub(crate) connection: String,
}

/// Parses a peer message body with the size cap; never panics on any input.
pub fn decode<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, String> {
    if body.len() > MAX_BODY_BYTES {
        return Err(format!("body of {} bytes is over the cap", body.len()));
    }
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

/// Whether an attachment id is safe to use in a path and a Jira call: Jira ids are digits;
/// letters, `-` and `_` are allowed for other sites, nothing that could walk a path.
pub fn valid_item_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Sends signed requests to one peer over HTTPS pinned to its certificate, addressed to its
/// public key. It speaks https only and follows no redirect (see `tls::pinned_client`).
pub(crate) struct PeerClient {
    http: reqwest::Client,
    base: String,
    /// The peer's Ed25519 public key (hex), signed into every request.
    recipient: String,
}

impl PeerClient {
    pub(crate) fn new(
        base_url: &str,
        fingerprint: &str,
        recipient: &str,
        timeout: Duration,
    ) -> Result<Self, PeerError> {
        if !base_url.starts_with("https://") {
            return Err(PeerError::Transport {
                url: base_url.to_string(),
                message: "a peer is reached over https only".into(),
            });
        }
        Ok(PeerClient {
            http: super::tls::pinned_client(fingerprint, timeout)?,
            base: base_url.trim_end_matches('/').to_string(),
            recipient: recipient.to_string(),
        })
    }

    /// Sends one signed request; `path` includes any query, exactly as signed.
    pub(crate) async fn send(
        &self,
        identity: &Identity,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<reqwest::Response, PeerError> {
        let url = format!("{}{path}", self.base);
        let nonce = sign::new_nonce()?;
        let headers = sign::sign(
            identity,
            &self.recipient,
            method.as_str(),
            path,
            &body,
            crate::store::now_ms(),
            &nonce,
        );
        let mut req = self.http.request(method, &url);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        if !body.is_empty() {
            req = req.header("content-type", "application/json").body(body);
        }
        req.send().await.map_err(|e| PeerError::Transport {
            url: self.base.clone(),
            message: error_chain(&e),
        })
    }

    /// Posts a JSON message and reads the answer; a non-2xx answer is an error with its text.
    pub(crate) async fn post_json<T: Serialize>(
        &self,
        identity: &Identity,
        path: &str,
        message: &T,
    ) -> Result<reqwest::Response, PeerError> {
        let body = serde_json::to_vec(message).map_err(|e| PeerError::Other(e.to_string()))?;
        self.send(identity, reqwest::Method::POST, path, body).await
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn path_walking_ids_are_refused() {
        for bad in [
            "",
            "../etc/passwd",
            "10%2F..",
            "a/b",
            "a b",
            &"1".repeat(65),
            "..",
            "1\0",
        ] {
            assert!(!valid_item_id(bad), "{bad:?}");
        }
        for good in ["10001", "att-1", "A_2"] {
            assert!(valid_item_id(good));
        }
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode::<ReplicaMessage>(&bytes);
            let _ = decode::<AckMessage>(&bytes);
            let _ = decode::<Acceptance>(&bytes);
        }

        #[test]
        fn decoding_arbitrary_envelopes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode::<crate::sync::envelope::Envelope>(&bytes);
        }

        #[test]
        fn an_ack_round_trips(
            connection in "\\PC{0,20}",
            origin_key in "\\PC{0,12}",
            twin_key in proptest::option::of("\\PC{0,12}"),
            replaces in proptest::option::of("[A-Z]{1,4}-[0-9]{1,4}"),
            items in proptest::collection::vec(("[a-z]{0,10}", "\\PC{0,8}", "\\PC{0,8}", any::<bool>()), 0..4),
        ) {
            let ack = AckMessage {
                connection,
                origin_key,
                twin_key,
                items: items.into_iter().map(|(kind, origin_id, copy_id, removed)| ItemAck { kind, origin_id, copy_id, removed }).collect(),
                replaces,
            };
            let body = serde_json::to_vec(&ack).unwrap();
            prop_assert_eq!(decode::<AckMessage>(&body), Ok(ack));
        }

        #[test]
        fn decoding_arbitrary_codes_never_panics(code in "[A-Za-z0-9_-]{0,600}") {
            let _ = super::super::Invitation::decode(&code);
        }

        #[test]
        fn decoding_near_valid_json_never_panics(s in r#"\{"connection":"[a-z]{0,5}","origin_key":"[A-Z0-9-]{0,6}"(,"items":\[\{"kind":"comment","origin_id":"1","copy_id":"2"(,"removed":(true|false|1))?\}\])?\}"#) {
            let _ = decode::<AckMessage>(s.as_bytes());
        }
    }
}
