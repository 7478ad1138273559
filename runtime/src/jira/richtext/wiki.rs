//! Jira wiki markup (Data Center) to and from the document tree.
//!
//! The writer escapes every character the reader would take as markup, and
//! the reader's rules are the writer's rules, so text survives a round trip.
//! Marks open only after a non-alphanumeric character and close only before
//! one, as in Jira; elsewhere the writer uses the braced form (`{*}x{*}`).

use super::doc::{Block, Cell, Doc, Inline, ListItem, Marks, PanelKind};
use super::emoji::{EMOTICONS, emoticon_at, wiki_for};
use super::{UserMapper, Warnings};

const MARKERS: [char; 4] = ['*', '_', '-', '+'];
/// Marks Jira's renderer knows but the subset does not: escaped so they stay text.
const OTHER_MARKERS: [char; 2] = ['^', '~'];

fn set_mark(marks: &Marks, m: char) -> Marks {
    let mut out = marks.clone();
    match m {
        '*' => out.strong = true,
        '_' => out.em = true,
        '-' => out.strike = true,
        '+' => out.underline = true,
        _ => {}
    }
    out
}

/// The block macros a block sits inside, by written form: every panel kind is written as
/// `{panel}`, and one macro cannot hold another of its form (the inner opener is not its
/// closer, but the inner closer closes the outer), so neither side nests them.
#[derive(Debug, Clone, Copy, Default)]
struct Inside {
    panel: bool,
    quote: bool,
}

impl Inside {
    /// Whether macro `name` opened here could not be written back as it was read.
    fn holds(self, name: &str) -> bool {
        match name {
            "quote" => self.quote,
            "panel" | "info" | "note" | "warning" | "tip" => self.panel,
            _ => false,
        }
    }

    fn with(self, name: &str) -> Inside {
        Inside {
            quote: self.quote || name == "quote",
            panel: self.panel || matches!(name, "panel" | "info" | "note" | "warning" | "tip"),
        }
    }
}

fn is_url_like(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    (l.starts_with("http://")
        || l.starts_with("https://")
        || l.starts_with("ftp://")
        || l.starts_with("mailto:")
        || l.starts_with("file:"))
        && !s.contains(char::is_whitespace)
}

// ---------------------------------------------------------------- writer

/// Writes the tree as wiki markup.
pub fn render(doc: &Doc, users: &dyn UserMapper, warn: &mut Warnings) -> String {
    let mut w = Writer {
        users,
        warn,
        inside: Inside::default(),
    };
    w.blocks(&doc.blocks)
}

struct Writer<'a> {
    users: &'a dyn UserMapper,
    warn: &'a mut Warnings,
    inside: Inside,
}

