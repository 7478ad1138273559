//! Signature checking of peer requests on hostile headers: the input is split at 0xff bytes
//! into the six signature headers, the path and the body. Whatever they hold, `verify` must
//! refuse with an `AuthError` (it cannot succeed without a real signature) and never panic.
#![no_main]

use axum::http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use twinsync::peer::sign::{self, Check};

const ME: &str = "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29";

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0xff);
    let names = [
        sign::H_KEY,
        sign::H_TIMESTAMP,
        sign::H_NONCE,
        sign::H_CONTENT,
        sign::H_SIGNATURE,
        sign::H_RECIPIENT,
    ];
    let mut headers = HeaderMap::new();
    for name in names {
        let Some(raw) = parts.next() else { break };
        // A lone `=` stands for this node's key, so the checks past the recipient are reached.
        let raw: &[u8] = if raw == b"=" { ME.as_bytes() } else { raw };
        if let Ok(v) = HeaderValue::from_bytes(raw) {
            headers.insert(name, v);
        }
    }
    let path = parts
        .next()
        .and_then(|p| std::str::from_utf8(p).ok())
        .unwrap_or("/peer/v1/replica");
    let body = parts.next().unwrap_or_default();
    let now = 1_700_000_000_000;
    let check = Check {
        now_ms: now,
        skew_ms: sign::DEFAULT_SKEW_MS,
        me: ME,
        known: &|_| true,
        remember: &|_, _, _| Ok(true),
    };
    let r = sign::verify(&check, "POST", path, &headers, body);
    assert!(r.is_err(), "an unsigned request was accepted");
});
