//! ADF (Atlassian Document Format, Jira Cloud) to and from the document tree.
//!
//! Node and mark names follow Atlassian's ADF JSON schema. Nodes outside the
//! supported subset degrade to their text with a warning; none vanish silently.

use serde_json::{Map, Value, json};

use super::doc::{Block, Cell, Doc, Inline, ListItem, Marks, PanelKind, block_as_inlines};
use super::{UserMapper, Warnings};

/// Reads an ADF document (`{"type":"doc",...}`) into the tree.
pub fn parse(adf: &Value, warn: &mut Warnings) -> Doc {
    let blocks = match adf.get("type").and_then(Value::as_str) {
        Some("doc") => blocks_of(adf, warn),
        // A bare node list or single node: accept it rather than lose it.
        _ => match adf {
            Value::Array(nodes) => nodes.iter().flat_map(|n| block(n, warn)).collect(),
            Value::Object(_) => block(adf, warn),
            Value::String(s) => Doc::from_plain(s).blocks,
            _ => Vec::new(),
        },
    };
    Doc { blocks }.normalize()
}

fn kind(node: &Value) -> &str {
    node.get("type").and_then(Value::as_str).unwrap_or("")
}

fn children(node: &Value) -> &[Value] {
    node.get("content")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn attr<'a>(node: &'a Value, name: &str) -> Option<&'a Value> {
    node.get("attrs").and_then(|a| a.get(name))
}

fn attr_str<'a>(node: &'a Value, name: &str) -> Option<&'a str> {
    attr(node, name).and_then(Value::as_str)
}

fn blocks_of(node: &Value, warn: &mut Warnings) -> Vec<Block> {
    children(node).iter().flat_map(|n| block(n, warn)).collect()
}

fn block(node: &Value, warn: &mut Warnings) -> Vec<Block> {
    match kind(node) {
        "paragraph" => vec![Block::Paragraph(inlines(children(node), warn))],
        "heading" => {
            let level = attr(node, "level").and_then(Value::as_u64).unwrap_or(1);
            vec![Block::Heading {
                level: level.clamp(1, 6) as u8,
                content: inlines(children(node), warn),
            }]
        }
        "bulletList" | "orderedList" => vec![list(node, warn)],
        "codeBlock" => vec![Block::CodeBlock {
            language: attr_str(node, "language")
                .filter(|l| !l.is_empty())
                .map(str::to_string),
            text: children(node)
                .iter()
                .filter_map(|t| t.get("text").and_then(Value::as_str))
                .collect(),
        }],
        "blockquote" => vec![Block::Quote(blocks_of(node, warn))],
        "panel" => {
            let name = attr_str(node, "panelType").unwrap_or("info");
            let kind = PanelKind::from_adf_name(name).unwrap_or_else(|| {
                warn.push(format!("panel type '{name}' shown as an info panel"));
                PanelKind::Info
            });
            vec![Block::Panel {
                kind,
                content: blocks_of(node, warn),
            }]
        }
        "table" => {
            let mut rows = Vec::new();
            for r in children(node).iter().filter(|r| kind(r) == "tableRow") {
                let mut row = Vec::new();
                for c in children(r) {
                    let blocks = blocks_of(c, warn);
                    row.push(Cell {
                        header: kind(c) == "tableHeader",
                        content: flatten_blocks(&blocks, "table cell", warn),
                    });
                }
                rows.push(row);
            }
            vec![Block::Table(rows)]
        }
        "rule" => vec![Block::Rule],
        // Containers whose children are ordinary blocks keep those blocks.
        "expand" | "nestedExpand" | "layoutSection" | "layoutColumn" | "bodiedExtension" => {
            warn.push(format!("ADF node '{}' kept as its content", kind(node)));
            let mut out = Vec::new();
            if let Some(title) = attr_str(node, "title").filter(|t| !t.is_empty()) {
                out.push(Block::Paragraph(vec![Inline::marked(
                    title,
                    Marks {
                        strong: true,
                        ..Marks::default()
                    },
                )]));
            }
            out.extend(blocks_of(node, warn));
            out
        }
        "taskList" | "decisionList" => {
            warn.push(format!("ADF node '{}' kept as a bullet list", kind(node)));
            let items = children(node)
                .iter()
                .map(|item| ListItem {
                    content: inlines(children(item), warn),
                    sublists: Vec::new(),
                })
                .collect();
            vec![Block::List {
                ordered: false,
                items,
            }]
        }
        // Inline nodes where a block belongs: wrap them.
        "text" | "hardBreak" | "mention" | "emoji" | "inlineCard" | "date" | "status" => {
            vec![Block::Paragraph(inlines(std::slice::from_ref(node), warn))]
        }
        other => {
            let text = text_of(node);
            if text.trim().is_empty() {
                warn.push(format!(
                    "ADF node '{other}' has no text and cannot be shown"
                ));
                Vec::new()
            } else {
                warn.push(format!("ADF node '{other}' kept as its text"));
                Doc::from_plain(&text).blocks
            }
        }
    }
}

