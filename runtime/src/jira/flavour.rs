//! Every difference between Jira Cloud and Data Center, in one place.
//!
//! Cloud speaks REST v3 with ADF bodies, identifies people by account id,
//! authenticates with email + API token and pages searches with `nextPageToken`.
//! Data Center speaks REST v2 with wiki markup bodies, identifies people by
//! username, authenticates with a personal access token and pages with `startAt`.

use std::fmt;

use serde_json::{Value, json};

/// Which kind of Jira an instance is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavour {
    /// Jira Cloud: REST v3, ADF bodies, account ids.
    Cloud,
    /// Jira Data Center (or Server): REST v2, wiki markup bodies, usernames.
    DataCenter,
}

/// How rich text travels in request and response bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// An ADF JSON document.
    Adf,
    /// A wiki markup string.
    Wiki,
}

/// How a JQL search pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pagination {
    /// `GET /rest/api/3/search/jql`: opaque `nextPageToken`, absent on the last page.
    Token,
    /// `GET /rest/api/2/search`: `startAt` / `maxResults` / `total`.
    Offset,
}

/// Which identity names a person in requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKey {
    /// A Cloud account id (`accountId`).
    AccountId,
    /// A DC username (`name`).
    Username,
}

impl Flavour {
    pub(crate) fn api_prefix(self) -> &'static str {
        match self {
            Flavour::Cloud => "/rest/api/3",
            Flavour::DataCenter => "/rest/api/2",
        }
    }

    pub(crate) fn body_format(self) -> BodyFormat {
        match self {
            Flavour::Cloud => BodyFormat::Adf,
            Flavour::DataCenter => BodyFormat::Wiki,
        }
    }

    pub(crate) fn pagination(self) -> Pagination {
        match self {
            Flavour::Cloud => Pagination::Token,
            Flavour::DataCenter => Pagination::Offset,
        }
    }

    /// The search endpoint, relative to the API prefix.
    pub(crate) fn search_path(self) -> &'static str {
        match self {
            Flavour::Cloud => "search/jql",
            Flavour::DataCenter => "search",
        }
    }

    pub(crate) fn user_key(self) -> UserKey {
        match self {
            Flavour::Cloud => UserKey::AccountId,
            Flavour::DataCenter => UserKey::Username,
        }
    }

    /// A person in a request body (`assignee`, `reporter`, user custom fields).
    pub(crate) fn user_json(self, ident: &str) -> Value {
        match self.user_key() {
            UserKey::AccountId => json!({ "accountId": ident }),
            UserKey::Username => json!({ "name": ident }),
        }
    }

    /// The query that finds users by email: Cloud's `query`, DC's `username` (which also matches email).
    pub(crate) fn user_search_param(self) -> &'static str {
        match self {
            Flavour::Cloud => "query",
            Flavour::DataCenter => "username",
        }
    }

    /// Attachment bytes by id, relative to the API prefix; DC serves them only from the `content` URL.
    pub(crate) fn attachment_content_path(self, id: &str) -> Option<String> {
        match self {
            Flavour::Cloud => Some(format!("attachment/content/{id}")),
            Flavour::DataCenter => None,
        }
    }
}

/// Credentials for one instance; `Debug` never shows the secret.
#[derive(Clone)]
pub enum Auth {
    /// HTTP Basic: Cloud's email + API token (or a DC username + password).
    Basic {
        /// The email (Cloud) or username (DC).
        user: String,
        /// The API token or password.
        token: String,
    },
    /// A bearer token: DC's personal access token.
    Bearer {
        /// The personal access token.
        token: String,
    },
}

impl Auth {
    /// Cloud credentials: the account's email and an API token.
    pub fn cloud(email: impl Into<String>, api_token: impl Into<String>) -> Auth {
        Auth::Basic {
            user: email.into(),
            token: api_token.into(),
        }
    }

    /// DC credentials: a personal access token.
    pub fn pat(token: impl Into<String>) -> Auth {
        Auth::Bearer {
            token: token.into(),
        }
    }

    pub(crate) fn apply(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Auth::Basic { user, token } => rb.basic_auth(user, Some(token)),
            Auth::Bearer { token } => rb.bearer_auth(token),
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Basic { user, .. } => write!(f, "Basic({user}, <redacted>)"),
            Auth::Bearer { .. } => f.write_str("Bearer(<redacted>)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let a = format!(
            "{:?} {:?}",
            Auth::cloud("a@b.c", "s3cret"),
            Auth::pat("pat-xyz")
        );
        assert!(!a.contains("s3cret") && !a.contains("pat-xyz"), "{a}");
        assert!(a.contains("a@b.c"));
    }

    #[test]
    fn differences_in_one_place() {
        assert_eq!(Flavour::Cloud.api_prefix(), "/rest/api/3");
        assert_eq!(Flavour::DataCenter.search_path(), "search");
        assert_eq!(Flavour::Cloud.user_json("x"), json!({"accountId": "x"}));
        assert_eq!(Flavour::DataCenter.user_json("bob"), json!({"name": "bob"}));
    }
}
