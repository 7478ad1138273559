//! The incoming half of the pipeline: a replica arrives as an incoming event, the side's
//! incoming rule runs on it and the local twin, and the twin is reconciled (created or
//! updated, its parent linked) and linked to its origin, resuming an interrupted creation.

use super::*;

impl Pipeline {
    /// A replica arrived for `other`: it becomes an incoming event of that side.
    pub(crate) fn receive(&self, other: &Side, envelope: &Envelope) -> Result<(), EventError> {
        // The receiving side orders by its local twin when it has one, else by the remote key.
        let queue_key =
            match self
                .store
                .twin_by_remote(&other.connection, &other.name, &envelope.origin_key)?
            {
                Some(t) => t.local_key,
                None => format!("remote:{}", envelope.origin_key),
            };
        self.store.enqueue(&NewEvent {
            connection: other.connection.clone(),
            side: other.name.clone(),
            kind: EventKind::Incoming,
            queue_key,
            cause: "replica".into(),
            payload: Some(envelope.to_json()),
        })?;
        self.wake.notify_waiters();
        Ok(())
    }

    pub(super) async fn incoming(&self, event: &Event) -> Result<Finished, EventError> {
        let side = self.side_of(event)?;
        let envelope: Envelope =
            serde_json::from_str(event.payload.as_deref().unwrap_or("")).map_err(
                EventError::json(format!("unreadable replica in event {}", event.id)),
            )?;
        if envelope.deleted {
            return self.receive_deletion(&side, &envelope).await;
        }
        let hash = replica_hash(&envelope.replica);
        let twin = self
            .store
            .twin_by_remote(&side.connection, &side.name, &envelope.origin_key)?;
        // A redelivery carries a sequence number already seen. (An equal hash alone is not
        // enough: an issue may return to an earlier state, and that must cross too.)
        let seen = twin.as_ref().is_some_and(|t| {
            envelope.seq > 0 && envelope.seq <= t.applied_seq
                || envelope.seq == 0 && t.applied_hash.as_deref() == Some(hash.as_str())
        });
        if seen {
            return Ok(Finished {
                state: EventState::Done,
                rule_version: None,
                note: Some("replica already applied".into()),
            });
        }
        let local = match &twin {
            Some(t) => side.jira.get_issue(&t.local_key).await?,
            None => self.find_unfinished_creation(&side, &envelope).await?,
        };
        // The local half is gone: that is this side's deletion (once confirmed), which crosses
        // to the other side's rule; the replica is not made into a new twin.
        if let (Some(t), None) = (&twin, &local) {
            let mut done = self.send_deletion(&side, &t.local_key).await?;
            done.note = Some(format!(
                "{} was deleted here; its deletion crossed instead of this replica",
                t.local_key
            ));
            return Ok(done);
        }
        // A twin found after an interrupted creation has no row yet when `twin` was read.
        let twin = match (&twin, &local) {
            (None, Some(l)) => {
                self.store
                    .twin_by_local(&side.connection, &side.name, &l.issue.key)?
            }
            _ => twin,
        };
        // A twin made (again) here has no local state: every field of the replica lands.
        let mut registers = match &local {
            Some(_) => registers_of(twin.as_ref())?,
            None => Registers::new(),
        };
        let (mut unsent, mut hashes, mut state) = (false, BTreeMap::new(), None);
        if let (Some(twin), Some(current)) = (&twin, &local) {
            let s = self
                .local_edits(&side, twin, current, &mut registers)
                .await?;
            (unsent, hashes) = (s.unsent, s.hashes.clone());
            state = Some(s);
        }
        let local_key = local.as_ref().map(|l| l.issue.key.clone());
        let ctx = SyncContext {
            connection: side.connection.clone(),
            local_side: side.name.clone(),
            remote_side: side.other.clone(),
            first_sync: local.is_none(),
            local_key: local_key.clone(),
            remote_key: Some(envelope.origin_key.clone()),
            cause: SyncCause::Replica,
        };
        let (limits, config) = (side.limits, side.config.clone());
        let mut replica = envelope.replica.clone();
        self.name_link_twins_in(&side, &mut replica.links)?;
        let mut local_issue = local.as_ref().map(|l| l.issue.clone());
        if let Some(l) = local_issue.as_mut() {
            self.name_link_twins_out(&side, &mut l.links)?;
        }
        let (changes, version) = match Self::call_rule(&side, move |r| {
            r.incoming(replica, local_issue, ctx, &limits, &config)
        })
        .await
        {
            Ok(v) => v,
            Err(end) => return end,
        };
        crate::failpoint!("incoming-rule-run");
        if let (Some(state), Some(current)) = (&state, &local) {
            state.forget_agreeing(&mut registers, &changes, &current.issue);
        }
        // Per field, the newer version wins; the item sets always merge.
        let (changes, taken, kept) = winning_fields(changes, &registers, &envelope.versions);
        if !kept.is_empty() {
            tracing::info!(key = ?local_key, remote = %envelope.origin_key, fields = ?kept,
                "concurrent field edit: this side's newer versions win these fields");
            unsent = true;
        }
        let taken: Vec<(String, Version)> = taken
            .into_iter()
            .filter_map(|f| envelope.versions.get(&f).cloned().map(|v| (f, v)))
            .collect();
        let changes = self.link_parent(&side, changes, local.is_none(), event.attempts)?;
        let changes = self.remap_mentions(&side, changes).await?;
        // A retried event may have reached Jira before the node stopped (or Jira failed after
        // handling a request): copies it made then are adopted, not made again.
        let retried = event.attempts > 1;
        let applied = match self
            .apply(&side, &envelope, &changes, local.as_ref(), retried)
            .await
        {
            Ok((key, plan)) => self
                .apply_removed(&side, &envelope, &key, local.as_ref())
                .await
                .map(|()| (key, plan)),
            Err(e) => Err(e),
        };
        let (key, plan) = match applied {
            Ok(done) => done,
            Err(e) => return Err(self.gone_meanwhile(&side, &envelope.origin_key, e).await),
        };
        self.store.record_applied(
            &side.connection,
            &side.name,
            &key,
            &hash,
            &envelope.to_json(),
        )?;
        self.store
            .record_seen(&side.connection, &side.name, &key, envelope.seq)?;
        self.settle(
            &side,
            &key,
            local.as_ref().map(|l| &l.issue),
            &plan,
            unsent,
            registers,
            &taken,
            &hashes,
        )
        .await?;
        Ok(Finished {
            state: EventState::Done,
            rule_version: Some(version),
            note: None,
        })
    }

