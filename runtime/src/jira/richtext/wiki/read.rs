//! Jira wiki markup to the document tree, by the same rules the writer escapes for.

use super::super::Warnings;
use super::super::doc::{Block, Doc, Inline, ListItem, Marks, PanelKind};
use super::super::emoji::EMOTICONS;
use super::inline::{parse_inline_str, parse_row};
use super::*;

/// Reads wiki markup into the tree.
pub fn parse(text: &str, warn: &mut Warnings) -> Doc {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    Doc {
        blocks: parse_blocks(&text, Inside::default(), warn),
    }
    .normalize()
}

const BLOCK_MACROS: [&str; 8] = [
    "code", "noformat", "quote", "panel", "info", "note", "warning", "tip",
];

/// `{name[:params]}` at the start of a line: (name, params, rest of the line).
fn macro_open(t: &str) -> Option<(&'static str, &str, &str)> {
    let body = t.strip_prefix('{')?;
    let end = body.find('}')?;
    let tag = &body[..end];
    let (name, params) = tag.split_once(':').unwrap_or((tag, ""));
    let name = BLOCK_MACROS.iter().find(|m| **m == name)?;
    Some((name, params, &body[end + 1..]))
}

/// Where `closer` ends a macro in `line`: the first one not escaped by a backslash, unless
/// the body is `verbatim`.
fn find_closer(line: &str, closer: &str, verbatim: bool) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = line[from..].find(closer).map(|p| p + from) {
        let backslashes = line[..p].chars().rev().take_while(|c| *c == '\\').count();
        if verbatim || backslashes % 2 == 0 {
            return Some(p);
        }
        from = p + closer.len();
    }
    None
}

fn list_prefix(t: &str) -> Option<(String, &str)> {
    if let Some(rest) = t.strip_prefix("- ") {
        return Some(("*".into(), rest));
    }
    let run: String = t.chars().take_while(|c| *c == '*' || *c == '#').collect();
    if run.is_empty() {
        return None;
    }
    let rest = &t[run.len()..];
    if rest.is_empty() {
        return Some((run, ""));
    }
    rest.strip_prefix(' ').map(|r| (run, r))
}

fn heading(t: &str) -> Option<(u8, &str)> {
    let b = t.as_bytes();
    if b.len() >= 3 && b[0] == b'h' && (b'1'..=b'6').contains(&b[1]) && b[2] == b'.' {
        let rest = &t[3..];
        if rest.is_empty() || rest.starts_with(' ') {
            return Some((b[1] - b'0', rest.trim()));
        }
    }
    None
}

fn is_rule(t: &str) -> bool {
    t.len() >= 4 && t.chars().all(|c| c == '-')
}

fn starts_block(t: &str) -> bool {
    macro_open(t).is_some()
        || list_prefix(t).is_some()
        || heading(t).is_some()
        || is_rule(t)
        || t.starts_with('|')
        || t.starts_with("bq. ")
}

