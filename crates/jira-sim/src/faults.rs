//! Faults and limits: Jira Cloud's rate limits (burst buckets, per-issue writes), 5xx bursts, latency,
//! and the webhook faults the dispatcher reads. Set at start from a spec string or live as JSON.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, Method};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::error::SimError;

/// Jira Cloud's published burst and per-issue limits; each field is requests per window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// Burst bucket size and refill per second, per endpoint, by method.
    pub get: u32,
    /// As `get`, for POST.
    pub post: u32,
    /// As `get`, for PUT.
    pub put: u32,
    /// As `get`, for DELETE.
    pub delete: u32,
    /// Writes to one issue per 2 seconds.
    pub issue_writes_2s: u32,
    /// Writes to one issue per 30 seconds.
    pub issue_writes_30s: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            get: 100,
            post: 100,
            put: 50,
            delete: 50,
            issue_writes_2s: 20,
            issue_writes_30s: 100,
        }
    }
}

/// The live fault configuration. Everything is off by default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Cloud rate limits; `None` = unlimited.
    pub rate_limit: Option<RateLimits>,
    /// The next N requests fail with `error_status`.
    pub error_next: u32,
    /// Fraction (0..1) of requests that fail with `error_status`.
    pub error_ratio: f64,
    /// The status those failures answer with (e.g. 500, 503).
    pub error_status: u16,
    /// Fraction (0..1) of requests refused with 429, as a rate limit would, whatever the load.
    pub limit_ratio: f64,
    /// The `Retry-After` of those 429s, in milliseconds (Jira says whole seconds; tests may
    /// ask for less to stay fast, and the header then carries a fraction).
    pub limit_retry_after_ms: u64,
    /// Added to every request.
    pub latency_ms: u64,
    /// The next N webhook deliveries are dropped.
    pub webhook_drop_next: u32,
    /// Fraction (0..1) of webhook deliveries dropped.
    pub webhook_drop_ratio: f64,
    /// The next N webhook deliveries are sent twice.
    pub webhook_duplicate_next: u32,
    /// Fraction (0..1) of webhook deliveries sent twice.
    pub webhook_duplicate_ratio: f64,
    /// Every delivery waits this long first.
    pub webhook_delay_ms: u64,
    /// Deliveries go out in swapped pairs.
    pub webhook_reorder: bool,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            rate_limit: None,
            error_next: 0,
            error_ratio: 0.0,
            error_status: 503,
            limit_ratio: 0.0,
            limit_retry_after_ms: 1000,
            latency_ms: 0,
            webhook_drop_next: 0,
            webhook_drop_ratio: 0.0,
            webhook_duplicate_next: 0,
            webhook_duplicate_ratio: 0.0,
            webhook_delay_ms: 0,
            webhook_reorder: false,
        }
    }
}

fn num<T: std::str::FromStr>(k: &str, v: Option<&str>) -> Result<T, SimError> {
    v.ok_or_else(|| SimError::Faults(format!("'{k}' needs a value")))?
        .parse()
        .map_err(|_| SimError::Faults(format!("'{k}' has an invalid value")))
}

fn millis(k: &str, v: Option<&str>) -> Result<u64, SimError> {
    let v = v.ok_or_else(|| SimError::Faults(format!("'{k}' needs a value")))?;
    let (n, scale) = if let Some(n) = v.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000)
    } else {
        (v, 1)
    };
    n.parse::<u64>()
        .map(|n| n * scale)
        .map_err(|_| SimError::Faults(format!("'{k}' has an invalid duration")))
}

