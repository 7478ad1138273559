//! The format-neutral document tree that ADF, wiki markup and plain text all convert through.
//!
//! It holds exactly the supported subset, in one canonical form (see
//! [`Doc::normalize`]), so that a round trip through any format can be compared
//! structurally.

/// A rich-text document: a list of blocks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Doc {
    pub(crate) blocks: Vec<Block>,
}

/// A block-level element.
#[derive(Debug, Clone, PartialEq)]
// `CodeBlock` keeps the name of ADF's `codeBlock` node.
#[allow(clippy::enum_variant_names)]
pub enum Block {
    Paragraph(Vec<Inline>),
    Heading {
        level: u8,
        content: Vec<Inline>,
    },
    List {
        ordered: bool,
        items: Vec<ListItem>,
    },
    CodeBlock {
        language: Option<String>,
        text: String,
    },
    Quote(Vec<Block>),
    Panel {
        kind: PanelKind,
        content: Vec<Block>,
    },
    Table(Vec<Vec<Cell>>),
    Rule,
}

/// One list item: a line of inline content, then nested lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListItem {
    pub content: Vec<Inline>,
    /// Only `Block::List` values: wiki markup nests nothing else in an item.
    pub sublists: Vec<Block>,
}

/// One table cell; wiki cells hold one line of inline content.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    pub header: bool,
    pub content: Vec<Inline>,
}

/// The ADF panel types; wiki markup tells them apart by background colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelKind {
    Info,
    Note,
    Warning,
    Success,
    Error,
}

impl PanelKind {
    pub(crate) const ALL: [PanelKind; 5] = [
        PanelKind::Info,
        PanelKind::Note,
        PanelKind::Warning,
        PanelKind::Success,
        PanelKind::Error,
    ];

    pub(crate) fn adf_name(self) -> &'static str {
        match self {
            PanelKind::Info => "info",
            PanelKind::Note => "note",
            PanelKind::Warning => "warning",
            PanelKind::Success => "success",
            PanelKind::Error => "error",
        }
    }

    pub(crate) fn from_adf_name(name: &str) -> Option<PanelKind> {
        PanelKind::ALL.into_iter().find(|k| k.adf_name() == name)
    }

    /// The background colour Jira's own ADF-to-wiki conversion gives each panel type.
    pub(crate) fn wiki_colour(self) -> &'static str {
        match self {
            PanelKind::Info => "#deebff",
            PanelKind::Note => "#eae6ff",
            PanelKind::Warning => "#fffae6",
            PanelKind::Success => "#e3fcef",
            PanelKind::Error => "#ffebe6",
        }
    }

    pub(crate) fn from_wiki_colour(colour: &str) -> Option<PanelKind> {
        PanelKind::ALL
            .into_iter()
            .find(|k| k.wiki_colour().eq_ignore_ascii_case(colour.trim()))
    }
}

/// An inline element.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    Text {
        text: String,
        marks: Marks,
    },
    HardBreak,
    Emoji {
        short_name: String,
        text: Option<String>,
    },
    /// A user mention; ADF knows the account id, DC wiki markup the username.
    Mention {
        account_id: Option<String>,
        username: Option<String>,
        text: String,
    },
}

impl Inline {
    pub fn text(text: impl Into<String>) -> Inline {
        Inline::Text {
            text: text.into(),
            marks: Marks::default(),
        }
    }

    pub(crate) fn marked(text: impl Into<String>, marks: Marks) -> Inline {
        Inline::Text {
            text: text.into(),
            marks,
        }
    }
}

/// Text marks; ADF's `code` combines only with `link`, so normalising drops the others beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marks {
    pub strong: bool,
    pub em: bool,
    pub strike: bool,
    pub underline: bool,
    pub code: bool,
    pub link: Option<String>,
}

impl Marks {
    pub(crate) fn is_plain(&self) -> bool {
        *self == Marks::default()
    }
}

impl Doc {
    /// Brings the tree to its canonical form: merged adjacent text, no empty text,
    /// paragraph edges trimmed, whitespace moved out of formatting marks, `code` alone.
    pub(crate) fn normalize(mut self) -> Doc {
        normalize_blocks(&mut self.blocks);
        self
    }

    /// Plain text: what a reader sees, with lists and tables laid out in lines.
    pub fn to_plain(&self) -> String {
        let mut out = String::new();
        plain_blocks(&self.blocks, &mut out, "");
        out.trim_end_matches('\n').to_string()
    }

