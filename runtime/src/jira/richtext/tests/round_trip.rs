//! Property tests of round trips: a generated document survives ADF -> wiki -> ADF and
//! wiki -> ADF -> wiki unchanged, and plain text never turns into markup.

use super::*;

const ACCOUNTS: [(&str, &str); 3] = [
    ("5b10a2844c20165700ede21g", "mia"),
    ("557058:aaaa-bbbb", "bob"),
    ("ABCDE-ABCDE-ABCDE-ABCDE", "bradley"),
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9]{1,8}",
        2 => prop::sample::select(vec![
            "e-mail", "a*b", "x_y", "1+1", "50%", "(c)", "it's", "q?", "wow!", "a-", "-b",
            "*", "_", "+", "-", "{", "}", "[x]", "|", "#", "^", "~", "??", ":", ";", "(",
            ")", "h1.", "bq.", "----", "{{", "}}", "a.b,c", "ä", "日本",
        ]).prop_map(str::to_string),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(word(), 1..5).prop_map(|w| w.join(" "))
}

fn marks() -> impl Strategy<Value = Marks> {
    (
        any::<[bool; 4]>(),
        prop::bool::weighted(0.15),
        prop::option::weighted(
            0.2,
            prop::sample::select(vec!["https://example.com/a", "https://example.org/x?y=1"]),
        ),
    )
        .prop_map(|(b, code, link)| Marks {
            strong: b[0] && !code,
            em: b[1] && !code,
            strike: b[2] && !code,
            underline: b[3] && !code,
            code,
            link: link.map(str::to_string),
        })
}

fn inline() -> impl Strategy<Value = Inline> {
    prop_oneof![
        8 => (text(), marks()).prop_map(|(t, m)| Inline::marked(t, m)),
        1 => Just(Inline::HardBreak),
        1 => prop::sample::select(super::emoji::EMOTICONS.to_vec()).prop_map(|(_, s, t)| Inline::Emoji {
            short_name: s.to_string(),
            text: (!t.is_empty()).then(|| t.to_string()),
        }),
        1 => prop::sample::select(ACCOUNTS.to_vec()).prop_map(|(a, n)| Inline::Mention {
            account_id: Some(a.to_string()),
            username: None,
            text: format!("@{n}"),
        }),
    ]
}

fn inlines() -> impl Strategy<Value = Vec<Inline>> {
    prop::collection::vec(inline(), 1..6)
}

fn list(depth: u32) -> BoxedStrategy<Block> {
    let item = if depth == 0 {
        inlines()
            .prop_map(|content| ListItem {
                content,
                sublists: Vec::new(),
            })
            .boxed()
    } else {
        (inlines(), prop::collection::vec(list(depth - 1), 0..2))
            .prop_map(|(content, sublists)| ListItem { content, sublists })
            .boxed()
    };
    (any::<bool>(), prop::collection::vec(item, 1..4))
        .prop_map(|(ordered, items)| Block::List { ordered, items })
        .boxed()
}

fn simple_block() -> impl Strategy<Value = Block> {
    prop_oneof![
        4 => inlines().prop_map(Block::Paragraph),
        1 => (1u8..=6, inlines()).prop_map(|(level, content)| Block::Heading { level, content }),
        2 => list(2),
    ]
}

fn block() -> impl Strategy<Value = Block> {
    prop_oneof![
        6 => simple_block(),
        1 => (
            prop::option::of(prop::sample::select(vec!["java", "python", "rust"])),
            prop::collection::vec("[a-z*_{}()|\\[\\] ]{1,20}", 1..4),
        )
            .prop_map(|(l, lines)| Block::CodeBlock {
                language: l.map(str::to_string),
                text: lines.join("\n"),
            }),
        1 => prop::collection::vec(simple_block(), 1..3).prop_map(Block::Quote),
        1 => (prop::sample::select(PanelKind::ALL.to_vec()), prop::collection::vec(simple_block(), 1..3))
            .prop_map(|(kind, content)| Block::Panel { kind, content }),
        1 => (1usize..4, prop::collection::vec(prop::collection::vec(
                (any::<bool>(), prop::collection::vec(inline(), 0..3)), 3), 1..4))
            .prop_map(|(cols, rows)| Block::Table(rows.into_iter().map(|r| r.into_iter().take(cols)
                .map(|(header, content)| Cell { header, content }).collect()).collect())),
        1 => Just(Block::Rule),
    ]
}

fn document() -> impl Strategy<Value = Doc> {
    prop::collection::vec(block(), 1..6).prop_map(|blocks| Doc { blocks }.normalize())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn adf_to_wiki_to_adf_is_unchanged(doc in document()) {
        let u = users();
        let mut w = Warnings::new();
        let a0 = adf::render(&doc, &u, &mut w);
        let wiki_text = adf_to_wiki(&a0, &u);
        let a2 = wiki_to_adf(&wiki_text.value, &u);
        prop_assert_eq!(&a2.value, &a0, "wiki:\n{}", wiki_text.value);
        prop_assert!(w.is_empty() && wiki_text.warnings.is_empty() && a2.warnings.is_empty());
    }

    #[test]
    fn wiki_to_adf_to_wiki_is_unchanged(doc in document()) {
        let u = users();
        let mut w = Warnings::new();
        let w0 = wiki::render(&doc, &u, &mut w);
        let a = wiki_to_adf(&w0, &u);
        let w2 = adf_to_wiki(&a.value, &u);
        prop_assert_eq!(&w2.value, &w0);
        prop_assert!(w.is_empty() && a.warnings.is_empty() && w2.warnings.is_empty());
    }

    #[test]
    fn wiki_reader_keeps_the_tree(doc in document()) {
        let u = users();
        let mut w = Warnings::new();
        let w0 = wiki::render(&doc, &u, &mut w);
        let back = wiki::parse(&w0, &mut w);
        // Mentions come back by username; resolve both sides to ADF to compare.
        prop_assert_eq!(adf::render(&back, &u, &mut w), adf::render(&doc, &u, &mut w), "wiki:\n{}", w0);
    }

    #[test]
    fn plain_text_never_turns_into_markup(t in prop::collection::vec(text(), 1..4)) {
        let plain = t.join("\n");
        let w = plain_to_wiki(&plain);
        prop_assert_eq!(wiki_to_plain(&w).value, Doc::from_plain(&plain).to_plain(), "wiki: {}", w);
    }
}
