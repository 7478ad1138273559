//! `/metrics` in Prometheus text format: events and queue depth per connection, rule call
//! durations, compilations, reloads, Jira calls per instance and peer links.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::error;
use crate::sync::node::Node;

/// `/metrics` in Prometheus text format.
pub(super) async fn metrics(State(node): State<Arc<Node>>) -> Response {
    match render_metrics(&node) {
        Ok(text) => (
            StatusCode::OK,
            [("content-type", "text/plain; version=0.0.4")],
            text,
        )
            .into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn render_metrics(node: &Node) -> Result<String, crate::store::StoreError> {
    use crate::metrics::{header, label};
    use std::fmt::Write as _;
    use std::sync::atomic::Ordering::Relaxed;
    let mut out = String::new();
    header(
        &mut out,
        "twinsync_events",
        "gauge",
        "Sync events in the store, by connection and state.",
    );
    // Each family's samples must follow its own header: depth lines wait for theirs.
    let mut depth = String::new();
    for c in &node.live().connections {
        let q = node.store.queue_stats(Some(&c.name))?;
        let n = label(&c.name);
        for (state, v) in [
            ("pending", q.pending),
            ("running", q.running),
            ("failed", q.failed),
            ("done", q.done),
            ("skipped", q.skipped),
        ] {
            let _ = writeln!(
                out,
                "twinsync_events{{connection=\"{n}\",state=\"{state}\"}} {v}"
            );
        }
        let _ = writeln!(
            depth,
            "twinsync_queue_depth{{connection=\"{n}\"}} {}",
            q.pending + q.running
        );
    }
    header(
        &mut out,
        "twinsync_queue_depth",
        "gauge",
        "Events pending or running, by connection.",
    );
    out.push_str(&depth);
    let stats = node.registry.engine().stats();
    stats.call_seconds.render(
        &mut out,
        "twinsync_rule_call_seconds",
        "Rule call duration, instantiation included.",
    );
    header(
        &mut out,
        "twinsync_rule_compilations_total",
        "counter",
        "Rule modules compiled (not loaded from the cache).",
    );
    let _ = writeln!(
        out,
        "twinsync_rule_compilations_total {}",
        stats.compilations.load(Relaxed)
    );
    header(
        &mut out,
        "twinsync_rule_reloads_total",
        "counter",
        "Rule reloads by connection side and outcome.",
    );
    for slot in node.registry.slots() {
        let side = label(slot.side());
        let _ = writeln!(
            out,
            "twinsync_rule_reloads_total{{side=\"{side}\",outcome=\"accepted\"}} {}",
            slot.accepted.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "twinsync_rule_reloads_total{{side=\"{side}\",outcome=\"rejected\"}} {}",
            slot.rejected.load(Relaxed)
        );
    }
    let stats: Vec<_> = node
        .live()
        .instances
        .keys()
        .filter_map(|name| {
            node.client(name)
                .map(|client| (label(name), client.stats()))
        })
        .collect();
    for (family, help, value) in [
        (
            "twinsync_jira_requests_total",
            "Requests sent to each Jira instance.",
            (|s| s.requests) as fn(&crate::jira::StatsSnapshot) -> u64,
        ),
        (
            "twinsync_jira_retries_total",
            "Requests retried after a transient fault.",
            |s| s.retries,
        ),
        (
            "twinsync_jira_throttled_total",
            "Answers 429 (rate limited) from each instance.",
            |s| s.throttled,
        ),
    ] {
        header(&mut out, family, "counter", help);
        for (i, s) in &stats {
            let _ = writeln!(out, "{family}{{instance=\"{i}\"}} {}", value(s));
        }
    }
    if let Some(peers) = &node.peers {
        let mut up_lines = String::new();
        let mut outbox_lines = String::new();
        for connection in &peers.connections() {
            let c = label(connection);
            let peer = node.store.peer(connection)?;
            let head = node.store.next_outbox(connection, i64::MAX)?;
            // A head message with failed attempts means the last delivery did not go through.
            let up = peer.is_some_and(|p| p.state != "deleted")
                && head.as_ref().is_none_or(|h| h.attempts == 0);
            let _ = writeln!(
                up_lines,
                "twinsync_peer_link_up{{connection=\"{c}\"}} {}",
                u8::from(up)
            );
            let _ = writeln!(
                outbox_lines,
                "twinsync_peer_outbox{{connection=\"{c}\"}} {}",
                node.store.outbox_len(connection)?
            );
        }
        header(
            &mut out,
            "twinsync_peer_link_up",
            "gauge",
            "1 when a remote connection's peer is paired and its last delivery went through.",
        );
        out.push_str(&up_lines);
        header(
            &mut out,
            "twinsync_peer_outbox",
            "gauge",
            "Messages waiting for delivery to the peer node.",
        );
        out.push_str(&outbox_lines);
    }
    Ok(out)
}