    /// Paragraphs split at blank lines, lines at single newlines.
    pub fn from_plain(text: &str) -> Doc {
        let text = text.replace("\r\n", "\n");
        let mut blocks = Vec::new();
        for para in text.split("\n\n") {
            if para.trim().is_empty() {
                continue;
            }
            let mut inl = Vec::new();
            for (i, line) in para.split('\n').enumerate() {
                if i > 0 {
                    inl.push(Inline::HardBreak);
                }
                inl.push(Inline::text(line));
            }
            blocks.push(Block::Paragraph(inl));
        }
        Doc { blocks }.normalize()
    }
}

fn normalize_blocks(blocks: &mut Vec<Block>) {
    for b in blocks.iter_mut() {
        match b {
            Block::Paragraph(c) | Block::Heading { content: c, .. } => normalize_inlines(c),
            Block::List { items, .. } => {
                for it in items.iter_mut() {
                    normalize_inlines(&mut it.content);
                    normalize_blocks(&mut it.sublists);
                }
            }
            Block::Quote(bs) | Block::Panel { content: bs, .. } => normalize_blocks(bs),
            Block::Table(rows) => rows
                .iter_mut()
                .flatten()
                .for_each(|c| normalize_inlines(&mut c.content)),
            Block::CodeBlock { .. } | Block::Rule => {}
        }
    }
    // An empty paragraph carries nothing wiki markup or plain text could keep.
    blocks.retain(|b| !matches!(b, Block::Paragraph(c) if c.is_empty()));
}

/// Canonical inline run: see [`Doc::normalize`].
pub(crate) fn normalize_inlines(run: &mut Vec<Inline>) {
    let mut out: Vec<Inline> = Vec::with_capacity(run.len());
    for item in run.drain(..) {
        match item {
            Inline::Text { text, mut marks } => {
                let text = text.replace("\r\n", "\n");
                if marks.code {
                    marks.strong = false;
                    marks.em = false;
                    marks.strike = false;
                    marks.underline = false;
                }
                // Newlines inside text are line breaks in every target format.
                for (i, part) in text.split('\n').enumerate() {
                    if i > 0 {
                        out.push(Inline::HardBreak);
                    }
                    push_text(&mut out, part, &marks);
                }
            }
            other => out.push(other),
        }
    }
    // Trim the run's edges and the edges around line breaks, until a text emptied by the
    // trim no longer leaves whitespace (e.g. a monospace space) at a new edge.
    loop {
        let n = out.len();
        for i in 0..n {
            let at_start = i == 0 || matches!(out[i - 1], Inline::HardBreak);
            let at_end = i + 1 == n || matches!(out[i + 1], Inline::HardBreak);
            if let Inline::Text { text, .. } = &mut out[i] {
                if at_start {
                    *text = text.trim_start().to_string();
                }
                if at_end {
                    *text = text.trim_end().to_string();
                }
            }
        }
        out.retain(|i| !matches!(i, Inline::Text { text, .. } if text.is_empty()));
        if out.len() == n {
            break;
        }
    }
    // Trimming may have made neighbours mergeable again.
    let mut merged: Vec<Inline> = Vec::with_capacity(out.len());
    for item in out {
        if let Inline::Text { text, marks } = &item
            && let Some(Inline::Text {
                text: prev,
                marks: pm,
            }) = merged.last_mut()
            && pm == marks
        {
            prev.push_str(text);
            continue;
        }
        merged.push(item);
    }
    *run = merged;
}

/// Appends text, moving leading/trailing whitespace out of formatting marks (wiki markup cannot hold it).
fn push_text(out: &mut Vec<Inline>, text: &str, marks: &Marks) {
    if text.is_empty() {
        return;
    }
    let formatted = marks.strong || marks.em || marks.strike || marks.underline;
    if formatted {
        let core = text.trim();
        let lead = &text[..text.len() - text.trim_start().len()];
        let trail = &text[text.trim_end().len()..];
        let outer = Marks {
            link: marks.link.clone(),
            ..Marks::default()
        };
        if !lead.is_empty() {
            push_merge(out, lead, &outer);
        }
        if !core.is_empty() {
            push_merge(out, core, marks);
        }
        if !trail.is_empty() && !core.is_empty() {
            push_merge(out, trail, &outer);
        }
    } else {
        push_merge(out, text, marks);
    }
}

fn push_merge(out: &mut Vec<Inline>, text: &str, marks: &Marks) {
    if let Some(Inline::Text {
        text: prev,
        marks: pm,
    }) = out.last_mut()
        && pm == marks
    {
        prev.push_str(text);
        return;
    }
    out.push(Inline::marked(text, marks.clone()));
}