fn parse_blocks(text: &str, inside: Inside, warn: &mut Warnings) -> Vec<Block> {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim().to_string();
        if t.is_empty() {
            i += 1;
            continue;
        }
        // A macro of an enclosing macro's form is text (see `Inside`).
        if let Some((name, params, rest)) = macro_open(&t).filter(|(n, ..)| !inside.holds(n)) {
            let closer = format!("{{{name}}}");
            let mut content: Vec<String> = Vec::new();
            let mut cur = rest.to_string();
            let mut j = i;
            let mut after = String::new();
            // In a code block the body is verbatim; elsewhere `\{quote}` is an escaped brace.
            let verbatim = matches!(name, "code" | "noformat");
            loop {
                if let Some(p) = find_closer(&cur, &closer, verbatim) {
                    content.push(cur[..p].to_string());
                    after = cur[p + closer.len()..].to_string();
                    break;
                }
                content.push(cur);
                j += 1;
                if j >= lines.len() {
                    warn.push(format!("{{{name}}} is not closed; it runs to the end"));
                    break;
                }
                cur = lines[j].clone();
            }
            if content.first().is_some_and(|l| l.trim().is_empty()) {
                content.remove(0);
            }
            if content.last().is_some_and(|l| l.trim().is_empty()) {
                content.pop();
            }
            let body = content.join("\n");
            out.push(macro_block(name, params, &body, inside.with(name), warn));
            if after.trim().is_empty() {
                i = j + 1;
            } else {
                lines[j] = after;
                i = j;
            }
            continue;
        }
        if let Some((level, rest)) = heading(&t) {
            out.push(Block::Heading {
                level,
                content: parse_inline_str(rest, warn),
            });
            i += 1;
            continue;
        }
        if is_rule(&t) {
            out.push(Block::Rule);
            i += 1;
            continue;
        }
        if let Some(rest) = t.strip_prefix("bq. ").filter(|_| !inside.quote) {
            out.push(Block::Quote(vec![Block::Paragraph(parse_inline_str(
                rest, warn,
            ))]));
            i += 1;
            continue;
        }
        if list_prefix(&t).is_some() {
            let mut entries = Vec::new();
            while i < lines.len() {
                let l = lines[i].trim();
                match list_prefix(l) {
                    Some((p, rest)) => entries.push((p, parse_inline_str(rest, warn))),
                    None => break,
                }
                i += 1;
            }
            out.extend(build_lists(&entries, 0));
            continue;
        }
        if t.starts_with('|') {
            let mut rows = Vec::new();
            while i < lines.len() && lines[i].trim().starts_with('|') {
                rows.push(parse_row(lines[i].trim(), warn));
                i += 1;
            }
            out.push(Block::Table(rows));
            continue;
        }
        let mut para = vec![lines[i].clone()];
        i += 1;
        while i < lines.len() {
            let l = lines[i].trim();
            if l.is_empty() || starts_block(l) {
                break;
            }
            para.push(lines[i].clone());
            i += 1;
        }
        out.push(Block::Paragraph(parse_inline_str(&para.join("\n"), warn)));
    }
    out
}

fn macro_block(name: &str, params: &str, body: &str, inside: Inside, warn: &mut Warnings) -> Block {
    let param = |key: &str| {
        params.split('|').find_map(|p| {
            let (k, v) = p.split_once('=')?;
            (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim().to_string())
        })
    };
    match name {
        "code" | "noformat" => {
            let language = if name == "code" {
                param("language").or_else(|| {
                    params
                        .split('|')
                        .map(str::trim)
                        .find(|p| !p.is_empty() && !p.contains('='))
                        .map(str::to_string)
                })
            } else {
                None
            };
            Block::CodeBlock {
                language,
                text: body.to_string(),
            }
        }
        "quote" => Block::Quote(parse_blocks(body, inside, warn)),
        _ => {
            let kind = match name {
                "note" => PanelKind::Note,
                "warning" => PanelKind::Warning,
                "tip" => PanelKind::Success,
                "info" => PanelKind::Info,
                _ => param("bgColor")
                    .and_then(|c| PanelKind::from_wiki_colour(&c))
                    .unwrap_or(PanelKind::Info),
            };
            let mut content = Vec::new();
            if let Some(title) = param("title").filter(|t| !t.is_empty()) {
                warn.push("panel title kept as a bold first line".to_string());
                content.push(Block::Paragraph(vec![Inline::marked(
                    title,
                    Marks {
                        strong: true,
                        ..Marks::default()
                    },
                )]));
            }
            content.extend(parse_blocks(body, inside, warn));
            Block::Panel { kind, content }
        }
    }
}

/// Nests list lines by their prefixes (`*`, `#`, `*#`, ...).
fn build_lists(entries: &[(String, Vec<Inline>)], depth: usize) -> Vec<Block> {
    let mut lists: Vec<Block> = Vec::new();
    let mut k = 0;
    while k < entries.len() {
        let (prefix, content) = &entries[k];
        let ordered = prefix.as_bytes().get(depth) == Some(&b'#');
        let same_list =
            matches!(lists.last(), Some(Block::List { ordered: o, .. }) if *o == ordered);
        if !same_list {
            lists.push(Block::List {
                ordered,
                items: Vec::new(),
            });
        }
        let Some(Block::List { items, .. }) = lists.last_mut() else {
            break;
        };
        let mut item = ListItem::default();
        if prefix.len() == depth + 1 {
            item.content = content.clone();
            k += 1;
        }
        // Deeper lines that follow belong to this item.
        let start = k;
        while k < entries.len() && entries[k].0.len() > depth + 1 {
            k += 1;
        }
        item.sublists = build_lists(&entries[start..k], depth + 1);
        items.push(item);
    }
    lists
}

/// The wiki emoticons, for tests and generators.
pub fn emoticons() -> impl Iterator<Item = (&'static str, &'static str)> {
    EMOTICONS.iter().map(|(w, s, _)| (*w, *s))
}
