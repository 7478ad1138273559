//! JQL: a small parser, validation against the instance's data, and evaluation over issues.
//!
//! What it does not understand it rejects with Jira's 400 message; it never guesses.

mod compile;
mod eval;
mod fields;
mod lexer;
mod parser;

use crate::error::ApiError;

use compile::Pred;
use fields::Field;

pub use compile::compile;

/// A JQL error; becomes Jira's 400 `errorMessages` entry.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct JqlError(pub String);

impl From<JqlError> for ApiError {
    fn from(e: JqlError) -> Self {
        ApiError::bad_request(e.0)
    }
}

/// A validated query, ready to run over issues.
#[derive(Debug, Clone)]
pub struct Query {
    pred: Pred,
    order: Vec<(Field, bool)>,
}

impl Query {
    /// True when the query restricts nothing (empty, or only `ORDER BY`); Cloud's `search/jql`
    /// refuses such queries.
    pub fn is_unbounded(&self) -> bool {
        matches!(self.pred, Pred::All)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};

    use super::compile::parse_date;
    use super::*;
    use crate::model::Issue;
    use crate::state::State;

    fn st() -> State {
        State::new(
            super::super::model::Flavour::Cloud,
            "http://x".into(),
            super::super::seed::Seed::default_seed(),
        )
        .expect("default seed loads")
    }

    fn keys(state: &State, q: &str) -> Vec<String> {
        let q = compile(q, state, Some(0)).expect("valid query");
        let mut v: Vec<&Issue> = state
            .issues
            .values()
            .filter(|i| q.matches(i, state))
            .collect();
        q.sort(&mut v, state);
        v.iter().map(|i| i.key.clone()).collect()
    }

    #[test]
    fn parses_and_filters() {
        let s = st();
        let all = keys(&s, "");
        assert!(!all.is_empty());
        let p = keys(&s, "project = SUP ORDER BY key ASC");
        assert!(p.iter().all(|k| k.starts_with("SUP-")));
        assert!(!p.is_empty());
        let not_p = keys(&s, "project != SUP");
        assert_eq!(p.len() + not_p.len(), all.len());
        let both = keys(&s, "project in (SUP, DEV) AND NOT (status = Done)");
        assert!(both.len() <= all.len());
        assert!(keys(&s, "created >= -5m").len() == all.len());
        assert!(keys(&s, "created < -1d").is_empty());
        assert!(keys(&s, "updated > \"2020-01-01 10:00\"").len() == all.len());
    }

    #[test]
    fn rejects_unknown_things() {
        let s = st();
        let e = compile("foo = bar", &s, None).unwrap_err();
        assert!(e.0.contains("Field 'foo' does not exist"), "{e}");
        let e = compile("project ~ SUP", &s, None).unwrap_err();
        assert!(e.0.contains("operator '~' is not supported"), "{e}");
        let e = compile("project = NOPE", &s, None).unwrap_err();
        assert!(e.0.contains("The value 'NOPE' does not exist"), "{e}");
        let e = compile("project SUP", &s, None).unwrap_err();
        assert!(e.0.contains("Expecting operator"), "{e}");
        let e = compile("created > startOfMonth()", &s, None).unwrap_err();
        assert!(e.0.contains("Unable to find JQL function"), "{e}");
        let e = compile("project = SUP ORDER BY text", &s, None).unwrap_err();
        assert!(e.0.contains("does not support sorting"), "{e}");
    }

    #[test]
    fn issue_properties_are_searchable() {
        let mut s = st();
        let ids: Vec<u64> = s.issues.keys().copied().take(3).collect();
        let set = |s: &mut State, id: u64, v: serde_json::Value| {
            if let Some(i) = s.issues.get_mut(&id) {
                i.properties.insert("twinsync.sync".into(), v);
            }
        };
        set(
            &mut s,
            ids[0],
            serde_json::json!({"status": "error", "n": 3}),
        );
        set(
            &mut s,
            ids[1],
            serde_json::json!({"status": "synced", "n": 4}),
        );
        let key = |id: u64| s.issues[&id].key.clone();
        let (k0, k1) = (key(ids[0]), key(ids[1]));
        assert_eq!(
            keys(&s, "issue.property[twinsync.sync].status = error"),
            vec![k0.clone()]
        );
        assert_eq!(
            keys(&s, "issue.property[twinsync.sync].status = \"ERROR\""),
            vec![k0.clone()]
        );
        assert_eq!(
            keys(&s, "issue.property[twinsync.sync].status != error"),
            vec![k1.clone()]
        );
        let mut both = keys(
            &s,
            "issue.property[twinsync.sync].status in (error, synced)",
        );
        both.sort();
        let mut want = vec![k0.clone(), k1.clone()];
        want.sort();
        assert_eq!(both, want);
        assert_eq!(
            keys(&s, "issue.property[twinsync.sync].status not in (error)"),
            vec![k1.clone()]
        );
        assert_eq!(
            keys(&s, "issue.property[twinsync.sync].n = 4"),
            vec![k1.clone()]
        );
        let empty = keys(&s, "issue.property[twinsync.sync].status is EMPTY");
        assert_eq!(empty.len(), s.issues.len() - 2);
        assert_eq!(
            keys(&s, "issue.property[twinsync.sync].status is not empty").len(),
            2
        );
        assert!(keys(&s, "issue.property[other].status = error").is_empty());
        let e = compile("issue.property[twinsync.sync].status ~ err", &s, None).unwrap_err();
        assert!(e.0.contains("operator '~' is not supported"), "{e}");
        let e = compile("issue.property[].status = x", &s, None).unwrap_err();
        assert!(e.0.contains("does not exist"), "{e}");
        assert!(compile("", &s, None).expect("valid").is_unbounded());
        assert!(
            compile("order by key", &s, None)
                .expect("valid")
                .is_unbounded()
        );
        assert!(
            !compile("project = SUP", &s, None)
                .expect("valid")
                .is_unbounded()
        );
    }

    #[test]
    fn versions_are_searchable_by_id_and_name() {
        let mut s = st();
        let id = s
            .add_version(&serde_json::json!({"name": "2.0", "project": "SUP"}))
            .expect("version");
        let first = *s.issues.keys().next().expect("an issue");
        if let Some(i) = s.issues.get_mut(&first) {
            i.fix_versions.push(id.clone());
        }
        let key = s.issues[&first].key.clone();
        assert_eq!(keys(&s, "fixVersion = \"2.0\""), vec![key.clone()]);
        assert_eq!(
            keys(&s, &format!("fixVersion in ({id})")),
            vec![key.clone()]
        );
        assert!(keys(&s, "affectedVersion = \"2.0\"").is_empty());
        assert_eq!(keys(&s, "fixVersion is EMPTY").len(), s.issues.len() - 1);
        let e = compile("fixVersion = 9.9", &s, None).unwrap_err();
        assert!(
            e.0.contains("does not exist for the field 'fixVersion'"),
            "{e}"
        );
    }

    #[test]
    fn relative_dates() {
        let now = Utc::now();
        assert_eq!(parse_date("-5m", now), Some(now - Duration::minutes(5)));
        assert_eq!(parse_date("-1w 2d", now), Some(now - Duration::days(9)));
        assert!(parse_date("2026-01-01 10:00", now).is_some());
        assert!(parse_date("yesterday", now).is_none());
    }
}
