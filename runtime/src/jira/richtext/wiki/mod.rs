//! Jira wiki markup (Data Center) to and from the document tree.
//!
//! The writer escapes every character the reader would take as markup, and
//! the reader's rules are the writer's rules, so text survives a round trip.
//! Marks open only after a non-alphanumeric character and close only before
//! one, as in Jira; elsewhere the writer uses the braced form (`{*}x{*}`).

//!
//! `write` renders a document as markup, `read` parses markup into one; this
//! file holds what both follow (the mark characters and the macros a block
//! sits inside).

mod inline;
mod read;
mod write;

pub use read::{emoticons, parse};
pub use write::render;

use super::doc::Marks;

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

/// Whether the mark character at `i` opens a mark: after a non-alphanumeric, before a non-space.
pub(super) fn opener_at(chars: &[char], i: usize) -> bool {
    let prev_ok = i == 0 || !chars[i - 1].is_alphanumeric();
    let next_ok = chars.get(i + 1).is_some_and(|c| !c.is_whitespace());
    prev_ok && next_ok
}

/// Whether the mark character at `i` closes a mark: after a non-space, before a non-alphanumeric.
pub(super) fn closer_at(chars: &[char], i: usize) -> bool {
    let prev_ok = i > 0 && !chars[i - 1].is_whitespace();
    let next_ok = chars.get(i + 1).is_none_or(|c| !c.is_alphanumeric());
    prev_ok && next_ok
}

#[cfg(test)]
mod tests {
    use super::super::doc::{Block, Doc, Inline, PanelKind};
    use super::super::{NoUserMapping, Warnings};
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