impl FaultConfig {
    /// Parses a spec such as `rate-limit,rate-put=5,error-next=3,latency=20ms,webhook-drop-next=1`.
    pub fn parse(spec: &str) -> Result<FaultConfig, SimError> {
        let mut c = FaultConfig::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (k, v) = match item.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (item, None),
            };
            let limits =
                |c: &mut FaultConfig| c.rate_limit.get_or_insert_with(RateLimits::default).clone();
            match k {
                "rate-limit" => match v {
                    None | Some("cloud") | Some("on") => c.rate_limit = Some(RateLimits::default()),
                    Some("off") => c.rate_limit = None,
                    Some(o) => {
                        return Err(SimError::Faults(format!("rate-limit: unknown value '{o}'")));
                    }
                },
                "rate-get" | "rate-post" | "rate-put" | "rate-delete" | "issue-writes-2s"
                | "issue-writes-30s" => {
                    let mut l = limits(&mut c);
                    let n: u32 = num(k, v)?;
                    match k {
                        "rate-get" => l.get = n,
                        "rate-post" => l.post = n,
                        "rate-put" => l.put = n,
                        "rate-delete" => l.delete = n,
                        "issue-writes-2s" => l.issue_writes_2s = n,
                        _ => l.issue_writes_30s = n,
                    }
                    c.rate_limit = Some(l);
                }
                "error-next" => c.error_next = num(k, v)?,
                "error-ratio" => c.error_ratio = num(k, v)?,
                "error-status" => c.error_status = num(k, v)?,
                "limit-ratio" => c.limit_ratio = num(k, v)?,
                "limit-retry-after" => c.limit_retry_after_ms = millis(k, v)?,
                "latency" => c.latency_ms = millis(k, v)?,
                "webhook-drop-next" => c.webhook_drop_next = num(k, v)?,
                "webhook-drop-ratio" => c.webhook_drop_ratio = num(k, v)?,
                "webhook-duplicate-next" => c.webhook_duplicate_next = num(k, v)?,
                "webhook-duplicate-ratio" => c.webhook_duplicate_ratio = num(k, v)?,
                "webhook-delay" => c.webhook_delay_ms = millis(k, v)?,
                "webhook-reorder" => c.webhook_reorder = v.is_none_or(|v| v != "false"),
                other => return Err(SimError::Faults(format!("unknown fault '{other}'"))),
            }
        }
        if !(500..600).contains(&c.error_status) {
            return Err(SimError::Faults("error-status must be a 5xx code".into()));
        }
        Ok(c)
    }
}

/// What to do with one request.
pub enum Verdict {
    Pass,
    ServerError(u16),
    Limited { reason: &'static str },
}

/// The fault decision for one request, with the rate-limit headers to add.
pub struct Decision {
    pub verdict: Verdict,
    pub latency: Option<Duration>,
    limit: Option<(u32, u32, Duration)>,
    retry_after: Option<u64>,
    /// A `Retry-After` in milliseconds, when it need not be whole seconds.
    retry_after_ms: Option<u64>,
}

impl Decision {
    /// Adds `Retry-After`, `RateLimit-Reason` and `X-RateLimit-*` as Jira Cloud does.
    pub fn headers(&self, h: &mut HeaderMap) {
        if let Some((limit, remaining, reset)) = self.limit {
            let reset_at = Utc::now() + chrono::Duration::from_std(reset).unwrap_or_default();
            let set = |h: &mut HeaderMap, k: &'static str, v: String| {
                if let Ok(v) = HeaderValue::from_str(&v) {
                    h.insert(k, v);
                }
            };
            set(h, "X-RateLimit-Limit", limit.to_string());
            set(h, "X-RateLimit-Remaining", remaining.to_string());
            set(
                h,
                "X-RateLimit-Reset",
                reset_at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            );
            // Cloud flags the last fifth of a budget.
            set(
                h,
                "X-RateLimit-NearLimit",
                (remaining * 5 < limit).to_string(),
            );
        }
        if let Verdict::Limited { reason } = self.verdict {
            h.insert("RateLimit-Reason", HeaderValue::from_static(reason));
            let value = match self.retry_after_ms {
                Some(ms) if ms % 1000 != 0 => format!("{:.3}", ms as f64 / 1000.0),
                Some(ms) => (ms / 1000).to_string(),
                None => self.retry_after.unwrap_or(1).to_string(),
            };
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert("Retry-After", v);
            }
        }
    }
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

#[derive(Default)]
struct Runtime {
    buckets: HashMap<(Method, String), Bucket>,
    issue_writes: HashMap<u64, VecDeque<Instant>>,
    rng: u64,
}

/// Live faults of one instance.
pub struct Faults {
    cfg: Mutex<FaultConfig>,
    rt: Mutex<Runtime>,
}

impl Faults {
    pub fn new(cfg: FaultConfig) -> Faults {
        let seed = Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64 | 1;
        Faults {
            cfg: Mutex::new(cfg),
            rt: Mutex::new(Runtime {
                rng: seed,
                ..Runtime::default()
            }),
        }
    }

