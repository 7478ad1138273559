//! What this side has not sent yet when a replica arrives: echo suppression (the node's own
//! writes send nothing back) and concurrent edits (per field, the newer version wins on both
//! sides; see `clock`).

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
            cause: SyncCause::Updated,
        };
        let (limits, config) = (side.limits, side.config.clone());
        // A rule that skips or fails here will say so again on the next outgoing event.
        Self::call_rule(side, move |r| r.outgoing(issue, ctx, &limits, &config))
            .await
            .ok()
            .map(|(r, _)| r)
    }

    /// What this side changed that the other side has not seen, when a replica arrives: its
    /// own field edits get a version now (a lost or late webhook must not lose them), and any
    /// difference from what was last sent (fields or items) must go out after applying.
    pub(super) async fn local_edits(
        &self,
        side: &Side,
        twin: &Twin,
        current: &LocalIssue,
        registers: &mut Registers,
    ) -> Result<LocalState, EventError> {
        let now = self
            .current_replica(side, current.issue.clone(), twin.remote_key.clone())
            .await;
        let sent = twin
            .sent_replica
            .as_deref()
            .and_then(|j| serde_json::from_str::<Envelope>(j).ok())
            .map(|e| e.replica);
        let unsent = match (&now, &sent) {
            (Some(now), Some(sent)) => now != sent,
            // No record of a send yet (a twin whose creating event is being retried): its
            // fields are what this node wrote, but a comment or attachment no mapping knows was
            // added by someone here, and has not gone out.
            _ => self.has_unmapped_items(side, &current.issue)?,
        };
        let (mut hashes, mut edited) = (BTreeMap::new(), Vec::new());
        let before = registers.clone();
        if let Some(now) = &now {
            hashes = field_hashes(now);
            // Only a twin that has registers can tell an edit from the node's own first write;
            // a connected pair's own values are edits made at their issue's last update.
            if !registers.is_empty() || twin.connected_at.is_some() {
                edited = note_local_edits(
                    registers,
                    &hashes,
                    edit_time(&current.issue.updated),
                    &side.name,
                );
                if !edited.is_empty() {
                    tracing::debug!(key = %twin.local_key, fields = ?edited, "unsent local field edits");
                }
            }
        }
        Ok(LocalState {
            unsent,
            hashes,
            edited,
            before,
        })
    }

    /// The local ids of every comment and attachment of `key` that a live mapping knows.
    fn mapped_local_ids(&self, side: &Side, key: &str) -> Result<HashSet<String>, EventError> {
        let mut known = HashSet::new();
        for kind in ItemKind::ALL {
            known.extend(
                self.store
                    .item_mappings(&side.connection, &side.name, kind, key)?
                    .into_iter()
                    .map(|m| m.local_id),
            );
        }
        Ok(known)
    }

    /// Whether the issue has a comment or attachment that no id mapping knows.
    fn has_unmapped_items(&self, side: &Side, issue: &Issue) -> Result<bool, EventError> {
        let known = self.mapped_local_ids(side, &issue.key)?;
        Ok(issue
            .comments
            .iter()
            .map(|c| &c.id)
            .chain(issue.attachments.iter().map(|a| &a.id))
            .chain(issue.worklogs.iter().map(|w| &w.id))
            .any(|id| !known.contains(id)))
    }

    /// After a replica was applied: the fields taken from it keep the other side's version
    /// (read back from Jira, so the node's own write is never taken for a local edit), and
    /// what this side would send now is recorded, so the webhook for our own change sends
    /// nothing. If the issue changed in a way the plan does not explain (someone edited it
    /// while the change was applied) or this side has unsent changes, the merged state goes
    /// out instead.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn settle(
        &self,
        side: &Side,
        key: &str,
        before: Option<&Issue>,
        plan: &Plan,
        mut unsent: bool,
        mut registers: Registers,
        taken: &[(String, Version)],
        hashes_before: &BTreeMap<String, String>,
    ) -> Result<(), EventError> {
        let (conn, name) = (&side.connection, &side.name);
        let twin = self.store.twin_by_local(conn, name, key)?;
        let mut rewritten = Plan::default();
        let read_back = if plan.is_empty() {
            None
        } else {
            let Some(LocalIssue { issue, .. }) = side.jira.get_issue(key).await? else {
                return Ok(());
            };
            let known = self.mapped_local_ids(side, key)?;
            rewritten = not_as_written(plan, &issue);
            if foreign_change(before, &issue, plan, &known) {
                tracing::info!(
                    key,
                    "the issue also changed locally while a change was applied; sending the merged state"
                );
                unsent = true;
            }
            let updated = issue.updated.clone();
            let replica = self
                .current_replica(side, issue, twin.and_then(|t| t.remote_key))
                .await;
            Some((replica, updated))
        };
        let hashes = match &read_back {
            Some((Some(replica), _)) => field_hashes(replica),
            _ => hashes_before.clone(),
        };
        // Fields this side holds no version of (its own, which the other side's rule does not
        // set: a new twin's reporter, say) are registered as they read now, so the webhook for
        // this write finds nothing edited and sends nothing back.
        let now_ms = match &read_back {
            Some((_, updated)) => edit_time(updated),
            None => crate::store::now_ms(),
        };
        for (field, hash) in &hashes {
            if !registers.contains_key(field) && !taken.iter().any(|(f, _)| f == field) {
                registers.insert(
                    field.clone(),
                    Register {
                        version: Version::after(None, now_ms, &side.name),
                        hash: hash.clone(),
                    },
                );
            }
        }
        for (field, version) in taken {
            if let Some(hash) = hashes.get(field) {
                // No value hashes empty: a field someone wrote again since gets a version
                // after theirs on the next outgoing event, so it wins on both sides.
                let hash = if differs(&rewritten, field) {
                    String::new()
                } else {
                    hash.clone()
                };
                registers.insert(
                    field.clone(),
                    Register {
                        version: version.clone(),
                        hash,
                    },
                );
            }
        }
        let json = serde_json::to_string(&registers)
            .map_err(EventError::json("cannot encode registers"))?;
        self.store.record_registers(conn, name, key, &json)?;
        crate::failpoint!("registers-recorded");
        if unsent {
            // Local changes not yet sent (a lost webhook, a comment, a newer field): the merged state.
            self.enqueue_outgoing(side, key, SyncCause::Updated)?;
            return Ok(());
        }
        let Some((Some(replica), updated)) = read_back else {
            return Ok(());
        };
        let envelope = Envelope {
            deleted: false,
            origin_side: side.name.clone(),
            origin_key: key.to_string(),
            replica,
            seq: 0,
            versions: Versions::new(),
            removed: Vec::new(),
        };
        self.store.record_sent(
            conn,
            name,
            key,
            &SentRecord {
                hash: &replica_hash(&envelope.replica),
                replica: &envelope.to_json(),
                left: None,
                registers: None,
            },
        )?;
        // The node's own write: the poller has nothing to queue for it.
        self.store
            .record_nothing_unsent(conn, name, key, &updated)?;
        Ok(())
    }
}

