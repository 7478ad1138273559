//! The per-instance request log and counters (method, path, status), so tests can count Jira calls.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use axum::http::Method;
use serde::Serialize;

/// Entries kept; older ones fall off (counters keep counting).
const LOG_CAP: usize = 100_000;

/// One request as the simulator answered it.
#[derive(Clone, Debug, Serialize)]
pub struct RequestRecord {
    /// Order of arrival, from 1.
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// Request path, without the query.
    pub path: String,
    /// The route template, e.g. `/rest/api/3/issue/{key}`; `None` when nothing matched.
    pub route: Option<String>,
    /// The status answered.
    pub status: u16,
}

/// A count of requests with the same method, route and status.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Counter {
    /// HTTP method.
    pub method: String,
    /// The route template; the path when nothing matched.
    pub route: String,
    /// The status answered.
    pub status: u16,
    /// How many such requests.
    pub count: u64,
}

#[derive(Default)]
struct Inner {
    seq: u64,
    log: VecDeque<RequestRecord>,
    counts: BTreeMap<(String, String, u16), u64>,
}

#[derive(Default)]
pub struct RequestLog {
    inner: Mutex<Inner>,
}

impl RequestLog {
    pub fn record(&self, method: &Method, path: &str, route: Option<String>, status: u16) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.seq += 1;
        let seq = g.seq;
        let key = (
            method.to_string(),
            route.clone().unwrap_or_else(|| path.to_string()),
            status,
        );
        *g.counts.entry(key).or_insert(0) += 1;
        if g.log.len() == LOG_CAP {
            g.log.pop_front();
        }
        g.log.push_back(RequestRecord {
            seq,
            method: method.to_string(),
            path: path.to_string(),
            route,
            status,
        });
    }

    pub fn entries(&self) -> Vec<RequestRecord> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .log
            .iter()
            .cloned()
            .collect()
    }

    pub fn counters(&self) -> Vec<Counter> {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.counts
            .iter()
            .map(|((m, r, s), c)| Counter {
                method: m.clone(),
                route: r.clone(),
                status: *s,
                count: *c,
            })
            .collect()
    }

    /// Requests so far (all, including those that fell off the log).
    pub fn total(&self) -> u64 {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).seq
    }

    pub fn clear(&self) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.log.clear();
        g.counts.clear();
    }
}
