//! Document tree to Jira wiki markup: escapes whatever the reader would take as markup.

use super::super::doc::{Block, Cell, Doc, Inline, Marks, PanelKind};
use super::super::emoji::{emoticon_at, wiki_for};
use super::super::{UserMapper, Warnings};
use super::*;

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
                // Text holding `{quote}` would close the macro early; one line fits `bq.`.
                let one_line =
                    matches!(bs.as_slice(), [Block::Paragraph(_)]) && !inner.contains('\n');
                if one_line && inner.contains("{quote}") {
                    format!("bq. {inner}")
                } else {
                    format!("{{quote}}\n{inner}\n{{quote}}")
                }
            }
            Block::Panel { kind, content } => {
                let inner = self.nested("panel", content);
                // Text holding `{panel}` (in a code block, a mention) would close `{panel}`
                // early: the kind's own macro, whose closer it does not hold, is written then.
                let own = match kind {
                    PanelKind::Info => Some("info"),
                    PanelKind::Note => Some("note"),
                    PanelKind::Warning => Some("warning"),
                    PanelKind::Success => Some("tip"),
                    PanelKind::Error => None,
                };
                match own
                    .filter(|m| inner.contains("{panel}") && !inner.contains(&format!("{{{m}}}")))
                {
                    Some(m) => format!("{{{m}}}\n{inner}\n{{{m}}}"),
                    None => format!(
                        "{{panel:bgColor={}}}\n{inner}\n{{panel}}",
                        kind.wiki_colour()
                    ),
                }
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
