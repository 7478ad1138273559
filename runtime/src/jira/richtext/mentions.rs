//! User mentions in rich text that crosses to another site: list the users a text mentions
//! (as its own site names them), then write it in this site's format with each mention
//! remapped to the local user, or, for a user with no twin here, as plain text that pings
//! nobody.

use serde_json::Value;

use super::doc::{Block, Doc, Inline};
use super::{NoUserMapping, Warnings, adf, wiki};
use crate::jira::flavour::BodyFormat;
use crate::model::RichText;

/// A user a text mentions, as the text's own site names them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mentioned {
    /// The Cloud account id (ADF, or wiki's `[~accountid:...]`).
    pub account_id: Option<String>,
    /// The DC username (wiki's `[~name]`).
    pub username: Option<String>,
    /// The text shown for it, e.g. `@Alice Smith` (empty when the markup gives none).
    pub text: String,
}

/// Who a mention becomes on this site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Here {
    /// A mention of this Cloud account.
    Account {
        /// The local account id.
        id: String,
        /// The text shown, e.g. `@Alice Smith`.
        text: String,
    },
    /// A mention of this DC user.
    Username(String),
    /// Plain text: a user with no twin here is named, never pinged.
    Plain(String),
}

/// The text's document, from its ADF or its wiki markup (`None` when it has neither).
fn doc_of(rt: &RichText, warn: &mut Warnings) -> Option<Doc> {
    if let Some(a) = rt
        .adf
        .as_deref()
        .and_then(|a| serde_json::from_str::<Value>(a).ok())
    {
        return Some(adf::parse(&a, warn));
    }
    rt.wiki.as_deref().map(|w| wiki::parse(w, warn))
}

/// Applies `f` to every run of inline content of the document.
fn each_inline(blocks: &mut [Block], f: &mut dyn FnMut(&mut Vec<Inline>)) {
    for b in blocks {
        match b {
            Block::Paragraph(c) | Block::Heading { content: c, .. } => f(c),
            Block::List { items, .. } => {
                for item in items {
                    f(&mut item.content);
                    each_inline(&mut item.sublists, f);
                }
            }
            Block::Quote(inner) | Block::Panel { content: inner, .. } => each_inline(inner, f),
            Block::Table(rows) => {
                for cell in rows.iter_mut().flatten() {
                    f(&mut cell.content);
                }
            }
            Block::CodeBlock { .. } | Block::Rule => {}
        }
    }
}

/// The users `rt` mentions, each once.
pub fn mentions(rt: &RichText) -> Vec<Mentioned> {
    let mut warn = Warnings::new();
    let Some(mut doc) = doc_of(rt, &mut warn) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    each_inline(&mut doc.blocks, &mut |run| {
        for i in run.iter() {
            if let Inline::Mention {
                account_id,
                username,
                text,
            } = i
            {
                out.push(Mentioned {
                    account_id: account_id.clone(),
                    username: username.clone(),
                    text: text.clone(),
                });
            }
        }
    });
    out.sort();
    out.dedup();
    out
}

/// `rt` in `format` with each mention as `here` says; `None` when it mentions nobody (it is
/// written as it is).
pub fn remap(
    rt: &RichText,
    format: BodyFormat,
    here: &dyn Fn(&Mentioned) -> Here,
) -> Option<RichText> {
    let mut warn = Warnings::new();
    let mut doc = doc_of(rt, &mut warn)?;
    let mut any = false;
    each_inline(&mut doc.blocks, &mut |run| {
        for i in run.iter_mut() {
            let Inline::Mention {
                account_id,
                username,
                text,
            } = i
            else {
                continue;
            };
            any = true;
            let who = Mentioned {
                account_id: account_id.clone(),
                username: username.clone(),
                text: text.clone(),
            };
            *i = match here(&who) {
                Here::Account { id, text } => Inline::Mention {
                    account_id: Some(id),
                    username: None,
                    text,
                },
                Here::Username(name) => Inline::Mention {
                    account_id: None,
                    username: Some(name),
                    text: String::new(),
                },
                Here::Plain(shown) => Inline::text(shown),
            };
        }
    });
    if !any {
        return None;
    }
    let (adf, wiki) = match format {
        BodyFormat::Adf => (
            Some(adf::render(&doc, &NoUserMapping, &mut warn).to_string()),
            None,
        ),
        BodyFormat::Wiki => (None, Some(wiki::render(&doc, &NoUserMapping, &mut warn))),
    };
    Some(RichText {
        text: doc.to_plain(),
        adf,
        wiki,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn adf_text(content: Value) -> RichText {
        let doc = json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": content}]});
        RichText {
            text: String::new(),
            adf: Some(doc.to_string()),
            wiki: None,
        }
    }

    #[test]
    fn cloud_mentions_become_dc_users_or_plain_names() {
        let rt = adf_text(json!([
            {"type": "text", "text": "Ask "},
            {"type": "mention", "attrs": {"id": "acc-carol", "text": "@Carol"}},
            {"type": "text", "text": " and "},
            {"type": "mention", "attrs": {"id": "acc-dave", "text": "@Dave Only"}},
        ]));
        let found = mentions(&rt);
        assert_eq!(found.len(), 2);
        let out = remap(&rt, BodyFormat::Wiki, &|m| match m.account_id.as_deref() {
            Some("acc-carol") => Here::Username("carol".into()),
            _ => Here::Plain(m.text.clone()),
        })
        .expect("mentions");
        assert_eq!(out.wiki.as_deref(), Some("Ask [~carol] and @Dave Only"));
        assert_eq!(out.adf, None);
    }

    #[test]
    fn dc_mentions_become_cloud_accounts_or_plain_names() {
        let rt = RichText {
            text: String::new(),
            adf: None,
            wiki: Some("* ping [~carol]\n* and [~erin]".into()),
        };
        let out = remap(&rt, BodyFormat::Adf, &|m| match m.username.as_deref() {
            Some("carol") => Here::Account {
                id: "acc-carol".into(),
                text: "@Carol".into(),
            },
            _ => Here::Plain("@Erin Dc".into()),
        })
        .expect("mentions");
        let adf = out.adf.expect("adf");
        assert!(adf.contains(r#""id":"acc-carol""#), "{adf}");
        assert!(adf.contains("@Erin Dc") && !adf.contains("erin\""), "{adf}");
        assert_eq!(
            remap(
                &RichText {
                    text: "x".into(),
                    adf: None,
                    wiki: Some("no one".into())
                },
                BodyFormat::Adf,
                &|_| Here::Plain(String::new())
            ),
            None
        );
    }
}
