//! What a failing check prints about a node's store: its events, one line each, so a test
//! that gives up shows where the queue stood.

use twinsync::store::{Event, EventState, Store};

/// One event as a line: id, side, kind, queue key, state, attempts and last error.
pub fn event_line(e: &Event) -> String {
    format!(
        "  #{} {} {:?} {} {:?} attempts={} {}\n",
        e.id,
        e.side,
        e.kind,
        e.queue_key,
        e.state,
        e.attempts,
        e.last_error.as_deref().unwrap_or("")
    )
}

/// The newest `n` events of the store, one line each, whatever their state.
pub fn recent_events(store: &Store, n: i64) -> String {
    let events = store.events(None, None, n, 0).expect("events");
    events.iter().map(event_line).collect()
}

/// The queue's counts and its open and failed events.
pub fn queue_story(store: &Store) -> String {
    let mut out = String::new();
    if let Ok(stats) = store.queue_stats(None) {
        out.push_str(&format!("queue: {stats:?}\n"));
    }
    for state in [EventState::Running, EventState::Pending, EventState::Failed] {
        for e in store.events(Some(state), None, 15, 0).unwrap_or_default() {
            out.push_str(&event_line(&e));
        }
    }
    out
}
