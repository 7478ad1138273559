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
    fn relative_dates() {
        let now = Utc::now();
        assert_eq!(parse_date("-5m", now), Some(now - Duration::minutes(5)));
        assert_eq!(parse_date("-1w 2d", now), Some(now - Duration::days(9)));
        assert!(parse_date("2026-01-01 10:00", now).is_some());
        assert!(parse_date("yesterday", now).is_none());
    }
}
