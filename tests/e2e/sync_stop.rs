//! A stop that drains: SIGTERM in the middle of a bulk sync ends the node process within its
//! grace period, with every claimed event either done or back in the queue, and a restart
//! finishes the sync with nothing lost or doubled.

use std::time::{Duration, Instant};

use twinsync::store::{EventState, Store};

use crate::sync_crash::{
    NodeProcess, Pair, converge, create_issue, free_port, progress, tail, wait_listening,
};

/// The node's own bound on a stop (`stop_grace_secs`) in these tests.
const GRACE_SECS: u64 = 2;
/// How long past the grace a stop may take (the runtime winding down, a slow machine).
const SLACK: Duration = Duration::from_secs(15);

/// Writes the pair's config with this test's grace, and the webhooks to the node's port.
async fn setup(p: &Pair) -> (std::path::PathBuf, std::path::PathBuf, u16) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let config = p.dir.path().join("twinsync.toml");
    let text = p.config(&listen).replacen(
        "[node]\n",
        &format!("[node]\nstop_grace_secs = {GRACE_SECS}\n"),
        1,
    );
    assert!(text.contains("stop_grace_secs"), "{text}");
    std::fs::write(&config, text).expect("write config");
    p.register_webhooks(&format!("http://{listen}")).await;
    (config, p.dir.path().join("node.log"), port)
}

/// SIGTERM, then the exit within grace and slack; panics with the log's tail if it hangs.
async fn stop_with_sigterm(node: &mut NodeProcess, log: &std::path::Path) -> Duration {
    let sent = Instant::now();
    node.terminate();
    let within = Duration::from_secs(GRACE_SECS) + SLACK;
    let Some(status) = node.exited_within(within).await else {
        panic!(
            "the node still ran {within:?} after SIGTERM:\n{}",
            tail(log, 40)
        );
    };
    assert!(status.success(), "exit {status}:\n{}", tail(log, 40));
    sent.elapsed()
}

/// No event is left claimed: each is done, skipped, failed or pending again.
fn nothing_claimed(store: &Store, log: &std::path::Path) {
    let stats = store.queue_stats(None).expect("queue stats");
    assert_eq!(
        stats.running,
        0,
        "events left claimed after the stop: {stats:?}\n{}",
        tail(log, 30)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_bulk_sync_lets_events_in_hand_finish_and_exits() {
    const ISSUES: usize = 60;
    let bin = twinsync_e2e::twinsync_binary();
    let p = Pair::new().await;
    let (config, log, port) = setup(&p).await;
    for n in 1..=ISSUES {
        create_issue(&p.ca, n).await;
    }
    // Every Jira call takes a while, so the stop lands with events in hand.
    p.a.set_faults_spec("latency=40ms").expect("faults");

    let mut node = NodeProcess::spawn(&bin, &config, &log);
    wait_listening(port, &mut node, &log).await;
    let store = Store::open(&p.data_dir().join("twinsync.db")).expect("store");
    let deadline = Instant::now() + Duration::from_secs(60);
    while progress(&store).0 < 5 {
        assert!(
            Instant::now() < deadline,
            "no 5 events done within 60 s: {:?}\n{}",
            store.queue_stats(None),
            tail(&log, 30)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = stop_with_sigterm(&mut node, &log).await;
    nothing_claimed(&store, &log);
    let (_, open) = progress(&store);
    assert!(
        open > 0,
        "the stop came after the sync had ended, so it proves nothing"
    );
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(
        text.contains("stopping: intake closed"),
        "{}",
        tail(&log, 20)
    );
    eprintln!("stopped {took:?} after SIGTERM with {open} events still queued");

    // A restart finishes the sync: nothing was lost or doubled by the stop.
    p.a.clear_faults();
    p.b.clear_faults();
    let mut node = NodeProcess::spawn(&bin, &config, &log);
    wait_listening(port, &mut node, &log).await;
    converge(&p, ISSUES, &store, Duration::from_secs(120), || {
        tail(&log, 30)
    })
    .await;
    let failed = store
        .events(Some(EventState::Failed), None, 10, 0)
        .expect("events");
    assert!(failed.is_empty(), "failed events: {failed:?}");
    stop_with_sigterm(&mut node, &log).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_that_outlast_the_grace_go_back_to_the_queue() {
    const ISSUES: usize = 6;
    let bin = twinsync_e2e::twinsync_binary();
    let p = Pair::new().await;
    let (config, log, port) = setup(&p).await;
    for n in 1..=ISSUES {
        create_issue(&p.ca, n).await;
    }
    // Each call to DEV now outlasts the grace: events in hand cannot finish in time (SUP
    // stays quick, so its poll finds the issues).
    p.b.set_faults_spec("latency=30s").expect("faults");

    let mut node = NodeProcess::spawn(&bin, &config, &log);
    wait_listening(port, &mut node, &log).await;
    let store = Store::open(&p.data_dir().join("twinsync.db")).expect("store");
    let deadline = Instant::now() + Duration::from_secs(60);
    while store.queue_stats(None).expect("stats").running == 0 {
        assert!(
            Instant::now() < deadline,
            "no event was claimed within 60 s: {:?}\n{}",
            store.queue_stats(None),
            tail(&log, 30)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop_with_sigterm(&mut node, &log).await;
    nothing_claimed(&store, &log);
    let stats = store.queue_stats(None).expect("stats");
    assert!(stats.pending > 0, "{stats:?}");
    assert_eq!(stats.failed, 0, "{stats:?}");
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(
        text.contains("stopped at the deadline"),
        "{}",
        tail(&log, 20)
    );

    p.a.clear_faults();
    p.b.clear_faults();
    let mut node = NodeProcess::spawn(&bin, &config, &log);
    wait_listening(port, &mut node, &log).await;
    converge(&p, ISSUES, &store, Duration::from_secs(120), || {
        tail(&log, 30)
    })
    .await;
    stop_with_sigterm(&mut node, &log).await;
}
