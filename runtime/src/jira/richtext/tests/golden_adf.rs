//! Golden samples of ADF: Atlassian's documented examples, tables, nested lists, unknown
//! nodes and mentions without a mapping.

use super::*;

#[test]
fn adf_doc_examples_from_atlassian_documentation() {
    // The node examples on developer.atlassian.com's ADF structure pages.
    let samples = [
        (
            json!([{"type": "paragraph", "content": [{"type": "text", "text": "Hello world"}]}]),
            "Hello world",
        ),
        (
            json!([{"type": "heading", "attrs": {"level": 1}, "content": [{"type": "text", "text": "Heading 1"}]}]),
            "h1. Heading 1",
        ),
        (
            json!([{"type": "codeBlock", "attrs": {"language": "javascript"},
                    "content": [{"type": "text", "text": "var foo = {};\nvar bar = [];"}]}]),
            "{code:javascript}\nvar foo = {};\nvar bar = [];\n{code}",
        ),
        (
            json!([{"type": "blockquote", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Hello world"}]}]}]),
            "{quote}\nHello world\n{quote}",
        ),
        (
            json!([{"type": "panel", "attrs": {"panelType": "info"},
                    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Hello world"}]}]}]),
            "{panel:bgColor=#deebff}\nHello world\n{panel}",
        ),
        (json!([{"type": "rule"}]), "----"),
        (
            json!([{"type": "bulletList", "content": [
                {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Hello world"}]}]}
            ]}]),
            "* Hello world",
        ),
        (
            json!([{"type": "orderedList", "attrs": {"order": 3}, "content": [
                {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Hello world"}]}]}
            ]}]),
            "# Hello world",
        ),
        (
            json!([{"type": "paragraph", "content": [
                {"type": "text", "text": "Hello"}, {"type": "hardBreak"}, {"type": "text", "text": "world"}]}]),
            "Hello\nworld",
        ),
        (
            json!([{"type": "paragraph", "content": [
                {"type": "mention", "attrs": {"id": "ABCDE-ABCDE-ABCDE-ABCDE", "text": "@Bradley Ayers", "userType": "APP"}}]}]),
            "[~bradley]",
        ),
        (
            json!([{"type": "paragraph", "content": [
                {"type": "emoji", "attrs": {"shortName": ":slight_smile:", "id": "1f642", "text": "🙂"}}]}]),
            ":)",
        ),
        (
            json!([{"type": "paragraph", "content": [
                {"type": "text", "text": "Hello world", "marks": [{"type": "link", "attrs": {"href": "http://atlassian.com", "title": "Atlassian"}}]}]}]),
            "[Hello world|http://atlassian.com]",
        ),
        (
            json!([{"type": "paragraph", "content": [
                {"type": "text", "text": "Hello"}, {"type": "text", "text": " world", "marks": [{"type": "strong"}]}]}]),
            "Hello *world*",
        ),
        (
            json!([{"type": "paragraph", "content": [
                {"type": "text", "text": "Hello "},
                {"type": "text", "text": "world", "marks": [{"type": "em"}]},
                {"type": "text", "text": " and ", "marks": []},
                {"type": "text", "text": "struck", "marks": [{"type": "strike"}]},
                {"type": "text", "text": " "},
                {"type": "text", "text": "under", "marks": [{"type": "underline"}]},
                {"type": "text", "text": " "},
                {"type": "text", "text": "x = 1", "marks": [{"type": "code"}]}]}]),
            "Hello _world_ and -struck- +under+ {{x = 1}}",
        ),
    ];
    for (content, expected_wiki) in samples {
        let doc = adf_doc(content);
        let wiki_text = assert_adf_round_trip(&doc);
        assert_eq!(wiki_text, expected_wiki);
    }
}

#[test]
fn adf_table_example() {
    // developer.atlassian.com, node "table".
    let doc = adf_doc(json!([{
        "type": "table",
        "attrs": {"isNumberColumnEnabled": false, "layout": "center", "width": 900, "displayMode": "default"},
        "content": [
            {"type": "tableRow", "content": [
                {"type": "tableHeader", "attrs": {}, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Name"}]}]},
                {"type": "tableHeader", "attrs": {}, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Role"}]}]}
            ]},
            {"type": "tableRow", "content": [
                {"type": "tableCell", "attrs": {}, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Mia"}]}]},
                {"type": "tableCell", "attrs": {"colspan": 1}, "content": [{"type": "paragraph", "content": []}]}
            ]}
        ]
    }]));
    let wiki_text = assert_adf_round_trip(&doc);
    assert_eq!(wiki_text, "|| Name || Role ||\n| Mia |  |");
}

#[test]
fn nested_lists_both_ways() {
    let wiki_text = "* one\n** one.a\n**# one.a.i\n* two\n*# two.1";
    let adf_v = wiki_to_adf(wiki_text, &NoUserMapping).value;
    let items = &adf_v["content"][0]["content"];
    assert_eq!(adf_v["content"][0]["type"], "bulletList");
    assert_eq!(items[0]["content"][1]["type"], "bulletList");
    assert_eq!(
        items[0]["content"][1]["content"][0]["content"][1]["type"],
        "orderedList"
    );
    assert_eq!(items[1]["content"][1]["type"], "orderedList");
    assert_eq!(adf_to_wiki(&adf_v, &NoUserMapping).value, wiki_text);
}

#[test]
fn unknown_adf_nodes_degrade_to_text_with_a_warning() {
    let doc = adf_doc(json!([
        {"type": "expand", "attrs": {"title": "More"}, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "hidden detail"}]}]},
        {"type": "paragraph", "content": [
            {"type": "status", "attrs": {"text": "IN PROGRESS", "color": "blue"}},
            {"type": "text", "text": " coloured", "marks": [{"type": "textColor", "attrs": {"color": "#ff0000"}}]},
            {"type": "placeholderThing", "attrs": {"text": "weird"}}]},
        {"type": "mediaSingle", "content": [{"type": "media", "attrs": {"id": "x", "type": "file", "collection": ""}}]},
        {"type": "decisionList", "content": [{"type": "decisionItem", "content": [{"type": "text", "text": "we decided"}]}]}
    ]));
    let out = adf_to_wiki(&doc, &NoUserMapping);
    for text in [
        "More",
        "hidden detail",
        "IN PROGRESS",
        "coloured",
        "weird",
        "we decided",
    ] {
        assert!(
            out.value.contains(text),
            "{text} missing from {}",
            out.value
        );
    }
    let joined = out.warnings.join("\n");
    for w in [
        "expand",
        "status",
        "textColor",
        "placeholderThing",
        "mediaSingle",
        "decisionList",
    ] {
        assert!(joined.contains(w), "no warning for {w}: {joined}");
    }
}

#[test]
fn mentions_without_a_mapping() {
    let doc = adf_doc(json!([{"type": "paragraph", "content": [
        {"type": "mention", "attrs": {"id": "712020:abc", "text": "@Zoe"}}]}]));
    let w = adf_to_wiki(&doc, &NoUserMapping);
    assert_eq!(w.value, "[~accountid:712020:abc]");
    // The accountid form comes back as the same mention even with no mapping.
    let back = wiki_to_adf(&w.value, &NoUserMapping).value;
    assert_eq!(
        back["content"][0]["content"][0]["attrs"]["id"],
        "712020:abc"
    );
    // A username with no account degrades to text and says so.
    let dc = wiki_to_adf("ping [~nobody]", &NoUserMapping);
    assert_eq!(adf_to_plain(&dc.value).value, "ping @nobody");
    assert_eq!(dc.value["content"][0]["content"][1]["type"], "text");
    assert!(dc.warnings[0].contains("nobody"));
}
