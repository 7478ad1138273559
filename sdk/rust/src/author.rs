//! Authorship of comments (feature `author`), as the stock rules do it: a comment the node
//! writes on this side is written by the sync account, so its copy opens with a header line
//! naming who wrote the original (config key `author-header`, e.g. `{name} ({site}) wrote:`).
//! The header is recognised and stripped when the comment leaves this side again, so it never
//! doubles.

use serde_json::{Value, json};

use crate::config;
use crate::types::{Changes, Replica, RichText, SyncContext};

/// The header format of config key `author-header`, if one is set (an empty one is none).
pub fn format() -> Option<String> {
    config("author-header").filter(|f| !f.trim().is_empty())
}

/// The header line for a comment by `name` from `site`.
fn header(format: &str, name: &str, site: &str) -> String {
    format.replace("{name}", name).replace("{site}", site)
}

/// Whether `line` is a header in `format`: its literal parts in order, the placeholders
/// standing for any non-empty text.
fn is_header(format: &str, line: &str) -> bool {
    let line = line.trim();
    let mut parts: Vec<&str> = Vec::new();
    let mut rest = format.trim();
    while let Some(at) = rest.find('{') {
        let Some(end) = rest[at..].find('}') else {
            break;
        };
        parts.push(&rest[..at]);
        rest = &rest[at + end + 1..];
    }
    parts.push(rest);
    if parts.len() == 1 {
        return line == parts[0];
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || !line.ends_with(last) || line.len() < first.len() + last.len() {
        return false;
    }
    let mut middle = &line[first.len()..line.len() - last.len()];
    // Each placeholder takes at least one character before the next literal part.
    for part in &parts[1..parts.len() - 1] {
        match middle.get(1..).and_then(|m| m.find(part)) {
            Some(at) => middle = &middle[1 + at + part.len()..],
            None => return false,
        }
    }
    !middle.is_empty()
}

/// Plain text or wiki markup without a leading header line (and the blank line after it).
fn strip_lines(format: &str, text: &str) -> Option<String> {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    is_header(format, first).then(|| rest.trim_start_matches(['\r', '\n']).to_string())
}

/// The plain text of an ADF node.
fn adf_text(node: &Value) -> String {
    match node.get("text").and_then(Value::as_str) {
        Some(t) => t.to_string(),
        None => node
            .get("content")
            .and_then(Value::as_array)
            .map(|c| c.iter().map(adf_text).collect())
            .unwrap_or_default(),
    }
}

/// An ADF document without a leading header paragraph.
fn strip_adf(format: &str, adf: &str) -> Option<String> {
    let mut doc: Value = serde_json::from_str(adf).ok()?;
    let content = doc.get_mut("content")?.as_array_mut()?;
    let first = content.first()?;
    if first.get("type").and_then(Value::as_str) != Some("paragraph")
        || !is_header(format, &adf_text(first))
    {
        return None;
    }
    content.remove(0);
    Some(doc.to_string())
}

/// An ADF document with `line` as a paragraph before its content.
fn prepend_adf(line: &str, adf: &str) -> Option<String> {
    let mut doc: Value = serde_json::from_str(adf).ok()?;
    let content = doc.get_mut("content")?.as_array_mut()?;
    content.insert(
        0,
        json!({"type": "paragraph", "content": [{"type": "text", "text": line}]}),
    );
    Some(doc.to_string())
}

/// The body without a header this side added: what leaves is the original's text.
pub fn strip(format: &str, body: &RichText) -> RichText {
    let Some(text) = strip_lines(format, &body.text) else {
        return body.clone();
    };
    RichText {
        text,
        adf: body
            .adf
            .as_deref()
            .map(|a| strip_adf(format, a).unwrap_or_else(|| a.to_string())),
        wiki: body
            .wiki
            .as_deref()
            .map(|w| strip_lines(format, w).unwrap_or_else(|| w.to_string())),
    }
}

/// The body with a header naming `name` of `site` before it, unless it opens with one.
pub fn add(format: &str, name: &str, site: &str, body: &RichText) -> RichText {
    let first = body.text.lines().next().unwrap_or("");
    if is_header(format, first) {
        return body.clone();
    }
    let line = header(format, name, site);
    RichText {
        text: format!("{line}\n\n{}", body.text),
        adf: body
            .adf
            .as_deref()
            .map(|a| prepend_adf(&line, a).unwrap_or_else(|| a.to_string())),
        wiki: body.wiki.as_deref().map(|w| format!("{line}\n\n{w}")),
    }
}

/// Each comment of the replica, without the header this side put on the copies it made.
pub fn outgoing(format: &str, replica: &mut Replica) {
    for c in &mut replica.comments {
        c.body = strip(format, &c.body);
    }
}

/// Each comment change with a header naming its author on the other side (`site`, from
/// config key `author-site`, else the other side's name). A comment with no author's
/// name stays as it is.
pub fn incoming(format: &str, replica: &Replica, ctx: &SyncContext, changes: &mut Changes) {
    let site = config("author-site").unwrap_or_else(|| ctx.remote_side.clone());
    let Some(wanted) = changes.comments.as_mut() else {
        return;
    };
    for change in wanted {
        let name = replica
            .comments
            .iter()
            .find(|c| c.id == change.remote_id)
            .and_then(|c| c.author.as_ref())
            .and_then(|a| a.display_name.clone().or_else(|| a.name.clone()));
        if let Some(name) = name {
            change.body = add(format, &name, &site, &change.body);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &str = "{name} ({site}) wrote:";

    fn rich(text: &str, adf: Option<&str>, wiki: Option<&str>) -> RichText {
        RichText {
            text: text.into(),
            adf: adf.map(Into::into),
            wiki: wiki.map(Into::into),
        }
    }

    #[test]
    fn a_header_is_recognised_by_its_format() {
        assert!(is_header(F, "Alice Smith (Acme) wrote:"));
        assert!(is_header(F, "  Bob (globex (EU)) wrote: "));
        assert!(!is_header(F, "Alice Smith wrote:"));
        assert!(!is_header(F, " (Acme) wrote:"));
        assert!(!is_header(F, "Printer on fire"));
        assert!(is_header("Sent by {name}", "Sent by Carol"));
        assert!(!is_header("Sent by {name}", "Sent by "));
    }

    #[test]
    fn a_header_added_then_stripped_gives_the_original_back_in_every_form() {
        let adf = r#"{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"It is on fire"}]}]}"#;
        for body in [
            rich("It is on fire", Some(adf), None),
            rich("It is on fire", None, Some("It is *on* fire")),
            rich("It is on fire", None, None),
        ] {
            let with = add(F, "Alice Smith", "Acme", &body);
            assert!(
                with.text.starts_with("Alice Smith (Acme) wrote:\n\n"),
                "{}",
                with.text
            );
            if let Some(w) = &with.wiki {
                assert!(
                    w.starts_with("Alice Smith (Acme) wrote:\n\nIt is *on* fire"),
                    "{w}"
                );
            }
            if let Some(a) = &with.adf {
                assert!(a.contains("Alice Smith (Acme) wrote:"), "{a}");
            }
            // Added again, it does not double.
            assert_eq!(add(F, "Alice Smith", "Acme", &with), with);
            let back = strip(F, &with);
            assert_eq!(back.text, body.text);
            assert_eq!(back.wiki, body.wiki);
            let same = |a: &Option<String>| {
                a.as_deref()
                    .map(|a| serde_json::from_str::<Value>(a).unwrap())
            };
            assert_eq!(same(&back.adf), same(&body.adf));
        }
        let plain = rich("No header here", None, None);
        assert_eq!(strip(F, &plain), plain);
    }
}