/// Blocks squeezed into one line of inline content (wiki list items and cells hold no more).
fn flatten_blocks(blocks: &[Block], place: &str, warn: &mut Warnings) -> Vec<Inline> {
    let mut out = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        if !matches!(b, Block::Paragraph(_)) {
            warn.push(format!("a block inside a {place} kept as text lines"));
        }
        if i > 0 {
            out.push(Inline::HardBreak);
        }
        out.extend(block_as_inlines(b));
    }
    out
}

fn list(node: &Value, warn: &mut Warnings) -> Block {
    let ordered = kind(node) == "orderedList";
    let items = children(node)
        .iter()
        .map(|item| {
            let mut content_blocks = Vec::new();
            let mut sublists = Vec::new();
            for child in children(item) {
                match kind(child) {
                    "bulletList" | "orderedList" => sublists.push(list(child, warn)),
                    _ => content_blocks.extend(block(child, warn)),
                }
            }
            ListItem {
                content: flatten_blocks(&content_blocks, "list item", warn),
                sublists,
            }
        })
        .collect();
    Block::List { ordered, items }
}

fn marks_of(node: &Value, warn: &mut Warnings) -> Marks {
    let mut m = Marks::default();
    for mark in node
        .get("marks")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        match kind(mark) {
            "strong" => m.strong = true,
            "em" => m.em = true,
            "strike" => m.strike = true,
            "underline" => m.underline = true,
            "code" => m.code = true,
            "link" => m.link = attr_str(mark, "href").map(str::to_string),
            other => warn.push(format!("ADF mark '{other}' dropped; its text is kept")),
        }
    }
    m
}

fn inlines(nodes: &[Value], warn: &mut Warnings) -> Vec<Inline> {
    let mut out = Vec::new();
    for n in nodes {
        match kind(n) {
            "text" => out.push(Inline::Text {
                text: n
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                marks: marks_of(n, warn),
            }),
            "hardBreak" => out.push(Inline::HardBreak),
            "emoji" => out.push(Inline::Emoji {
                short_name: attr_str(n, "shortName").unwrap_or(":?:").to_string(),
                text: attr_str(n, "text")
                    .filter(|t| !t.is_empty())
                    .map(str::to_string),
            }),
            "mention" => {
                let text = attr_str(n, "text").unwrap_or_default();
                match attr_str(n, "id").filter(|id| !id.is_empty()) {
                    // The display text is what a writer would give it, so a written mention reads back the same.
                    Some(id) => out.push(Inline::Mention {
                        account_id: Some(id.to_string()),
                        username: None,
                        text: if text.is_empty() {
                            format!("@{id}")
                        } else {
                            text.to_string()
                        },
                    }),
                    None => {
                        warn.push("ADF mention without an account id kept as its text".into());
                        if !text.is_empty() {
                            out.push(Inline::text(text));
                        }
                    }
                }
            }
            "inlineCard" | "blockCard" => {
                let url = attr_str(n, "url").unwrap_or_default();
                out.push(Inline::marked(
                    url,
                    Marks {
                        link: Some(url.to_string()),
                        ..Marks::default()
                    },
                ));
            }
            "date" => {
                warn.push("ADF date kept as text".to_string());
                let ts = attr(n, "timestamp")
                    .and_then(|t| {
                        t.as_str()
                            .and_then(|s| s.parse::<i64>().ok())
                            .or_else(|| t.as_i64())
                    })
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default();
                out.push(Inline::text(ts));
            }
            "status" => {
                warn.push("ADF status lozenge kept as text".to_string());
                out.push(Inline::text(attr_str(n, "text").unwrap_or_default()));
            }
            other => {
                let text = text_of(n);
                if text.is_empty() {
                    warn.push(format!(
                        "ADF node '{other}' has no text and cannot be shown"
                    ));
                } else {
                    warn.push(format!("ADF node '{other}' kept as its text"));
                    out.push(Inline::text(text));
                }
            }
        }
    }
    out
}

