//! Carrying out a reconcile plan on the local twin: fields, the walk to a status, comments,
//! attachments and worklogs through their id mappings, and adopting copies an interrupted attempt
//! made before the node could record them.

use super::*;

impl Pipeline {
    /// Carries out the reconcile plan; returns the local key.
    pub(super) async fn apply(
        &self,
        side: &Side,
        envelope: &Envelope,
        changes: &Changes,
        local: Option<&LocalIssue>,
        retried: bool,
    ) -> Result<(String, Plan), EventError> {
        let (conn, name) = (&side.connection, &side.name);
        let local_key = local.map(|l| l.issue.key.clone());
        let (comment_map, attachment_map, worklog_map) = match &local_key {
            Some(k) => (
                self.store.item_mappings(conn, name, ItemKind::Comment, k)?,
                self.store
                    .item_mappings(conn, name, ItemKind::Attachment, k)?,
                self.store.item_mappings(conn, name, ItemKind::Worklog, k)?,
            ),
            None => (Vec::new(), Vec::new(), Vec::new()),
        };
        let changes = &self.without_tombstones(side, changes, local)?;
        let changes = &self.settle_versions(side, changes).await?;
        let plan: Plan = reconcile::plan(
            changes,
            local.map(|l| &l.issue),
            &comment_map,
            &attachment_map,
            &worklog_map,
        );
        let links = self.plan_links(
            side,
            changes.links.as_deref(),
            local.map_or(&[][..], |l| &l.issue.links),
        )?;
        if plan.is_empty() && links.is_empty() {
            return local_key
                .map(|k| (k, plan))
                .ok_or_else(|| EventError::Permanent("empty plan without a twin".into()));
        }
        let key = if plan.create {
            self.store
                .begin_creation(conn, name, &envelope.origin_key)?;
            let origin = TwinOrigin {
                connection: &side.connection,
                side: &envelope.origin_side,
                key: &envelope.origin_key,
            };
            crate::failpoint!("creation-begun");
            let key = side
                .jira
                .create_issue(&side.project, &plan.fields, &origin)
                .await?;
            crate::failpoint!("twin-created");
            self.link(side, &key, &envelope.origin_key)?;
            crate::failpoint!("twin-linked");
            tracing::info!(local = %key, remote = %envelope.origin_key, "twin created");
            key
        } else {
            let key = local_key.clone().unwrap_or_default();
            if plan.fields != Changes::default() {
                side.jira.edit_issue(&key, &plan.fields).await?;
                crate::failpoint!("fields-written");
            }
            key
        };
        if let Some(target) = &plan.status {
            let start = if plan.create { None } else { local };
            self.walk_to_status(side, &key, target, start).await?;
            crate::failpoint!("status-reached");
        }
        let mut orphans = match local {
            Some(l) if retried => {
                Orphans::of(&l.issue, &comment_map, &attachment_map, &worklog_map)
            }
            _ => Orphans::default(),
        };
        for op in &plan.comments {
            self.apply_comment(side, envelope, &key, op, &mut orphans)
                .await?;
        }
        for op in &plan.attachments {
            self.apply_attachment(side, envelope, &key, op, &mut orphans)
                .await?;
        }
        for op in &plan.worklogs {
            self.apply_worklog(side, envelope, &key, op, &mut orphans)
                .await?;
        }
        self.apply_links(side, &key, &links).await?;
        Ok((key, plan))
    }

    async fn walk_to_status(
        &self,
        side: &Side,
        key: &str,
        target: &str,
        known: Option<&LocalIssue>,
    ) -> Result<(), EventError> {
        let current = match known {
            Some(l) => l.issue.clone(),
            None => side
                .jira
                .get_issue(key)
                .await?
                .map(|l| l.issue)
                .ok_or_else(|| {
                    EventError::Transient(format!("{key} was created but cannot be read yet"))
                })?,
        };
        let scope = format!("{}/{}", current.project, current.issue_type);
        let mut status = current.status;
        let mut visited = HashSet::new();
        for _ in 0..MAX_STEPS {
            let available = side.jira.transitions(key).await?;
            match self
                .workflow
                .next_step(&scope, &status, target, &available, &visited)
            {
                Step::Arrived => return Ok(()),
                Step::Unreachable => break,
                Step::Take(id) => {
                    visited.insert(status.to_lowercase());
                    side.jira.transition(key, &id).await?;
                    status = available
                        .iter()
                        .find(|a| a.id == id)
                        .map(|a| a.to.clone())
                        .unwrap_or_default();
                    if status.eq_ignore_ascii_case(target) {
                        return Ok(());
                    }
                }
            }
        }
        Err(EventError::Permanent(format!(
            "{key} on {}: status {target:?} cannot be reached from {status:?} through the workflow's transitions",
            side.instance
        )))
    }

