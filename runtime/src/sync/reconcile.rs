//! Reconcile: from the incoming rule's desired state and the local twin as it is, the fewest changes.
//!
//! Pure: it reads the twin and the id mappings and returns a [`Plan`]; the worker
//! carries the plan out through the Jira client. Only fields that differ are
//! edited. Comments and attachments are reconciled as desired sets through the
//! id mappings: a remote item is added once, updated when its content changed,
//! and deleted when it leaves the set. Items this side made itself (origin
//! `local`) are never touched by what comes back.

use std::collections::{BTreeSet, HashMap};

use sha2::{Digest, Sha256};

use crate::model::{Changes, Issue, RichText, User, UserRef, Value, WorklogChange};
use crate::store::{ItemMapping, Origin};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CommentOp {
    Add {
        remote_id: String,
        body: RichText,
        internal: bool,
        hash: String,
    },
    Update {
        local_id: String,
        remote_id: String,
        body: RichText,
        internal: bool,
        hash: String,
    },
    Delete {
        local_id: String,
        remote_id: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AttachmentOp {
    Add { remote_id: String, filename: String },
    Delete { local_id: String, remote_id: String },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WorklogOp {
    Add {
        change: WorklogChange,
        hash: String,
    },
    Update {
        local_id: String,
        change: WorklogChange,
        hash: String,
    },
    Delete {
        local_id: String,
        remote_id: String,
    },
}

/// What to do to the local twin.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Plan {
    /// No local twin exists: create one with `fields`.
    pub(crate) create: bool,
    /// Only the fields to write (all given ones on create). `status` is never set here.
    pub(crate) fields: Changes,
    /// A status to reach through transitions.
    pub(crate) status: Option<String>,
    pub(crate) comments: Vec<CommentOp>,
    pub(crate) attachments: Vec<AttachmentOp>,
    pub(crate) worklogs: Vec<WorklogOp>,
}

impl Plan {
    /// Nothing to do: applying it makes no Jira call.
    pub(crate) fn is_empty(&self) -> bool {
        !self.create
            && self.fields == Changes::default()
            && self.status.is_none()
            && self.comments.is_empty()
            && self.attachments.is_empty()
            && self.worklogs.is_empty()
    }
}

/// The content hash recorded for a synced worklog: what the copy is written from, so a
/// change on the other side (or of the author's name) rewrites it and nothing else does.
pub(crate) fn worklog_hash(w: &WorklogChange) -> String {
    let mut h = Sha256::new();
    h.update(w.started.as_bytes());
    h.update(w.time_spent_seconds.to_be_bytes());
    h.update(normalise(w.comment.as_ref().map_or("", |c| c.text.as_str())).as_bytes());
    if let Some(a) = &w.author {
        for part in [&a.display_name, &a.email, &a.account_id, &a.name] {
            h.update(part.as_deref().unwrap_or("").as_bytes());
            h.update([0]);
        }
    }
    hex::encode(&h.finalize()[..16])
}

/// The worklog ops that make the local twin's synced worklogs the desired set.
fn plan_worklogs(desired: &Changes, local: Option<&Issue>, map: &[ItemMapping]) -> Vec<WorklogOp> {
    let Some(want) = &desired.worklogs else {
        return Vec::new();
    };
    let present: BTreeSet<&str> = local
        .into_iter()
        .flat_map(|l| l.worklogs.iter().map(|w| w.id.as_str()))
        .collect();
    let by_remote: HashMap<&str, &ItemMapping> =
        map.iter().map(|m| (m.remote_id.as_str(), m)).collect();
    let mut ops = Vec::new();
    for w in want {
        let hash = worklog_hash(w);
        match by_remote.get(w.remote_id.as_str()) {
            None => ops.push(WorklogOp::Add {
                change: w.clone(),
                hash,
            }),
            Some(m)
                if m.origin == Origin::Remote
                    && m.content_hash.as_deref() != Some(hash.as_str())
                    && present.contains(m.local_id.as_str()) =>
            {
                ops.push(WorklogOp::Update {
                    local_id: m.local_id.clone(),
                    change: w.clone(),
                    hash,
                })
            }
            Some(_) => {}
        }
    }
    let wanted: BTreeSet<&str> = want.iter().map(|w| w.remote_id.as_str()).collect();
    for m in map {
        if m.origin == Origin::Remote
            && !wanted.contains(m.remote_id.as_str())
            && present.contains(m.local_id.as_str())
        {
            ops.push(WorklogOp::Delete {
                local_id: m.local_id.clone(),
                remote_id: m.remote_id.clone(),
            });
        }
    }
    ops
}

/// The content hash recorded for a synced comment.
pub(crate) fn comment_hash(body: &RichText, internal: bool) -> String {
    let mut h = Sha256::new();
    h.update(normalise(&body.text).as_bytes());
    h.update([u8::from(internal)]);
    hex::encode(&h.finalize()[..16])
}

/// Whitespace differences are not changes: formats convert line breaks differently.
fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn same_text(a: &RichText, b: Option<&RichText>) -> bool {
    b.is_some_and(|b| normalise(&a.text) == normalise(&b.text))
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
}

/// Whether a user reference already names the local user.
fn user_matches(r: &UserRef, u: Option<&User>) -> bool {
    let Some(u) = u else { return false };
    match r {
        UserRef::Email(e) => u
            .email
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case(e)),
        UserRef::AccountId(id) => u.account_id.as_deref() == Some(id.as_str()),
        UserRef::Name(n) => u.name.as_deref() == Some(n.as_str()),
    }
}

fn value_eq(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(Value::Choices(x)), Some(Value::Choices(y))) => same_set(x, y),
        (Some(Value::Rich(x)), Some(Value::Rich(y))) => same_text(x, Some(y)),
        (Some(Value::Number(x)), Some(Value::Number(y))) => (x - y).abs() < f64::EPSILON,
        (x, y) => x == y,
    }
}

