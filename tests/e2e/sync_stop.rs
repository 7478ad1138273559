//! A stop that drains: SIGTERM in the middle of a bulk sync ends the node process within its
//! grace period, with every claimed event either done or back in the queue, and a restart
//! finishes the sync with nothing lost or doubled.

use std::time::{Duration, Instant};

use twinsync::store::{EventState, Store};
use twinsync_e2e::node_process::{NodeProcess, ProcessConfig};
use twinsync_e2e::wait::Wait;

use crate::sync_crash::{Pair, converge, create_issue, progress};

/// The node's own bound on a stop (`stop_grace_secs`) in these tests.
const GRACE_SECS: u64 = 2;
/// How long past the grace a stop may take (the runtime winding down, a slow machine).
const SLACK: Duration = Duration::from_secs(15);

/// Writes the pair's config with this test's grace, and the webhooks to the node's port.
async fn setup(p: &Pair) -> ProcessConfig {
    let text = p.config().replacen(
        "[node]\n",
        &format!("[node]\nstop_grace_secs = {GRACE_SECS}\n"),
        1,
    );
    assert!(text.contains("stop_grace_secs"), "{text}");
    let config = ProcessConfig::write(p.dir.path(), &text);
    p.register_webhooks(&config.url).await;
    config
}

/// A pair with `issues` issues on SUP for the node to sync, and the node's config.
async fn pair_with_issues(issues: usize) -> (Pair, ProcessConfig) {
    let p = Pair::new().await;
    let config = setup(&p).await;
    for n in 1..=issues {
        create_issue(&p.ca, n).await;
    }
    (p, config)
}

/// Clears the faults and starts the node again: both sides come to agree with no event
/// failed, and the node then stops on SIGTERM in time.
async fn restart_to_the_end(p: &Pair, config: &ProcessConfig, store: &Store, issues: usize) {
    p.a.clear_faults();
    p.b.clear_faults();
    let mut node = NodeProcess::start(config, None).await;
    converge(p, issues, store, Duration::from_secs(120), || node.tail(30)).await;
    let failed = store
        .events(Some(EventState::Failed), None, 10, 0)
        .expect("events");
    assert!(failed.is_empty(), "failed events: {failed:?}");
    stop_with_sigterm(&mut node).await;
}

/// SIGTERM, then the exit within grace and slack; panics with the log's tail if it hangs.
async fn stop_with_sigterm(node: &mut NodeProcess) -> Duration {
    let sent = Instant::now();
    node.terminate();
    let within = Duration::from_secs(GRACE_SECS) + SLACK;
    let Some(status) = node.exited_within(within).await else {
        panic!(
            "the node still ran {within:?} after SIGTERM:\n{}",
            node.tail(40)
        );
    };
    assert!(status.success(), "exit {status}:\n{}", node.tail(40));
    sent.elapsed()
}

/// Waits up to 60 s for `done` to hold of the queue; giving up, prints the queue and the log.
async fn queue_reaches(
    what: &str,
    store: &Store,
    node: &NodeProcess,
    done: impl Fn(&Store) -> bool,
) {
    Wait::new(what)
        .within(Duration::from_secs(60))
        .every(Duration::from_millis(10))
        .until(|| async {
            if done(store) {
                return Ok(());
            }
            Err(format!("{:?}\n{}", store.queue_stats(None), node.tail(30)))
        })
        .await;
}

/// No event is left claimed: each is done, skipped, failed or pending again.
fn nothing_claimed(store: &Store, node: &NodeProcess) {
    let stats = store.queue_stats(None).expect("queue stats");
    assert_eq!(
        stats.running,
        0,
        "events left claimed after the stop: {stats:?}\n{}",
        node.tail(30)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_bulk_sync_lets_events_in_hand_finish_and_exits() {
    const ISSUES: usize = 60;
    let (p, config) = pair_with_issues(ISSUES).await;
    // Every Jira call takes a while, so the stop lands with events in hand.
    p.a.set_faults_spec("latency=40ms").expect("faults");

    let mut node = NodeProcess::start(&config, None).await;
    let store = Store::open(&p.data_dir().join("twinsync.db")).expect("store");
    queue_reaches("5 events done", &store, &node, |s| progress(s).0 >= 5).await;
    let took = stop_with_sigterm(&mut node).await;
    nothing_claimed(&store, &node);
    let (_, open) = progress(&store);
    assert!(
        open > 0,
        "the stop came after the sync had ended, so it proves nothing"
    );
    let text = node.log();
    assert!(
        text.contains("stopping: intake closed"),
        "{}",
        node.tail(20)
    );
    eprintln!("stopped {took:?} after SIGTERM with {open} events still queued");

    // A restart finishes the sync: nothing was lost or doubled by the stop.
    restart_to_the_end(&p, &config, &store, ISSUES).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_that_outlast_the_grace_go_back_to_the_queue() {
    const ISSUES: usize = 6;
    let (p, config) = pair_with_issues(ISSUES).await;
    // Each call to DEV now outlasts the grace: events in hand cannot finish in time (SUP
    // stays quick, so its poll finds the issues).
    p.b.set_faults_spec("latency=30s").expect("faults");

    let mut node = NodeProcess::start(&config, None).await;
    let store = Store::open(&p.data_dir().join("twinsync.db")).expect("store");
    queue_reaches("an event claimed", &store, &node, |s| {
        s.queue_stats(None).expect("stats").running > 0
    })
    .await;
    stop_with_sigterm(&mut node).await;
    nothing_claimed(&store, &node);
    let stats = store.queue_stats(None).expect("stats");
    assert!(stats.pending > 0, "{stats:?}");
    assert_eq!(stats.failed, 0, "{stats:?}");
    let text = node.log();
    assert!(
        text.contains("stopped at the deadline"),
        "{}",
        node.tail(20)
    );

    restart_to_the_end(&p, &config, &store, ISSUES).await;
}
