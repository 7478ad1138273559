//! The outgoing half of the pipeline: read the local issue, run the side's outgoing rule,
//! and hand the replica across (in process, or queued for the peer) only when it differs
//! from the last one sent; copies of the other side's items deleted here cross back too.

use super::*;

impl Pipeline {
    pub(super) async fn outgoing(&self, event: &Event) -> Result<Finished, EventError> {
        let side = self.side_of(event)?;
        let key = event.queue_key.clone();
        if cause_from_name(&event.cause) == SyncCause::Deleted {
            return self.send_deletion(&side, &key).await;
        }
        // An event queued before the twin ended (its other half deleted) must not start a new one.
        if let Some(how) = self.store.twin_end(&side.connection, &side.name, &key)? {
            return Ok(Finished {
                state: EventState::Done,
                rule_version: None,
                note: Some(format!("{key}'s twin ended ({how}); nothing sent")),
            });
        }
        // Queued before the method changed: it waits for a request (manual) or a catch-up
        // (disabled); the registers stay as they are, so the change is not lost.
        if !side.sync.sends(cause_from_name(&event.cause)) {
            return Ok(Finished {
                state: EventState::Done,
                rule_version: None,
                note: Some(format!(
                    "the sync method of {} is {}; nothing sent",
                    side.name,
                    side.sync.as_str()
                )),
            });
        }
        let Some(LocalIssue { mut issue, .. }) = side.jira.get_issue(&key).await? else {
            return Ok(Finished {
                state: EventState::Done,
                rule_version: None,
                note: Some(format!("{key} no longer exists on {}", side.instance)),
            });
        };
        let twin = self
            .store
            .twin_by_local(&side.connection, &side.name, &key)?;
        let ctx = SyncContext {
            connection: side.connection.clone(),
            local_side: side.name.clone(),
            remote_side: side.other.clone(),
            first_sync: twin.as_ref().and_then(|t| t.remote_key.as_ref()).is_none(),
            local_key: Some(key.clone()),
            remote_key: twin.as_ref().and_then(|t| t.remote_key.clone()),
            cause: cause_from_name(&event.cause),
        };
        self.name_link_twins_out(&side, &mut issue.links)?;
        let (limits, config) = (side.limits, side.config.clone());
        let updated = issue.updated.clone();
        let removed = self.removed_copies(&side, &issue)?;
        let (replica, version) =
            match Self::call_rule(&side, move |r| r.outgoing(issue, ctx, &limits, &config)).await {
                Ok(v) => v,
                Err(end) => return end,
            };
        crate::failpoint!("outgoing-rule-run");
        let mut registers = registers_of(twin.as_ref())?;
        let edited = note_local_edits(
            &mut registers,
            &field_hashes(&replica),
            edit_time(&updated),
            &side.name,
        );
        let registers_json = encode_registers(&registers)?;
        let hash = replica_hash(&replica);
        // Equal content is not enough: a field edited back to what was last sent carries a
        // new version the other side must hear of.
        if removed.is_empty()
            && edited.is_empty()
            && twin.as_ref().and_then(|t| t.sent_hash.as_deref()) == Some(hash.as_str())
        {
            self.store
                .record_nothing_unsent(&side.connection, &side.name, &key, &updated)?;
            return Ok(Finished {
                state: EventState::Done,
                rule_version: Some(version),
                note: Some("nothing the rule exports changed; nothing sent".into()),
            });
        }
        let envelope = Envelope {
            origin_side: side.name.clone(),
            origin_key: key.clone(),
            replica,
            seq: self
                .store
                .take_sent_seq(&side.connection, &side.name, &key)?,
            versions: versions_of(&registers),
            deleted: false,
            removed: removed
                .iter()
                .map(|(kind, m)| RemovedItem {
                    kind: kind.as_str().to_string(),
                    id: m.remote_id.clone(),
                })
                .collect(),
        };
        // Deliver before recording "sent": a crash in between re-sends (harmless), never loses.
        self.deliver(&side, &envelope)?;
        crate::failpoint!("replica-delivered");
        self.store.ensure_twin(&side.connection, &side.name, &key)?;
        for (kind, m) in &removed {
            self.store.delete_item_mapping(
                &side.connection,
                &side.name,
                *kind,
                &key,
                &m.remote_id,
            )?;
        }
        self.store.record_sent(
            &side.connection,
            &side.name,
            &key,
            &SentRecord {
                hash: &hash,
                replica: &envelope.to_json(),
                left: Some((envelope.seq, &updated, !edited.is_empty())),
                registers: Some(&registers_json),
            },
        )?;
        crate::failpoint!("sent-recorded");
        Ok(Finished {
            state: EventState::Done,
            rule_version: Some(version),
            note: None,
        })
    }

    /// Copies this side made of the other side's items that are gone from the issue: someone
    /// deleted them here, and the deletion crosses back.
    fn removed_copies(
        &self,
        side: &Side,
        issue: &Issue,
    ) -> Result<Vec<(ItemKind, ItemMapping)>, EventError> {
        let mut gone = Vec::new();
        for kind in ItemKind::ALL {
            let present = item_ids(issue, kind);
            for m in self
                .store
                .item_mappings(&side.connection, &side.name, kind, &issue.key)?
            {
                if m.origin == Origin::Remote && !present.contains(m.local_id.as_str()) {
                    gone.push((kind, m));
                }
            }
        }
        Ok(gone)
    }

    /// The in-process transport of a local connection: the replica becomes an incoming event
    /// of the other side. A remote connection queues it for the peer instead.
    pub(super) fn deliver(&self, side: &Side, envelope: &Envelope) -> Result<(), EventError> {
        if let Some(peers) = self.peer_links(&side.connection) {
            return self.deliver_to_peer(peers, side, envelope);
        }
        let other = self.side(&side.connection, &side.other).ok_or_else(|| {
            EventError::Permanent(format!(
                "connection {:?}: the other side {:?} is not on this node",
                side.connection, side.other
            ))
        })?;
        self.receive(&other, envelope)
    }
}
