//! Why a sync event did not finish, with its cause kept, and whether the queue retries it or waits for an admin.

use crate::peer::PeerError;
use crate::peer::link::FetchError;
use crate::rules::CallError;
use crate::store::StoreError;

use super::super::side::SideError;

/// Why an event did not finish, and what the queue does about it.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Try again later (a twin's parent not synced yet, a copy not readable yet).
    #[error("{0}")]
    Transient(String),
    /// An admin must look (bad data, a side missing from the config): the issue waits for `retry`.
    #[error("{0}")]
    Permanent(String),
    /// A call to this side's Jira failed: retried if Jira's fault was transient (5xx/429 after
    /// the client's own retries, a network fault), else the issue waits for `retry`.
    #[error(transparent)]
    Side(#[from] SideError),
    /// The peer node could not be reached: try again later.
    #[error(transparent)]
    Peer(PeerError),
    /// The side has no loaded rule: the issue waits for `retry` after a fix.
    #[error(transparent)]
    NoRule(CallError),
    /// The rule call's task ended without an answer: try again later.
    #[error("rule call aborted: {0}")]
    Aborted(#[source] tokio::task::JoinError),
    /// A stored or received JSON document is unreadable, or a value cannot be written as one.
    #[error("{what}: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    /// The rule failed (`fail`, a trap, a limit): the issue waits for `retry` after a fix.
    #[error("connection {connection}, side {side}: {source}")]
    Rule {
        connection: String,
        side: String,
        version: String,
        #[source]
        source: Box<CallError>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl EventError {
    /// Whether the queue should try the event again later rather than wait for an admin.
    pub fn is_transient(&self) -> bool {
        match self {
            EventError::Transient(_) | EventError::Peer(_) | EventError::Aborted(_) => true,
            EventError::Side(e) => e.is_transient(),
            EventError::Permanent(_)
            | EventError::NoRule(_)
            | EventError::Json { .. }
            | EventError::Rule { .. }
            | EventError::Store(_) => false,
        }
    }

    /// A JSON error with what was being read or written.
    pub fn json(what: impl Into<String>) -> impl FnOnce(serde_json::Error) -> EventError {
        let what = what.into();
        move |source| EventError::Json { what, source }
    }
}

impl From<PeerError> for EventError {
    fn from(e: PeerError) -> Self {
        match e {
            PeerError::Store(s) => EventError::Store(s),
            other => EventError::Peer(other),
        }
    }
}

impl From<FetchError> for EventError {
    fn from(e: FetchError) -> Self {
        match e {
            FetchError::Transient(m) => EventError::Transient(m),
            FetchError::Refused(m) => EventError::Permanent(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;
    use crate::jira::{CallSite, JiraError, wire};

    #[test]
    fn a_jira_failure_keeps_its_message_and_its_causes() {
        let shape =
            wire::decode::<wire::Created>("created issue", &serde_json::json!({})).unwrap_err();
        let jira = JiraError::Shape {
            site: CallSite {
                instance: "acme".into(),
                method: "POST".into(),
                path: "/rest/api/3/issue".into(),
            },
            status: 201,
            source: Box::new(shape),
        };
        let shown = jira.to_string();
        let e = EventError::from(SideError::from(jira));
        // The message the queue records is the one Jira's error gives, as before.
        assert_eq!(e.to_string(), shown);
        assert!(!e.is_transient());
        let chain = crate::text::error_chain(&e);
        assert!(chain.contains("missing field `id`"), "{chain}");
        assert!(e.source().is_some());
    }

    #[test]
    fn a_json_failure_names_what_and_keeps_serde_s_error() {
        let e = serde_json::from_str::<u8>("x")
            .map_err(EventError::json("cannot encode the replica"))
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot encode the replica: expected value")
        );
        assert!(e.source().is_some());
        assert!(!e.is_transient());
        assert!(EventError::Transient("later".into()).is_transient());
    }
}
