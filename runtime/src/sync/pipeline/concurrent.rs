//! What this side has not sent yet when a replica arrives: echo suppression (the node's own
//! writes send nothing back) and concurrent edits (the later field change wins on both sides).

use super::*;

impl Pipeline {
    /// What this side's outgoing rule makes of the local issue now (`None` if it skips or fails).
    async fn current_replica(
        &self,
        side: &Side,
        issue: Issue,
        remote_key: Option<String>,
    ) -> Option<Replica> {
        let ctx = SyncContext {
            connection: side.connection.clone(),
            local_side: side.name.clone(),
            remote_side: side.other.clone(),
            first_sync: false,
            local_key: Some(issue.key.clone()),
            remote_key,
            event: SyncEvent::Updated,
        };
        let (limits, config) = (side.limits, side.config.clone());
        // A rule that skips or fails here will say so again on the next outgoing event.
        Self::call_rule(side, move |r| r.outgoing(issue, ctx, &limits, &config))
            .await
            .ok()
            .map(|(r, _)| r)
    }

    /// How to apply a replica, given what this side changed since the other side last heard
    /// of it. When both sides changed fields, the later change wins the issue's fields (ties:
    /// the side name that sorts last); both sides decide alike, so they converge with no
    /// ping-pong. Comments and attachments never conflict: they are sets merged through the
    /// id mappings, and always land.
    pub(super) async fn concurrent_edit(
        &self,
        side: &Side,
        twin: &Twin,
        current: &LocalIssue,
        envelope: &Envelope,
    ) -> Result<Verdict, EventError> {
        let now = self
            .current_replica(side, current.issue.clone(), twin.remote_key.clone())
            .await;
        let sent = twin
            .sent_replica
            .as_deref()
            .and_then(|j| serde_json::from_str::<Envelope>(j).ok())
            .map(|e| e.replica);
        let (unsent, unsent_fields) = match (&now, &sent) {
            (Some(now), Some(sent)) => (now != sent, fields_only(now) != fields_only(sent)),
            // No record of a send yet (a twin whose creating event is being retried): its
            // fields are what this node wrote, but a comment or attachment no mapping knows was
            // added by someone here, and has not gone out.
            _ => (self.has_unmapped_items(side, &current.issue)?, false),
        };
        if !unsent_fields && envelope.ack >= twin.sent_seq {
            return Ok(Verdict {
                unsent,
                fields: true,
            });
        }
        // Concurrent. Only a field edit on both sides is a conflict: a side that only added
        // comments or attachments sends fields the other side has moved past.
        if !envelope.fields_changed {
            return Ok(Verdict {
                unsent,
                fields: false,
            });
        }
        let mine_changed_fields = unsent_fields || twin.sent_fields_seq > envelope.ack;
        if !mine_changed_fields {
            return Ok(Verdict {
                unsent,
                fields: true,
            });
        }
        let mine = if unsent_fields {
            current.issue.updated.as_str()
        } else {
            twin.sent_updated.as_deref().unwrap_or("")
        };
        if !local_wins(mine, &side.name, &envelope.updated, &envelope.origin_side) {
            return Ok(Verdict {
                unsent,
                fields: true,
            });
        }
        // This side's fields win; their comment and attachment sets still land (they never
        // conflict), and this side's newer fields go out after.
        tracing::info!(key = %twin.local_key, remote = %envelope.origin_key, local = mine,
            remote_updated = %envelope.updated,
            "concurrent field edit: this side's later version wins; taking only the other side's comments and attachments");
        Ok(Verdict {
            unsent,
            fields: false,
        })
    }

    /// Whether the issue has a comment or attachment that no id mapping knows.
    fn has_unmapped_items(&self, side: &Side, issue: &Issue) -> Result<bool, EventError> {
        let mut known: HashSet<String> = HashSet::new();
        for kind in [ItemKind::Comment, ItemKind::Attachment] {
            known.extend(
                self.store
                    .item_mappings(&side.connection, &side.name, kind, &issue.key)?
                    .into_iter()
                    .map(|m| m.local_id),
            );
        }
        Ok(issue
            .comments
            .iter()
            .map(|c| &c.id)
            .chain(issue.attachments.iter().map(|a| &a.id))
            .any(|id| !known.contains(id)))
    }

