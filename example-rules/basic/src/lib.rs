//! Stock rule `basic`: summary, description, issue type, priority, labels,
//! status, comments and attachments, both ways (like Exalate's Basic mode).
//!
//! Config keys:
//! - `project`: the project in which the first sync creates the local twin (required then).
//! - `issue-type`: the issue type to create when the replica carries none (optional).

use twinsync_sdk::prelude::*;

/// The `basic` rule: the SDK's [`twinsync_sdk::basic`], which rules start from.
pub struct Basic;

impl Rule for Basic {
    fn outgoing(issue: Issue, _ctx: SyncContext) -> Result<Replica, RuleError> {
        Ok(twinsync_sdk::basic::outgoing(&issue))
    }

    fn incoming(
        replica: Replica,
        local: Option<Issue>,
        ctx: SyncContext,
    ) -> Result<Changes, RuleError> {
        twinsync_sdk::basic::incoming(&replica, local.as_ref(), &ctx)
    }
}

twinsync_sdk::export_rule!(Basic);

#[cfg(test)]
mod tests {
    use super::*;
    use twinsync_sdk::testing::{context, incoming_context, sample_issue, with_config};

    #[test]
    fn outgoing_sends_the_basic_fields_only() {
        let issue = sample_issue();
        let r = Basic::outgoing(issue.clone(), context(false)).expect("outgoing");
        assert_eq!(r.key.as_deref(), Some("SRC-1"));
        assert_eq!(r.summary.as_deref(), Some(issue.summary.as_str()));
        assert_eq!(r.description, issue.description);
        assert_eq!(r.issue_type.as_deref(), Some("Bug"));
        assert_eq!(r.priority.as_deref(), Some("High"));
        assert_eq!(r.status.as_deref(), Some("In Progress"));
        assert_eq!(r.labels, issue.labels);
        assert_eq!(r.comments, issue.comments);
        assert_eq!(r.attachments, issue.attachments);
        assert_eq!(r.project, None);
        assert_eq!(r.assignee, None);
        assert_eq!(r.reporter, None);
        assert_eq!(r.due_date, None);
        assert!(r.components.is_empty());
        assert!(r.custom_fields.is_empty());
    }

    #[test]
    fn incoming_first_sync_creates_in_the_configured_project() {
        let replica = Basic::outgoing(sample_issue(), context(true)).expect("outgoing");
        let c = with_config(&[("project", "DEST")], || {
            Basic::incoming(replica, None, incoming_context(true))
        })
        .expect("incoming");
        assert_eq!(c.project.as_deref(), Some("DEST"));
        assert_eq!(c.issue_type.as_deref(), Some("Bug"));
        assert_eq!(c.summary.as_deref(), Some("Checkout fails for ACME Corp"));
        assert_eq!(c.status.as_deref(), Some("In Progress"));
        assert_eq!(c.priority.as_deref(), Some("High"));
        let comments = c.comments.expect("comments");
        assert_eq!(
            comments
                .iter()
                .map(|c| c.remote_id.as_str())
                .collect::<Vec<_>>(),
            ["10001", "10002"]
        );
        let attachments = c.attachments.expect("attachments");
        assert_eq!(attachments[0].remote_id, "20001");
        assert_eq!(c.assignee, None, "assignee is not synced");
        assert_eq!(c.components, None);
        assert!(c.custom_fields.is_empty());
    }

    #[test]
    fn incoming_first_sync_without_project_fails_clearly() {
        let replica = Basic::outgoing(sample_issue(), context(true)).expect("outgoing");
        let err = with_config(&[], || {
            Basic::incoming(replica, None, incoming_context(true))
        })
        .expect_err("no project");
        assert!(
            matches!(&err, RuleError::Fail(m) if m.contains("`project`")),
            "{err:?}"
        );
    }

    #[test]
    fn incoming_update_leaves_the_project_alone() {
        let replica = Basic::outgoing(sample_issue(), context(false)).expect("outgoing");
        let c = with_config(&[], || {
            Basic::incoming(replica, Some(sample_issue()), incoming_context(false))
        })
        .expect("incoming");
        assert_eq!(c.project, None);
        assert!(c.summary.is_some());
    }

    #[test]
    fn first_sync_without_issue_type_uses_config_or_fails() {
        let mut replica = Basic::outgoing(sample_issue(), context(true)).expect("outgoing");
        replica.issue_type = None;
        let c = with_config(&[("project", "DEST"), ("issue-type", "Task")], || {
            Basic::incoming(replica.clone(), None, incoming_context(true))
        })
        .expect("incoming");
        assert_eq!(c.issue_type.as_deref(), Some("Task"));
        let err = with_config(&[("project", "DEST")], || {
            Basic::incoming(replica, None, incoming_context(true))
        })
        .expect_err("no type");
        assert!(
            matches!(&err, RuleError::Fail(m) if m.contains("issue type")),
            "{err:?}"
        );
    }
}