/// This side's state when a replica arrives for an existing twin.
pub(super) struct LocalState {
    /// This side has changes the other side has not seen: they go out after applying.
    pub(super) unsent: bool,
    /// The hash of each field of what this side's outgoing rule makes of the issue now.
    pub(super) hashes: BTreeMap<String, String>,
    /// Fields whose value moved away from their register (given a fresh version).
    pub(super) edited: Vec<String>,
    /// The registers before those fresh versions.
    pub(super) before: Registers,
}

impl LocalState {
    /// A field that "moved" to exactly the value the replica asks for is no edit to defend:
    /// it is the node's own earlier write of that replica, recorded before a crash could, or
    /// the same change made on both sides. It keeps its older register, so the replica's
    /// version decides as if the write had been recorded.
    pub(super) fn forget_agreeing(
        &self,
        registers: &mut Registers,
        wanted: &Changes,
        local: &Issue,
    ) {
        let same = reconcile::plan(wanted, Some(local), &[], &[], &[]);
        for field in &self.edited {
            if asks_for(wanted, field) && !differs(&same, field) {
                match self.before.get(field) {
                    Some(old) => registers.insert(field.clone(), old.clone()),
                    None => registers.remove(field),
                };
            }
        }
    }
}

/// Whether the changes set `field` at all.
fn asks_for(c: &Changes, field: &str) -> bool {
    match field {
        "issue_type" => c.issue_type.is_some(),
        "summary" => c.summary.is_some(),
        "description" => c.description.is_some(),
        "status" => c.status.is_some(),
        "priority" => c.priority.is_some(),
        "labels" => c.labels.is_some(),
        "components" => c.components.is_some(),
        "assignee" => c.assignee.is_some(),
        "reporter" => c.reporter.is_some(),
        "due_date" => c.due_date.is_some(),
        "parent" => c.parent.is_some(),
        "fix_versions" => c.fix_versions.is_some(),
        "affected_versions" => c.affected_versions.is_some(),
        other => c
            .custom_fields
            .iter()
            .any(|cf| crate::sync::clock::custom_name(&cf.field) == other),
    }
}

