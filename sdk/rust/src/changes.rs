//! Building the changes an incoming rule returns: mirror the replica, then keep what this side syncs.

use crate::Field;
use crate::types::{
    AttachmentChange, Changes, CommentChange, CustomFieldChange, LinkChange, Replica, User,
    UserRef, WorklogChange,
};

/// Changes that make the local twin mirror `replica`.
///
/// - Summary, description, issue type, status and priority are set when the
///   replica has them and left alone when it does not.
/// - Labels and components are set to the replica's lists (an empty list clears them).
/// - Assignee and due date mirror the replica: absent there means unassigned
///   or no due date here. The reporter is set only when the replica has one.
///   Users are referred to by [`user_ref`].
/// - Comments and attachments become the desired set, each keyed by its id on
///   the replica's side (`remote-id`), so the host adds, updates and deletes
///   them without duplicates.
/// - Custom fields are set by display name, since field ids differ between instances.
/// - Worklogs are a desired set like comments, their authors passed on for the host to find.
/// - Links keep their type and direction; only links whose other issue has a twin here
///   (`other-twin`) are wanted, the rest are left out.
/// - Fix and affected versions are set by name; the host drops names the local project
///   lacks unless `missing-versions` says otherwise.
/// - `project` and `parent` are left alone: the replica's values are keys on
///   the other side. Set `project` on first sync, e.g. with [`crate::local_project`].
///
/// Keep only what this side syncs with [`ChangesExt::only`].
pub fn changes_from(replica: &Replica) -> Changes {
    Changes {
        project: None,
        issue_type: replica.issue_type.clone(),
        summary: replica.summary.clone(),
        description: replica.description.clone(),
        status: replica.status.clone(),
        priority: replica.priority.clone(),
        labels: Some(replica.labels.clone()),
        components: Some(replica.components.clone()),
        assignee: Some(replica.assignee.as_ref().and_then(user_ref)),
        reporter: replica.reporter.as_ref().and_then(user_ref),
        due_date: Some(replica.due_date.clone()),
        parent: None,
        comments: Some(
            replica
                .comments
                .iter()
                .map(|c| CommentChange {
                    remote_id: c.id.clone(),
                    body: c.body.clone(),
                    internal: c.internal,
                })
                .collect(),
        ),
        attachments: Some(
            replica
                .attachments
                .iter()
                .map(|a| AttachmentChange {
                    remote_id: a.id.clone(),
                    filename: a.filename.clone(),
                })
                .collect(),
        ),
        custom_fields: replica
            .custom_fields
            .iter()
            .map(|f| CustomFieldChange {
                field: if f.name.is_empty() {
                    f.id.clone()
                } else {
                    f.name.clone()
                },
                value: f.value.clone(),
            })
            .collect(),
        worklogs: Some(
            replica
                .worklogs
                .iter()
                .map(|w| WorklogChange {
                    remote_id: w.id.clone(),
                    started: w.started.clone(),
                    time_spent_seconds: w.time_spent_seconds,
                    comment: w.comment.clone(),
                    author: w.author.clone(),
                })
                .collect(),
        ),
        links: Some(
            replica
                .links
                .iter()
                .filter_map(|l| {
                    Some(LinkChange {
                        link_type: l.link_type.clone(),
                        direction: l.direction,
                        other_key: l.other_twin.clone()?,
                    })
                })
                .collect(),
        ),
        fix_versions: Some(replica.fix_versions.clone()),
        affected_versions: Some(replica.affected_versions.clone()),
        missing_versions: None,
        on_delete: None,
    }
}

/// How the host should find `user` locally: by email when known, else by
/// account id (Cloud), else by user name (Data Center). `None` when the user
/// carries none of them.
pub fn user_ref(user: &User) -> Option<UserRef> {
    let non_empty = |s: &Option<String>| s.as_ref().filter(|s| !s.is_empty()).cloned();
    non_empty(&user.email)
        .map(UserRef::Email)
        .or_else(|| non_empty(&user.account_id).map(UserRef::AccountId))
        .or_else(|| non_empty(&user.name).map(UserRef::Name))
}

/// Keeping and leaving alone fields of [`Changes`].
pub trait ChangesExt: Sized {
    /// Leaves one local field alone (`None`; no custom field changes for
    /// [`Field::CustomFields`]). `Key`, `Created` and `Updated` are not
    /// part of changes and are ignored.
    fn keep_local(&mut self, field: Field);

