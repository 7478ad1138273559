//! A peer that is down, gone or reached through a link that breaks: nothing is lost, nothing
//! arrives twice, and the node says what it waits for.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use twinsync::peer::enroll;
use twinsync_e2e::adf::adf;
use twinsync_e2e::pair::{Org, paired};
use twinsync_e2e::ports::free_port;
use twinsync_e2e::wait::wait_for;

use super::attach_on_a;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_peer_misses_nothing_and_gets_nothing_twice() {
    let (a, mut b) = paired().await;
    let first = a.create_synced("Before the outage").await;
    wait_for("the first twin", || async { a.twin_of(&first) }).await;

    // B's node goes down: A's deliveries wait in its outbox, retried with backoff.
    b.stop_node().await;
    let during: Vec<String> = create_many(&a, 5).await;
    wait_for("deliveries queued in A's outbox", || async {
        (a.node().store.outbox_len("ab").unwrap_or(0) >= 5).then_some(())
    })
    .await;
    a.client
        .comment(&first, adf("said during the outage"))
        .await;
    // /metrics tells the on-call engineer: the link is down and messages wait.
    wait_for("the link reported down", || async {
        let m = peer_metrics(&a).await;
        (m.contains("twinsync_peer_link_up{connection=\"ab\"} 0")
            && !m.contains("twinsync_peer_outbox{connection=\"ab\"} 0"))
        .then_some(())
    })
    .await;

    // B comes back with the same store: everything arrives, in order, once.
    b.start_node("b").await;
    for key in &during {
        wait_for("a twin made after the outage", || async { a.twin_of(key) }).await;
    }
    let first_b = a.twin_of(&first).expect("twin");
    wait_for("the outage comment on B", || async {
        (b.client
            .list(&first_b, &["comment", "comments"])
            .await
            .len()
            == 1)
            .then_some(())
    })
    .await;
    wait_for("A's outbox drained", || async {
        (a.node().store.outbox_len("ab").unwrap_or(1) == 0).then_some(())
    })
    .await;
    let m = peer_metrics(&a).await;
    assert!(
        m.contains("twinsync_peer_link_up{connection=\"ab\"} 1")
            && m.contains("twinsync_peer_outbox{connection=\"ab\"} 0"),
        "{m}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let on_b = b
        .sim
        .state()
        .issues
        .values()
        .filter(|i| i.summary.starts_with("During the outage") || i.summary == "Before the outage")
        .count();
    assert_eq!(on_b, 6, "every issue once on B");
    assert_eq!(
        b.client
            .list(&first_b, &["comment", "comments"])
            .await
            .len(),
        1,
        "the comment once"
    );
}

/// A node's `/metrics` text.
async fn peer_metrics(org: &Org) -> String {
    let url = org.node.as_ref().expect("node").admin_url();
    reqwest::get(format!("{url}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body")
}

/// Creates `n` synced issues on A, one after the other.
async fn create_many(a: &Org, n: usize) -> Vec<String> {
    let mut keys = Vec::new();
    for i in 0..n {
        keys.push(a.create_synced(&format!("During the outage {i}")).await);
    }
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_deleted_on_one_node_is_a_clear_state_on_the_other() {
    let (a, mut b) = paired().await;
    // B removes the connection from its config and restarts.
    b.stop_node().await;
    let start = b.config.find("[[connection]]").expect("connection table");
    b.config.truncate(start);
    b.start_node("b").await;

    a.create_synced("After the divorce").await;
    wait_for("A to see the connection deleted by its peer", || async {
        let peer = a.node().store.peer("ab").ok().flatten()?;
        (peer.state == "deleted").then_some(())
    })
    .await;
    let status = twinsync::server::status_json(a.node()).expect("status");
    assert_eq!(
        status["connections"][0]["peer"]["state"], "deleted",
        "{status}"
    );
    // Nothing is lost: the replica waits in the outbox, retried slowly, not as errors forever.
    assert_eq!(a.node().store.outbox_len("ab").expect("outbox"), 1);
    assert!(
        a.node()
            .store
            .events(Some(twinsync::store::EventState::Failed), Some("ab"), 10, 0)
            .expect("events")
            .is_empty()
    );
}

/// A TCP proxy in front of `target` that cuts each of its first `cuts` connections once
/// `after` bytes have crossed it (either way); later connections pass untouched.
async fn cutting_proxy(target: u16, cuts: usize, after: usize) -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let port = listener.local_addr().expect("addr").port();
    let cut = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(AtomicUsize::new(0));
    let cut_count = cut.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                continue;
            };
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let cut = cut_count.clone();
            tokio::spawn(async move {
                let Ok(mut server) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await
                else {
                    return;
                };
                if n >= cuts {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    return;
                }
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let crossed = AtomicUsize::new(0);
                tokio::select! {
                    _ = pump(&mut cr, &mut cw, &crossed, after) => {}
                    _ = pump(&mut sr, &mut sw, &crossed, after) => {}
                }
                // Both halves drop here: the link is cut mid-transfer.
                cut.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    (port, cut)
}

/// Copies `r` to `w` until `after` bytes have crossed in total (counted in `crossed`).
async fn pump<R, W>(r: &mut R, w: &mut W, crossed: &AtomicUsize, after: usize)
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = [0u8; 512];
    loop {
        let Ok(k) = r.read(&mut buf).await else {
            return;
        };
        if k == 0 {
            return;
        }
        let before = crossed.fetch_add(k, Ordering::SeqCst);
        let allowed = after.saturating_sub(before).min(k);
        if w.write_all(&buf[..allowed]).await.is_err() || allowed < k {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_cut_mid_transfer_resumes_and_the_attachment_arrives_whole() {
    // B reaches A's peer API only through a proxy that cuts the first connections.
    let a_port = free_port();
    let (proxy_port, cuts) = cutting_proxy(a_port, 4, 3000).await;
    let a = Org::with(
        "a",
        a_port,
        &format!("peer_url = \"https://127.0.0.1:{proxy_port}\""),
    )
    .await;
    let b = Org::new("b").await;
    let code = enroll::invite(&a.parsed(), &a.node().store, "ab", Duration::from_secs(600))
        .expect("invite");
    // The acceptance may be cut too: asking again is answered alike, even if the first
    // attempt reached the inviter and only its answer was lost.
    let mut accepted = false;
    for _ in 0..10 {
        if enroll::accept(&b.parsed(), &b.node().store, &code)
            .await
            .is_ok()
        {
            accepted = true;
            break;
        }
    }
    assert!(accepted, "the acceptance went through the cutting link");

    let key_a = a.create_synced("Through a bad link").await;
    let key_b = wait_for("the twin", || async { a.twin_of(&key_a) }).await;
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let on_b = attach_on_a((&a, &b), (&key_a, &key_b), "big.bin", &bytes).await;
    let got = b
        .client
        .download(on_b["content"].as_str().expect("content url"))
        .await;
    assert_eq!(got.as_slice(), bytes.as_slice(), "the whole file, once");
    // B's comment crosses back through the proxy too.
    b.client.comment(&key_b, json!("got it")).await;
    wait_for("B's comment on A", || async {
        (a.client.list(&key_a, &["comment", "comments"]).await.len() == 1).then_some(())
    })
    .await;
    assert!(
        cuts.load(Ordering::SeqCst) >= 1,
        "the proxy really cut the link"
    );
}
