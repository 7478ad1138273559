//! What several bench binaries share: where the built rules and samples are, the sample
//! issue and context, the process's RSS and percentiles. Each bench uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use twinsync::model::{Issue, SyncCause, SyncContext};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The built component of example rule `name` (`basic`, `confidential_py`, ...), if built.
pub fn built_rule(name: &str) -> Option<PathBuf> {
    let path = root().join(format!("target/wasm32-wasip2/rules/rule_{name}.wasm"));
    path.is_file().then_some(path)
}

/// Like [`built_rule`], but a missing rule ends the bench with the command that builds it.
pub fn require_rule(name: &str) -> PathBuf {
    built_rule(name).unwrap_or_else(|| {
        eprintln!("rule_{name}.wasm is missing: run scripts/build-rules.sh first");
        std::process::exit(2);
    })
}

/// `example-rules/samples/issue.json`: a typical 9 KB issue with ten comments.
pub fn sample_issue() -> Issue {
    let text = std::fs::read_to_string(root().join("example-rules/samples/issue.json"))
        .expect("sample issue");
    serde_json::from_str(&text).expect("sample issue parses")
}

/// An update of a twinned issue on connection `bench`.
pub fn bench_ctx() -> SyncContext {
    SyncContext {
        connection: "bench".into(),
        local_side: "a".into(),
        remote_side: "b".into(),
        first_sync: false,
        local_key: Some("ACME-42".into()),
        remote_key: Some("GLX-7".into()),
        cause: SyncCause::Updated,
    }
}

/// This process's resident set, in MiB.
pub fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The `p` quantile (0 to 1) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs `call` `iterations` times; each call's duration, sorted, and the whole run's.
pub fn timed(iterations: usize, mut call: impl FnMut()) -> (Vec<Duration>, Duration) {
    let mut times = Vec::with_capacity(iterations);
    let start = std::time::Instant::now();
    for _ in 0..iterations {
        let t = std::time::Instant::now();
        call();
        times.push(t.elapsed());
    }
    let total = start.elapsed();
    times.sort();
    (times, total)
}