    /// The changes with `fields` left alone.
    fn without(mut self, fields: &[Field]) -> Self {
        for &field in fields {
            self.keep_local(field);
        }
        self
    }

    /// The changes with every field but `fields` left alone.
    fn only(mut self, fields: &[Field]) -> Self {
        for field in Field::ALL {
            if !fields.contains(&field) {
                self.keep_local(field);
            }
        }
        self
    }
}

impl ChangesExt for Changes {
    fn keep_local(&mut self, field: Field) {
        match field {
            Field::Project => self.project = None,
            Field::IssueType => self.issue_type = None,
            Field::Summary => self.summary = None,
            Field::Description => self.description = None,
            Field::Status => self.status = None,
            Field::Priority => self.priority = None,
            Field::Labels => self.labels = None,
            Field::Components => self.components = None,
            Field::Assignee => self.assignee = None,
            Field::Reporter => self.reporter = None,
            Field::DueDate => self.due_date = None,
            Field::Parent => self.parent = None,
            Field::Comments => self.comments = None,
            Field::Attachments => self.attachments = None,
            Field::CustomFields => self.custom_fields.clear(),
            Field::Worklogs => self.worklogs = None,
            Field::Links => self.links = None,
            Field::FixVersions => self.fix_versions = None,
            Field::AffectedVersions => self.affected_versions = None,
            Field::Key | Field::Created | Field::Updated => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{sample_issue, user};
    use crate::{ReplicaExt, replica_from};

    #[test]
    fn changes_from_mirrors_the_replica() {
        let issue = sample_issue();
        let c = changes_from(&replica_from(&issue));
        assert_eq!(c.project, None, "the remote project means nothing here");
        assert_eq!(c.parent, None);
        assert_eq!(c.summary.as_deref(), Some(issue.summary.as_str()));
        assert_eq!(c.status.as_deref(), Some(issue.status.as_str()));
        assert_eq!(c.labels.as_ref(), Some(&issue.labels));
        let comments = c.comments.expect("comments are a desired set");
        assert_eq!(comments.len(), issue.comments.len());
        for (change, comment) in comments.iter().zip(&issue.comments) {
            assert_eq!(change.remote_id, comment.id);
            assert_eq!(change.body, comment.body);
            assert_eq!(change.internal, comment.internal);
        }
        let attachments = c.attachments.expect("attachments are a desired set");
        assert_eq!(attachments[0].remote_id, issue.attachments[0].id);
        assert_eq!(attachments[0].filename, issue.attachments[0].filename);
        assert_eq!(c.custom_fields[0].field, issue.custom_fields[0].name);
        assert_eq!(
            c.assignee,
            Some(Some(UserRef::Email("ada@example.com".into())))
        );
    }

    #[test]
    fn an_absent_assignee_unassigns_and_an_absent_summary_is_left_alone() {
        let replica = replica_from(&sample_issue()).only(&[]);
        let c = changes_from(&replica);
        assert_eq!(c.assignee, Some(None));
        assert_eq!(c.due_date, Some(None));
        assert_eq!(c.summary, None);
        assert_eq!(c.reporter, None);
        assert_eq!(c.comments, Some(Vec::new()));
    }

    #[test]
    fn only_leaves_every_other_field_alone() {
        let c = changes_from(&replica_from(&sample_issue())).only(&[Field::Summary]);
        assert!(c.summary.is_some());
        assert_eq!(c.assignee, None);
        assert_eq!(c.comments, None);
        assert_eq!(c.labels, None);
        assert!(c.custom_fields.is_empty());
    }

    #[test]
    fn user_ref_prefers_email_then_account_id_then_name() {
        let mut u = user("Ada", "ada@example.com");
        assert_eq!(user_ref(&u), Some(UserRef::Email("ada@example.com".into())));
        u.email = Some(String::new());
        assert_eq!(user_ref(&u), Some(UserRef::AccountId("acc-ada".into())));
        u.account_id = None;
        assert_eq!(user_ref(&u), Some(UserRef::Name("ada".into())));
        u.name = None;
        assert_eq!(user_ref(&u), None);
    }
}
