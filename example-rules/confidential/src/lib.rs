//! Stock rule `confidential`: sends every field except internal comments and
//! attachments, leaves out the fields config names and masks the terms config
//! names; what arrives lands like the `basic` rule.
//!
//! Config keys (all optional except `project` on first sync):
//! - `redact.fields`: comma list of fields to leave out: standard field names
//!   (`assignee`, `reporter`, `description`, `labels`, `due-date`, ...) or
//!   custom field ids or names (`customfield_10010`, `Team`), any case.
//! - `redact.words`: comma list of terms replaced, ignoring case, by the marker
//!   in the summary, the description, the comments and the worklogs' comments.
//! - `redact.marker`: the replacement text, default `[redacted]`.
//! - `redact.security-levels`: comma list of security level names, any case,
//!   or `*` for any level: issues at such a level never leave (outgoing skips).
//! - `project`, `issue-type`: as for `basic`, on the incoming side.

use twinsync_sdk::prelude::*;
use twinsync_sdk::types::RichText;

/// The marker used when `redact.marker` is not set.
pub const DEFAULT_MARKER: &str = "[redacted]";

/// The fields applied on the incoming side: those of the `basic` rule.
const INCOMING_FIELDS: [Field; 8] = [
    Field::Summary,
    Field::Description,
    Field::IssueType,
    Field::Priority,
    Field::Labels,
    Field::Status,
    Field::Comments,
    Field::Attachments,
];

/// The `confidential` rule.
pub struct Confidential;

impl Rule for Confidential {
    fn outgoing(issue: Issue, _ctx: SyncContext) -> Result<Replica, RuleError> {
        if let Some(level) = &issue.security_level {
            let held = config_list("redact.security-levels");
            if held
                .iter()
                .any(|l| l == "*" || l.eq_ignore_ascii_case(level))
            {
                return Err(skip(format!(
                    "security level `{level}` is listed in redact.security-levels"
                )));
            }
        }
        let mut replica = replica_from(&issue).without(&[Field::Attachments]);
        replica.comments.retain(|c| !c.internal);

        let names = config_list("redact.fields");
        let (fields, custom): (Vec<&String>, Vec<&String>) =
            names.iter().partition(|n| Field::parse(n).is_some());
        replica = replica
            .without(
                &fields
                    .iter()
                    .filter_map(|n| Field::parse(n))
                    .collect::<Vec<_>>(),
            )
            .without_custom_fields(&custom.iter().map(|s| s.as_str()).collect::<Vec<_>>());

        let redactor = Redactor::from_config();
        if let Some(summary) = replica.summary.as_mut() {
            redactor.apply(summary);
        }
        if let Some(description) = replica.description.as_mut() {
            redactor.apply_rich(description);
        }
        for comment in &mut replica.comments {
            redactor.apply_rich(&mut comment.body);
        }
        for comment in replica
            .worklogs
            .iter_mut()
            .filter_map(|w| w.comment.as_mut())
        {
            redactor.apply_rich(comment);
        }
        Ok(replica)
    }

    fn incoming(
        replica: Replica,
        _local: Option<Issue>,
        ctx: SyncContext,
    ) -> Result<Changes, RuleError> {
        let mut changes = changes_from(&replica).only(&INCOMING_FIELDS);
        changes.project = local_project(&ctx)?;
        if ctx.first_sync && changes.issue_type.is_none() {
            changes.issue_type = Some(config("issue-type").ok_or_else(|| {
                fail("the replica has no issue type and config key `issue-type` is not set")
            })?);
        }
        Ok(changes)
    }
}

twinsync_sdk::export_rule!(Confidential);

/// Replaces configured terms, ignoring case, by a marker.
pub struct Redactor {
    /// Longest first, so a term that contains another is masked whole.
    terms: Vec<Vec<char>>,
    marker: String,
}

impl Redactor {
    /// The terms of `redact.words` and the marker of `redact.marker`.
    pub fn from_config() -> Redactor {
        Redactor::new(
            &config_list("redact.words"),
            &config_or("redact.marker", DEFAULT_MARKER),
        )
    }

    /// A redactor for `terms` (empty ones are ignored) and `marker`.
    pub fn new(terms: &[String], marker: &str) -> Redactor {
        let mut terms: Vec<Vec<char>> = terms
            .iter()
            .filter(|t| !t.is_empty())
            .map(|t| t.chars().collect())
            .collect();
        terms.sort_by_key(|t| std::cmp::Reverse(t.len()));
        Redactor {
            terms,
            marker: marker.to_owned(),
        }
    }

    /// `text` with every term masked, or `None` when no term occurs in it.
    pub fn redact(&self, text: &str) -> Option<String> {
        if self.terms.is_empty() {
            return None;
        }
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut out = String::with_capacity(text.len());
        let mut changed = false;
        let mut i = 0;
        while i < chars.len() {
            if let Some(len) = self.terms.iter().find_map(|t| matches_at(&chars[i..], t)) {
                out.push_str(&self.marker);
                changed = true;
                i += len;
            } else {
                out.push(chars[i].1);
                i += 1;
            }
        }
        changed.then_some(out)
    }

    /// Masks the terms in `text` in place.
    pub fn apply(&self, text: &mut String) {
        if let Some(redacted) = self.redact(text) {
            *text = redacted;
        }
    }

    /// Masks the terms in rich text. Plain text and wiki markup are masked in
    /// place; ADF is dropped when it contains a term, since masking inside its
    /// JSON could break the document (the host then renders the plain text).
    pub fn apply_rich(&self, rich: &mut RichText) {
        self.apply(&mut rich.text);
        if let Some(wiki) = rich.wiki.as_mut() {
            self.apply(wiki);
        }
        if rich
            .adf
            .as_deref()
            .is_some_and(|adf| self.redact(adf).is_some())
        {
            rich.adf = None;
        }
    }
}

