//! Visual mode's mapping: the document the admin page edits (field entries, each with its
//! direction, value pairs with theirs and an unmapped-value policy; constants), checked
//! against what the stock `mapping` rule understands, and compiled into each side's config
//! keys (`direction.*`, `map.*`, `unmapped.*`, `copy.N`, `const.N`).
//!
//! A document names its two sides `a` (the connection's first side, this node's own in a
//! remote connection) and `b`. Each side's rule only maps what lands on it, so a pair
//! that crosses one way only compiles to an entry on the receiving side and an empty
//! entry (that value does not land) on the other.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Which way an entry or a value pair crosses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Way {
    /// Both ways.
    #[default]
    Both,
    /// From side a to side b only.
    AToB,
    /// From side b to side a only.
    BToA,
    /// Neither way (kept in the list, switched off).
    None,
}

/// One of a document's two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Half {
    /// The connection's first side.
    A,
    /// The other side.
    B,
}

impl Way {
    /// Whether values land on `half`.
    pub fn lands_on(self, half: Half) -> bool {
        matches!(
            (self, half),
            (Way::Both, _) | (Way::AToB, Half::B) | (Way::BToA, Half::A)
        )
    }

    /// Whether values leave `half`.
    pub fn leaves(self, half: Half) -> bool {
        self.lands_on(match half {
            Half::A => Half::B,
            Half::B => Half::A,
        })
    }
}

/// A value pair of an option field: `a`'s value on side a, `b`'s on side b.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValuePair {
    /// The value on side a.
    pub a: String,
    /// The value on side b.
    pub b: String,
    /// Which way this pair crosses.
    #[serde(default)]
    pub direction: Way,
}

/// One entry of the mapping list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Entry {
    /// A field of side a and a field of side b (the same or another one).
    Field {
        /// The field on side a: a standard name or a custom field id.
        a: String,
        /// The field on side b.
        b: String,
        /// Which way it crosses.
        #[serde(default)]
        direction: Way,
        /// Value pairs, for option fields and fields copied into another field.
        #[serde(default)]
        values: Vec<ValuePair>,
        /// What a value with no pair does when it lands on side a: `keep`, `ignore`,
        /// `error` or `default:<value>`.
        #[serde(default = "keep")]
        unmapped_a: String,
        /// The same, on side b.
        #[serde(default = "keep")]
        unmapped_b: String,
    },
    /// A field of one side set to a constant whenever a replica lands there.
    Constant {
        /// The side whose field it sets.
        side: Half,
        /// The field.
        field: String,
        /// The value (a list field takes a comma-separated list).
        value: String,
    },
}

fn keep() -> String {
    "keep".into()
}

/// The editor's document: the mapping list, in the admin's order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// The entries.
    #[serde(default)]
    pub entries: Vec<Entry>,
}

/// A standard field the `mapping` rule knows, by its canonical name.
const STANDARD: &[&str] = &[
    "summary",
    "description",
    "status",
    "priority",
    "issue-type",
    "labels",
    "components",
    "assignee",
    "reporter",
    "due-date",
    "comments",
    "attachments",
];

/// Standard fields that take value pairs when mapped onto themselves, and the `map.*` and
/// `unmapped.*` key each uses (assignee and reporter share the user table).
fn value_key(field: &str) -> Option<&'static str> {
    match field {
        "status" => Some("status"),
        "priority" => Some("priority"),
        "issue-type" => Some("issue-type"),
        "assignee" | "reporter" => Some("user"),
        _ => None,
    }
}

/// Fields the rule can set from text (a copy's target, a constant).
fn settable(field: &str) -> bool {
    is_custom(field)
        || matches!(
            field,
            "summary"
                | "status"
                | "priority"
                | "issue-type"
                | "labels"
                | "components"
                | "assignee"
                | "reporter"
                | "due-date"
        )
}

