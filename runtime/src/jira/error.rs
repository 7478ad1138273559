//! Errors of the Jira client; each names the instance, method, path, status and Jira's own messages.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Which call failed: instance, HTTP method and path (query left out: it may carry search text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSite {
    pub instance: String,
    pub method: String,
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
    pub messages: Vec<String>,
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
    Timeout,
    Connect,
    /// The connection broke while the request or answer was under way.
    Other,
}

#[derive(Debug, thiserror::Error)]
pub enum JiraError {
    /// Jira answered with an error status.
    #[error("{site} -> {status}: {messages}")]
    Api {
        site: CallSite,
        status: u16,
        messages: Box<JiraMessages>,
        /// The wait Jira asked for (`Retry-After`), if any.
        retry_after: Option<Duration>,
    },
    /// No usable answer: timeout, refused or reset connection.
    #[error("{site}: {kind:?}: {source}")]
    Transport {
        site: CallSite,
        kind: TransportKind,
        #[source]
        source: reqwest::Error,
    },
    /// An answer whose shape was not Jira's.
    #[error("{site} -> {status}: unexpected answer: {reason}")]
    Decode {
        site: CallSite,
        status: u16,
        reason: String,
    },
    /// An answer in JSON but not in Jira's documented shape: a field Jira always sends is missing or of the wrong type.
    #[error("{site} -> {status}: unexpected answer: {source}")]
    Shape {
        site: CallSite,
        status: u16,
        #[source]
        source: Box<super::wire::ShapeError>,
    },
    /// Transient faults went on past the retry bound.
    #[error("{site}: gave up after {attempts} attempts; last: {last}")]
    Exhausted {
        site: CallSite,
        attempts: u32,
        last: Box<JiraError>,
    },
    #[error("{instance}: invalid client configuration: {reason}")]
    Config { instance: String, reason: String },
    #[error("{site}: cannot read the upload: {source}")]
    Io {
        site: CallSite,
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
