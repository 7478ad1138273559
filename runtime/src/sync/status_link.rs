//! Sync status inside Jira: each twin carries a remote link to its other half and an issue
//! property saying whether the pair is synced, pending or in error.
//!
//! When a sync event on a twin ends, the pipeline hands its outcome here. The link (globalId
//! `twinsync:<connection>:<other side>`, titled `<OTHER-KEY> (<connection>)`) and the
//! `twinsync.sync` property (`{status, connection, other, at}`, plus `reason` on an error) are
//! written on the local issue, and on the other half too when that half is on this node (a
//! local connection). A JQL search `issue.property[twinsync.sync].status = error` then finds
//! every issue whose sync failed.
//!
//! "pending" means an event of the twin waits for a retry after a transient fault. A replica
//! handed across changes nothing on a local connection (the other side's event settles both
//! halves) and means "synced" on a remote one (the peer node writes its own half).
//!
//! Writes happen only when the status differs from the one last written for the issue, and
//! an outcome older than the last one written is dropped: each event takes a stamp when it
//! starts, so a slow "pending" cannot overwrite the "synced" of an event that ran after it.
//! What was written is kept in memory: after a restart the first outcome of each twin is
//! written again, which is harmless (the link is updated in place by its globalId).
//!
//! Creating a link is an issue change in Jira (a `RemoteIssueLink` history item, a new
//! `updated`); updating it in place and setting a property are not. So the first write for
//! an issue reads `updated` before and after, and when the issue had nothing unsent before,
//! notes the new `updated` as the node's own: the poller does not queue it back.
//!
//! A failed write never fails the sync event: it is logged as a warning and tried again on
//! the next status change.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::pipeline::{EventError, Finished};
use super::side::Side;
use crate::jira::RemoteLink;
use crate::store::{EventKind, EventState, Store};

/// The issue property that holds a twin's sync status.
pub(crate) const STATUS_PROPERTY: &str = "twinsync.sync";

/// The longest error reason shown in a link's summary.
const MAX_REASON_CHARS: usize = 120;

/// A side's status-link settings.
#[derive(Debug, Clone)]
pub(crate) struct StatusLinkSettings {
    /// Whether the side writes status links and properties at all (on by default).
    pub(crate) enabled: bool,
    /// The admin page's address; a twin whose other half is on a peer node links to
    /// `<base>/#/issues/<connection>/<key>` there.
    pub(crate) url_base: Option<String>,
}

impl Default for StatusLinkSettings {
    fn default() -> Self {
        StatusLinkSettings {
            enabled: true,
            url_base: None,
        }
    }
}

/// A twin's sync status as written to Jira.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SyncStatus {
    Synced,
    Pending,
    /// With a short reason.
    Error(String),
    /// The other half was deleted and this issue no longer syncs.
    Unlinked,
}

impl SyncStatus {
    /// The property's `status`: one word, for JQL.
    fn word(&self) -> &'static str {
        match self {
            SyncStatus::Synced => "synced",
            SyncStatus::Pending => "pending",
            SyncStatus::Error(_) => "error",
            SyncStatus::Unlinked => "unlinked",
        }
    }

    /// The link's summary: the word, and the reason of an error.
    fn summary(&self) -> String {
        match self {
            SyncStatus::Error(r) => format!("error: {r}"),
            SyncStatus::Unlinked => "unlinked: the other half was deleted".to_string(),
            other => other.word().to_string(),
        }
    }
}

/// What an event's end means for its twin's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A replica was applied here: the pair is in sync.
    Synced,
    /// A replica was handed across; the other side has yet to apply it.
    Sent,
    /// The event waits for a retry after a transient fault.
    Pending,
    /// The event failed and waits for an admin.
    Error(String),
    /// Nothing that changes the status (nothing sent, a skip, an issue gone).
    Unchanged,
}

