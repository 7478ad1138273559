//! Invitation codes: an opaque copy-paste string carrying the inviting node's URL, the
//! connection, its TLS certificate fingerprint and public key, an expiry and a one-time secret,
//! signed by the inviter's key so a changed character is refused as tampering.
//!
//! Layout before base64url: version byte, payload length (u16, big endian), the payload
//! (JSON), the inviter's Ed25519 signature over version, length and payload.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::identity::{self, Identity};

const VERSION: u8 = 1;
const SIGNATURE_LEN: usize = 64;
/// Longest code accepted: far above a real one, low enough that parsing stays cheap.
const MAX_CODE_LEN: usize = 4096;

/// Why an invitation code is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InviteError {
    /// Not an invitation code at all.
    #[error("this is not a twinsync invitation code ({0})")]
    Malformed(String),
    /// The code was changed after it was made.
    #[error(
        "the invitation code was changed after it was made (its signature does not match); ask for a new one"
    )]
    Tampered,
    /// The code is past its expiry.
    #[error("the invitation expired; ask the inviting node for a new one")]
    Expired,
    /// The code was already used.
    #[error("the invitation was already used; ask the inviting node for a new one")]
    Reused,
    /// The inviting node has no record of the code.
    #[error("the inviting node does not know this invitation")]
    Unknown,
}

/// What an invitation carries; `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// Base URL of the inviting node's peer endpoint (https).
    pub(crate) url: String,
    pub(crate) connection: String,
    /// SHA-256 of the inviter's TLS certificate, hex.
    pub(crate) cert_fingerprint: String,
    /// The inviter's Ed25519 public key, hex.
    pub(crate) public_key: String,
    /// Milliseconds since the Unix epoch after which the secret no longer works.
    pub(crate) expires_at: i64,
    /// The one-time secret, base64url.
    pub(crate) secret: String,
    /// The inviting node's side, for a connection made in its admin page; the acceptor
    /// pairs its own side with it. Codes for connections declared in a config file omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) side: Option<String>,
}