    async fn apply_comment(
        &self,
        side: &Side,
        envelope: &Envelope,
        key: &str,
        op: &CommentOp,
        orphans: &mut Orphans,
    ) -> Result<(), EventError> {
        let (conn, name) = (&side.connection, &side.name);
        match op {
            CommentOp::Add {
                remote_id,
                body,
                internal,
                hash,
            } => {
                let local_id = match orphans.take_comment(hash) {
                    Some(id) => {
                        tracing::info!(key, comment = %id, "adopting a copy an earlier attempt made");
                        id
                    }
                    None => side.jira.add_comment(key, body, *internal).await?,
                };
                crate::failpoint!("item-copied");
                self.record_copy(
                    side,
                    envelope,
                    ItemKind::Comment,
                    key,
                    ItemMapping {
                        remote_id: remote_id.clone(),
                        local_id,
                        origin: Origin::Remote,
                        content_hash: Some(hash.clone()),
                    },
                )?;
            }
            CommentOp::Update {
                local_id,
                remote_id,
                body,
                internal,
                hash,
            } => {
                side.jira
                    .update_comment(key, local_id, body, *internal)
                    .await?;
                self.store.put_item_mapping(
                    conn,
                    name,
                    ItemKind::Comment,
                    key,
                    &ItemMapping {
                        remote_id: remote_id.clone(),
                        local_id: local_id.clone(),
                        origin: Origin::Remote,
                        content_hash: Some(hash.clone()),
                    },
                )?;
            }
            CommentOp::Delete {
                local_id,
                remote_id,
            } => {
                side.jira.delete_comment(key, local_id).await?;
                self.forget_copy(side, envelope, ItemKind::Comment, key, remote_id, local_id)?;
            }
        }
        Ok(())
    }

    async fn apply_worklog(
        &self,
        side: &Side,
        envelope: &Envelope,
        key: &str,
        op: &WorklogOp,
        orphans: &mut Orphans,
    ) -> Result<(), EventError> {
        match op {
            WorklogOp::Add { change, hash } => {
                let local_id = match orphans.take_worklog(change) {
                    Some(id) => {
                        tracing::info!(key, worklog = %id, "adopting a copy an earlier attempt made");
                        id
                    }
                    None => side.jira.add_worklog(key, change).await?,
                };
                crate::failpoint!("item-copied");
                self.record_copy(
                    side,
                    envelope,
                    ItemKind::Worklog,
                    key,
                    ItemMapping {
                        remote_id: change.remote_id.clone(),
                        local_id,
                        origin: Origin::Remote,
                        content_hash: Some(hash.clone()),
                    },
                )?;
            }
            WorklogOp::Update {
                local_id,
                change,
                hash,
            } => {
                side.jira.update_worklog(key, local_id, change).await?;
                self.store.put_item_mapping(
                    &side.connection,
                    &side.name,
                    ItemKind::Worklog,
                    key,
                    &ItemMapping {
                        remote_id: change.remote_id.clone(),
                        local_id: local_id.clone(),
                        origin: Origin::Remote,
                        content_hash: Some(hash.clone()),
                    },
                )?;
            }
            WorklogOp::Delete {
                local_id,
                remote_id,
            } => {
                side.jira.delete_worklog(key, local_id).await?;
                self.forget_copy(side, envelope, ItemKind::Worklog, key, remote_id, local_id)?;
            }
        }
        Ok(())
    }

    async fn apply_attachment(
        &self,
        side: &Side,
        envelope: &Envelope,
        key: &str,
        op: &AttachmentOp,
        orphans: &mut Orphans,
    ) -> Result<(), EventError> {
        match op {
            AttachmentOp::Add {
                remote_id,
                filename,
            } => {
                // Only attachments the replica listed can be fetched from the other side.
                let Some(listed) = envelope
                    .replica
                    .attachments
                    .iter()
                    .find(|a| &a.id == remote_id)
                else {
                    return Err(EventError::Permanent(format!(
                        "attachment {remote_id} is not listed in the replica of {}; refusing to fetch it",
                        envelope.origin_key
                    )));
                };
                let local_id = match orphans.take_attachment(filename, listed.size) {
                    Some(id) => {
                        tracing::info!(key, attachment = %id, "adopting a copy an earlier attempt made");
                        id
                    }
                    None => {
                        let spooled = self.fetch_attachment(side, remote_id).await?;
                        side.jira.upload_attachment(key, filename, &spooled).await?
                    }
                };
                crate::failpoint!("item-copied");
                self.record_copy(
                    side,
                    envelope,
                    ItemKind::Attachment,
                    key,
                    ItemMapping {
                        remote_id: remote_id.clone(),
                        local_id,
                        origin: Origin::Remote,
                        content_hash: None,
                    },
                )?;
            }
            AttachmentOp::Delete {
                local_id,
                remote_id,
            } => {
                side.jira.delete_attachment(local_id).await?;
                self.forget_copy(
                    side,
                    envelope,
                    ItemKind::Attachment,
                    key,
                    remote_id,
                    local_id,
                )?;
            }
        }
        Ok(())
    }