impl Outcome {
    /// The outcome of an event of `kind` that ended with `result`.
    pub(crate) fn of(kind: EventKind, result: &Result<Finished, EventError>) -> Outcome {
        match result {
            Ok(done) => match (kind, done.state) {
                (EventKind::Incoming, EventState::Done) => Outcome::Synced,
                // An outgoing event without a note handed a replica across.
                (EventKind::Outgoing, EventState::Done) if done.note.is_none() => Outcome::Sent,
                _ => Outcome::Unchanged,
            },
            // The rule's own words, without the connection and side the link already names.
            Err(EventError::Rule { source, .. }) => {
                Outcome::Error(short_reason(&source.to_string()))
            }
            Err(EventError::Store(_)) => Outcome::Pending,
            Err(e) if e.is_transient() => Outcome::Pending,
            Err(e) => Outcome::Error(short_reason(&e.to_string())),
        }
    }
}

/// The first line of `reason`, cut to [`MAX_REASON_CHARS`].
fn short_reason(reason: &str) -> String {
    let line = reason.lines().next().unwrap_or("").trim();
    if line.chars().count() <= MAX_REASON_CHARS {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(MAX_REASON_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// One half of a twin to write: the side it is on, its key, and its other half.
pub(crate) struct Half<'a> {
    pub(crate) side: &'a Side,
    pub(crate) key: &'a str,
    pub(crate) other_key: &'a str,
    /// The other half's browse URL when its site is known (a local connection).
    pub(crate) other_url: Option<String>,
}

/// What was last written for one issue, and the stamp of the outcome that wrote it.
#[derive(Debug, Default)]
struct Written {
    status: Option<SyncStatus>,
    stamp: u64,
}

/// An issue: (connection, side, key).
type IssueId = (String, String, String);

/// The status links of one node: stamps for outcomes, and what was last written per issue.
#[derive(Default)]
pub(crate) struct StatusLinks {
    clock: AtomicU64,
    /// By (connection, side, issue key); each entry's lock is held while its issue is written.
    written: Mutex<HashMap<IssueId, Arc<tokio::sync::Mutex<Written>>>>,
}

impl StatusLinks {
    /// A stamp for an event starting now; later events get larger stamps.
    pub(crate) fn stamp(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn entry(&self, side: &Side, key: &str) -> Arc<tokio::sync::Mutex<Written>> {
        let mut map = self.written.lock().unwrap_or_else(|p| p.into_inner());
        map.entry((side.connection.clone(), side.name.clone(), key.to_string()))
            .or_default()
            .clone()
    }

    /// Writes `status` on `half` unless it is what was last written there or an outcome
    /// newer than `stamp` was written meanwhile. Never fails: a failure is logged.
    pub(crate) async fn write(
        &self,
        store: &Store,
        half: &Half<'_>,
        status: &SyncStatus,
        stamp: u64,
    ) {
        let settings = half.side.jira.status_settings();
        if !settings.enabled {
            return;
        }
        let entry = self.entry(half.side, half.key);
        let mut written = entry.lock().await;
        if written.stamp > stamp {
            return;
        }
        if written.status.as_ref() == Some(status) {
            written.stamp = stamp;
            return;
        }
        let side = half.side;
        let link = RemoteLink {
            global_id: format!("twinsync:{}:{}", side.connection, side.other),
            url: link_url(half, settings.url_base.as_deref()),
            title: format!("{} ({})", half.other_key, side.connection),
            summary: Some(status.summary()),
            // A link whose other half is gone shows struck through.
            status_resolved: *status == SyncStatus::Unlinked,
            icon_title: Some("Twinsync".into()),
        };
        let mut property = json!({
            "status": status.word(),
            "connection": side.connection,
            "other": half.other_key,
            "at": crate::store::now_ms(),
        });
        if let SyncStatus::Error(reason) = status {
            property["reason"] = json!(reason);
        }
        // Only a first write can create the link (and so change the issue).
        let first = written.status.is_none();
        let before = if first {
            self.quiet_updated(store, half).await
        } else {
            None
        };
        match side
            .jira
            .write_status(half.key, &link, STATUS_PROPERTY, &property)
            .await
        {
            Ok(()) => {
                if let Some(before) = before {
                    self.note_own_change(store, half, &before).await;
                }
                written.status = Some(status.clone());
                written.stamp = stamp;
            }
            Err(e) => {
                tracing::warn!(connection = %side.connection, side = %side.name, issue = %half.key,
                    status = status.word(), error = %e, "cannot write the sync status link; the sync itself is unaffected");
            }
        }
    }
}

impl StatusLinks {
    /// The issue's `updated` now, if the node had seen it as it is (nothing unsent).
    async fn quiet_updated(&self, store: &Store, half: &Half<'_>) -> Option<String> {
        let side = half.side;
        let twin = store
            .twin_by_local(&side.connection, &side.name, half.key)
            .ok()
            .flatten()?;
        let now = side.jira.issue_updated(half.key).await.ok().flatten()?;
        (twin.sent_updated.as_deref() == Some(now.as_str())
            || twin.seen_updated.as_deref() == Some(now.as_str()))
        .then_some(now)
    }

    /// Notes the issue's new `updated` as the node's own change, if the write changed it.
    async fn note_own_change(&self, store: &Store, half: &Half<'_>, before: &str) {
        let side = half.side;
        let after = match side.jira.issue_updated(half.key).await {
            Ok(Some(a)) if a != before => a,
            _ => return,
        };
        if let Err(e) = store.record_nothing_unsent(&side.connection, &side.name, half.key, &after)
        {
            tracing::warn!(connection = %side.connection, issue = %half.key, error = %e,
                "cannot note the status link as the node's own change");
        }
    }
}

/// Where the link points: the other half's browse URL when its site is known, else this
/// node's admin page for the twin, else a `twinsync:` URI.
///
/// Jira requires `object.url`; both published specs type it as a plain string (no `uri`
/// format), so a `twinsync:<connection>/<OTHER-KEY>` URI is accepted where no web address
/// exists. It names the twin without pretending to be a page.
fn link_url(half: &Half<'_>, url_base: Option<&str>) -> String {
    if let Some(u) = &half.other_url {
        return u.clone();
    }
    let conn = &half.side.connection;
    match url_base {
        Some(base) => format!(
            "{}/#/issues/{conn}/{}",
            base.trim_end_matches('/'),
            half.key
        ),
        None => format!("twinsync:{conn}/{}", half.other_key),
    }
}

/// `<site>/browse/<KEY>`.
pub(crate) fn browse_url(site: &str, key: &str) -> String {
    format!("{}/browse/{key}", site.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(state: EventState, note: Option<&str>) -> Result<Finished, EventError> {
        Ok(Finished {
            state,
            rule_version: None,
            note: note.map(str::to_string),
        })
    }

    #[test]
    fn outcomes_of_event_ends() {
        use EventKind::*;
        assert_eq!(
            Outcome::of(Incoming, &finished(EventState::Done, None)),
            Outcome::Synced
        );
        assert_eq!(
            Outcome::of(Outgoing, &finished(EventState::Done, None)),
            Outcome::Sent
        );
        assert_eq!(
            Outcome::of(Outgoing, &finished(EventState::Done, Some("nothing sent"))),
            Outcome::Unchanged
        );
        assert_eq!(
            Outcome::of(Incoming, &finished(EventState::Skipped, Some("no"))),
            Outcome::Unchanged
        );
        assert_eq!(
            Outcome::of(Incoming, &Err(EventError::Transient("503".into()))),
            Outcome::Pending
        );
        assert_eq!(
            Outcome::of(
                Incoming,
                &Err(EventError::Permanent("no such field\nmore".into()))
            ),
            Outcome::Error("no such field".into())
        );
    }

    #[test]
    fn reasons_are_short() {
        let long = "x".repeat(500);
        let r = short_reason(&long);
        assert_eq!(r.chars().count(), MAX_REASON_CHARS);
        assert!(r.ends_with('…'));
        assert_eq!(short_reason("  one\ntwo"), "one");
        assert_eq!(SyncStatus::Error("bad".into()).summary(), "error: bad");
        assert_eq!(SyncStatus::Pending.summary(), "pending");
        assert_eq!(browse_url("http://j/", "B-1"), "http://j/browse/B-1");
    }
}