    /// A write that failed because someone deleted the twin meanwhile is no fault of the
    /// event: it is retried, and the retry finds the twin gone and sends its deletion across
    /// instead of waiting for an admin.
    async fn gone_meanwhile(&self, side: &Side, origin_key: &str, e: EventError) -> EventError {
        // Only a Jira answer that would wait for an admin is worth a look at the twin.
        if !matches!(&e, EventError::Side(_) | EventError::Permanent(_)) || e.is_transient() {
            return e;
        }
        let twin = self
            .store
            .twin_by_remote(&side.connection, &side.name, origin_key);
        let Ok(Some(twin)) = twin else {
            return e;
        };
        match side.jira.get_issue(&twin.local_key).await {
            Ok(None) => {
                tracing::warn!(key = %twin.local_key, remote = origin_key, error = %e,
                    "the twin was deleted while a change was applied; the retry sends the deletion");
                EventError::Transient(format!("{e} ({} was deleted meanwhile)", twin.local_key))
            }
            _ => e,
        }
    }

    /// After a crash between Jira's answer to "create" and the store's record of the twin, the
    /// creation is still noted: the node looks for the issue it marked, and links it.
    async fn find_unfinished_creation(
        &self,
        side: &Side,
        envelope: &Envelope,
    ) -> Result<Option<LocalIssue>, EventError> {
        let Some(started) =
            self.store
                .unfinished_creation(&side.connection, &side.name, &envelope.origin_key)?
        else {
            return Ok(None);
        };
        let origin = TwinOrigin {
            connection: &side.connection,
            side: &envelope.origin_side,
            key: &envelope.origin_key,
        };
        let Some(found) = side
            .jira
            .find_created(&side.project, &origin, started)
            .await?
        else {
            return Ok(None);
        };
        tracing::warn!(key = %found.issue.key, remote = %envelope.origin_key,
            "found the twin created before a crash; linking it instead of creating another");
        self.link(side, &found.issue.key, &envelope.origin_key)?;
        Ok(Some(found))
    }

    /// The rule names the parent by its key on the other side; the local twin of that parent
    /// becomes the parent here. A new sub-task waits (a few retries) for its parent to sync first.
    fn link_parent(
        &self,
        side: &Side,
        mut changes: Changes,
        creating: bool,
        attempts: i64,
    ) -> Result<Changes, EventError> {
        let Some(remote_parent) = changes.parent.take() else {
            return Ok(changes);
        };
        match self
            .store
            .twin_by_remote(&side.connection, &side.name, &remote_parent)?
        {
            Some(twin) => changes.parent = Some(twin.local_key),
            None if creating && attempts < PARENT_WAIT_ATTEMPTS => {
                return Err(EventError::Transient(format!(
                    "parent {remote_parent} has no twin on side {} yet; waiting for it to sync",
                    side.name
                )));
            }
            None => {
                tracing::info!(parent = %remote_parent, "parent is not under sync; syncing without the link")
            }
        }
        Ok(changes)
    }

    pub(super) fn link(
        &self,
        side: &Side,
        local_key: &str,
        origin_key: &str,
    ) -> Result<(), EventError> {
        if let Some(peers) = self.peer_links(&side.connection) {
            return self.link_with_peer(peers, side, local_key, origin_key);
        }
        // With the ack: the sending side learns its twin's key (in-process for a local
        // connection), in the same transaction.
        self.store.link_twin_pair(
            &side.connection,
            (&side.name, local_key),
            (&side.other, origin_key),
        )?;
        Ok(())
    }
}
