//! Jira webhook bodies, either flavour, read into an event (and so through the issue, comment,
//! custom-field and rich-text mapping). Any body must parse or be refused; none may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twinsync::jira::{mapping, webhook};

fuzz_target!(|data: &[u8]| {
    let _ = webhook::parse(data);
    // A bare issue too, as `GET issue` and search hits reach the same mapping.
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = mapping::issue_from_json(&v);
    }
});
