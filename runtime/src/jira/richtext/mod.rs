//! Rich text: ADF (Cloud) <-> wiki markup (Data Center) <-> plain text, through one document tree.
//!
//! No published crate converts between ADF and Jira wiki markup in either
//! direction (the ADF crates render HTML or read Markdown), so the converters
//! are written here over a small tree ([`doc::Doc`]) that holds the supported
//! subset: paragraphs, headings, strong/em/strike/underline/code marks, links,
//! nested lists, code blocks with language, quotes, panels, tables, rules, hard
//! breaks, emoji and user mentions. What falls outside it degrades to text and
//! is reported in the returned warnings (and logged); nothing is dropped silently.

pub mod adf;
pub(crate) mod doc;
pub(crate) mod emoji;
pub(crate) mod mentions;
pub mod wiki;

use serde_json::Value;

pub use doc::Doc;

/// What a conversion had to degrade, one line each, for logs and the admin.
pub type Warnings = Vec<String>;

/// Maps user identities between the two mention forms; the host supplies it.
///
/// ADF mentions carry a Cloud account id; DC wiki markup mentions a username.
/// The mapper is synchronous: resolve users first and
/// hand over a cached map.
pub trait UserMapper: Send + Sync {
    /// The username to mention in wiki markup for a Cloud account id.
    fn username_for_account_id(&self, account_id: &str) -> Option<String>;
    /// The Cloud account id for a username mentioned in wiki markup.
    fn account_id_for_username(&self, username: &str) -> Option<String>;
}

/// No mapping: ADF mentions become `[~accountid:...]`, wiki `[~name]` degrade to text in ADF.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoUserMapping;

impl UserMapper for NoUserMapping {
    fn username_for_account_id(&self, _: &str) -> Option<String> {
        None
    }
    fn account_id_for_username(&self, _: &str) -> Option<String> {
        None
    }
}

/// A user map held in memory (account id <-> username).
#[derive(Debug, Clone, Default)]
pub struct UserMap {
    pairs: Vec<(String, String)>,
}

impl UserMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `account_id` on one side is `username` on the other.
    pub fn insert(&mut self, account_id: impl Into<String>, username: impl Into<String>) {
        self.pairs.push((account_id.into(), username.into()));
    }
}

impl UserMapper for UserMap {
    fn username_for_account_id(&self, account_id: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|(a, _)| a == account_id)
            .map(|(_, u)| u.clone())
    }
    fn account_id_for_username(&self, username: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|(_, u)| u == username)
            .map(|(a, _)| a.clone())
    }
}

/// A converted value and what had to degrade on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted<T> {
    /// The converted value.
    pub value: T,
    /// What could not be carried over and was degraded.
    pub warnings: Warnings,
}

impl<T> Converted<T> {
    fn new(value: T, warnings: Warnings) -> Self {
        for w in &warnings {
            tracing::warn!(target: "twinsync::jira::richtext", "{w}");
        }
        Converted { value, warnings }
    }
}

/// ADF JSON to wiki markup.
pub fn adf_to_wiki(adf: &Value, users: &dyn UserMapper) -> Converted<String> {
    let mut w = Warnings::new();
    let doc = adf::parse(adf, &mut w);
    let out = wiki::render(&doc, users, &mut w);
    Converted::new(out, w)
}

/// Wiki markup to ADF JSON.
pub fn wiki_to_adf(text: &str, users: &dyn UserMapper) -> Converted<Value> {
    let mut w = Warnings::new();
    let doc = wiki::parse(text, &mut w);
    let out = adf::render(&doc, users, &mut w);
    Converted::new(out, w)
}

/// ADF JSON to plain text.
pub fn adf_to_plain(adf: &Value) -> Converted<String> {
    let mut w = Warnings::new();
    let doc = adf::parse(adf, &mut w);
    Converted::new(doc.to_plain(), w)
}

/// Wiki markup to plain text.
pub fn wiki_to_plain(text: &str) -> Converted<String> {
    let mut w = Warnings::new();
    let doc = wiki::parse(text, &mut w);
    Converted::new(doc.to_plain(), w)
}

/// Plain text to ADF JSON (paragraphs and line breaks).
pub(crate) fn plain_to_adf(text: &str) -> Value {
    let mut w = Warnings::new();
    adf::render(&Doc::from_plain(text), &NoUserMapping, &mut w)
}

/// Plain text to wiki markup, escaped so that nothing in it turns into markup.
pub(crate) fn plain_to_wiki(text: &str) -> String {
    let mut w = Warnings::new();
    wiki::render(&Doc::from_plain(text), &NoUserMapping, &mut w)
}

#[cfg(test)]
mod tests;