impl std::fmt::Debug for Invitation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invitation")
            .field("url", &self.url)
            .field("connection", &self.connection)
            .field("cert_fingerprint", &self.cert_fingerprint)
            .field("public_key", &self.public_key)
            .field("expires_at", &self.expires_at)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Invitation {
    /// A new invitation with a fresh random secret.
    pub(crate) fn new(
        identity: &Identity,
        url: &str,
        connection: &str,
        expires_at: i64,
    ) -> Result<Invitation, super::PeerError> {
        Ok(Invitation {
            url: url.trim_end_matches('/').to_string(),
            connection: connection.to_string(),
            cert_fingerprint: identity.cert_fingerprint(),
            public_key: identity.public_key().to_string(),
            expires_at,
            secret: URL_SAFE_NO_PAD.encode(super::random_bytes::<32>()?),
            side: None,
        })
    }

    /// The connection it pairs.
    pub fn connection(&self) -> &str {
        &self.connection
    }

    /// The inviting node's side, when the inviter made the connection in its admin page.
    pub fn side(&self) -> Option<&str> {
        self.side.as_deref()
    }

    /// The code to hand over, signed by `identity` (the inviter's).
    pub(crate) fn encode(&self, identity: &Identity) -> String {
        let payload = serde_json::to_vec(self).unwrap_or_default();
        let mut bytes = Vec::with_capacity(3 + payload.len() + SIGNATURE_LEN);
        bytes.push(VERSION);
        bytes.extend_from_slice(&(payload.len().min(u16::MAX as usize) as u16).to_be_bytes());
        bytes.extend_from_slice(&payload);
        let signature = identity.sign(&bytes);
        bytes.extend_from_slice(&signature);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Reads a code and checks its signature; expiry is checked separately (see [`Self::check_fresh`]).
    pub fn decode(code: &str) -> Result<Invitation, InviteError> {
        let code = code.trim();
        if code.len() > MAX_CODE_LEN {
            return Err(InviteError::Malformed("too long".into()));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(code)
            .map_err(|_| InviteError::Malformed("not base64url".into()))?;
        let (&version, rest) = bytes
            .split_first()
            .ok_or_else(|| InviteError::Malformed("empty".into()))?;
        if version != VERSION {
            return Err(InviteError::Malformed(format!("unknown version {version}")));
        }
        if rest.len() < 2 {
            return Err(InviteError::Malformed("truncated".into()));
        }
        let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        if rest.len() != 2 + len + SIGNATURE_LEN {
            return Err(InviteError::Tampered);
        }
        let (signed, signature) = bytes.split_at(3 + len);
        let invitation: Invitation =
            serde_json::from_slice(&signed[3..]).map_err(|_| InviteError::Tampered)?;
        if !identity::verify(&invitation.public_key, signed, signature) {
            return Err(InviteError::Tampered);
        }
        if !invitation.url.starts_with("https://") {
            return Err(InviteError::Malformed(
                "the inviter's URL is not https".into(),
            ));
        }
        Ok(invitation)
    }

    /// Refuses an expired invitation before anything is sent to the inviter.
    pub fn check_fresh(&self, now_ms: i64) -> Result<(), InviteError> {
        if self.expires_at <= now_ms {
            return Err(InviteError::Expired);
        }
        Ok(())
    }

    /// What the inviter keeps of the secret.
    pub(crate) fn secret_hash(&self) -> String {
        secret_hash(&self.secret)
    }
}

/// SHA-256 of a secret, hex: the store keeps only this.
pub(crate) fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The acceptor's answer to an invitation, sent (signed by the acceptor) to the inviter.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    pub(crate) connection: String,
    pub(crate) secret: String,
    /// The acceptor's peer endpoint.
    pub(crate) url: String,
    pub(crate) public_key: String,
    pub(crate) cert_fingerprint: String,
    /// The acceptor's side, when the inviter's connection waits to learn it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) side: Option<String>,
}

impl std::fmt::Debug for Acceptance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acceptance")
            .field("connection", &self.connection)
            .field("url", &self.url)
            .field("public_key", &self.public_key)
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn identity() -> (tempfile::TempDir, Identity) {
        let dir = tempfile::tempdir().unwrap();
        let id = Identity::load_or_create(dir.path()).unwrap();
        (dir, id)
    }

    #[test]
    fn a_code_round_trips_and_hides_its_secret() {
        let (_d, id) = identity();
        let inv = Invitation::new(&id, "https://127.0.0.1:7701/", "acme-globex", 10_000).unwrap();
        let code = inv.encode(&id);
        let back = Invitation::decode(&code).unwrap();
        assert_eq!(back, inv);
        assert_eq!(back.url, "https://127.0.0.1:7701");
        assert!(!format!("{back:?}").contains(&inv.secret));
        assert!(back.check_fresh(9_999).is_ok());
    }

    #[test]
    fn an_expired_code_is_refused() {
        let (_d, id) = identity();
        let inv = Invitation::new(&id, "https://h:1", "c", 10_000).unwrap();
        let back = Invitation::decode(&inv.encode(&id)).unwrap();
        assert_eq!(back.check_fresh(10_000), Err(InviteError::Expired));
    }

    #[test]
    fn every_changed_character_is_refused() {
        let (_d, id) = identity();
        let code = Invitation::new(&id, "https://h:1", "c", 10_000)
            .unwrap()
            .encode(&id);
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for i in 0..code.len() {
            let mut bytes = code.clone().into_bytes();
            bytes[i] = *alphabet.iter().find(|&&c| c != bytes[i]).unwrap();
            let changed = String::from_utf8(bytes).unwrap();
            // The last character may carry only padding bits; a change there can decode the same.
            if let Ok(inv) = Invitation::decode(&changed) {
                assert_eq!(i, code.len() - 1, "change at {i} accepted");
                assert_eq!(inv.encode(&id), code);
            }
        }
    }

    #[test]
    fn a_code_re_signed_by_another_key_keeps_that_key() {
        // Swapping key and signature makes a valid code for the other key: the acceptor then
        // pins that key and fingerprint, which the real inviter's TLS certificate does not match.
        let (_d, id) = identity();
        let (_d2, other) = identity();
        let mut inv = Invitation::new(&id, "https://h:1", "c", 10_000).unwrap();
        inv.public_key = other.public_key().to_string();
        assert_eq!(
            Invitation::decode(&inv.encode(&id)),
            Err(InviteError::Tampered)
        );
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for code in ["", "!!!", "AA", "AQ", "AQAA", &"A".repeat(5000)] {
            assert!(Invitation::decode(code).is_err(), "{code}");
        }
    }

    #[test]
    fn any_invitation_round_trips() {
        let (_d, id) = identity();
        proptest!(ProptestConfig::with_cases(64), |(
            host in "[a-z0-9.:-]{1,40}",
            connection in "\\PC{0,40}",
            expires_at in any::<i64>(),
            secret in "[A-Za-z0-9_-]{0,64}",
            side in proptest::option::of("[a-z0-9-]{1,20}"),
        )| {
            let inv = Invitation {
                url: format!("https://{host}"),
                connection,
                cert_fingerprint: id.cert_fingerprint(),
                public_key: id.public_key().to_string(),
                expires_at,
                secret,
                side,
            };
            prop_assert_eq!(Invitation::decode(&inv.encode(&id)), Ok(inv));
        });
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn unsigned_payloads_are_refused_without_panicking(
            payload in proptest::collection::vec(any::<u8>(), 0..400),
            claimed in proptest::option::of(any::<u16>()),
            version in prop_oneof![Just(1u8), any::<u8>()],
        ) {
            // A well-formed frame around any payload, so the payload parser is reached.
            let mut framed = vec![version];
            let len = claimed.unwrap_or(payload.len() as u16);
            framed.extend_from_slice(&len.to_be_bytes());
            framed.extend_from_slice(&payload);
            framed.extend_from_slice(&[0u8; SIGNATURE_LEN]);
            prop_assert!(Invitation::decode(&URL_SAFE_NO_PAD.encode(framed)).is_err());
        }

        #[test]
        fn arbitrary_text_is_refused_without_panicking(code in "\\PC{0,300}") {
            prop_assert!(Invitation::decode(&code).is_err());
        }
    }

    #[test]
    fn a_plain_http_inviter_is_refused() {
        let (_d, id) = identity();
        let inv = Invitation::new(&id, "http://h:1", "c", 10_000).unwrap();
        assert!(matches!(
            Invitation::decode(&inv.encode(&id)),
            Err(InviteError::Malformed(_))
        ));
    }
}