/// All text below a node, for degrading what the subset cannot hold.
fn text_of(node: &Value) -> String {
    let mut s = String::new();
    if let Some(t) = node.get("text").and_then(Value::as_str) {
        s.push_str(t);
    } else if let Some(t) = attr_str(node, "text").or_else(|| attr_str(node, "url")) {
        s.push_str(t);
    }
    let kids = children(node);
    for (i, k) in kids.iter().enumerate() {
        let t = text_of(k);
        if i > 0 && !t.is_empty() && !s.is_empty() && !is_inline_kind(kind(k)) {
            s.push_str("\n\n");
        }
        s.push_str(&t);
    }
    s
}

fn is_inline_kind(k: &str) -> bool {
    matches!(
        k,
        "text" | "hardBreak" | "mention" | "emoji" | "inlineCard" | "date" | "status"
    )
}

/// Writes the tree as an ADF document.
pub fn render(doc: &Doc, users: &dyn UserMapper, warn: &mut Warnings) -> Value {
    json!({
        "version": 1,
        "type": "doc",
        "content": doc.blocks.iter().map(|b| render_block(b, users, warn)).collect::<Vec<_>>(),
    })
}

fn node(kind: &str, attrs: Option<Value>, content: Option<Vec<Value>>) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), Value::String(kind.into()));
    if let Some(a) = attrs {
        m.insert("attrs".into(), a);
    }
    if let Some(c) = content {
        m.insert("content".into(), Value::Array(c));
    }
    Value::Object(m)
}

fn paragraph(run: &[Inline], users: &dyn UserMapper, warn: &mut Warnings) -> Value {
    let content = render_inlines(run, users, warn);
    node("paragraph", None, Some(content))
}

fn render_block(b: &Block, users: &dyn UserMapper, warn: &mut Warnings) -> Value {
    match b {
        Block::Paragraph(c) => paragraph(c, users, warn),
        Block::Heading { level, content } => node(
            "heading",
            Some(json!({ "level": level })),
            Some(render_inlines(content, users, warn)),
        ),
        Block::List { ordered, items } => {
            let items = items
                .iter()
                .map(|it| {
                    let mut c = vec![paragraph(&it.content, users, warn)];
                    c.extend(it.sublists.iter().map(|s| render_block(s, users, warn)));
                    node("listItem", None, Some(c))
                })
                .collect();
            node(
                if *ordered {
                    "orderedList"
                } else {
                    "bulletList"
                },
                None,
                Some(items),
            )
        }
        Block::CodeBlock { language, text } => {
            let attrs = language.as_ref().map(|l| json!({ "language": l }));
            let content = if text.is_empty() {
                Vec::new()
            } else {
                vec![json!({"type": "text", "text": text})]
            };
            node("codeBlock", attrs, Some(content))
        }
        Block::Quote(bs) => node(
            "blockquote",
            None,
            Some(bs.iter().map(|b| render_block(b, users, warn)).collect()),
        ),
        Block::Panel { kind, content } => node(
            "panel",
            Some(json!({ "panelType": kind.adf_name() })),
            Some(
                content
                    .iter()
                    .map(|b| render_block(b, users, warn))
                    .collect(),
            ),
        ),
        Block::Table(rows) => {
            let rows = rows
                .iter()
                .map(|row| {
                    let cells = row
                        .iter()
                        .map(|c| {
                            node(
                                if c.header { "tableHeader" } else { "tableCell" },
                                Some(json!({})),
                                Some(vec![paragraph(&c.content, users, warn)]),
                            )
                        })
                        .collect();
                    node("tableRow", None, Some(cells))
                })
                .collect();
            node(
                "table",
                Some(json!({"isNumberColumnEnabled": false, "layout": "default"})),
                Some(rows),
            )
        }
        Block::Rule => node("rule", None, None),
    }
}

