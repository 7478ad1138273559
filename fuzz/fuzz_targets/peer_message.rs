//! Peer message bodies as the peer API reads them: replica, ack and acceptance messages, then
//! the envelope a replica carries, then the item ids it lists. Any input must decode or be
//! refused with an error; none may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twinsync::peer::protocol::{self, Acceptance, AckMessage, ReplicaMessage};
use twinsync::sync::envelope::Envelope;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = protocol::decode::<ReplicaMessage>(data)
        && let Ok(e) = serde_json::from_value::<Envelope>(m.envelope)
    {
        for a in &e.replica.attachments {
            let _ = protocol::valid_item_id(&a.id);
        }
    }
    // The envelope directly too: the fuzzer reaches its fields without the wrapper.
    if let Ok(e) = protocol::decode::<Envelope>(data) {
        let back: Envelope = serde_json::from_str(&e.to_json()).expect("an envelope re-reads");
        assert_eq!(back.origin_key, e.origin_key);
    }
    let _ = protocol::decode::<AckMessage>(data);
    let _ = protocol::decode::<Acceptance>(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = protocol::valid_item_id(s);
    }
});