/// Plans the fewest changes that bring `local` (or a new issue) to `desired`.
pub(crate) fn plan(
    desired: &Changes,
    local: Option<&Issue>,
    comment_map: &[ItemMapping],
    attachment_map: &[ItemMapping],
    worklog_map: &[ItemMapping],
) -> Plan {
    let worklogs = plan_worklogs(desired, local, worklog_map);
    let Some(local) = local else {
        let mut fields = desired.clone();
        let status = fields.status.take();
        let comments = fields.comments.take().unwrap_or_default();
        let attachments = fields.attachments.take().unwrap_or_default();
        // Sets and answers that are no fields of the new issue.
        fields.worklogs = None;
        fields.links = None;
        fields.missing_versions = None;
        fields.on_delete = None;
        return Plan {
            worklogs,
            create: true,
            fields,
            status,
            comments: comments
                .into_iter()
                .map(|c| CommentOp::Add {
                    hash: comment_hash(&c.body, c.internal),
                    remote_id: c.remote_id,
                    body: c.body,
                    internal: c.internal,
                })
                .collect(),
            attachments: attachments
                .into_iter()
                .map(|a| AttachmentOp::Add {
                    remote_id: a.remote_id,
                    filename: a.filename,
                })
                .collect(),
        };
    };

    let mut f = Changes::default();
    let differs = |want: &Option<String>, have: &str| want.as_deref().is_some_and(|w| w != have);
    if differs(&desired.summary, &local.summary) {
        f.summary = desired.summary.clone();
    }
    if differs(&desired.issue_type, &local.issue_type) {
        f.issue_type = desired.issue_type.clone();
    }
    if let Some(want) = &desired.priority
        && local.priority.as_deref() != Some(want.as_str())
    {
        f.priority = Some(want.clone());
    }
    if let Some(want) = &desired.description
        && !same_text(want, local.description.as_ref())
        && !(want.text.trim().is_empty() && local.description.is_none())
    {
        f.description = Some(want.clone());
    }
    if let Some(want) = &desired.labels
        && !same_set(want, &local.labels)
    {
        f.labels = Some(want.clone());
    }
    if let Some(want) = &desired.components
        && !same_set(want, &local.components)
    {
        f.components = Some(want.clone());
    }
    match &desired.assignee {
        Some(None) if local.assignee.is_some() => f.assignee = Some(None),
        Some(Some(r)) if !user_matches(r, local.assignee.as_ref()) => {
            f.assignee = Some(Some(r.clone()))
        }
        _ => {}
    }
    if let Some(r) = &desired.reporter
        && !user_matches(r, local.reporter.as_ref())
    {
        f.reporter = Some(r.clone());
    }
    if let Some(want) = &desired.due_date
        && want.as_deref() != local.due_date.as_deref()
    {
        f.due_date = Some(want.clone());
    }
    if let Some(want) = &desired.parent
        && local.parent.as_deref() != Some(want.as_str())
    {
        f.parent = Some(want.clone());
    }
    if let Some(want) = &desired.fix_versions
        && !same_set(want, &local.fix_versions)
    {
        f.fix_versions = Some(want.clone());
    }
    if let Some(want) = &desired.affected_versions
        && !same_set(want, &local.affected_versions)
    {
        f.affected_versions = Some(want.clone());
    }
    for change in &desired.custom_fields {
        let have = local
            .custom_fields
            .iter()
            .find(|c| c.id == change.field || c.name == change.field);
        if !value_eq(change.value.as_ref(), have.and_then(|h| h.value.as_ref())) {
            f.custom_fields.push(change.clone());
        }
    }
    let status = desired
        .status
        .as_ref()
        .filter(|s| !s.eq_ignore_ascii_case(&local.status))
        .cloned();

    let local_comment_ids: BTreeSet<&str> = local.comments.iter().map(|c| c.id.as_str()).collect();
    let comments = match &desired.comments {
        None => Vec::new(),
        Some(want) => {
            let by_remote: HashMap<&str, &ItemMapping> = comment_map
                .iter()
                .map(|m| (m.remote_id.as_str(), m))
                .collect();
            let mut ops = Vec::new();
            for c in want {
                let hash = comment_hash(&c.body, c.internal);
                match by_remote.get(c.remote_id.as_str()) {
                    None => ops.push(CommentOp::Add {
                        remote_id: c.remote_id.clone(),
                        body: c.body.clone(),
                        internal: c.internal,
                        hash,
                    }),
                    Some(m)
                        if m.origin == Origin::Remote
                            && m.content_hash.as_deref() != Some(hash.as_str())
                            && local_comment_ids.contains(m.local_id.as_str()) =>
                    {
                        ops.push(CommentOp::Update {
                            local_id: m.local_id.clone(),
                            remote_id: c.remote_id.clone(),
                            body: c.body.clone(),
                            internal: c.internal,
                            hash,
                        })
                    }
                    Some(_) => {}
                }
            }
            let wanted: BTreeSet<&str> = want.iter().map(|c| c.remote_id.as_str()).collect();
            for m in comment_map {
                if m.origin == Origin::Remote
                    && !wanted.contains(m.remote_id.as_str())
                    && local_comment_ids.contains(m.local_id.as_str())
                {
                    ops.push(CommentOp::Delete {
                        local_id: m.local_id.clone(),
                        remote_id: m.remote_id.clone(),
                    });
                }
            }
            ops
        }
    };

    let local_attachment_ids: BTreeSet<&str> =
        local.attachments.iter().map(|a| a.id.as_str()).collect();
    let attachments = match &desired.attachments {
        None => Vec::new(),
        Some(want) => {
            let mapped: BTreeSet<&str> = attachment_map
                .iter()
                .map(|m| m.remote_id.as_str())
                .collect();
            let mut ops: Vec<AttachmentOp> = want
                .iter()
                .filter(|a| !mapped.contains(a.remote_id.as_str()))
                .map(|a| AttachmentOp::Add {
                    remote_id: a.remote_id.clone(),
                    filename: a.filename.clone(),
                })
                .collect();
            let wanted: BTreeSet<&str> = want.iter().map(|a| a.remote_id.as_str()).collect();
            for m in attachment_map {
                if m.origin == Origin::Remote
                    && !wanted.contains(m.remote_id.as_str())
                    && local_attachment_ids.contains(m.local_id.as_str())
                {
                    ops.push(AttachmentOp::Delete {
                        local_id: m.local_id.clone(),
                        remote_id: m.remote_id.clone(),
                    });
                }
            }
            ops
        }
    };

    Plan {
        create: false,
        fields: f,
        status,
        comments,
        attachments,
        worklogs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Comment, CommentChange};

    fn local() -> Issue {
        Issue {
            key: "B-1".into(),
            summary: "Same".into(),
            status: "To Do".into(),
            priority: Some("High".into()),
            labels: vec!["a".into(), "b".into()],
            comments: vec![
                Comment {
                    id: "900".into(),
                    body: RichText::plain("copied"),
                    ..Comment::default()
                },
                Comment {
                    id: "901".into(),
                    body: RichText::plain("ours"),
                    ..Comment::default()
                },
            ],
            ..Issue::default()
        }
    }

    fn mapping(remote: &str, local: &str, origin: Origin, body: &str) -> ItemMapping {
        ItemMapping {
            remote_id: remote.into(),
            local_id: local.into(),
            origin,
            content_hash: Some(comment_hash(&RichText::plain(body), false)),
        }
    }

    #[test]
    fn unchanged_fields_make_no_calls() {
        let desired = Changes {
            summary: Some("Same".into()),
            priority: Some("High".into()),
            labels: Some(vec!["b".into(), "a".into()]),
            status: Some("to do".into()),
            ..Changes::default()
        };
        assert!(plan(&desired, Some(&local()), &[], &[], &[]).is_empty());
    }

    #[test]
    fn only_changed_fields_are_edited() {
        let desired = Changes {
            summary: Some("New".into()),
            priority: Some("High".into()),
            status: Some("Done".into()),
            ..Changes::default()
        };
        let p = plan(&desired, Some(&local()), &[], &[], &[]);
        assert_eq!(p.fields.summary.as_deref(), Some("New"));
        assert_eq!(p.fields.priority, None);
        assert_eq!(p.status.as_deref(), Some("Done"));
    }

    #[test]
    fn comments_add_update_delete_but_never_touch_our_own() {
        let map = vec![
            mapping("10", "900", Origin::Remote, "copied"),
            mapping("11", "901", Origin::Local, "ours"),
            mapping("12", "902", Origin::Remote, "gone locally"),
        ];
        let c = |id: &str, body: &str| CommentChange {
            remote_id: id.into(),
            body: RichText::plain(body),
            internal: false,
        };
        // 10 changed, 11 is ours (ignored whatever it says), 13 is new; 12 left the set.
        let desired = Changes {
            comments: Some(vec![
                c("10", "copied, edited"),
                c("11", "ours?"),
                c("13", "new"),
            ]),
            ..Changes::default()
        };
        let p = plan(&desired, Some(&local()), &map, &[], &[]);
        assert_eq!(p.comments.len(), 2, "{:?}", p.comments);
        assert!(matches!(&p.comments[0], CommentOp::Update { local_id, .. } if local_id == "900"));
        assert!(matches!(&p.comments[1], CommentOp::Add { remote_id, .. } if remote_id == "13"));
        // Comment 12's local copy was deleted by a user: nothing to delete, nothing re-added.

        let none_left = Changes {
            comments: Some(vec![]),
            ..Changes::default()
        };
        let p = plan(&none_left, Some(&local()), &map, &[], &[]);
        assert_eq!(
            p.comments,
            vec![CommentOp::Delete {
                local_id: "900".into(),
                remote_id: "10".into()
            }],
            "only copies we made are deleted"
        );
    }

    #[test]
    fn first_sync_creates_with_everything() {
        let desired = Changes {
            project: Some("B".into()),
            summary: Some("S".into()),
            status: Some("Done".into()),
            comments: Some(vec![CommentChange {
                remote_id: "1".into(),
                body: RichText::plain("x"),
                internal: false,
            }]),
            ..Changes::default()
        };
        let p = plan(&desired, None, &[], &[], &[]);
        assert!(p.create);
        assert_eq!(p.fields.status, None);
        assert_eq!(p.status.as_deref(), Some("Done"));
        assert_eq!(p.comments.len(), 1);
        assert_eq!(p.fields.comments, None);
    }
}
