//! Signed peer requests: the sender signs method, path, timestamp, nonce, the body's SHA-256
//! and the recipient's public key with its Ed25519 key; the receiver checks the request is
//! addressed to it, the key is a known peer's, the timestamp is within the clock-skew window,
//! the body matches its hash, the signature holds, and the nonce was never seen (kept long
//! enough to cover the window). Naming the recipient means a request captured on its way to
//! one node cannot be replayed to another node that trusts the same key.

use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::identity::{self, Identity};

/// The header with the sender's public key (hex).
pub const H_KEY: &str = "x-twinsync-key";
/// The header with the time the request was signed, ms since the epoch.
pub const H_TIMESTAMP: &str = "x-twinsync-timestamp";
/// The header with the request's one-time nonce.
pub const H_NONCE: &str = "x-twinsync-nonce";
/// The header with the body's SHA-256.
pub const H_CONTENT: &str = "x-twinsync-content-sha256";
/// The header with the signature over the request.
pub const H_SIGNATURE: &str = "x-twinsync-signature";
/// The header with the recipient's public key (hex).
pub const H_RECIPIENT: &str = "x-twinsync-recipient";

/// How far a request's timestamp may be from the receiver's clock, by default.
pub const DEFAULT_SKEW_MS: i64 = 5 * 60 * 1000;

/// Why a peer request is refused. Nothing of a refused request is applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// A header is missing or malformed.
    #[error("missing or malformed header {0}")]
    Header(&'static str),
    /// The timestamp is outside the allowed window.
    #[error("timestamp is {0} ms away from this node's clock, outside the allowed window")]
    Stale(i64),
    /// The request is addressed to another node.
    #[error("the request is addressed to another node (recipient key {0})")]
    WrongRecipient(String),
    /// The sender is not a peer of this node.
    #[error("the key is not a peer of any connection on this node")]
    UnknownKey,
    /// The body does not match its signed hash.
    #[error("the body does not match its signed hash")]
    TamperedBody,
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
    /// The nonce was used before.
    #[error("the nonce was already used: a replayed request")]
    Replayed,
    /// The nonce could not be checked.
    #[error("cannot check the nonce: {0}")]
    Store(String),
}

impl AuthError {
    /// 403 for a key this node does not know, 401 for everything else it refuses.
    pub(crate) fn status(&self) -> u16 {
        match self {
            AuthError::UnknownKey => 403,
            AuthError::Store(_) => 503,
            _ => 401,
        }
    }
}

/// What a signature covers besides the method and path.
struct Signed<'a> {
    timestamp: i64,
    nonce: &'a str,
    body_hash: &'a str,
    recipient: &'a str,
}

/// The string a signature covers (docs/peer.md spells it out for other implementations).
fn canonical(method: &str, path: &str, s: &Signed<'_>) -> String {
    format!(
        "twinsync-peer-v2\n{}\n{path}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        s.timestamp,
        s.nonce,
        s.body_hash,
        s.recipient
    )
}

pub(crate) fn body_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// The headers that sign a request to `path` (path and query, as sent) with `body`, for the
/// node whose public key (hex) is `recipient`.
pub fn sign(
    identity: &Identity,
    recipient: &str,
    method: &str,
    path: &str,
    body: &[u8],
    timestamp: i64,
    nonce: &str,
) -> Vec<(&'static str, String)> {
    let hash = body_hash(body);
    let recipient = recipient.to_ascii_lowercase();
    let signed = Signed {
        timestamp,
        nonce,
        body_hash: &hash,
        recipient: &recipient,
    };
    let signature = identity.sign(canonical(method, path, &signed).as_bytes());
    vec![
        (H_KEY, identity.public_key().to_string()),
        (H_TIMESTAMP, timestamp.to_string()),
        (H_NONCE, nonce.to_string()),
        (H_CONTENT, hash),
        (H_SIGNATURE, URL_SAFE_NO_PAD.encode(signature)),
        (H_RECIPIENT, recipient),
    ]
}

/// A fresh random nonce.
pub(crate) fn new_nonce() -> Result<String, super::PeerError> {
    Ok(URL_SAFE_NO_PAD.encode(super::random_bytes::<16>()?))
}

/// What the receiver needs to check a request.
pub struct Check<'a> {
    /// The receiver's clock, ms since the epoch.
    pub now_ms: i64,
    /// How far the request's timestamp may be from `now_ms`.
    pub skew_ms: i64,
    /// This node's own public key (hex): the only recipient it accepts.
    pub me: &'a str,
    /// Whether a key (hex) belongs to a peer this node knows.
    pub known: &'a dyn Fn(&str) -> bool,
    /// Records a nonce for a key; false if it was seen before. Gets the oldest time to keep.
    pub remember: &'a dyn Fn(&str, &str, i64) -> Result<bool, String>,
}