impl Writer<'_> {
    fn blocks(&mut self, blocks: &[Block]) -> String {
        blocks
            .iter()
            .map(|b| self.block(b))
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    fn block(&mut self, b: &Block) -> String {
        match b {
            Block::Paragraph(c) => self.inlines(c, true),
            Block::Heading { level, content } => {
                format!("h{level}. {}", self.inlines(content, false))
            }
            Block::List { .. } => {
                let mut out = String::new();
                self.list(b, "", &mut out);
                out.trim_end_matches('\n').to_string()
            }
            Block::CodeBlock { language, text } => self.code(language.as_deref(), text),
            Block::Quote(bs) if self.inside.quote => {
                self.warn
                    .push("a quote inside a quote kept as the outer quote's content".into());
                self.blocks(bs)
            }
            Block::Panel { content, .. } if self.inside.panel => {
                self.warn
                    .push("a panel inside a panel kept as the outer panel's content".into());
                self.blocks(content)
            }
            Block::Quote(bs) => {
                let inner = self.nested("quote", bs);
                format!("{{quote}}\n{inner}\n{{quote}}")
            }
            Block::Panel { kind, content } => {
                let inner = self.nested("panel", content);
                format!(
                    "{{panel:bgColor={}}}\n{inner}\n{{panel}}",
                    kind.wiki_colour()
                )
            }
            Block::Table(rows) => rows
                .iter()
                .map(|row| self.row(row))
                .collect::<Vec<_>>()
                .join("\n"),
            Block::Rule => "----".to_string(),
        }
    }

    /// A code block in the macro whose closer its text does not hold: `{code}` inside
    /// `{code}` would end the block early.
    fn code(&mut self, language: Option<&str>, text: &str) -> String {
        if !text.contains("{code}") {
            return match language {
                Some(l) => format!("{{code:{l}}}\n{text}\n{{code}}"),
                None => format!("{{code}}\n{text}\n{{code}}"),
            };
        }
        if language.is_some() {
            self.warn.push(
                "a code block holding {code} written as {noformat}; its language is dropped".into(),
            );
        }
        if !text.contains("{noformat}") {
            return format!("{{noformat}}\n{text}\n{{noformat}}");
        }
        self.warn.push(
            "a code block holding both {code} and {noformat}: a space keeps them text".into(),
        );
        let text = text.replace("{code}", "{code }");
        format!("{{code}}\n{text}\n{{code}}")
    }

    /// Blocks inside macro `name`.
    fn nested(&mut self, name: &str, blocks: &[Block]) -> String {
        let outer = self.inside;
        self.inside = outer.with(name);
        let out = self.blocks(blocks);
        self.inside = outer;
        out
    }

    fn row(&mut self, row: &[Cell]) -> String {
        let mut out = String::new();
        let mut last = "|";
        for c in row {
            last = if c.header { "||" } else { "|" };
            out.push_str(last);
            out.push(' ');
            out.push_str(&self.inlines(&c.content, false));
            out.push(' ');
        }
        out.push_str(last);
        out
    }

    fn list(&mut self, b: &Block, prefix: &str, out: &mut String) {
        if let Block::List { ordered, items } = b {
            let p = format!("{prefix}{}", if *ordered { '#' } else { '*' });
            for it in items {
                out.push_str(&p);
                out.push(' ');
                out.push_str(&self.inlines(&it.content, false));
                out.push('\n');
                for sub in &it.sublists {
                    self.list(sub, &p, out);
                }
            }
        }
    }

    /// An inline run; `para` allows plain newlines for breaks and escapes line starts.
    fn inlines(&mut self, run: &[Inline], para: bool) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < run.len() {
            if let Inline::Text {
                marks: Marks {
                    link: Some(href), ..
                },
                ..
            } = &run[i]
            {
                // A link spans every neighbour with the same target.
                let mut j = i;
                let mut group = Vec::new();
                while let Some(Inline::Text { text, marks }) = run.get(j) {
                    if marks.link.as_deref() != Some(href.as_str()) {
                        break;
                    }
                    let mut m = marks.clone();
                    m.link = None;
                    group.push(Inline::marked(text.clone(), m));
                    j += 1;
                }
                let short = matches!(group.as_slice(),
                    [Inline::Text { text, marks }] if marks.is_plain() && text == href && is_url_like(href));
                if short {
                    out.push_str(&format!("[{href}]"));
                } else {
                    let inner = self.inlines(&group, false);
                    out.push_str(&format!("[{inner}|{href}]"));
                }
                i = j;
                continue;
            }
            let next = run.get(i + 1);
            match &run[i] {
                Inline::Text { text, marks } => self.text(text, marks, next, para, &mut out),
                Inline::HardBreak => {
                    let between = i > 0
                        && !matches!(run[i - 1], Inline::HardBreak)
                        && next.is_some_and(|n| !matches!(n, Inline::HardBreak));
                    if para && between {
                        out.push('\n');
                    } else {
                        out.push_str("\\\\");
                    }
                }
                Inline::Emoji { short_name, text } => match wiki_for(short_name) {
                    Some(e) => out.push_str(e),
                    None => {
                        let t = text.as_deref().unwrap_or(short_name);
                        escape_into(t, para, next.is_some(), &mut out);
                    }
                },
                Inline::Mention {
                    account_id,
                    username,
                    ..
                } => {
                    let name = username.clone().or_else(|| {
                        account_id
                            .as_deref()
                            .and_then(|a| self.users.username_for_account_id(a))
                    });
                    match (name, account_id) {
                        (Some(n), _) => out.push_str(&format!("[~{n}]")),
                        (None, Some(a)) => out.push_str(&format!("[~accountid:{a}]")),
                        (None, None) => self
                            .warn
                            .push("a mention without a user was dropped".into()),
                    }
                }
            }
            i += 1;
        }
        out
    }

    fn text(
        &mut self,
        text: &str,
        marks: &Marks,
        next: Option<&Inline>,
        para: bool,
        out: &mut String,
    ) {
        if marks.code {
            out.push_str("{{");
            escape_into(text, false, true, out);
            out.push_str("}}");
            return;
        }
        let order = [
            (marks.strike, '-'),
            (marks.underline, '+'),
            (marks.em, '_'),
            (marks.strong, '*'),
        ];
        let active: Vec<char> = order
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, c)| *c)
            .collect();
        if active.is_empty() {
            escape_into(text, para, next.is_some(), out);
            return;
        }
        // Braced markers where a plain one would touch a letter or digit.
        let at_line_start = para && (out.is_empty() || out.ends_with('\n'));
        let braced_open = at_line_start || out.chars().last().is_some_and(char::is_alphanumeric);
        let braced_close = match next {
            Some(Inline::Text { text, marks }) => {
                marks.is_plain() && text.chars().next().is_some_and(char::is_alphanumeric)
            }
            Some(Inline::Emoji { .. }) => true,
            _ => false,
        };
        // Jira pairs a braced opener only with a braced closer.
        let braced = braced_open || braced_close;
        let (braced_open, braced_close) = (braced, braced);
        for c in &active {
            if braced_open {
                out.push_str(&format!("{{{c}}}"));
            } else {
                out.push(*c);
            }
        }
        escape_into(text, false, true, out);
        for c in active.iter().rev() {
            if braced_close {
                out.push_str(&format!("{{{c}}}"));
            } else {
                out.push(*c);
            }
        }
    }
}

