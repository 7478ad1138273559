//! The per-instance request budget: token buckets for reads and writes, per-issue write windows, a cap on calls in flight.
//!
//! Each caller reserves its slot under a lock and sleeps outside it, so a
//! crowd of callers is spread evenly instead of stampeding. A 429 pauses the
//! whole instance for its `Retry-After`; `X-RateLimit-NearLimit` halves the
//! pace for a while.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Budget settings; the defaults keep well inside Jira Cloud's published limits
/// (burst about 100 GET/s and 50 PUT/DELETE/s; per issue 20 writes per 2 s and 100 per 30 s).
#[derive(Debug, Clone)]
pub struct BudgetConfig {
    /// Sustained GETs per second.
    pub reads_per_sec: f64,
    /// GETs that may go at once after a quiet spell.
    pub read_burst: f64,
    /// Sustained writes (POST, PUT, DELETE) per second.
    pub writes_per_sec: f64,
    /// Writes that may go at once after a quiet spell.
    pub write_burst: f64,
    /// Per-issue write windows: at most `count` writes to one issue in `window`.
    pub issue_write_windows: Vec<(u32, Duration)>,
    /// Requests in flight at once.
    pub max_in_flight: usize,
    /// How long the pace stays halved after `X-RateLimit-NearLimit: true`.
    pub near_limit_cooldown: Duration,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            reads_per_sec: 40.0,
            read_burst: 40.0,
            writes_per_sec: 20.0,
            write_burst: 20.0,
            issue_write_windows: vec![(10, Duration::from_secs(2)), (50, Duration::from_secs(30))],
            max_in_flight: 16,
            near_limit_cooldown: Duration::from_secs(10),
        }
    }
}

impl BudgetConfig {
    /// No pacing at all (tests of other behaviour, or a private instance).
    pub fn unlimited() -> Self {
        BudgetConfig {
            reads_per_sec: f64::INFINITY,
            read_burst: f64::INFINITY,
            writes_per_sec: f64::INFINITY,
            write_burst: f64::INFINITY,
            issue_write_windows: Vec::new(),
            max_in_flight: 64,
            near_limit_cooldown: Duration::ZERO,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Read,
    Write,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug)]
struct State {
    read: Bucket,
    write: Bucket,
    issue_writes: HashMap<String, VecDeque<Instant>>,
    paused_until: Option<Instant>,
    slow_until: Option<Instant>,
}

/// One instance's budget; share it between all calls to that instance.
#[derive(Debug)]
pub struct Budget {
    cfg: BudgetConfig,
    state: Mutex<State>,
    in_flight: std::sync::Arc<Semaphore>,
}

/// Held while a request is in flight.
pub struct Permit {
    _slot: OwnedSemaphorePermit,
    /// How long the caller waited for its slot.
    pub waited: Duration,
}

impl Budget {
    pub(crate) fn new(cfg: BudgetConfig) -> Budget {
        let now = Instant::now();
        let start = |burst: f64| Bucket {
            tokens: if burst.is_finite() { burst } else { 0.0 },
            at: now,
        };
        Budget {
            in_flight: std::sync::Arc::new(Semaphore::new(cfg.max_in_flight.max(1))),
            state: Mutex::new(State {
                read: start(cfg.read_burst),
                write: start(cfg.write_burst),
                issue_writes: HashMap::new(),
                paused_until: None,
                slow_until: None,
            }),
            cfg,
        }
    }

    /// Waits for a slot for one request; `issue` names the issue a write goes to.
    pub(crate) async fn acquire(&self, kind: Kind, issue: Option<&str>) -> Permit {
        let started = Instant::now();
        let at = self.reserve(kind, issue);
        if at > Instant::now() {
            tokio::time::sleep_until(at).await;
        }
        let slot = match self.in_flight.clone().acquire_owned().await {
            Ok(p) => p,
            // The semaphore is never closed; if it were, fall back to a fresh one.
            Err(_) => match std::sync::Arc::new(Semaphore::new(1)).acquire_owned().await {
                Ok(p) => p,
                Err(_) => unreachable!("a new semaphore is open"),
            },
        };
        Permit {
            _slot: slot,
            waited: started.elapsed(),
        }
    }