/// Inline content as plain text.
pub(crate) fn plain_inlines(run: &[Inline], out: &mut String) {
    for i in run {
        match i {
            Inline::Text { text, marks } => {
                out.push_str(text);
                if let Some(href) = &marks.link
                    && href != text
                    && !text.is_empty()
                {
                    // Keep the target: plain text has no other way to carry it.
                    out.push_str(" (");
                    out.push_str(href);
                    out.push(')');
                }
            }
            Inline::HardBreak => out.push('\n'),
            Inline::Emoji { short_name, text } => {
                out.push_str(text.as_deref().unwrap_or(short_name));
            }
            Inline::Mention {
                text,
                username,
                account_id,
            } => {
                if !text.is_empty() {
                    out.push_str(text);
                } else {
                    out.push('@');
                    out.push_str(
                        username
                            .as_deref()
                            .or(account_id.as_deref())
                            .unwrap_or_default(),
                    );
                }
            }
        }
    }
}

fn plain_blocks(blocks: &[Block], out: &mut String, indent: &str) {
    for b in blocks {
        let mut s = String::new();
        match b {
            Block::Paragraph(c) | Block::Heading { content: c, .. } => plain_inlines(c, &mut s),
            Block::List { .. } => plain_list(b, &mut s, 0),
            Block::CodeBlock { text, .. } => s.push_str(text),
            Block::Quote(bs) => {
                let mut inner = String::new();
                plain_blocks(bs, &mut inner, "");
                for line in inner.trim_end_matches('\n').lines() {
                    s.push_str("> ");
                    s.push_str(line);
                    s.push('\n');
                }
            }
            Block::Panel { content, .. } => plain_blocks(content, &mut s, ""),
            Block::Table(rows) => {
                for row in rows {
                    let cells: Vec<String> = row
                        .iter()
                        .map(|c| {
                            let mut t = String::new();
                            plain_inlines(&c.content, &mut t);
                            t.replace('\n', " ")
                        })
                        .collect();
                    s.push_str(&cells.join(" | "));
                    s.push('\n');
                }
            }
            Block::Rule => s.push_str("---"),
        }
        for line in s.trim_end_matches('\n').split('\n') {
            out.push_str(indent);
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
    }
}

fn plain_list(b: &Block, out: &mut String, depth: usize) {
    if let Block::List { ordered, items } = b {
        for (n, it) in items.iter().enumerate() {
            out.push_str(&"  ".repeat(depth));
            if *ordered {
                out.push_str(&format!("{}. ", n + 1));
            } else {
                out.push_str("- ");
            }
            let mut line = String::new();
            plain_inlines(&it.content, &mut line);
            out.push_str(&line.replace('\n', " "));
            out.push('\n');
            for sub in &it.sublists {
                plain_list(sub, out, depth + 1);
            }
        }
    }
}

/// A block as inline content, for places (list items, cells) that hold only a line.
pub(crate) fn block_as_inlines(b: &Block) -> Vec<Inline> {
    match b {
        Block::Paragraph(c) | Block::Heading { content: c, .. } => c.clone(),
        other => {
            let mut s = String::new();
            plain_blocks(std::slice::from_ref(other), &mut s, "");
            let mut out = Vec::new();
            for (i, line) in s.trim_end_matches('\n').split('\n').enumerate() {
                if i > 0 {
                    out.push(Inline::HardBreak);
                }
                out.push(Inline::text(line));
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bold() -> Marks {
        Marks {
            strong: true,
            ..Marks::default()
        }
    }

    #[test]
    fn normalize_moves_whitespace_out_of_marks_and_merges() {
        let mut run = vec![
            Inline::text("a "),
            Inline::marked(" b ", bold()),
            Inline::text(" c"),
            Inline::text("d "),
        ];
        normalize_inlines(&mut run);
        assert_eq!(
            run,
            vec![
                Inline::text("a  "),
                Inline::marked("b", bold()),
                Inline::text("  cd")
            ]
        );
    }

    #[test]
    fn code_drops_other_marks() {
        let mut run = vec![Inline::marked(
            "x",
            Marks {
                code: true,
                strong: true,
                ..Marks::default()
            },
        )];
        normalize_inlines(&mut run);
        assert_eq!(
            run,
            vec![Inline::marked(
                "x",
                Marks {
                    code: true,
                    ..Marks::default()
                }
            )]
        );
    }

    #[test]
    fn plain_round_trip() {
        let d = Doc::from_plain("one\ntwo\n\nthree");
        assert_eq!(d.blocks.len(), 2);
        assert_eq!(d.to_plain(), "one\ntwo\n\nthree");
    }
}
