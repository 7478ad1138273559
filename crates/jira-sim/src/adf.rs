//! Rich text: Atlassian Document Format (Cloud) and wiki markup (DC), converted both ways.

use serde_json::{Value, json};

/// Checks that `v` looks like an ADF document, as Jira Cloud does before accepting it.
pub fn validate(v: &Value) -> Result<(), &'static str> {
    let obj = v.as_object().ok_or(NOT_ADF)?;
    if obj.get("type").and_then(Value::as_str) != Some("doc") {
        return Err(NOT_ADF);
    }
    if obj.get("version").and_then(Value::as_i64) != Some(1) {
        return Err(NOT_ADF);
    }
    let content = obj
        .get("content")
        .and_then(Value::as_array)
        .ok_or(NOT_ADF)?;
    content.iter().try_for_each(validate_node)
}

const NOT_ADF: &str =
    "Operation value must be an Atlassian Document (see the Atlassian Document Format)";

fn validate_node(n: &Value) -> Result<(), &'static str> {
    let t = n.get("type").and_then(Value::as_str).ok_or(NOT_ADF)?;
    if t == "text" && !n.get("text").is_some_and(Value::is_string) {
        return Err(NOT_ADF);
    }
    match n.get("content") {
        None => Ok(()),
        Some(Value::Array(c)) => c.iter().try_for_each(validate_node),
        Some(_) => Err(NOT_ADF),
    }
}

/// An ADF document holding `text`, one paragraph per blank-line-separated block.
pub fn from_plain(text: &str) -> Value {
    let mut paras = Vec::new();
    for block in text.split("\n\n") {
        if block.is_empty() {
            continue;
        }
        let mut content = Vec::new();
        for (i, line) in block.split('\n').enumerate() {
            if i > 0 {
                content.push(json!({"type": "hardBreak"}));
            }
            if !line.is_empty() {
                content.push(json!({"type": "text", "text": line}));
            }
        }
        paras.push(json!({"type": "paragraph", "content": content}));
    }
    json!({"type": "doc", "version": 1, "content": paras})
}

/// Plain text of an ADF document (blocks separated by blank lines).
pub fn to_plain(v: &Value) -> String {
    let mut out = String::new();
    blocks(v, &mut out, Style::Plain);
    out.trim_end().to_string()
}

/// Wiki markup for an ADF document, as Jira Cloud's REST v2 shows ADF fields.
pub fn to_wiki(v: &Value) -> String {
    let mut out = String::new();
    blocks(v, &mut out, Style::Wiki);
    out.trim_end().to_string()
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Wiki,
}

fn blocks(v: &Value, out: &mut String, style: Style) {
    let Some(content) = v.get("content").and_then(Value::as_array) else {
        return;
    };
    for node in content {
        let t = node.get("type").and_then(Value::as_str).unwrap_or("");
        match t {
            "heading" if style == Style::Wiki => {
                let level = node
                    .get("attrs")
                    .and_then(|a| a.get("level"))
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                out.push_str(&format!("h{level}. "));
                inline(node, out, style);
            }
            "bulletList" | "orderedList" => {
                let marker = if t == "bulletList" { "* " } else { "# " };
                if let Some(items) = node.get("content").and_then(Value::as_array) {
                    for item in items {
                        if style == Style::Wiki {
                            out.push_str(marker);
                        } else {
                            out.push_str("- ");
                        }
                        let mut inner = String::new();
                        blocks(item, &mut inner, style);
                        out.push_str(inner.trim_end());
                        out.push('\n');
                    }
                }
                out.push('\n');
                continue;
            }
            "codeBlock" if style == Style::Wiki => {
                out.push_str("{code}");
                inline(node, out, style);
                out.push_str("{code}");
            }
            "blockquote" | "panel" | "listItem" | "expand" => {
                blocks(node, out, style);
                continue;
            }
            "rule" => out.push_str("----"),
            _ => inline(node, out, style),
        }
        out.push_str("\n\n");
    }
}