/// Checks a request; on success returns the signer's key (hex).
pub fn verify(
    check: &Check<'_>,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, AuthError> {
    let header = |name: &'static str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 256)
            .ok_or(AuthError::Header(name))
    };
    let key = header(H_KEY)?;
    let timestamp: i64 = header(H_TIMESTAMP)?
        .parse()
        .map_err(|_| AuthError::Header(H_TIMESTAMP))?;
    let nonce = header(H_NONCE)?;
    let claimed_hash = header(H_CONTENT)?;
    let signature = URL_SAFE_NO_PAD
        .decode(header(H_SIGNATURE)?)
        .map_err(|_| AuthError::Header(H_SIGNATURE))?;
    let recipient = header(H_RECIPIENT)?;
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        recipient.as_bytes(),
        check.me.as_bytes(),
    )) {
        return Err(AuthError::WrongRecipient(recipient.to_string()));
    }
    let off = check.now_ms.saturating_sub(timestamp);
    if off.saturating_abs() > check.skew_ms {
        return Err(AuthError::Stale(off));
    }
    if !(check.known)(key) {
        return Err(AuthError::UnknownKey);
    }
    let hash = body_hash(body);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        hash.as_bytes(),
        claimed_hash.as_bytes(),
    )) {
        return Err(AuthError::TamperedBody);
    }
    let signed = Signed {
        timestamp,
        nonce,
        body_hash: &hash,
        recipient: check.me,
    };
    if !identity::verify(key, canonical(method, path, &signed).as_bytes(), &signature) {
        return Err(AuthError::BadSignature);
    }
    // Only a correctly signed request may spend a nonce: nobody else can fill the store.
    let fresh =
        (check.remember)(key, nonce, check.now_ms - 2 * check.skew_ms).map_err(AuthError::Store)?;
    if !fresh {
        return Err(AuthError::Replayed);
    }
    Ok(key.to_string())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::HashSet;

    use axum::http::HeaderValue;
    use proptest::prelude::*;

    use super::*;

    struct Fixture {
        _dir: tempfile::TempDir,
        id: Identity,
        seen: RefCell<HashSet<(String, String)>>,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let id = Identity::load_or_create(dir.path()).unwrap();
        Fixture {
            _dir: dir,
            id,
            seen: RefCell::new(HashSet::new()),
        }
    }

    fn headers(list: Vec<(&'static str, String)>) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in list {
            h.insert(k, HeaderValue::from_str(&v).unwrap());
        }
        h
    }

    impl Fixture {
        fn run(
            &self,
            now: i64,
            h: &HeaderMap,
            path: &str,
            body: &[u8],
        ) -> Result<String, AuthError> {
            let me = self.id.public_key().to_string();
            let known = move |k: &str| k == me;
            let remember = |k: &str, n: &str, _: i64| {
                Ok(self
                    .seen
                    .borrow_mut()
                    .insert((k.to_string(), n.to_string())))
            };
            let check = Check {
                now_ms: now,
                skew_ms: 1000,
                me: self.id.public_key(),
                known: &known,
                remember: &remember,
            };
            verify(&check, "POST", path, h, body)
        }
    }

    const NOW: i64 = 1_000_000;

    /// The headers of a POST to `path` signed by `by` for the node whose key is `to`.
    fn post(
        by: &Identity,
        to: &str,
        path: &str,
        body: &[u8],
        at: i64,
        nonce: &str,
    ) -> Vec<(&'static str, String)> {
        sign(by, to, "POST", path, body, at, nonce)
    }

    #[test]
    fn a_signed_request_passes_once() {
        let f = fixture();
        let h = headers(post(
            &f.id,
            f.id.public_key(),
            "/peer/v1/replica",
            b"{}",
            NOW,
            "n1",
        ));
        assert_eq!(
            f.run(NOW + 10, &h, "/peer/v1/replica", b"{}").unwrap(),
            f.id.public_key()
        );
        assert_eq!(
            f.run(NOW + 20, &h, "/peer/v1/replica", b"{}"),
            Err(AuthError::Replayed)
        );
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let f = fixture();
        let h = headers(post(
            &f.id,
            f.id.public_key(),
            "/p",
            b"{\"a\":1}",
            NOW,
            "n1",
        ));
        assert_eq!(
            f.run(NOW, &h, "/p", b"{\"a\":2}"),
            Err(AuthError::TamperedBody)
        );
    }

    #[test]
    fn a_body_with_a_matching_new_hash_still_fails_the_signature() {
        let f = fixture();
        let mut list = post(&f.id, f.id.public_key(), "/p", b"a", NOW, "n1");
        list[3].1 = body_hash(b"b");
        assert_eq!(
            f.run(NOW, &headers(list), "/p", b"b"),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn another_path_is_a_bad_signature() {
        let f = fixture();
        let h = headers(post(
            &f.id,
            f.id.public_key(),
            "/peer/v1/ack",
            b"",
            NOW,
            "n1",
        ));
        assert_eq!(
            f.run(NOW, &h, "/peer/v1/replica", b""),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn an_unknown_key_is_forbidden() {
        let f = fixture();
        let other = fixture();
        let h = headers(post(&other.id, f.id.public_key(), "/p", b"", NOW, "n1"));
        let e = f.run(NOW, &h, "/p", b"").unwrap_err();
        assert_eq!((e.clone(), e.status()), (AuthError::UnknownKey, 403));
    }

    #[test]
    fn a_key_swapped_in_the_header_is_a_bad_signature() {
        let f = fixture();
        let other = fixture();
        let mut list = post(&other.id, f.id.public_key(), "/p", b"", NOW, "n1");
        list[0].1 = f.id.public_key().to_string();
        assert_eq!(
            f.run(NOW, &headers(list), "/p", b""),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn a_request_for_another_recipient_is_refused() {
        let f = fixture();
        let other = fixture();
        // Signed for another node that trusts the same key, then replayed here.
        let h = headers(post(&f.id, other.id.public_key(), "/p", b"", NOW, "n1"));
        assert_eq!(
            f.run(NOW, &h, "/p", b""),
            Err(AuthError::WrongRecipient(other.id.public_key().to_string()))
        );
        // The recipient header rewritten to this node: the signature does not cover it.
        let mut list = post(&f.id, other.id.public_key(), "/p", b"", NOW, "n2");
        list[5].1 = f.id.public_key().to_string();
        assert_eq!(
            f.run(NOW, &headers(list), "/p", b""),
            Err(AuthError::BadSignature)
        );
        assert!(
            f.seen.borrow().is_empty(),
            "a refused request spends no nonce"
        );
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        let f = fixture();
        let h = headers(post(&f.id, f.id.public_key(), "/p", b"", NOW - 1001, "n1"));
        assert_eq!(f.run(NOW, &h, "/p", b""), Err(AuthError::Stale(1001)));
        let h = headers(post(&f.id, f.id.public_key(), "/p", b"", NOW + 1001, "n2"));
        assert_eq!(f.run(NOW, &h, "/p", b""), Err(AuthError::Stale(-1001)));
        // A refused request spends no nonce.
        assert!(f.seen.borrow().is_empty());
    }

    #[test]
    fn any_signed_request_verifies_once() {
        let f = fixture();
        proptest!(ProptestConfig::with_cases(64), |(
            path in "/[!-~]{0,40}",
            body in proptest::collection::vec(any::<u8>(), 0..256),
            nonce in "[A-Za-z0-9_-]{1,40}",
            at in -999i64..=999,
        )| {
            // Each case (and each shrinking step) starts with no nonce seen.
            f.seen.borrow_mut().clear();
            let h = headers(sign(&f.id, f.id.public_key(), "post", &path, &body, NOW + at, &nonce));
            prop_assert_eq!(f.run(NOW, &h, &path, &body), Ok(f.id.public_key().to_string()));
            prop_assert_eq!(f.run(NOW, &h, &path, &body), Err(AuthError::Replayed));
        });
    }

    #[test]
    fn hostile_headers_are_refused_without_panicking() {
        let f = fixture();
        let me = f.id.public_key().to_string();
        let value = prop_oneof![
            Just(None),
            Just(Some(me.clone())),
            "[ -~]{0,300}".prop_map(Some),
            "-?[0-9]{1,20}".prop_map(Some),
        ];
        proptest!(ProptestConfig::with_cases(256), |(
            values in proptest::collection::vec(value, 6),
            body in proptest::collection::vec(any::<u8>(), 0..64),
        )| {
            let names = [H_KEY, H_TIMESTAMP, H_NONCE, H_CONTENT, H_SIGNATURE, H_RECIPIENT];
            let mut h = HeaderMap::new();
            for (name, v) in names.into_iter().zip(&values) {
                if let Some(v) = v.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                    h.insert(name, v);
                }
            }
            prop_assert!(f.run(NOW, &h, "/p", &body).is_err());
        });
        assert!(
            f.seen.borrow().is_empty(),
            "a refused request spends no nonce"
        );
    }

    #[test]
    fn missing_headers_are_named() {
        let f = fixture();
        let mut list = post(&f.id, f.id.public_key(), "/p", b"", NOW, "n1");
        list.remove(1);
        assert_eq!(
            f.run(NOW, &headers(list), "/p", b""),
            Err(AuthError::Header(H_TIMESTAMP))
        );
        assert_eq!(
            f.run(NOW, &HeaderMap::new(), "/p", b""),
            Err(AuthError::Header(H_KEY))
        );
    }
}
