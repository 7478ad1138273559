//! Crash points for tests: a named durable step of the pipeline where a test can make the
//! node stop dead, as a SIGKILL would, to prove that a restart resumes without losing or
//! doubling anything.
//!
//! `TWINSYNC_FAILPOINT=<name>` (or `<name>@<n>`, the n-th time it is reached) makes the
//! process abort at that point, after a line on stderr naming it. With the variable unset a
//! point costs one load of a cached value. The names are listed in [`POINTS`] and in
//! `docs/sync.md`. In process, [`scoped`] arms a point for one task only: reaching it panics
//! that task, which leaves the store exactly as a kill at that point would.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Every crash point, in the order an event meets them.
pub const POINTS: &[&str] = &[
    // outgoing
    "event-claimed",
    "outgoing-rule-run",
    "replica-delivered",
    "sent-recorded",
    // incoming
    "incoming-rule-run",
    "creation-begun",
    "twin-created",
    "twin-linked",
    "fields-written",
    "status-reached",
    "item-copied",
    "mapping-recorded",
    "item-removed",
    "link-written",
    "registers-recorded",
    "event-done",
    // peer path
    "peer-replica-queued",
    "peer-message-sent",
    "peer-replica-received",
    "peer-ack-applied",
];

/// The crash points of `twinsync connect`, in the order one pair meets them.
pub const CONNECT_POINTS: &[&str] = &["connect-marked", "connect-linked"];

struct Armed {
    name: String,
    nth: u64,
    hits: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let spec = std::env::var("TWINSYNC_FAILPOINT").ok()?;
            let (name, nth) = match spec.split_once('@') {
                Some((n, k)) => (n.to_string(), k.parse().unwrap_or(1)),
                None => (spec, 1),
            };
            Some(Armed {
                name,
                nth: nth.max(1),
                hits: AtomicU64::new(0),
            })
        })
        .as_ref()
}

tokio::task_local! {
    static SCOPED: Armed;
}

/// Runs `fut` with crash point `name` armed for its `nth` hit within this task: the task
/// panics there (a test catches it as a crash and restarts the node).
pub async fn scoped<F: std::future::Future>(name: &str, nth: u64, fut: F) -> F::Output {
    let armed = Armed {
        name: name.to_string(),
        nth: nth.max(1),
        hits: AtomicU64::new(0),
    };
    SCOPED.scope(armed, fut).await
}

/// The panic message of a scoped crash point, so a test can tell it from a real panic.
pub const CRASHED: &str = "twinsync: crash point reached";

/// Aborts the process if `name` is the armed point and this is the armed hit.
pub(crate) fn hit(name: &str) {
    let scoped = SCOPED
        .try_with(|a| a.name == name && a.hits.fetch_add(1, Ordering::SeqCst) + 1 == a.nth)
        .unwrap_or(false);
    if scoped {
        panic!("{CRASHED}: {name}");
    }
    let Some(a) = armed() else { return };
    if a.name != name {
        return;
    }
    let n = a.hits.fetch_add(1, Ordering::SeqCst) + 1;
    if n == a.nth {
        eprintln!("twinsync: crash point {name} reached (hit {n}); aborting");
        std::process::abort();
    }
}

/// Marks a crash point: `failpoint!("twin-created")`.
#[macro_export]
macro_rules! failpoint {
    ($name:literal) => {
        $crate::failpoint::hit($name)
    };
}