fn inline(node: &Value, out: &mut String, style: Style) {
    let Some(content) = node.get("content").and_then(Value::as_array) else {
        return;
    };
    for n in content {
        match n.get("type").and_then(Value::as_str).unwrap_or("") {
            "text" => {
                let text = n.get("text").and_then(Value::as_str).unwrap_or("");
                if style == Style::Wiki {
                    out.push_str(&wrap_marks(text, n.get("marks")));
                } else {
                    out.push_str(text);
                }
            }
            "hardBreak" => out.push('\n'),
            "mention" => {
                let text = n
                    .get("attrs")
                    .and_then(|a| a.get("text"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                out.push_str(text);
            }
            "emoji" => {
                let text = n
                    .get("attrs")
                    .and_then(|a| a.get("shortName"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                out.push_str(text);
            }
            "inlineCard" => {
                let url = n
                    .get("attrs")
                    .and_then(|a| a.get("url"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                out.push_str(url);
            }
            _ => inline(n, out, style),
        }
    }
}

fn wrap_marks(text: &str, marks: Option<&Value>) -> String {
    let mut s = text.to_string();
    for m in marks.and_then(Value::as_array).into_iter().flatten() {
        s = match m.get("type").and_then(Value::as_str).unwrap_or("") {
            "strong" => format!("*{s}*"),
            "em" => format!("_{s}_"),
            "code" => format!("{{{{{s}}}}}"),
            "strike" => format!("-{s}-"),
            "link" => {
                let href = m
                    .get("attrs")
                    .and_then(|a| a.get("href"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                format!("[{s}|{href}]")
            }
            _ => s,
        };
    }
    s
}

/// ADF for a wiki-markup string (Cloud REST v2 writes): headings and paragraphs, marks kept as text.
pub fn from_wiki(text: &str) -> Value {
    let mut doc = from_plain(text);
    if let Some(content) = doc.get_mut("content").and_then(Value::as_array_mut) {
        for para in content.iter_mut() {
            let first = para
                .pointer("/content/0/text")
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(first) = first {
                for level in 1..=6 {
                    let prefix = format!("h{level}. ");
                    if let Some(rest) = first.strip_prefix(&prefix) {
                        *para = json!({"type": "heading", "attrs": {"level": level},
                            "content": [{"type": "text", "text": rest}]});
                        break;
                    }
                }
            }
        }
    }
    doc
}

/// Plain text of wiki markup, close enough for text search.
pub fn wiki_to_plain(text: &str) -> String {
    text.to_string()
}

/// HTML as Jira's `renderedFields` shows it (simple paragraphs, escaped).
pub fn plain_to_html(text: &str) -> String {
    let mut out = String::new();
    for block in text.split("\n\n").filter(|b| !b.is_empty()) {
        out.push_str("<p>");
        out.push_str(&escape(block).replace('\n', "<br/>\n"));
        out.push_str("</p>");
    }
    out
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_round_trip() {
        let doc = from_plain("Hello\nworld\n\nSecond");
        assert!(validate(&doc).is_ok());
        assert_eq!(to_plain(&doc), "Hello\nworld\n\nSecond");
    }

    #[test]
    fn rejects_non_documents() {
        assert!(validate(&json!("text")).is_err());
        assert!(validate(&json!({"type": "doc", "version": 1})).is_err());
        assert!(
            validate(&json!({"type": "doc", "version": 1, "content": [{"text": "x"}]})).is_err()
        );
    }

    #[test]
    fn wiki_marks_and_headings() {
        let doc = json!({"type": "doc", "version": 1, "content": [
            {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Title"}]},
            {"type": "paragraph", "content": [{"type": "text", "text": "bold", "marks": [{"type": "strong"}]}]}
        ]});
        assert_eq!(to_wiki(&doc), "h2. Title\n\n*bold*");
        assert_eq!(to_plain(&from_wiki("h2. Title\n\nbody")), "Title\n\nbody");
    }
}
