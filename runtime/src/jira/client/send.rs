//! Sends one request through the budget, retrying 429s, 5xx answers and broken connections as the retry policy says.

use std::sync::atomic::Ordering;

use reqwest::{Method, Response, StatusCode};

use super::super::budget::Kind;
use super::super::error::{JiraError, JiraMessages};
use super::super::retry::{Outcome, parse_retry_after};
use super::JiraClient;
use super::transport::{Req, transport_error};

impl JiraClient {
    /// Sends a request through the budget, retrying transient faults; error statuses become [`JiraError::Api`].
    pub(super) async fn send(&self, req: Req) -> Result<Response, JiraError> {
        let url = self.url(&req.path);
        let site = self.site(&req.method, &url);
        let kind = if req.method == Method::GET || req.method == Method::HEAD {
            Kind::Read
        } else {
            Kind::Write
        };
        let policy = &self.inner.cfg.retry;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let permit = self.inner.budget.acquire(kind, req.issue.as_deref()).await;
            self.inner
                .stats
                .budget_wait_us
                .fetch_add(permit.waited.as_micros() as u64, Ordering::Relaxed);
            let rb = self.build(&req, &url, &site).await?;
            self.inner.stats.requests.fetch_add(1, Ordering::Relaxed);
            let result = rb.send().await;
            drop(permit);
            let (outcome, err) = match result {
                Ok(resp) => {
                    let h = resp.headers();
                    if h.get("X-RateLimit-NearLimit")
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
                    {
                        tracing::debug!(instance = %site.instance, "Jira is near its rate limit; slowing down");
                        self.inner.budget.near_limit();
                    }
                    let status = resp.status();
                    if status.is_success() || status.is_redirection() {
                        return Ok(resp);
                    }
                    let retry_after = h
                        .get("Retry-After")
                        .and_then(|v| v.to_str().ok())
                        .and_then(parse_retry_after);
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        self.inner.stats.throttled.fetch_add(1, Ordering::Relaxed);
                    }
                    let body = resp.text().await.unwrap_or_default();
                    let err = JiraError::Api {
                        site: site.clone(),
                        status: status.as_u16(),
                        messages: Box::new(JiraMessages::parse(&body)),
                        retry_after,
                    };
                    (
                        Outcome::Status {
                            status: status.as_u16(),
                            retry_after,
                        },
                        err,
                    )
                }
                Err(e) => {
                    let err = transport_error(site.clone(), e);
                    let JiraError::Transport { kind, .. } = &err else {
                        return Err(err);
                    };
                    (Outcome::Transport(*kind), err)
                }
            };
            match policy.next_wait(&req.method, outcome, attempt) {
                Some(wait) => {
                    tracing::warn!(instance = %site.instance, method = %site.method, path = %site.path,
                        attempt, wait_ms = wait.as_millis() as u64, error = %err, "transient Jira fault; retrying");
                    self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
                    if let Outcome::Status { status: 429, .. } = outcome {
                        // The limit is the site's, not this call's: hold every caller.
                        self.inner.budget.pause_for(wait);
                    } else {
                        tokio::time::sleep(wait).await;
                    }
                }
                None => {
                    let transient = err.is_transient();
                    if transient && attempt > 1 {
                        return Err(JiraError::Exhausted {
                            site,
                            attempts: attempt,
                            last: Box::new(err),
                        });
                    }
                    return Err(err);
                }
            }
        }
    }
}