    /// This side made a copy of one of the other side's items: its own mapping, and the other
    /// side's (in the same transaction on this node, by ack for a peer), so the copy is never
    /// taken for a new item when it comes back.
    fn record_copy(
        &self,
        side: &Side,
        envelope: &Envelope,
        kind: ItemKind,
        key: &str,
        own: ItemMapping,
    ) -> Result<(), EventError> {
        if let Some(peers) = self.peer_links(&side.connection) {
            return self.record_copy_with_peer(peers, side, envelope, kind, key, own);
        }
        let mirror = ItemMapping {
            remote_id: own.local_id.clone(),
            local_id: own.remote_id.clone(),
            origin: Origin::Local,
            content_hash: None,
        };
        self.store.put_item_mappings(
            &side.connection,
            &[
                (&side.name, kind, key, &own),
                (&side.other, kind, &envelope.origin_key, &mirror),
            ],
        )?;
        crate::failpoint!("mapping-recorded");
        Ok(())
    }

    /// This side deleted its copy of one of the other side's items: both mappings go.
    fn forget_copy(
        &self,
        side: &Side,
        envelope: &Envelope,
        kind: ItemKind,
        key: &str,
        remote_id: &str,
        local_id: &str,
    ) -> Result<(), EventError> {
        self.store
            .delete_item_mapping(&side.connection, &side.name, kind, key, remote_id)?;
        if let Some(peers) = self.peer_links(&side.connection) {
            return self.forget_copy_with_peer(peers, side, envelope, kind, remote_id, local_id);
        }
        self.store.delete_item_mapping(
            &side.connection,
            &side.other,
            kind,
            &envelope.origin_key,
            local_id,
        )?;
        Ok(())
    }
}

impl Pipeline {
    /// The incoming changes without the items this side deleted (or saw deleted) before: an
    /// older state that still lists one must not bring it back. Copies already gone from the
    /// issue that the other side no longer lists are laid to rest here too (a crash between
    /// deleting a copy and recording it).
    fn without_tombstones(
        &self,
        side: &Side,
        changes: &Changes,
        local: Option<&LocalIssue>,
    ) -> Result<Changes, EventError> {
        let Some(local) = local else {
            return Ok(changes.clone());
        };
        let (conn, name, key) = (&side.connection, &side.name, &local.issue.key);
        let mut out = changes.clone();
        for kind in ItemKind::ALL {
            let dead: HashSet<String> = self
                .store
                .item_tombstones(conn, name, kind, key)?
                .into_iter()
                .map(|(remote, _)| remote)
                .collect();
            let present = item_ids(&local.issue, kind);
            let wanted: HashSet<String> = match kind {
                ItemKind::Comment => out
                    .comments
                    .iter()
                    .flatten()
                    .map(|c| c.remote_id.clone())
                    .collect(),
                ItemKind::Attachment => out
                    .attachments
                    .iter()
                    .flatten()
                    .map(|a| a.remote_id.clone())
                    .collect(),
                ItemKind::Worklog => out
                    .worklogs
                    .iter()
                    .flatten()
                    .map(|w| w.remote_id.clone())
                    .collect(),
            };
            let lists = match kind {
                ItemKind::Comment => out.comments.is_some(),
                ItemKind::Attachment => out.attachments.is_some(),
                ItemKind::Worklog => out.worklogs.is_some(),
            };
            for m in self.store.item_mappings(conn, name, kind, key)? {
                if lists
                    && m.origin == Origin::Remote
                    && !present.contains(m.local_id.as_str())
                    && !wanted.contains(&m.remote_id)
                {
                    self.store
                        .delete_item_mapping(conn, name, kind, key, &m.remote_id)?;
                }
            }
            match kind {
                ItemKind::Comment => {
                    if let Some(list) = out.comments.as_mut() {
                        list.retain(|c| !dead.contains(&c.remote_id));
                    }
                }
                ItemKind::Attachment => {
                    if let Some(list) = out.attachments.as_mut() {
                        list.retain(|a| !dead.contains(&a.remote_id));
                    }
                }
                ItemKind::Worklog => {
                    if let Some(list) = out.worklogs.as_mut() {
                        list.retain(|w| !dead.contains(&w.remote_id));
                    }
                }
            }
        }
        Ok(out)
    }

