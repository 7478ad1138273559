//! Errors: Jira's REST error body for HTTP answers, and the simulator's own start-up errors.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered the way Jira answers: `{"errorMessages":[...],"errors":{...}}`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status}: {messages:?} {errors:?}")]
pub struct ApiError {
    /// The HTTP status answered.
    pub status: StatusCode,
    /// `errorMessages`: messages about the request as a whole.
    pub messages: Vec<String>,
    /// `errors`: messages by field id.
    pub errors: BTreeMap<String, String>,
}

impl ApiError {
    /// An error with one message and this status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            messages: vec![message.into()],
            errors: BTreeMap::new(),
        }
    }

    /// A 400 with one message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// A 400 naming one field, as Jira reports validation failures.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = BTreeMap::new();
        errors.insert(field.into(), message.into());
        ApiError {
            status: StatusCode::BAD_REQUEST,
            messages: Vec::new(),
            errors,
        }
    }

    /// A 404 with one message.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// Jira's 404 for an issue that does not exist or cannot be seen.
    pub fn issue_not_found() -> Self {
        Self::not_found("Issue does not exist or you do not have permission to see it.")
    }

    /// Jira's 401 for a request without valid credentials.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "You are not authenticated. Authentication required to perform this operation.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"errorMessages": self.messages, "errors": self.errors});
        (self.status, axum::Json(body)).into_response()
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listening socket could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// The seed file could not be read.
    #[error("cannot read seed file {path}: {source}")]
    SeedRead {
        /// The seed file's path.
        path: String,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The seed does not parse or names something it does not define.
    #[error("invalid seed: {0}")]
    Seed(String),
    /// A fault spec does not parse.
    #[error("invalid fault spec: {0}")]
    Faults(String),
    /// The webhook client could not be built.
    #[error("http client: {0}")]
    Client(String),
    /// `--bind` is not an IP address.
    #[error("--bind: '{0}' is not an IP address")]
    BindAddress(String),
    /// Waiting for Ctrl-C failed.
    #[error("cannot wait for Ctrl-C: {source}")]
    Signal {
        /// Why the signal could not be awaited.
        source: std::io::Error,
    },
}
