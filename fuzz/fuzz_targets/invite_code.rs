//! Invitation codes as `connection accept` reads them. Half the inputs are taken as the code
//! text itself; the other half are wrapped in a well-formed frame (version, length, payload,
//! a zero signature) so the payload parser is reached. Neither may panic or be accepted.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use twinsync::peer::Invitation;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let code = if mode & 1 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        let mut framed = vec![1u8];
        framed.extend_from_slice(&(rest.len().min(u16::MAX as usize) as u16).to_be_bytes());
        framed.extend_from_slice(rest);
        framed.extend_from_slice(&[0u8; 64]);
        URL_SAFE_NO_PAD.encode(framed)
    };
    // No input carries a valid signature: every one must be refused.
    assert!(Invitation::decode(&code).is_err());
});
