//! Wiki markup (Jira Data Center rich text) from any text: read into the tree, written as
//! wiki markup, ADF and plain text. Never panics; and the writer agrees with the reader:
//! markup written from a tree reads back as that tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twinsync::jira::richtext::{self, NoUserMapping, adf, wiki};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut w = Vec::new();
    let doc = wiki::parse(text, &mut w);
    let markup = wiki::render(&doc, &NoUserMapping, &mut w);
    // Not for a literal backslash: before punctuation, wiki markup has no way to write one.
    if !doc.to_plain().contains('\\') {
        let again = wiki::parse(&markup, &mut w);
        assert_eq!(
            again, doc,
            "markup written from the tree reads back differently:\n{markup}"
        );
    }
    let _ = adf::render(&doc, &NoUserMapping, &mut w);
    let _ = richtext::wiki_to_plain(text);
});