    pub fn get(&self) -> FaultConfig {
        self.cfg.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the configuration; buckets start full again.
    pub fn set(&self, cfg: FaultConfig) {
        *self.cfg.lock().unwrap_or_else(|p| p.into_inner()) = cfg;
        let mut rt = self.rt.lock().unwrap_or_else(|p| p.into_inner());
        rt.buckets.clear();
        rt.issue_writes.clear();
    }

    pub fn limits_on(&self) -> bool {
        self.cfg
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .rate_limit
            .is_some()
    }

    /// A uniform number in [0, 1) (xorshift; fault ratios need no better).
    fn roll(rt: &mut Runtime) -> f64 {
        let mut x = rt.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        rt.rng = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Decides one request's fate.
    pub fn check(&self, method: &Method, route: &str, issue: Option<u64>) -> Decision {
        let mut cfg = self.cfg.lock().unwrap_or_else(|p| p.into_inner());
        let latency = (cfg.latency_ms > 0).then(|| Duration::from_millis(cfg.latency_ms));
        let mut d = Decision {
            verdict: Verdict::Pass,
            latency,
            limit: None,
            retry_after: None,
            retry_after_ms: None,
        };
        let mut rt = self.rt.lock().unwrap_or_else(|p| p.into_inner());
        if cfg.error_next > 0 {
            cfg.error_next -= 1;
            d.verdict = Verdict::ServerError(cfg.error_status);
            return d;
        }
        if cfg.error_ratio > 0.0 && Self::roll(&mut rt) < cfg.error_ratio {
            d.verdict = Verdict::ServerError(cfg.error_status);
            return d;
        }
        if cfg.limit_ratio > 0.0 && Self::roll(&mut rt) < cfg.limit_ratio {
            d.retry_after_ms = Some(cfg.limit_retry_after_ms);
            d.verdict = Verdict::Limited {
                reason: "jira-burst-based",
            };
            return d;
        }
        let Some(limits) = &cfg.rate_limit else {
            return d;
        };
        let now = Instant::now();
        let rate = match *method {
            Method::GET | Method::HEAD => limits.get,
            Method::POST => limits.post,
            Method::PUT | Method::PATCH => limits.put,
            Method::DELETE => limits.delete,
            _ => limits.get,
        }
        .max(1);
        let b = rt
            .buckets
            .entry((method.clone(), route.to_string()))
            .or_insert(Bucket {
                tokens: rate as f64,
                last: now,
            });
        b.tokens =
            (b.tokens + now.duration_since(b.last).as_secs_f64() * rate as f64).min(rate as f64);
        b.last = now;
        if b.tokens < 1.0 {
            let wait = (1.0 - b.tokens) / rate as f64;
            d.limit = Some((rate, 0, Duration::from_secs_f64(wait)));
            d.retry_after = Some(wait.ceil().max(1.0) as u64);
            d.verdict = Verdict::Limited {
                reason: "jira-burst-based",
            };
            return d;
        }
        b.tokens -= 1.0;
        let remaining = b.tokens.floor() as u32;
        let reset = Duration::from_secs_f64((rate as f64 - b.tokens) / rate as f64);
        d.limit = Some((rate, remaining, reset));
        if let (Some(issue), true) = (issue, super::server::is_write(method)) {
            let (short, long) = (limits.issue_writes_2s, limits.issue_writes_30s);
            let q = rt.issue_writes.entry(issue).or_default();
            while q
                .front()
                .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(30))
            {
                q.pop_front();
            }
            let in_2s = q
                .iter()
                .filter(|t| now.duration_since(**t) <= Duration::from_secs(2))
                .count() as u32;
            let full = if in_2s >= short {
                q.iter()
                    .rev()
                    .nth(short.saturating_sub(1) as usize)
                    .map(|t| (short, *t + Duration::from_secs(2)))
            } else if q.len() as u32 >= long {
                q.iter()
                    .rev()
                    .nth(long.saturating_sub(1) as usize)
                    .map(|t| (long, *t + Duration::from_secs(30)))
            } else {
                None
            };
            if let Some((limit, free_at)) = full {
                let wait = free_at.saturating_duration_since(now);
                d.limit = Some((limit, 0, wait));
                d.retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
                d.verdict = Verdict::Limited {
                    reason: "jira-per-issue-on-write",
                };
                return d;
            }
            q.push_back(now);
        }
        d
    }

    /// Webhook faults for one delivery: (drop, duplicate).
    pub fn webhook_roll(&self) -> (bool, bool) {
        let mut cfg = self.cfg.lock().unwrap_or_else(|p| p.into_inner());
        let mut rt = self.rt.lock().unwrap_or_else(|p| p.into_inner());
        let drop = if cfg.webhook_drop_next > 0 {
            cfg.webhook_drop_next -= 1;
            true
        } else {
            cfg.webhook_drop_ratio > 0.0 && Self::roll(&mut rt) < cfg.webhook_drop_ratio
        };
        if drop {
            return (true, false);
        }
        let dup = if cfg.webhook_duplicate_next > 0 {
            cfg.webhook_duplicate_next -= 1;
            true
        } else {
            cfg.webhook_duplicate_ratio > 0.0 && Self::roll(&mut rt) < cfg.webhook_duplicate_ratio
        };
        (false, dup)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        let c =
            FaultConfig::parse("rate-limit, rate-put=5, error-next=2, latency=1s, webhook-reorder")
                .expect("valid");
        assert_eq!(c.rate_limit.as_ref().map(|l| l.put), Some(5));
        assert_eq!(c.rate_limit.as_ref().map(|l| l.get), Some(100));
        assert_eq!(c.error_next, 2);
        assert_eq!(c.latency_ms, 1000);
        assert!(c.webhook_reorder);
        assert!(FaultConfig::parse("bogus").is_err());
        let c = FaultConfig::parse("limit-ratio=0.1,limit-retry-after=250ms").expect("valid");
        assert_eq!((c.limit_ratio, c.limit_retry_after_ms), (0.1, 250));
        assert!(FaultConfig::parse("error-status=404").is_err());
        assert_eq!(
            FaultConfig::parse("").expect("empty is fine"),
            FaultConfig::default()
        );
    }

    #[test]
    fn bucket_empties_then_limits() {
        let f = Faults::new(FaultConfig::parse("rate-get=3").expect("valid"));
        for _ in 0..3 {
            assert!(matches!(
                f.check(&Method::GET, "/x", None).verdict,
                Verdict::Pass
            ));
        }
        let d = f.check(&Method::GET, "/x", None);
        assert!(matches!(
            d.verdict,
            Verdict::Limited {
                reason: "jira-burst-based"
            }
        ));
        let mut h = HeaderMap::new();
        d.headers(&mut h);
        assert_eq!(
            h.get("Retry-After").and_then(|v| v.to_str().ok()),
            Some("1")
        );
        assert_eq!(
            h.get("X-RateLimit-Remaining").and_then(|v| v.to_str().ok()),
            Some("0")
        );
        // Another endpoint has its own bucket.
        assert!(matches!(
            f.check(&Method::GET, "/y", None).verdict,
            Verdict::Pass
        ));
    }

    #[test]
    fn a_limit_ratio_refuses_with_retry_after() {
        let f = Faults::new(
            FaultConfig::parse("limit-ratio=1,limit-retry-after=250ms").expect("valid"),
        );
        let d = f.check(&Method::GET, "/x", None);
        assert!(matches!(d.verdict, Verdict::Limited { .. }));
        let mut h = HeaderMap::new();
        d.headers(&mut h);
        assert_eq!(
            h.get("Retry-After").and_then(|v| v.to_str().ok()),
            Some("0.250")
        );
        let f = Faults::new(FaultConfig::parse("limit-ratio=1").expect("valid"));
        let mut h = HeaderMap::new();
        f.check(&Method::GET, "/x", None).headers(&mut h);
        assert_eq!(
            h.get("Retry-After").and_then(|v| v.to_str().ok()),
            Some("1")
        );
    }

    #[test]
    fn per_issue_writes() {
        let f = Faults::new(FaultConfig::parse("issue-writes-2s=2").expect("valid"));
        assert!(matches!(
            f.check(&Method::PUT, "/i", Some(1)).verdict,
            Verdict::Pass
        ));
        assert!(matches!(
            f.check(&Method::PUT, "/i", Some(1)).verdict,
            Verdict::Pass
        ));
        assert!(matches!(
            f.check(&Method::PUT, "/i", Some(1)).verdict,
            Verdict::Limited {
                reason: "jira-per-issue-on-write"
            }
        ));
        assert!(matches!(
            f.check(&Method::PUT, "/i", Some(2)).verdict,
            Verdict::Pass
        ));
    }
}
