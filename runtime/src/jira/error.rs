//! Errors of the Jira client; each names the instance, method, path, status and Jira's own messages.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Which call failed: instance, HTTP method and path (query left out: it may carry search text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSite {
    /// The instance's name.
    pub instance: String,
    /// The HTTP method, e.g. `GET`.
    pub method: String,
    /// The request path without the query, e.g. `/rest/api/3/issue/SUP-12`.
    pub path: String,
}

impl fmt::Display for CallSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} {}", self.instance, self.method, self.path)
    }
}

/// Jira's error body: `{"errorMessages": [...], "errors": {"field": "message"}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JiraMessages {
    /// `errorMessages`: messages about the request as a whole.
    pub messages: Vec<String>,
    /// `errors`: a message for each field Jira refused, by field id.
    pub fields: BTreeMap<String, String>,
}

impl JiraMessages {
    /// Reads Jira's error collection from a body; anything else is kept as one message.
    pub fn parse(body: &str) -> JiraMessages {
        let mut out = JiraMessages::default();
        match serde_json::from_str::<serde_json::Value>(body) {
            Ok(v) => {
                if let Some(list) = v.get("errorMessages").and_then(|m| m.as_array()) {
                    out.messages = list
                        .iter()
                        .filter_map(|m| m.as_str().map(str::to_string))
                        .collect();
                }
                if let Some(map) = v.get("errors").and_then(|m| m.as_object()) {
                    for (k, val) in map {
                        let text = val
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| val.to_string());
                        out.fields.insert(k.clone(), text);
                    }
                }
                if out.messages.is_empty()
                    && out.fields.is_empty()
                    && let Some(m) = v.get("message").and_then(|m| m.as_str())
                {
                    out.messages.push(m.to_string());
                }
            }
            Err(_) => {
                let t = body.trim();
                if !t.is_empty() {
                    out.messages.push(t.chars().take(300).collect());
                }
            }
        }
        out
    }
}

impl fmt::Display for JiraMessages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = self.messages.clone();
        parts.extend(self.fields.iter().map(|(k, v)| format!("{k}: {v}")));
        if parts.is_empty() {
            f.write_str("(no message)")
        } else {
            f.write_str(&parts.join("; "))
        }
    }
}

/// How a request failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// No answer in time.
    Timeout,
    /// No connection could be made.
    Connect,
    /// The connection broke while the request or answer was under way.
    Other,
}

/// A failed call to Jira.
#[derive(Debug, thiserror::Error)]
pub enum JiraError {
    /// Jira answered with an error status.
    #[error("{site} -> {status}: {messages}")]
    Api {
        /// The call that failed.
        site: CallSite,
        /// The HTTP status.
        status: u16,
        /// Jira's own error messages.
        messages: Box<JiraMessages>,
        /// The wait Jira asked for (`Retry-After`), if any.
        retry_after: Option<Duration>,
    },
    /// No usable answer: timeout, refused or reset connection.
    #[error("{site}: {kind:?}: {source}")]
    Transport {
        /// The call that failed.
        site: CallSite,
        /// How it failed.
        kind: TransportKind,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// An answer whose shape was not Jira's.
    #[error("{site} -> {status}: unexpected answer: {reason}")]
    Decode {
        /// The call whose answer was unreadable.
        site: CallSite,
        /// The HTTP status of the answer.
        status: u16,
        /// What was wrong with it.
        reason: String,
    },
    /// An answer in JSON but not in Jira's documented shape: a field Jira always sends is missing or of the wrong type.
    #[error("{site} -> {status}: unexpected answer: {source}")]
    Shape {
        /// The call whose answer had the wrong shape.
        site: CallSite,
        /// The HTTP status of the answer.
        status: u16,
        /// Where and how the answer departed from the shape.
        #[source]
        source: Box<super::wire::ShapeError>,
    },
    /// Transient faults went on past the retry bound.
    #[error("{site}: gave up after {attempts} attempts; last: {last}")]
    Exhausted {
        /// The call that was retried.
        site: CallSite,
        /// How many attempts were made.
        attempts: u32,
        /// The last attempt's error.
        last: Box<JiraError>,
    },
    /// The client configuration cannot work.
    #[error("{instance}: invalid client configuration: {reason}")]
    Config {
        /// The instance's name.
        instance: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A file to upload could not be read.
    #[error("{site}: cannot read the upload: {source}")]
    Io {
        /// The upload call.
        site: CallSite,
        /// The file system's error.
        #[source]
        source: std::io::Error,
    },
}

impl JiraError {
    /// The HTTP status Jira answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            JiraError::Api { status, .. }
            | JiraError::Decode { status, .. }
            | JiraError::Shape { status, .. } => Some(*status),
            JiraError::Exhausted { last, .. } => last.status(),
            _ => None,
        }
    }

    /// Whether Jira answered 404: the issue, comment or attachment does not exist (or is not visible).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Worth trying again later (the sync queue's retry uses this).
    pub fn is_transient(&self) -> bool {
        match self {
            JiraError::Api { status, .. } => *status == 429 || *status >= 500,
            JiraError::Transport { .. } | JiraError::Exhausted { .. } => true,
            _ => false,
        }
    }

    /// Jira's own messages, when it sent some.
    pub fn messages(&self) -> Option<&JiraMessages> {
        match self {
            JiraError::Api { messages, .. } => Some(messages),
            JiraError::Exhausted { last, .. } => last.messages(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_site_status_and_messages() {
        let e = JiraError::Api {
            site: CallSite {
                instance: "acme".into(),
                method: "POST".into(),
                path: "/rest/api/3/issue".into(),
            },
            status: 400,
            messages: Box::new(JiraMessages::parse(
                r#"{"errorMessages":["Field 'priority' is required"],"errors":{"summary":"You must specify a summary of the issue."}}"#,
            )),
            retry_after: None,
        };
        assert_eq!(
            e.to_string(),
            "acme: POST /rest/api/3/issue -> 400: Field 'priority' is required; summary: You must specify a summary of the issue."
        );
        assert!(!e.is_transient());
    }

    #[test]
    fn non_json_bodies_are_kept_short() {
        let m = JiraMessages::parse(&"<html>oops</html>".repeat(100));
        assert_eq!(m.messages[0].chars().count(), 300);
    }

    #[test]
    fn a_shape_error_names_the_call_the_resource_and_the_field() {
        let source = crate::jira::wire::decode::<crate::jira::wire::Created>(
            "created issue",
            &serde_json::json!({"id": "10001"}),
        )
        .unwrap_err();
        let e = JiraError::Shape {
            site: CallSite {
                instance: "acme".into(),
                method: "POST".into(),
                path: "/rest/api/3/issue".into(),
            },
            status: 201,
            source: Box::new(source),
        };
        assert_eq!(
            e.to_string(),
            "acme: POST /rest/api/3/issue -> 201: unexpected answer: created issue: missing field `key`"
        );
        assert!(std::error::Error::source(&e).is_some());
        assert!(!e.is_transient());
    }
}