    /// The other side deleted its copies of some of this side's items: they go here too.
    pub(super) async fn apply_removed(
        &self,
        side: &Side,
        envelope: &Envelope,
        key: &str,
        local: Option<&LocalIssue>,
    ) -> Result<(), EventError> {
        let (conn, name) = (&side.connection, &side.name);
        for item in &envelope.removed {
            let kind = match ItemKind::from_text(&item.kind) {
                Some(kind) => kind,
                None => {
                    let other = item.kind.as_str();
                    tracing::warn!(
                        key,
                        kind = other,
                        "a removal of an unknown kind of item; ignored"
                    );
                    continue;
                }
            };
            // Only this side's own items that the other side holds a copy of.
            let Some(mapping) = self
                .store
                .item_mappings(conn, name, kind, key)?
                .into_iter()
                .find(|m| m.origin == Origin::Local && m.local_id == item.id)
            else {
                continue;
            };
            let present =
                local.is_some_and(|l| item_ids(&l.issue, kind).contains(item.id.as_str()));
            if present {
                match kind {
                    ItemKind::Comment => side.jira.delete_comment(key, &item.id).await?,
                    ItemKind::Attachment => side.jira.delete_attachment(&item.id).await?,
                    ItemKind::Worklog => side.jira.delete_worklog(key, &item.id).await?,
                }
                tracing::info!(key, kind = item.kind, id = %item.id,
                    "the other side deleted its copy; deleted here too");
            }
            crate::failpoint!("item-removed");
            self.store
                .delete_item_mapping(conn, name, kind, key, &mapping.remote_id)?;
        }
        Ok(())
    }
}

/// Whether two Jira timestamps name the same instant, whatever offset each is written in.
fn same_instant(a: &str, b: &str) -> bool {
    let at = |t: &str| chrono::DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.3f%z").ok();
    match (at(a), at(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Comments, attachments and worklogs of the local twin that no mapping knows: after an interrupted
/// attempt, the copies it made before the node could record them.
#[derive(Default)]
struct Orphans {
    /// (id, content hash)
    comments: Vec<(String, String)>,
    /// (id, file name, size)
    attachments: Vec<(String, String, u64)>,
    /// (id, started, seconds)
    worklogs: Vec<(String, String, u64)>,
}

impl Orphans {
    fn of(
        issue: &crate::model::Issue,
        comments: &[ItemMapping],
        attachments: &[ItemMapping],
        worklogs: &[ItemMapping],
    ) -> Orphans {
        let known = |map: &[ItemMapping], id: &str| map.iter().any(|m| m.local_id == id);
        Orphans {
            comments: issue
                .comments
                .iter()
                .filter(|c| !known(comments, &c.id))
                .map(|c| (c.id.clone(), reconcile::comment_hash(&c.body, c.internal)))
                .collect(),
            attachments: issue
                .attachments
                .iter()
                .filter(|a| !known(attachments, &a.id))
                .map(|a| (a.id.clone(), a.filename.clone(), a.size))
                .collect(),
            worklogs: issue
                .worklogs
                .iter()
                .filter(|w| !known(worklogs, &w.id))
                .map(|w| (w.id.clone(), w.started.clone(), w.time_spent_seconds))
                .collect(),
        }
    }

    /// A copy of the worklog by when it started and how long it took (its comment may carry
    /// an author line the change has not).
    fn take_worklog(&mut self, w: &crate::model::WorklogChange) -> Option<String> {
        let i = self
            .worklogs
            .iter()
            .position(|(_, s, n)| *n == w.time_spent_seconds && same_instant(s, &w.started))?;
        Some(self.worklogs.remove(i).0)
    }

    fn take_comment(&mut self, hash: &str) -> Option<String> {
        let i = self.comments.iter().position(|(_, h)| h == hash)?;
        Some(self.comments.remove(i).0)
    }

    fn take_attachment(&mut self, filename: &str, size: u64) -> Option<String> {
        let i = self
            .attachments
            .iter()
            .position(|(_, f, s)| f == filename && *s == size)?;
        Some(self.attachments.remove(i).0)
    }
}