fn render_inlines(run: &[Inline], users: &dyn UserMapper, warn: &mut Warnings) -> Vec<Value> {
    run.iter()
        .map(|i| match i {
            Inline::Text { text, marks } => {
                let mut m = Vec::new();
                if let Some(href) = &marks.link {
                    m.push(json!({"type": "link", "attrs": {"href": href}}));
                }
                for (on, name) in [
                    (marks.strong, "strong"),
                    (marks.em, "em"),
                    (marks.strike, "strike"),
                    (marks.underline, "underline"),
                    (marks.code, "code"),
                ] {
                    if on {
                        m.push(json!({ "type": name }));
                    }
                }
                if m.is_empty() {
                    json!({"type": "text", "text": text})
                } else {
                    json!({"type": "text", "text": text, "marks": m})
                }
            }
            Inline::HardBreak => json!({"type": "hardBreak"}),
            Inline::Emoji { short_name, text } => {
                let mut attrs = json!({ "shortName": short_name });
                if let Some(t) = text {
                    attrs["text"] = Value::String(t.clone());
                }
                node("emoji", Some(attrs), None)
            }
            Inline::Mention {
                account_id,
                username,
                text,
            } => {
                let id = account_id.clone().or_else(|| {
                    username
                        .as_deref()
                        .and_then(|u| users.account_id_for_username(u))
                });
                match id {
                    Some(id) => {
                        let shown = if text.is_empty() {
                            let name = username
                                .clone()
                                .or_else(|| users.username_for_account_id(&id))
                                .unwrap_or_else(|| id.clone());
                            format!("@{name}")
                        } else {
                            text.clone()
                        };
                        node(
                            "mention",
                            Some(json!({"id": id, "text": shown, "accessLevel": ""})),
                            None,
                        )
                    }
                    None => {
                        let name = username.as_deref().unwrap_or_default();
                        warn.push(format!(
                            "user '{name}' has no account here; mention kept as text"
                        ));
                        json!({"type": "text", "text": format!("@{name}")})
                    }
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::NoUserMapping;
    use super::*;

    /// Reads `adf`, writes the tree and reads that: the canonical form must not move.
    fn stable(adf: Value) -> (Doc, Warnings) {
        let mut w = Warnings::new();
        let doc = parse(&adf, &mut w);
        let out = render(&doc, &NoUserMapping, &mut w);
        assert_eq!(parse(&out, &mut Warnings::new()), doc, "ADF: {out}");
        (doc, w)
    }

    // Regression inputs below are the minimised ones the property tests and fuzzers found.

    #[test]
    fn a_mention_without_an_account_id_is_its_text() {
        let (doc, w) = stable(json!({"type": "mention"}));
        assert_eq!(doc.blocks, []);
        assert_eq!(w.len(), 1, "{w:?}");
        let (doc, _) = stable(json!({"type": "mention", "attrs": {"id": "", "text": "@Ann"}}));
        assert_eq!(doc.blocks, [Block::Paragraph(vec![Inline::text("@Ann")])]);
    }

    #[test]
    fn a_mention_without_text_shows_its_account_id() {
        let (doc, _) = stable(json!({"type": "mention", "attrs": {"id": "5b10a"}}));
        assert_eq!(
            doc.blocks,
            [Block::Paragraph(vec![Inline::Mention {
                account_id: Some("5b10a".into()),
                username: None,
                text: "@5b10a".into(),
            }])]
        );
    }
}