/// Whether carrying out `plan` would write `field`.
fn differs(plan: &Plan, field: &str) -> bool {
    field == "status" && plan.status.is_some() || asks_for(&plan.fields, field)
}

/// Whether `after` differs from `before` in a way the applied plan does not explain: a field
/// it did not write, a field it wrote that reads back otherwise, a comment or attachment
/// nobody synced, a comment body it did not update.
fn foreign_change(
    before: Option<&Issue>,
    after: &Issue,
    plan: &Plan,
    known: &HashSet<String>,
) -> bool {
    if !not_as_written(plan, after).is_empty() {
        return true;
    }
    let before_ids: HashSet<&str> = before
        .into_iter()
        .flat_map(|b| {
            b.comments
                .iter()
                .map(|c| c.id.as_str())
                .chain(b.attachments.iter().map(|a| a.id.as_str()))
                .chain(b.worklogs.iter().map(|w| w.id.as_str()))
        })
        .collect();
    let new_item = |id: &str| !before_ids.contains(id) && !known.contains(id);
    if after.comments.iter().any(|c| new_item(&c.id))
        || after.attachments.iter().any(|a| new_item(&a.id))
        || after.worklogs.iter().any(|w| new_item(&w.id))
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

/// The fields and status the plan wrote that read back as something else: someone wrote them
/// again between the node's write and its read-back, and that edit must still go out.
fn not_as_written(plan: &Plan, after: &Issue) -> Plan {
    let wrote = Changes {
        status: plan.status.clone(),
        comments: None,
        attachments: None,
        worklogs: None,
        links: None,
        ..plan.fields.clone()
    };
    // The same comparison that planned the write: what it would still write was not ours.
    reconcile::plan(&wrote, Some(after), &[], &[], &[])
}

/// The incoming rule's changes reduced to the fields whose replica version beats this side's
/// register (and the item sets, which merge). Returns the fields taken and those this side's
/// newer value keeps.
pub(super) fn winning_fields(
    mut c: Changes,
    registers: &Registers,
    theirs: &Versions,
) -> (Changes, Vec<String>, Vec<String>) {
    let (mut taken, mut kept) = (Vec::new(), Vec::new());
    let mut judge = |name: &str, present: bool| -> bool {
        if !present {
            return true;
        }
        let wins = theirs_wins(registers, name, theirs.get(name));
        if wins {
            taken.push(name.to_string());
        } else if registers.get(name).map(|r| &r.version) != theirs.get(name) {
            // Not merely the same version both sides already hold: this side's is newer.
            kept.push(name.to_string());
        }
        wins
    };
    macro_rules! field {
        ($f:ident) => {
            if !judge(stringify!($f), c.$f.is_some()) {
                c.$f = None;
            }
        };
    }
    field!(issue_type);
    field!(summary);
    field!(description);
    field!(status);
    field!(priority);
    field!(labels);
    field!(components);
    field!(assignee);
    field!(reporter);
    field!(due_date);
    field!(parent);
    field!(fix_versions);
    field!(affected_versions);
    c.custom_fields
        .retain(|cf| judge(&crate::sync::clock::custom_name(&cf.field), true));
    (c, taken, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(summary: &str, status: &str) -> Issue {
        Issue {
            key: "DEV-1".into(),
            summary: summary.into(),
            status: status.into(),
            ..Issue::default()
        }
    }

    #[test]
    fn a_status_moved_on_after_the_node_reached_its_target_is_a_local_edit() {
        let before = issue("Printer", "To Do");
        let plan = Plan {
            status: Some("In Progress".into()),
            ..Plan::default()
        };
        let none = HashSet::new();
        let reached = issue("Printer", "in progress");
        assert!(!foreign_change(Some(&before), &reached, &plan, &none));
        let moved_on = issue("Printer", "Done");
        assert!(foreign_change(Some(&before), &moved_on, &plan, &none));
    }

    #[test]
    fn a_field_written_again_after_the_node_wrote_it_is_a_local_edit_on_a_new_twin_too() {
        let plan = Plan {
            create: true,
            fields: Changes {
                summary: Some("Printer on fire".into()),
                ..Changes::default()
            },
            status: Some("To Do".into()),
            ..Plan::default()
        };
        let none = HashSet::new();
        let as_made = issue("Printer on fire", "To Do");
        assert!(!foreign_change(None, &as_made, &plan, &none));
        let edited = issue("Printer extinguished", "To Do");
        assert!(foreign_change(None, &edited, &plan, &none));
        let before = issue("Printer", "To Do");
        let update = Plan {
            create: false,
            ..plan
        };
        assert!(foreign_change(Some(&before), &edited, &update, &none));
    }
}