    /// Reserves the earliest slot the buckets, the pause and the issue windows allow.
    fn reserve(&self, kind: Kind, issue: Option<&str>) -> Instant {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let slow = st.slow_until.is_some_and(|t| t > now);
        let (rate, burst) = match kind {
            Kind::Read => (self.cfg.reads_per_sec, self.cfg.read_burst),
            Kind::Write => (self.cfg.writes_per_sec, self.cfg.write_burst),
        };
        let rate = if slow { rate / 2.0 } else { rate };
        let mut at = now;
        if rate.is_finite() && rate > 0.0 {
            let b = match kind {
                Kind::Read => &mut st.read,
                Kind::Write => &mut st.write,
            };
            let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
            b.tokens = (b.tokens + elapsed * rate).min(burst);
            b.at = now;
            // Tokens may go negative: the debt is the queue of callers already waiting.
            b.tokens -= 1.0;
            if b.tokens < 0.0 {
                at = now + Duration::from_secs_f64(-b.tokens / rate);
            }
        }
        if let Some(p) = st.paused_until
            && p > at
        {
            at = p;
        }
        if let (Kind::Write, Some(key)) = (kind, issue)
            && !self.cfg.issue_write_windows.is_empty()
        {
            let longest = self
                .cfg
                .issue_write_windows
                .iter()
                .map(|(_, w)| *w)
                .max()
                .unwrap_or_default();
            let q = st.issue_writes.entry(key.to_string()).or_default();
            while q.front().is_some_and(|t| *t + longest <= now) {
                q.pop_front();
            }
            // Move later until every window has room (sorted queue, so one pass per window).
            loop {
                let mut moved = false;
                for (count, window) in &self.cfg.issue_write_windows {
                    let count = *count as usize;
                    let inside: Vec<&Instant> = q
                        .iter()
                        .filter(|t| **t + *window > at && **t <= at)
                        .collect();
                    if inside.len() >= count && count > 0 {
                        let oldest_needed = *inside[inside.len() - count];
                        at = oldest_needed + *window;
                        moved = true;
                    }
                }
                if !moved {
                    break;
                }
            }
            let pos = q.iter().position(|t| *t > at).unwrap_or(q.len());
            q.insert(pos, at);
        }
        at
    }

    /// Jira said 429: nobody calls this instance before `wait` has passed.
    pub(crate) fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.paused_until.is_none_or(|p| p < until) {
            st.paused_until = Some(until);
        }
    }

    /// Jira said `X-RateLimit-NearLimit: true`: halve the pace for a while.
    pub(crate) fn near_limit(&self) {
        let until = Instant::now() + self.cfg.near_limit_cooldown;
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.slow_until = Some(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn reads_are_paced_after_the_burst() {
        let b = Budget::new(BudgetConfig {
            reads_per_sec: 10.0,
            read_burst: 5.0,
            ..BudgetConfig::default()
        });
        let t0 = Instant::now();
        for _ in 0..25 {
            b.acquire(Kind::Read, None).await;
        }
        // 5 at once, then 20 at 10/s.
        let took = t0.elapsed();
        assert!(
            took >= Duration::from_millis(1990) && took <= Duration::from_millis(2100),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn per_issue_write_windows_hold() {
        let b = Budget::new(BudgetConfig {
            issue_write_windows: vec![(3, Duration::from_secs(2))],
            ..BudgetConfig::default()
        });
        let t0 = Instant::now();
        let mut times = Vec::new();
        for _ in 0..7 {
            b.acquire(Kind::Write, Some("A-1")).await;
            times.push(t0.elapsed());
        }
        // Another issue is not held back.
        b.acquire(Kind::Write, Some("B-1")).await;
        assert!(t0.elapsed() <= Duration::from_secs(5));
        for w in times.windows(4) {
            assert!(w[3] - w[0] >= Duration::from_secs(2), "{times:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_everyone() {
        let b = Budget::new(BudgetConfig::unlimited());
        b.pause_for(Duration::from_secs(2));
        let t0 = Instant::now();
        b.acquire(Kind::Read, None).await;
        assert!(t0.elapsed() >= Duration::from_secs(2));
    }
}