fn is_custom(field: &str) -> bool {
    field
        .strip_prefix("customfield_")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// A field name as the rule writes it (`Issue Type`, `issuetype` → `issue-type`), or `None`
/// for a name that is neither a standard field nor a custom field id.
pub fn canonical(name: &str) -> Option<String> {
    let name = name.trim();
    if is_custom(name) {
        return Some(name.to_owned());
    }
    let folded: String = name
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    let found = match folded.as_str() {
        "issuetype" | "type" => "issue-type",
        "duedate" => "due-date",
        other => STANDARD.iter().find(|s| s.replace('-', "") == other)?,
    };
    Some(found.to_owned())
}

/// A policy as the rule's `unmapped.*` key takes it: `ignore` → `skip-field`, `error` →
/// `fail`; the rule's own words are accepted too.
fn rule_policy(policy: &str) -> Option<String> {
    let p = policy.trim();
    if let Some(v) = p.strip_prefix("default:") {
        return (!v.trim().is_empty()).then(|| format!("default:{}", v.trim()));
    }
    match p {
        "" | "keep" => Some("keep".into()),
        "ignore" | "skip-field" => Some("skip-field".into()),
        "error" | "fail" => Some("fail".into()),
        _ => None,
    }
}

/// Whether `key` is one the editor owns on a side (the rest of the side's config stays).
fn owned(key: &str) -> bool {
    ["direction.", "map.", "unmapped.", "copy.", "const."]
        .iter()
        .any(|p| key.starts_with(p))
        || key == "order"
}

/// What is wrong with a document, entry by entry (empty: the rule can run it).
pub fn problems(doc: &Document) -> Vec<String> {
    let mut out = Vec::new();
    let mut landing: BTreeMap<(Half, String), usize> = BTreeMap::new();
    let mut user_policy: BTreeMap<Half, (usize, String)> = BTreeMap::new();
    for (i, entry) in doc.entries.iter().enumerate() {
        let n = i + 1;
        match entry {
            Entry::Field {
                a,
                b,
                direction,
                values,
                unmapped_a,
                unmapped_b,
            } => {
                let (Some(fa), Some(fb)) = (canonical(a), canonical(b)) else {
                    out.push(format!(
                        "entry {n}: {a:?} or {b:?} is not a field (a standard field's name or a custom field id like customfield_10050)"
                    ));
                    continue;
                };
                for (half, here, there, policy) in [
                    (Half::A, &fa, &fb, unmapped_a),
                    (Half::B, &fb, &fa, unmapped_b),
                ] {
                    if rule_policy(policy).is_none() {
                        out.push(format!(
                            "entry {n}: unmapped policy {policy:?} must be keep, ignore, error or default:<value>"
                        ));
                    }
                    if !direction.lands_on(half) {
                        continue;
                    }
                    let same = here == there && !is_custom(here);
                    if !same && !settable(here) {
                        out.push(format!(
                            "entry {n}: {there} cannot be copied into {here}; a copy lands in a custom field or in summary, status, priority, issue type, labels, components, assignee, reporter or due date"
                        ));
                    }
                    if same && !values.is_empty() && value_key(here).is_none() {
                        out.push(format!(
                            "entry {n}: {here} takes no value pairs; they are for status, priority, issue type, assignee and reporter, or a field copied into another"
                        ));
                    }
                    if let Some(first) = landing.insert((half, here.clone()), n) {
                        out.push(format!(
                            "entry {n}: {here} already receives entry {first}'s values on that side"
                        ));
                    }
                    if same && value_key(here) == Some("user") {
                        let p = rule_policy(policy).unwrap_or_default();
                        if let Some((first, was)) = user_policy.insert(half, (n, p.clone()))
                            && was != p
                        {
                            out.push(format!(
                                "entry {n}: assignee and reporter share one user table; its unmapped policy differs from entry {first}'s"
                            ));
                        }
                    }
                }
                let mut seen: BTreeMap<(Half, &str), &str> = BTreeMap::new();
                for pair in values {
                    if pair.a.trim().is_empty() || pair.b.trim().is_empty() {
                        out.push(format!("entry {n}: a value pair has an empty side"));
                        continue;
                    }
                    for (half, from, to) in [
                        (Half::B, pair.a.as_str(), pair.b.as_str()),
                        (Half::A, pair.b.as_str(), pair.a.as_str()),
                    ] {
                        if pair.direction.lands_on(half)
                            && let Some(was) = seen.insert((half, from), to)
                            && was != to
                        {
                            out.push(format!(
                                "entry {n}: {from:?} maps to both {was:?} and {to:?} on side {}",
                                if half == Half::A { "a" } else { "b" }
                            ));
                        }
                    }
                }
            }
            Entry::Constant { side, field, value } => {
                match canonical(field) {
                    Some(f) if settable(&f) => {
                        if let Some(first) = landing.insert((*side, f.clone()), n) {
                            out.push(format!(
                                "entry {n}: {f} already receives entry {first}'s values on that side"
                            ));
                        }
                    }
                    _ => out.push(format!(
                        "entry {n}: a constant cannot be set in {field:?}; it goes in a custom field or in summary, status, priority, issue type, labels, components, assignee, reporter or due date"
                    )),
                }
                if value.trim().is_empty() {
                    out.push(format!("entry {n}: the constant for {field} is empty"));
                }
            }
        }
    }
    out.dedup();
    out
}

/// Side `half`'s config: `base` (the side's config) with the editor's keys replaced by what
/// `doc` compiles to. Call on a document without [`problems`].
pub fn compile(
    doc: &Document,
    half: Half,
    base: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = base
        .iter()
        .filter(|(k, _)| !owned(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // Only what the list names syncs, as in Exalate's Visual mode.
    out.insert("direction.default".into(), "none".into());
    let mut dirs: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    let (mut copies, mut constants, mut order) = (Vec::new(), Vec::new(), Vec::new());
    let rule_field = |f: &str| {
        if is_custom(f) {
            "custom-fields".to_owned()
        } else {
            f.to_owned()
        }
    };
    for entry in &doc.entries {
        match entry {
            Entry::Field {
                a,
                b,
                direction,
                values,
                unmapped_a,
                unmapped_b,
            } => {
                let (Some(fa), Some(fb)) = (canonical(a), canonical(b)) else {
                    continue;
                };
                let (here, there, policy) = match half {
                    Half::A => (fa, fb, unmapped_a),
                    Half::B => (fb, fa, unmapped_b),
                };
                order.push(if here == there {
                    here.clone()
                } else {
                    format!("{there}->{here}")
                });
                if direction.leaves(half) {
                    dirs.entry(rule_field(&here)).or_default().0 = true;
                }
                if !direction.lands_on(half) {
                    continue;
                }
                let key = if here == there && !is_custom(&here) {
                    dirs.entry(here.clone()).or_default().1 = true;
                    value_key(&here).map(str::to_owned)
                } else {
                    copies.push(format!("{there} -> {here}"));
                    Some(here.clone())
                };
                let Some(key) = key else { continue };
                // (this side's value, the other side's value as the rule looks it up: a user
                // arrives by email, account id or user name, without the `accountid:` or
                // `name:` a local user is written with)
                let users = key == "user";
                let split = |p: &ValuePair| {
                    let (here_v, there_v) = match half {
                        Half::A => (p.a.trim(), p.b.trim()),
                        Half::B => (p.b.trim(), p.a.trim()),
                    };
                    let there_v = if users {
                        there_v
                            .strip_prefix("accountid:")
                            .or_else(|| there_v.strip_prefix("name:"))
                            .unwrap_or(there_v)
                    } else {
                        there_v
                    };
                    (here_v.to_owned(), there_v.trim().to_owned())
                };
                for pair in values.iter().filter(|p| p.direction.lands_on(half)) {
                    let (here_v, there_v) = split(pair);
                    out.insert(format!("map.{key}.{there_v}"), here_v);
                }
                // A pair that crosses the other way only: its value does not land here.
                for pair in values.iter().filter(|p| !p.direction.lands_on(half)) {
                    let (_, there_v) = split(pair);
                    out.entry(format!("map.{key}.{there_v}")).or_default();
                }
                if let Some(p) = rule_policy(policy).filter(|p| p != "keep") {
                    out.insert(format!("unmapped.{key}"), p);
                }
            }
            Entry::Constant { side, field, value } => {
                if *side == half
                    && let Some(f) = canonical(field)
                {
                    order.push(format!("={f}"));
                    constants.push(format!("{f} = {}", value.trim()));
                }
            }
        }
    }
    for (field, (send, receive)) in dirs {
        let way = match (send, receive) {
            (true, true) => "both",
            (true, false) => "out",
            (false, true) => "in",
            (false, false) => continue,
        };
        out.insert(format!("direction.{field}"), way.into());
    }
    for (i, c) in copies.into_iter().enumerate() {
        out.insert(format!("copy.{}", i + 1), c);
    }
    for (i, c) in constants.into_iter().enumerate() {
        out.insert(format!("const.{}", i + 1), c);
    }
    if !order.is_empty() {
        out.insert("order".into(), order.join(","));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: serde_json::Value) -> Document {
        serde_json::from_value(json).expect("document")
    }

    #[test]
    fn pairs_compile_to_each_side_and_a_one_way_pair_leaves_the_other_alone() {
        let d = doc(serde_json::json!({"entries": [
            {"kind": "field", "a": "Priority", "b": "priority", "direction": "both",
             "values": [{"a": "High", "b": "Major", "direction": "both"},
                        {"a": "Highest", "b": "Blocker", "direction": "a-to-b"}],
             "unmapped_b": "error"},
            {"kind": "field", "a": "status", "b": "status", "direction": "a-to-b",
             "values": [{"a": "Done", "b": "Closed"}], "unmapped_b": "default:Open"},
        ]}));
        assert!(problems(&d).is_empty(), "{:?}", problems(&d));
        let base = BTreeMap::from([
            ("project".to_string(), "DEV".to_string()),
            ("map.status.Old".to_string(), "Gone".to_string()),
        ]);
        let b = compile(&d, Half::B, &base);
        assert_eq!(b["project"], "DEV", "keys the editor does not own stay");
        assert!(!b.contains_key("map.status.Old"), "old editor keys go");
        assert_eq!(b["direction.default"], "none");
        assert_eq!(b["direction.priority"], "both");
        assert_eq!(b["direction.status"], "in");
        assert_eq!(b["map.priority.High"], "Major");
        assert_eq!(b["map.priority.Highest"], "Blocker");
        assert_eq!(b["unmapped.priority"], "fail");
        assert_eq!(b["map.status.Done"], "Closed");
        assert_eq!(b["unmapped.status"], "default:Open");
        let a = compile(&d, Half::A, &BTreeMap::new());
        assert_eq!(a["direction.status"], "out");
        assert_eq!(a["map.priority.Major"], "High");
        assert_eq!(
            a["map.priority.Blocker"], "",
            "one-way: Blocker does not land on a"
        );
        assert!(!a.contains_key("unmapped.priority"));
        assert!(!a.contains_key("map.status.Closed"));
    }

    #[test]
    fn a_field_into_another_field_and_constants_compile_to_numbered_keys() {
        let d = doc(serde_json::json!({"entries": [
            {"kind": "field", "a": "priority", "b": "customfield_10050", "direction": "a-to-b"},
            {"kind": "constant", "side": "b", "field": "labels", "value": "from-cloud"},
            {"kind": "field", "a": "summary", "b": "summary"},
        ]}));
        assert!(problems(&d).is_empty(), "{:?}", problems(&d));
        let a = compile(&d, Half::A, &BTreeMap::new());
        assert_eq!(a["direction.priority"], "out");
        assert_eq!(a["direction.summary"], "both");
        assert!(!a.contains_key("copy.1") && !a.contains_key("const.1"));
        let b = compile(&d, Half::B, &BTreeMap::new());
        assert_eq!(b["copy.1"], "priority -> customfield_10050");
        assert_eq!(b["const.1"], "labels = from-cloud");
        assert!(!b.contains_key("direction.priority"));
        assert_eq!(b["order"], "priority->customfield_10050,=labels,summary");
    }

    #[test]
    fn problems_name_the_entry_and_what_is_wrong() {
        let d = doc(serde_json::json!({"entries": [
            {"kind": "field", "a": "flavour", "b": "summary"},
            {"kind": "field", "a": "summary", "b": "summary", "values": [{"a": "x", "b": "y"}]},
            {"kind": "field", "a": "summary", "b": "comments", "direction": "a-to-b"},
            {"kind": "field", "a": "priority", "b": "priority", "unmapped_a": "shrug"},
            {"kind": "field", "a": "priority", "b": "priority"},
            {"kind": "constant", "side": "a", "field": "comments", "value": "x"},
            {"kind": "field", "a": "status", "b": "status",
             "values": [{"a": "Done", "b": "Closed"}, {"a": "Done", "b": "Resolved"}]},
        ]}));
        let p = problems(&d).join("\n");
        for needle in [
            "entry 1: \"flavour\"",
            "entry 2: summary takes no value pairs",
            "entry 3: summary cannot be copied into comments",
            "entry 4: unmapped policy \"shrug\"",
            "entry 5: priority already receives entry 4's",
            "entry 6: a constant cannot be set in \"comments\"",
            "entry 7: \"Done\" maps to both",
        ] {
            assert!(p.contains(needle), "{needle} not in:\n{p}");
        }
    }

    #[test]
    fn a_user_pair_is_looked_up_by_the_other_sides_id_and_set_by_this_sides_reference() {
        let d = doc(serde_json::json!({"entries": [
            {"kind": "field", "a": "assignee", "b": "assignee",
             "values": [{"a": "accountid:5b10", "b": "name:jsmith"}]},
        ]}));
        assert!(problems(&d).is_empty(), "{:?}", problems(&d));
        let b = compile(&d, Half::B, &BTreeMap::new());
        assert_eq!(b["map.user.5b10"], "name:jsmith");
        let a = compile(&d, Half::A, &BTreeMap::new());
        assert_eq!(a["map.user.jsmith"], "accountid:5b10");
    }

    #[test]
    fn names_are_canonical() {
        assert_eq!(canonical("Issue Type").as_deref(), Some("issue-type"));
        assert_eq!(canonical("duedate").as_deref(), Some("due-date"));
        assert_eq!(
            canonical("customfield_10050").as_deref(),
            Some("customfield_10050")
        );
        assert_eq!(canonical("customfield_x"), None);
        assert_eq!(canonical("Team"), None);
    }
}
