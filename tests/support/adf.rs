//! Rich text as the two flavours write it: ADF documents for Cloud, and the plain text of a
//! body in either flavour (ADF on Cloud, wiki markup on Data Center).

use serde_json::{Value, json};

/// A one-paragraph ADF document holding `text`.
pub fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
}

/// The text of a body in either flavour, trimmed: a wiki string as it is, an ADF document's
/// text nodes joined.
pub fn text_of(body: &Value) -> String {
    match body {
        Value::String(s) => s.trim().to_string(),
        doc => {
            let mut out = String::new();
            walk(doc, &mut out);
            out.trim().to_string()
        }
    }
}

fn walk(v: &Value, out: &mut String) {
    if let Some(t) = v["text"].as_str() {
        out.push_str(t);
    }
    for c in v["content"].as_array().into_iter().flatten() {
        walk(c, out);
    }
}