/// How many chars of `hay` match `term` at its start, ignoring case.
fn matches_at(hay: &[(usize, char)], term: &[char]) -> Option<usize> {
    if hay.len() < term.len() {
        return None;
    }
    let same = hay
        .iter()
        .zip(term)
        .all(|(&(_, h), &t)| h == t || h.to_lowercase().eq(t.to_lowercase()));
    same.then_some(term.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use twinsync_sdk::testing::{context, incoming_context, sample_issue, with_config};

    fn redactor(terms: &[&str]) -> Redactor {
        let terms: Vec<String> = terms.iter().map(|t| t.to_string()).collect();
        Redactor::new(&terms, "###")
    }

    #[test]
    fn redact_masks_terms_ignoring_case_longest_first() {
        let r = redactor(&["acme", "ACME Corp", ""]);
        assert_eq!(
            r.redact("Paid by acme corp, not Acme."),
            Some("Paid by ###, not ###.".to_string())
        );
        assert_eq!(r.redact("nothing here"), None);
        assert_eq!(
            redactor(&["straße"]).redact("STRASSE Straße"),
            Some("STRASSE ###".into())
        );
        assert_eq!(redactor(&["é"]).redact("café É"), Some("caf### ###".into()));
    }

    #[test]
    fn outgoing_drops_internal_comments_and_attachments_by_default() {
        let issue = sample_issue();
        let r = with_config(&[], || {
            Confidential::outgoing(issue.clone(), context(false))
        })
        .expect("outgoing");
        assert!(r.attachments.is_empty());
        assert_eq!(
            r.comments.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ["10001"]
        );
        assert_eq!(r.summary.as_deref(), Some(issue.summary.as_str()));
        assert_eq!(r.custom_fields, issue.custom_fields);
        assert_eq!(r.assignee, issue.assignee);
    }

    #[test]
    fn outgoing_skips_issues_at_a_listed_security_level() {
        let mut issue = sample_issue();
        issue.security_level = Some("Confidential".into());
        let levels = [("redact.security-levels", "internal, CONFIDENTIAL")];
        let r = with_config(&levels, || {
            Confidential::outgoing(issue.clone(), context(false))
        });
        assert!(
            matches!(&r, Err(RuleError::Skip(why)) if why.contains("Confidential")),
            "{r:?}"
        );
        let r = with_config(&[("redact.security-levels", "*")], || {
            Confidential::outgoing(issue.clone(), context(false))
        });
        assert!(matches!(r, Err(RuleError::Skip(_))), "{r:?}");
        issue.security_level = Some("Partners".into());
        let r = with_config(&levels, || Confidential::outgoing(issue, context(false)));
        assert!(r.is_ok(), "an unlisted level leaves: {r:?}");
    }

    #[test]
    fn outgoing_leaves_out_configured_fields_and_masks_words() {
        let mut issue = sample_issue();
        issue.comments[0].body.text = "ACME asked again.".into();
        if let Some(d) = issue.description.as_mut() {
            d.adf = Some(r#"{"type":"doc","content":[{"type":"text","text":"ACME"}]}"#.into());
            d.wiki = Some("*ACME Corp* is down".into());
        }
        let r = with_config(
            &[
                (
                    "redact.fields",
                    "Assignee, due date, TEAM, customfield_10020",
                ),
                ("redact.words", "acme corp, acme"),
            ],
            || Confidential::outgoing(issue, context(false)),
        )
        .expect("outgoing");
        assert_eq!(r.assignee, None);
        assert_eq!(r.due_date, None);
        assert!(r.reporter.is_some(), "only the named fields are left out");
        assert_eq!(
            r.custom_fields
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            ["Customer"]
        );
        assert_eq!(r.summary.as_deref(), Some("Checkout fails for [redacted]"));
        let d = r.description.expect("description");
        assert_eq!(
            d.text,
            "Paying with a saved card returns HTTP 500 for [redacted]."
        );
        assert_eq!(d.wiki.as_deref(), Some("*[redacted]* is down"));
        assert_eq!(d.adf, None, "ADF with a term in it is dropped, not patched");
        assert_eq!(r.comments[0].body.text, "[redacted] asked again.");
    }

    #[test]
    fn the_marker_comes_from_config() {
        let r = with_config(
            &[("redact.words", "ACME"), ("redact.marker", "***")],
            || Confidential::outgoing(sample_issue(), context(false)),
        )
        .expect("outgoing");
        assert_eq!(r.summary.as_deref(), Some("Checkout fails for *** Corp"));
    }

    #[test]
    fn incoming_lands_like_basic() {
        let replica = with_config(&[], || {
            Confidential::outgoing(sample_issue(), context(true))
        })
        .expect("outgoing");
        let c = with_config(&[("project", "DEST")], || {
            Confidential::incoming(replica, None, incoming_context(true))
        })
        .expect("incoming");
        assert_eq!(c.project.as_deref(), Some("DEST"));
        assert_eq!(c.comments.map(|c| c.len()), Some(1));
        assert_eq!(c.attachments, Some(Vec::new()));
        assert_eq!(c.assignee, None);
        let err = with_config(&[], || {
            Confidential::incoming(
                replica_from(&sample_issue()).only(&[]),
                None,
                incoming_context(true),
            )
        })
        .expect_err("no project");
        assert!(matches!(err, RuleError::Fail(_)));
    }
}
