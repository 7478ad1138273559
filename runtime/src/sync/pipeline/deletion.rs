//! A twin's deletion: the side whose issue was deleted confirms it (a 404 while the project
//! is still visible, never a 404 alone: Jira answers 404 for an issue the caller may no
//! longer see) and tells the other side, whose rule answers with a policy: delete its issue,
//! unlink it (a comment says why and the status link shows it), or do nothing.

use super::*;
use crate::model::{Changes, OnDelete, RichText};
use crate::rules::CallReport;

impl Pipeline {
    /// Jira said `key` was deleted (or a replica found it gone): confirm it and hand the
    /// deletion across.
    pub(super) async fn send_deletion(
        &self,
        side: &Side,
        key: &str,
    ) -> Result<Finished, EventError> {
        let (conn, name) = (&side.connection, &side.name);
        let Some(twin) = self.store.twin_by_local(conn, name, key)? else {
            return Ok(done(
                None,
                format!("{key} has no twin; its deletion stays here"),
            ));
        };
        if side.jira.get_issue(key).await?.is_some() {
            return Ok(done(None, format!("{key} still exists; not a deletion")));
        }
        // A 404 is a deletion only while the project stays in sight: losing it is a
        // permission change, and the admin must see it rather than lose the twins.
        if !side.jira.project_visible().await? {
            return Err(EventError::Permanent(format!(
                "{key} cannot be read and project {} is no longer visible on {}: a permission \
                 change, not a deletion; nothing was done to its twin",
                side.project, side.instance
            )));
        }
        let Some(remote_key) = twin.remote_key.clone() else {
            self.store.end_twin(conn, name, key, "", "deleted")?;
            return Ok(done(
                None,
                format!("{key} was deleted before its twin was made"),
            ));
        };
        let envelope = Envelope {
            origin_side: name.clone(),
            origin_key: key.to_string(),
            replica: Replica {
                key: Some(key.to_string()),
                ..Replica::default()
            },
            seq: self.store.take_sent_seq(conn, name, key)?,
            versions: BTreeMap::new(),
            removed: Vec::new(),
            deleted: true,
        };
        self.deliver(side, &envelope)?;
        self.store
            .end_twin(conn, name, key, &remote_key, "deleted")?;
        tracing::info!(key, remote = %remote_key, "issue deleted; the deletion crossed to its twin");
        Ok(Finished {
            state: EventState::Done,
            rule_version: None,
            note: None,
        })
    }

    /// The other half of a twin was deleted: this side's rule says what becomes of its own.
    pub(super) async fn receive_deletion(
        &self,
        side: &Side,
        envelope: &Envelope,
    ) -> Result<Finished, EventError> {
        let (conn, name) = (&side.connection, &side.name);
        let origin = &envelope.origin_key;
        let Some(twin) = self.store.twin_by_remote(conn, name, origin)? else {
            return Ok(done(None, format!("{origin} had no twin here")));
        };
        let key = twin.local_key.clone();
        let Some(local) = side.jira.get_issue(&key).await? else {
            self.store.end_twin(conn, name, &key, origin, "deleted")?;
            return Ok(done(None, format!("{key} is gone here too")));
        };
        let ctx = SyncContext {
            connection: conn.clone(),
            local_side: name.clone(),
            remote_side: side.other.clone(),
            first_sync: false,
            local_key: Some(key.clone()),
            remote_key: Some(origin.clone()),
            cause: SyncCause::Deleted,
        };
        let (limits, config) = (side.limits, side.config.clone());
        let replica = envelope.replica.clone();
        let issue = local.issue;
        let (changes, version) = match Self::call_rule(side, move |r| {
            if r.answers_deletion() {
                r.incoming(replica, Some(issue), ctx, &limits, &config)
            } else {
                // An older rule has no word for a deletion: it is never called, and the twin is unlinked.
                CallReport {
                    result: Ok(Changes::default()),
                    rule: r.id().clone(),
                    logs: Vec::new(),
                    fuel_used: 0,
                    memory_bytes: 0,
                }
            }
        })
        .await
        {
            Ok(v) => v,
            Err(end) => return end,
        };
        let policy = changes.on_delete.unwrap_or_default();
        match policy {
            OnDelete::Nothing => {
                return Ok(done(
                    Some(version),
                    format!("{origin} was deleted; the rule keeps {key} and its twin as they are"),
                ));
            }
            OnDelete::DeleteIssue => {
                side.jira.delete_issue(&key).await?;
                self.store.end_twin(conn, name, &key, origin, "deleted")?;
                tracing::info!(key, remote = %origin, "the other half was deleted; deleted here too");
            }
            OnDelete::Unlink => {
                let note = RichText::plain(format!(
                    "{origin} on {} was deleted; this issue no longer syncs with it (connection {conn}).",
                    side.other
                ));
                side.jira.add_comment(&key, &note, false).await?;
                self.store.end_twin(conn, name, &key, origin, "unlinked")?;
                let stamp = self.status.stamp();
                let half = Half {
                    side,
                    key: &key,
                    other_key: origin,
                    other_url: None,
                };
                self.status
                    .write(&self.store, &half, &SyncStatus::Unlinked, stamp)
                    .await;
                tracing::info!(key, remote = %origin, "the other half was deleted; unlinked");
            }
        }
        Ok(Finished {
            state: EventState::Done,
            rule_version: Some(version),
            note: Some(format!("{origin} was deleted: {}", policy_word(policy))),
        })
    }
}

fn policy_word(p: OnDelete) -> &'static str {
    match p {
        OnDelete::DeleteIssue => "deleted here too",
        OnDelete::Unlink => "unlinked",
        OnDelete::Nothing => "kept",
    }
}

fn done(rule_version: Option<String>, note: String) -> Finished {
    Finished {
        state: EventState::Done,
        rule_version,
        note: Some(note),
    }
}