    /// Records what this side would send now, so the webhook for our own change sends nothing.
    /// If the issue changed in any way the plan does not explain (someone edited it while the
    /// change was applied), nothing is recorded and the merged state goes out instead.
    pub(super) async fn suppress_echo(
        &self,
        side: &Side,
        key: &str,
        before: Option<&Issue>,
        plan: &Plan,
    ) -> Result<(), EventError> {
        let Some(LocalIssue { issue, .. }) = side.jira.get_issue(key).await? else {
            return Ok(());
        };
        let (conn, name) = (&side.connection, &side.name);
        let mut known: HashSet<String> = HashSet::new();
        for kind in [ItemKind::Comment, ItemKind::Attachment] {
            known.extend(
                self.store
                    .item_mappings(conn, name, kind, key)?
                    .into_iter()
                    .map(|m| m.local_id),
            );
        }
        if foreign_change(before, &issue, plan, &known) {
            tracing::info!(
                key,
                "the issue also changed locally while a change was applied; sending the merged state"
            );
            self.enqueue_outgoing(side, key, SyncEvent::Updated)?;
            return Ok(());
        }
        let twin = self.store.twin_by_local(conn, name, key)?;
        let updated = issue.updated.clone();
        let Some(replica) = self
            .current_replica(side, issue, twin.and_then(|t| t.remote_key))
            .await
        else {
            return Ok(());
        };
        let envelope = Envelope {
            origin_side: side.name.clone(),
            origin_key: key.to_string(),
            replica,
            seq: 0,
            ack: 0,
            updated: String::new(),
            fields_changed: false,
        };
        self.store.record_sent(
            conn,
            name,
            key,
            &replica_hash(&envelope.replica),
            &envelope.to_json(),
            None,
        )?;
        // The node's own write: the poller has nothing to queue for it.
        self.store
            .record_nothing_unsent(conn, name, key, &updated)?;
        Ok(())
    }
}

/// How to apply a replica that arrives for an existing twin.
pub(super) struct Verdict {
    /// This side has local changes the other side has not seen: they go out after applying.
    pub(super) unsent: bool,
    /// Take its fields, or only its comment and attachment sets.
    pub(super) fields: bool,
}

/// Whether `after` differs from `before` in a way the applied plan does not explain: a field
/// it did not write, a comment or attachment nobody synced, a comment body it did not update.
fn foreign_change(
    before: Option<&Issue>,
    after: &Issue,
    plan: &Plan,
    known: &HashSet<String>,
) -> bool {
    let before_ids: HashSet<&str> = before
        .into_iter()
        .flat_map(|b| {
            b.comments
                .iter()
                .map(|c| c.id.as_str())
                .chain(b.attachments.iter().map(|a| a.id.as_str()))
        })
        .collect();
    let new_item = |id: &str| !before_ids.contains(id) && !known.contains(id);
    if after.comments.iter().any(|c| new_item(&c.id))
        || after.attachments.iter().any(|a| new_item(&a.id))
    {
        return true;
    }
    let Some(before) = before else {
        return false;
    };
    let updated: HashSet<&str> = plan
        .comments
        .iter()
        .filter_map(|op| match op {
            reconcile::CommentOp::Update { local_id, .. } => Some(local_id.as_str()),
            _ => None,
        })
        .collect();
    let body_changed = after.comments.iter().any(|c| {
        !updated.contains(c.id.as_str())
            && before
                .comments
                .iter()
                .find(|b| b.id == c.id)
                .is_some_and(|b| b.body.text.trim() != c.body.text.trim())
    });
    let f = &plan.fields;
    let sets = |a: &[String], b: &[String]| {
        a.iter().collect::<std::collections::BTreeSet<_>>() != b.iter().collect()
    };
    body_changed
        || (f.summary.is_none() && before.summary != after.summary)
        || (f.priority.is_none() && before.priority != after.priority)
        || (f.issue_type.is_none() && before.issue_type != after.issue_type)
        || (f.due_date.is_none() && before.due_date != after.due_date)
        || (f.labels.is_none() && sets(&before.labels, &after.labels))
        || (f.components.is_none() && sets(&before.components, &after.components))
        || (f.assignee.is_none() && before.assignee != after.assignee)
        || (plan.status.is_none() && !before.status.eq_ignore_ascii_case(&after.status))
        || (f.description.is_none()
            && before.description.as_ref().map(|d| d.text.trim())
                != after.description.as_ref().map(|d| d.text.trim()))
}

/// Changes reduced to the comment and attachment sets.
pub(super) fn sets_only(c: Changes) -> Changes {
    Changes {
        comments: c.comments,
        attachments: c.attachments,
        ..Changes::default()
    }
}

/// A replica without its comment and attachment sets, which merge rather than conflict.
pub(super) fn fields_only(r: &Replica) -> Replica {
    Replica {
        comments: Vec::new(),
        attachments: Vec::new(),
        ..r.clone()
    }
}