fn opener_at(chars: &[char], i: usize) -> bool {
    let prev_ok = i == 0 || !chars[i - 1].is_alphanumeric();
    let next_ok = chars.get(i + 1).is_some_and(|c| !c.is_whitespace());
    prev_ok && next_ok
}

fn closer_at(chars: &[char], i: usize) -> bool {
    let prev_ok = i > 0 && !chars[i - 1].is_whitespace();
    let next_ok = chars.get(i + 1).is_none_or(|c| !c.is_alphanumeric());
    prev_ok && next_ok
}

/// Escapes text so the reader gives it back unchanged.
///
/// `para` guards block syntax at line starts; `followed` says more inline content comes after.
fn escape_into(text: &str, para: bool, followed: bool, out: &mut String) {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    for (k, &c) in chars.iter().enumerate() {
        let at_line_start = para && (out.is_empty() || out.ends_with('\n'));
        let escape = match c {
            '{' | '}' | '[' | ']' | '|' => true,
            // Unknown neighbours at the edges count as the risky kind.
            _ if MARKERS.contains(&c) || OTHER_MARKERS.contains(&c) => {
                let opener = (k == 0 || !chars[k - 1].is_alphanumeric())
                    && (k + 1 == n || !chars[k + 1].is_whitespace());
                let closer = (k == 0 || !chars[k - 1].is_whitespace())
                    && (k + 1 == n || !chars[k + 1].is_alphanumeric());
                opener || closer || at_line_start
            }
            '#' => at_line_start,
            // `http://` in plain text would read back as a link.
            '/' => chars.get(k + 1) == Some(&'/') && url_scheme_before(&chars[..k]),
            '!' => k + 1 == n || !chars[k + 1].is_whitespace(),
            '?' => chars.get(k + 1) == Some(&'?') || (k > 0 && chars[k - 1] == '?'),
            '.' => {
                // `h1.` and `bq.` at a line start would become a heading or a quote.
                let line: String = out.rsplit('\n').next().unwrap_or("").to_string();
                para && (is_heading_tag(&line) || line == "bq")
            }
            // At the end, the next node's first character could complete an emoticon.
            ':' | ';' | '(' => emoticon_at(&chars[k..]).is_some() || (k + 1 == n && followed),
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Whether `chars` ends in a word `http:` or `https:`, which the reader starts a bare URL at.
fn url_scheme_before(chars: &[char]) -> bool {
    ["http:", "https:"].iter().any(|scheme| {
        let n = scheme.len();
        chars.len() >= n
            && chars[chars.len() - n..]
                .iter()
                .zip(scheme.chars())
                .all(|(a, b)| a.eq_ignore_ascii_case(&b))
            && (chars.len() == n || !chars[chars.len() - n - 1].is_alphanumeric())
    })
}

fn is_heading_tag(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 2 && b[0] == b'h' && (b'1'..=b'6').contains(&b[1])
}

// ---------------------------------------------------------------- reader

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
            loop {
                if let Some(p) = cur.find(&closer) {
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

fn parse_row(line: &str, warn: &mut Warnings) -> Vec<Cell> {
    let chars: Vec<char> = line.chars().collect();
    let mut scan = Scanner::new(&chars);
    let mut cells = Vec::new();
    let mut i = 0;
    while i < chars.len() && chars[i] == '|' {
        let header = chars.get(i + 1) == Some(&'|');
        i += if header { 2 } else { 1 };
        let start = i;
        while i < chars.len() && chars[i] != '|' {
            match chars[i] {
                '\\' => i += 2,
                '[' => i = bracket_end(&chars, i + 1).map_or(i + 1, |e| e + 1),
                '{' if chars.get(i + 1) == Some(&'{') => {
                    i = scan.code_end(i + 2).map_or(i + 2, |e| e + 2)
                }
                _ => i += 1,
            }
        }
        let i_end = i.min(chars.len());
        if i_end == start && i >= chars.len() {
            break;
        }
        let content: String = chars[start..i_end].iter().collect();
        if i >= chars.len() && content.trim().is_empty() {
            break;
        }
        cells.push(Cell {
            header,
            content: parse_inline_str(content.trim(), warn),
        });
    }
    cells
}

/// Searches one inline run for closers, remembering where a search failed: a search walks
/// the run deterministically, so one that reaches a position a failed search passed through
/// fails too. Without this, a run of openers with no closer costs time quadratic in its length
/// (a hostile replica of a few MiB would hold a worker for hours).
struct Scanner<'a> {
    chars: &'a [char],
    /// Per position, a bit per search kind that is known to fail from there.
    dead: Vec<u8>,
}

/// The search bit for `}}`; markers take bits 0..4 by their index in `MARKERS`.
const CODE_END: u8 = 1 << 4;

impl<'a> Scanner<'a> {
    fn new(chars: &'a [char]) -> Self {
        Scanner {
            chars,
            dead: vec![0; chars.len() + 1],
        }
    }

    /// Ends a search: a failed one marks every position it passed through.
    fn finish<T>(&mut self, found: Option<T>, trail: &[usize], bit: u8) -> Option<T> {
        if found.is_none() {
            for &j in trail {
                self.dead[j] |= bit;
            }
        }
        found
    }

    /// The first unescaped `}}` at or after `from`.
    fn code_end(&mut self, from: usize) -> Option<usize> {
        let chars = self.chars;
        let mut trail = Vec::new();
        let mut j = from;
        let mut found = None;
        while j < chars.len() && self.dead[j] & CODE_END == 0 {
            trail.push(j);
            if chars[j] == '\\' {
                j += 2;
                continue;
            }
            if chars[j..].starts_with(&['}', '}']) {
                found = Some(j);
                break;
            }
            j += 1;
        }
        self.finish(found, &trail, CODE_END)
    }

    /// Where the closer of marker `m` is: (start, end) of the closing token.
    fn closer(&mut self, from: usize, m: char) -> Option<(usize, usize)> {
        let chars = self.chars;
        let bit = 1 << MARKERS.iter().position(|c| *c == m).unwrap_or(0);
        let mut trail = Vec::new();
        let mut j = from;
        let mut found = None;
        while j < chars.len() && self.dead[j] & bit == 0 {
            trail.push(j);
            let c = chars[j];
            if c == '\\' {
                j += 2;
                continue;
            }
            if c == '['
                && let Some(e) = bracket_end(chars, j + 1)
            {
                j = e + 1;
                continue;
            }
            if c == '{' && chars.get(j + 1) == Some(&m) && chars.get(j + 2) == Some(&'}') {
                found = Some((j, j + 3));
                break;
            }
            if c == '{'
                && chars.get(j + 1) == Some(&'{')
                && let Some(e) = self.code_end(j + 2)
            {
                j = e + 2;
                continue;
            }
            if c == m && closer_at(chars, j) {
                found = Some((j, j + 1));
                break;
            }
            if c == '\n' && chars.get(j + 1) == Some(&'\n') {
                break;
            }
            j += 1;
        }
        self.finish(found, &trail, bit)
    }
}

/// The index of the `]` closing a `[` opened just before `from`.
fn bracket_end(chars: &[char], from: usize) -> Option<usize> {
    let mut j = from;
    while j < chars.len() {
        match chars[j] {
            '\\' => j += 2,
            ']' => return Some(j),
            '[' | '\n' => return None,
            _ => j += 1,
        }
    }
    None
}

fn parse_inline_str(s: &str, warn: &mut Warnings) -> Vec<Inline> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    parse_inline(&chars, &Marks::default(), &mut out, warn);
    out
}

fn unescape(chars: &[char]) -> String {
    let mut s = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\'
            && chars
                .get(i + 1)
                .is_some_and(|c| c.is_ascii_punctuation() && *c != '\\')
        {
            s.push(chars[i + 1]);
            i += 2;
        } else {
            s.push(chars[i]);
            i += 1;
        }
    }
    s
}

fn parse_inline(chars: &[char], marks: &Marks, out: &mut Vec<Inline>, warn: &mut Warnings) {
    let mut buf = String::new();
    let flush = |buf: &mut String, out: &mut Vec<Inline>| {
        if !buf.is_empty() {
            out.push(Inline::marked(std::mem::take(buf), marks.clone()));
        }
    };
    let n = chars.len();
    let mut scan = Scanner::new(chars);
    let mut i = 0;
    while i < n {
        let c = chars[i];
        match c {
            '\\' => {
                match chars.get(i + 1) {
                    Some('\\') => {
                        flush(&mut buf, out);
                        out.push(Inline::HardBreak);
                    }
                    Some(p) if p.is_ascii_punctuation() => buf.push(*p),
                    _ => {
                        buf.push('\\');
                        i += 1;
                        continue;
                    }
                }
                i += 2;
            }
            '\n' => {
                flush(&mut buf, out);
                out.push(Inline::HardBreak);
                i += 1;
            }
            '{' => {
                if chars.get(i + 1) == Some(&'{')
                    && let Some(end) = scan.code_end(i + 2)
                {
                    flush(&mut buf, out);
                    let mut m = marks.clone();
                    m.code = true;
                    out.push(Inline::marked(unescape(&chars[i + 2..end]), m));
                    i = end + 2;
                    continue;
                }
                if let (Some(m), Some('}')) = (chars.get(i + 1), chars.get(i + 2))
                    && MARKERS.contains(m)
                    && let Some((cs, ce)) = scan.closer(i + 3, *m)
                    && cs > i + 3
                {
                    flush(&mut buf, out);
                    parse_inline(&chars[i + 3..cs], &set_mark(marks, *m), out, warn);
                    i = ce;
                    continue;
                }
                let rest: String = chars[i..n.min(i + 7)].iter().collect();
                if (rest.starts_with("{color") || rest.starts_with("{anchor"))
                    && let Some(e) = chars[i..].iter().position(|c| *c == '}')
                {
                    warn.push("wiki text colour or anchor dropped; its text is kept".into());
                    i += e + 1;
                    continue;
                }
                buf.push('{');
                i += 1;
            }
            '[' => {
                if let Some(end) = bracket_end(chars, i + 1) {
                    let inner = &chars[i + 1..end];
                    if let Some(inline) = bracket(inner, marks, warn) {
                        flush(&mut buf, out);
                        out.extend(inline);
                        i = end + 1;
                        continue;
                    }
                }
                buf.push('[');
                i += 1;
            }
            m if MARKERS.contains(&m) && opener_at(chars, i) => {
                if let Some((cs, ce)) = scan.closer(i + 1, m)
                    && cs > i + 1
                {
                    flush(&mut buf, out);
                    parse_inline(&chars[i + 1..cs], &set_mark(marks, m), out, warn);
                    i = ce;
                    continue;
                }
                buf.push(m);
                i += 1;
            }
            _ => {
                if let Some((wiki, short, text)) = emoticon_at(&chars[i..]) {
                    flush(&mut buf, out);
                    out.push(Inline::Emoji {
                        short_name: short.to_string(),
                        text: (!text.is_empty()).then(|| text.to_string()),
                    });
                    i += wiki.chars().count();
                    continue;
                }
                // The scheme first: collecting the word at every `h` is quadratic in `h-h-h-...`.
                let scheme: String = chars[i..].iter().take(8).collect();
                let scheme = scheme.to_ascii_lowercase();
                if (c == 'h' || c == 'H')
                    && (i == 0 || !chars[i - 1].is_alphanumeric())
                    && marks.link.is_none()
                    && (scheme.starts_with("http://") || scheme.starts_with("https://"))
                {
                    let word: String = chars[i..]
                        .iter()
                        // Braces end a bare URL: `{panel}` after one is the macro's, not the URL's.
                        .take_while(|c| {
                            !c.is_whitespace() && !matches!(c, '|' | ']' | '[' | '\\' | '{' | '}')
                        })
                        .collect();
                    let lower = word.to_ascii_lowercase();
                    if lower.starts_with("http://") || lower.starts_with("https://") {
                        // A trailing full stop or comma ends the sentence, not the URL.
                        let url = word.trim_end_matches(['.', ',', ';', ':', ')', '!', '?']);
                        flush(&mut buf, out);
                        let mut m = marks.clone();
                        m.link = Some(url.to_string());
                        out.push(Inline::marked(url, m));
                        i += url.chars().count();
                        continue;
                    }
                }
                buf.push(c);
                i += 1;
            }
        }
    }
    flush(&mut buf, out);
}

/// The content of `[...]`: a mention, a link, or nothing (then it stays text).
fn bracket(inner: &[char], marks: &Marks, warn: &mut Warnings) -> Option<Vec<Inline>> {
    let s: String = inner.iter().collect();
    if let Some(who) = s.strip_prefix('~') {
        let (account_id, username) = match who.strip_prefix("accountid:") {
            Some(id) => (Some(id.trim().to_string()), None),
            None => (None, Some(who.trim().to_string())),
        };
        return Some(vec![Inline::Mention {
            text: String::new(),
            account_id,
            username,
        }]);
    }
    // The last unescaped `|` separates the text from the target.
    let mut split = None;
    let mut j = 0;
    while j < inner.len() {
        match inner[j] {
            '\\' => j += 2,
            '|' => {
                split = Some(j);
                j += 1
            }
            _ => j += 1,
        }
    }
    match split {
        Some(p) => {
            let target: String = inner[p + 1..].iter().collect();
            let target = target.trim().to_string();
            // `[text|]` links nowhere: it stays text, as a link without a target cannot be written.
            if target.is_empty() {
                return None;
            }
            if target.starts_with('^') || target.starts_with('#') {
                warn.push(format!("wiki link to '{target}' kept as its text"));
                let mut out = Vec::new();
                parse_inline(&inner[..p], marks, &mut out, warn);
                return Some(out);
            }
            let mut m = marks.clone();
            m.link = Some(target);
            let mut out = Vec::new();
            parse_inline(&inner[..p], &m, &mut out, warn);
            Some(out)
        }
        None if is_url_like(s.trim()) => {
            let mut m = marks.clone();
            m.link = Some(s.trim().to_string());
            Some(vec![Inline::marked(s.trim(), m)])
        }
        None => None,
    }
}

/// The wiki emoticons, for tests and generators.
pub fn emoticons() -> impl Iterator<Item = (&'static str, &'static str)> {
    EMOTICONS.iter().map(|(w, s, _)| (*w, *s))
}

#[cfg(test)]
mod tests {
    use super::super::NoUserMapping;
    use super::*;

    /// Reads `text`, writes the tree back and reads that: the two trees must agree.
    fn round_trip(text: &str) -> (Doc, String) {
        let mut w = Warnings::new();
        let doc = parse(text, &mut w);
        let markup = render(&doc, &NoUserMapping, &mut w);
        assert_eq!(parse(&markup, &mut w), doc, "markup:\n{markup}");
        (doc, markup)
    }

    // Regression inputs below are the minimised ones the property tests and fuzzers found.

    #[test]
    fn a_panel_opened_inside_a_panel_is_text() {
        let (doc, _) = round_trip("{panel}{panel:title=T|bgColor=#deebff}");
        let Block::Panel { content, .. } = &doc.blocks[0] else {
            panic!("{doc:?}")
        };
        assert_eq!(
            content,
            &[Block::Paragraph(vec![Inline::text(
                "{panel:title=T|bgColor=#deebff}"
            )])]
        );
        round_trip("{info}{note}x{note}{info}");
        round_trip("{quote}{panel}{quote}x{quote}{panel}{quote}");
    }

    #[test]
    fn bq_inside_a_quote_is_text() {
        let (doc, _) = round_trip("{quote}\nbq. x\n{quote}");
        assert_eq!(
            doc.blocks,
            [Block::Quote(vec![Block::Paragraph(vec![Inline::text(
                "bq. x"
            )])])]
        );
    }

    #[test]
    fn nested_quotes_and_panels_are_written_as_one() {
        let p = |t: &str| Block::Paragraph(vec![Inline::text(t)]);
        let doc = Doc {
            blocks: vec![
                Block::Quote(vec![Block::Quote(vec![p("a")])]),
                Block::Panel {
                    kind: PanelKind::Note,
                    content: vec![Block::Quote(vec![Block::Panel {
                        kind: PanelKind::Error,
                        content: vec![p("b")],
                    }])],
                },
            ],
        };
        let mut w = Warnings::new();
        let markup = render(&doc, &NoUserMapping, &mut w);
        assert_eq!(w.len(), 2, "{w:?}");
        let back = parse(&markup, &mut w);
        assert_eq!(
            back.blocks,
            [
                Block::Quote(vec![p("a")]),
                Block::Panel {
                    kind: PanelKind::Note,
                    content: vec![Block::Quote(vec![p("b")])],
                },
            ]
        );
    }

    #[test]
    fn a_code_block_holding_its_closer_is_written_as_noformat() {
        let (doc, markup) = round_trip("{noformat}{code}");
        assert_eq!(
            doc.blocks,
            [Block::CodeBlock {
                language: None,
                text: "{code}".into()
            }]
        );
        assert_eq!(markup, "{noformat}\n{code}\n{noformat}");
        // Both closers: neither macro can hold the text as it is, so it stays text, spaced.
        let mut w = Warnings::new();
        let doc = Doc {
            blocks: vec![Block::CodeBlock {
                language: Some("java".into()),
                text: "{code}{noformat}".into(),
            }],
        };
        let markup = render(&doc, &NoUserMapping, &mut w);
        assert_eq!(markup, "{code}\n{code }{noformat}\n{code}");
        assert_eq!(w.len(), 2, "{w:?}");
    }

    #[test]
    fn openers_without_closers_take_linear_time() {
        // Each took minutes at this size when every opener searched to the end for a closer.
        for unit in ["*a ", "{{a ", "*a [x*] ", "h-", "|{{a "] {
            let text = unit.repeat((256 << 10) / unit.len());
            let started = std::time::Instant::now();
            let _ = parse(&text, &mut Warnings::new());
            let took = started.elapsed();
            assert!(took.as_secs() < 20, "{unit:?} repeated took {took:?}");
        }
    }

    #[test]
    fn a_link_without_a_target_is_text() {
        let (doc, _) = round_trip("[ \\||]");
        assert_eq!(doc.blocks, [Block::Paragraph(vec![Inline::text("[ ||]")])]);
    }

    #[test]
    fn a_url_in_plain_text_stays_text() {
        let (doc, markup) = round_trip("http:\\//x");
        assert_eq!(
            doc.blocks,
            [Block::Paragraph(vec![Inline::text("http://x")])]
        );
        assert_eq!(markup, "http:\\//x");
    }

    #[test]
    fn a_bare_url_ends_at_a_brace() {
        let (doc, _) = round_trip("{info}http://{panel}");
        let Block::Panel { content, .. } = &doc.blocks[0] else {
            panic!("{doc:?}")
        };
        let link = Marks {
            link: Some("http://".into()),
            ..Marks::default()
        };
        assert_eq!(
            content,
            &[Block::Paragraph(vec![
                Inline::marked("http://", link),
                Inline::text("{panel}")
            ])]
        );
    }
}
