//! ADF (Jira Cloud rich text) from any JSON: read into the tree, written as ADF, wiki markup
//! and plain text. Never panics; and the canonical form is stable: ADF written from the tree
//! reads back as the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twinsync::jira::richtext::{self, NoUserMapping, adf, wiki};

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let mut w = Vec::new();
    let doc = adf::parse(&v, &mut w);
    let out = adf::render(&doc, &NoUserMapping, &mut w);
    let again = adf::parse(&out, &mut w);
    assert_eq!(
        again, doc,
        "ADF written from the tree reads back differently"
    );
    let _ = wiki::render(&doc, &NoUserMapping, &mut w);
    let _ = richtext::adf_to_plain(&v);
    let _ = richtext::adf_to_wiki(&v, &NoUserMapping);
});
