//! The typed Jira client: one per instance, every call paced by the budget and retried on transient faults.
//!
//! `transport` builds and sends requests (auth, URLs, redirects, decoding the
//! answer), `send` is the request path through the budget and the retry
//! policy, `types` holds what the calls answer, and one file per resource
//! group holds the calls: `issues`, `issue_links` (links between issues), `links` (remote links), `comments`, `worklogs`, `attachments`, `search`,
//! `metadata` (instance, fields, create/edit screens) and `users`.

mod attachments;
mod comments;
mod issue_links;
mod issues;
mod links;
mod metadata;
mod search;
mod send;
#[cfg(test)]
mod tests;
mod transport;
mod types;
mod users;
mod worklogs;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};

use super::budget::{Budget, BudgetConfig};
use super::error::JiraError;
use super::flavour::{Auth, Flavour};
use super::retry::RetryPolicy;

pub use attachments::Download;
pub use types::{
    CreatedIssue, Deployment, FieldInfo, FieldMeta, IssueTypeInfo, JiraUser, NamedValue,
    PageCursor, ProjectInfo, RemoteLink, SearchPage, ServerInfo, Transition, TypeStatuses,
    UploadSource,
};
pub use worklogs::WorklogWrite;

/// How to reach and treat one instance.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The instance's name in logs and errors.
    pub name: String,
    /// Site root, e.g. `https://acme.atlassian.net` (no `/rest/...`).
    pub base_url: String,
    /// Cloud or Data Center.
    pub flavour: Flavour,
    /// The credentials every request carries.
    pub auth: Auth,
    /// How fast requests may go.
    pub budget: BudgetConfig,
    /// How transient faults are retried.
    pub retry: RetryPolicy,
    /// Whole-request timeout (an attachment upload included).
    pub timeout: Duration,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
}

impl ClientConfig {
    /// A configuration with the default budget, retries and timeouts (60 s a request, 10 s to connect).
    pub fn new(
        name: impl Into<String>,
        base_url: impl Into<String>,
        flavour: Flavour,
        auth: Auth,
    ) -> Self {
        ClientConfig {
            name: name.into(),
            base_url: base_url.into(),
            flavour,
            auth,
            budget: BudgetConfig::default(),
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Counters for one client, for metrics and the calls-per-operation bench.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// HTTP requests sent, retries included.
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    /// 429 answers received.
    pub throttled: AtomicU64,
    /// Total time spent waiting for budget slots, in microseconds.
    pub budget_wait_us: AtomicU64,
}

/// A snapshot of the client's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Requests that were retries of an earlier attempt.
    pub retries: u64,
    /// 429 answers received.
    pub throttled: u64,
    /// Total time spent waiting for budget slots, in microseconds.
    pub budget_wait_us: u64,
}

struct Inner {
    cfg: ClientConfig,
    base: String,
    http: reqwest::Client,
    budget: Budget,
    stats: Stats,
}

/// The client for one Jira instance; cheap to clone, share it between tasks.
#[derive(Clone)]
pub struct JiraClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for JiraClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JiraClient")
            .field("name", &self.inner.cfg.name)
            .field("base", &self.inner.base)
            .field("flavour", &self.inner.cfg.flavour)
            .finish()
    }
}

impl JiraClient {
    /// A client for one instance; fails on a base URL that is not http(s).
    pub fn new(cfg: ClientConfig) -> Result<JiraClient, JiraError> {
        let bad = |reason: String| JiraError::Config {
            instance: cfg.name.clone(),
            reason,
        };
        let base = cfg.base_url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(bad(format!("base URL '{base}' is not http(s)")));
        }
        // The process may have installed a provider already; either way ring serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut headers = HeaderMap::new();
        headers.insert("Accept", HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .user_agent(concat!("twinsync/", env!("CARGO_PKG_VERSION")))
            .redirect(transport::redirect_policy())
            .build()
            .map_err(|e| bad(format!("cannot build the HTTP client: {e}")))?;
        Ok(JiraClient {
            inner: Arc::new(Inner {
                budget: Budget::new(cfg.budget.clone()),
                base,
                http,
                stats: Stats::default(),
                cfg,
            }),
        })
    }

    pub(crate) fn name(&self) -> &str {
        &self.inner.cfg.name
    }

    pub(crate) fn flavour(&self) -> Flavour {
        self.inner.cfg.flavour
    }

    /// The site root the client was configured with, e.g. `https://acme.atlassian.net`.
    pub fn base_url(&self) -> &str {
        &self.inner.cfg.base_url
    }

    /// The client's counters so far.
    pub fn stats(&self) -> StatsSnapshot {
        let s = &self.inner.stats;
        StatsSnapshot {
            requests: s.requests.load(Ordering::Relaxed),
            retries: s.retries.load(Ordering::Relaxed),
            throttled: s.throttled.load(Ordering::Relaxed),
            budget_wait_us: s.budget_wait_us.load(Ordering::Relaxed),
        }
    }
}
