//! Which failures are worth another attempt, and how long to wait before it.
//!
//! 429 and 5xx answers, timeouts and broken connections are transient; every
//! other 4xx is final. Waits grow exponentially with full jitter up to a bound,
//! and a `Retry-After` from Jira wins over the computed wait.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;

use super::error::TransportKind;

/// How persistent the client is with transient faults.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The wait before the second attempt (before jitter).
    pub base_delay: Duration,
    /// No computed wait is longer than this.
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is not waited out here; the error goes up for the queue to retry.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

/// What went wrong with one attempt, as far as retrying cares.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    Transport(TransportKind),
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1`, or `None` when the failure is final.
    ///
    /// A POST that may have reached Jira (a 500 or a timeout) is not repeated: it
    /// could create a second issue or comment. 429 and gateway errors (502-504)
    /// mean the request was not handled, and a refused connection never arrived.
    pub fn next_wait(&self, method: &Method, outcome: Outcome, attempt: u32) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let repeatable = method != Method::POST;
        let retry_after = match outcome {
            Outcome::Status {
                status: 429,
                retry_after,
            } => retry_after,
            Outcome::Status {
                status: 502..=504,
                retry_after,
            } => retry_after,
            Outcome::Status {
                status,
                retry_after,
            } if status >= 500 && repeatable => retry_after,
            Outcome::Transport(TransportKind::Connect) => None,
            Outcome::Transport(_) if repeatable => None,
            _ => return None,
        };
        match retry_after {
            Some(d) if d > self.max_retry_after => None,
            Some(d) => Some(d),
            None => Some(self.backoff(attempt)),
        }
    }

    /// Exponential backoff with full jitter: a random wait in [d/2, d], d = base * 2^(attempt-1).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let d = exp.min(self.max_delay);
        let half = d / 2;
        let spread = d.saturating_sub(half).as_nanos() as u64;
        let r = if spread == 0 { 0 } else { jitter() % spread };
        half + Duration::from_nanos(r)
    }
}

/// A pseudo-random number from the clock and a counter (splitmix64): enough to spread retries.
pub fn jitter() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut z = t.wrapping_add(
        COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `Retry-After`: delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let now = chrono::Utc::now();
    Some(
        (when.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16) -> Outcome {
        Outcome::Status {
            status,
            retry_after: None,
        }
    }

    #[test]
    fn what_is_retried() {
        let p = RetryPolicy::default();
        assert!(p.next_wait(&Method::GET, status(429), 1).is_some());
        assert!(p.next_wait(&Method::GET, status(503), 1).is_some());
        assert!(p.next_wait(&Method::PUT, status(500), 1).is_some());
        assert!(p.next_wait(&Method::POST, status(503), 1).is_some());
        assert!(p.next_wait(&Method::POST, status(500), 1).is_none());
        assert!(
            p.next_wait(&Method::POST, Outcome::Transport(TransportKind::Timeout), 1)
                .is_none()
        );
        assert!(
            p.next_wait(&Method::POST, Outcome::Transport(TransportKind::Connect), 1)
                .is_some()
        );
        for s in [400, 401, 403, 404, 409, 422] {
            assert!(p.next_wait(&Method::GET, status(s), 1).is_none(), "{s}");
        }
        assert!(
            p.next_wait(&Method::GET, status(503), p.max_attempts)
                .is_none()
        );
    }

    #[test]
    fn retry_after_wins_and_is_bounded() {
        let p = RetryPolicy::default();
        let o = Outcome::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(
            p.next_wait(&Method::GET, o, 1),
            Some(Duration::from_secs(2))
        );
        let o = Outcome::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(3600)),
        };
        assert_eq!(p.next_wait(&Method::GET, o, 1), None);
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("junk"), None);
        assert!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT").is_some());
    }

    #[test]
    fn backoff_grows_with_jitter_within_bounds() {
        let p = RetryPolicy::default();
        for attempt in 1..12 {
            let d = p.backoff(attempt);
            let cap = (p.base_delay * (1 << (attempt - 1).min(16))).min(p.max_delay);
            assert!(d >= cap / 2 && d <= cap, "attempt {attempt}: {d:?}");
        }
        let spread: std::collections::HashSet<_> = (0..20).map(|_| p.backoff(4)).collect();
        assert!(spread.len() > 1, "no jitter");
    }
}
