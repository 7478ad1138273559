//! Stock rule `basic`: summary, description, issue type, priority, labels,
//! status, comments, attachments, worklogs, links and versions, both ways (like
//! Exalate's Basic mode).
//!
//! Config keys:
//! - `project`: the project in which the first sync creates the local twin (required then).
//! - `issue-type`: the issue type to create when the replica carries none (optional).
//! - `send`: the fields this side sends, a comma list of `summary`, `description`,
//!   `comments`, `attachments`, `issuetype` (or `issue-type`), `priority`, `labels`,
//!   `status`, `worklogs`, `links`, `fix-versions`, `affected-versions` (default: all of
//!   them). A field left out never leaves this side.
//! - `on-delete`: what happens here when the other half of a twin is deleted: `unlink`
//!   (the default: a comment says so and the twin ends), `delete` or `nothing`.
//! - `versions.missing`: a version name this project lacks is `drop`ped (the default),
//!   `create`d, or makes the event `fail`.
//! - `map.link-type.<remote name>`: the local name of a link type that differs.
//! - `receive`: the fields this side lets the other side change, in the same form (default:
//!   all). A field left out is never changed here by the other side; the twin is still
//!   created with the replica's summary and issue type, which Jira needs.
//!
//! - `author-header`: a header line naming who wrote a comment on the other side, put before
//!   the copy this side writes (by the sync account), e.g. `{name} ({site}) wrote:`; `{name}`
//!   is the author's display name, `{site}` config `author-site` (default: the other side's
//!   name). A header in that form is stripped from comments that leave this side, so it
//!   never doubles. Unset (the default): comments cross as they are.
//!
//! An unknown name in `send` or `receive` is a `fail` naming the key and the name. When
//! `send` leaves fields out, the replica says which fields it carries (property
//! `basic.sent`), so the other side leaves the rest alone instead of reading an absent
//! list (comments, attachments, labels) as "all deleted".

use twinsync_sdk::author;
use twinsync_sdk::basic::FIELDS;
use twinsync_sdk::prelude::*;

/// The replica property that lists the fields a restricted `send` let through.
pub const SENT: &str = "basic.sent";

/// The `basic` rule: the SDK's [`twinsync_sdk::basic`], which rules start from, with the
/// `send` and `receive` field lists.
pub struct Basic;

/// The fields config key `key` lists, or all of [`FIELDS`] when it is not set.
fn fields_of(key: &str) -> Result<Vec<Field>, RuleError> {
    let Some(value) = config(key) else {
        return Ok(FIELDS.to_vec());
    };
    let mut fields = Vec::new();
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match Field::parse(name).filter(|f| FIELDS.contains(f)) {
            Some(field) if !fields.contains(&field) => fields.push(field),
            Some(_) => {}
            None => {
                return Err(fail(format!(
                    "config key `{key}`: unknown field {name:?}; `basic` syncs {}",
                    FIELDS.map(Field::name).join(", ")
                )));
            }
        }
    }
    Ok(fields)
}

/// The fields the replica carries: all of [`FIELDS`] unless the sender listed them.
fn sent_fields(replica: &Replica) -> Vec<Field> {
    match replica.properties.iter().find(|(k, _)| k == SENT) {
        Some((_, list)) => list
            .split(',')
            .filter_map(|n| Field::parse(n.trim()))
            .collect(),
        None => FIELDS.to_vec(),
    }
}

impl Rule for Basic {
    fn outgoing(issue: Issue, _ctx: SyncContext) -> Result<Replica, RuleError> {
        let send = fields_of("send")?;
        let mut replica = twinsync_sdk::basic::outgoing(&issue);
        if let Some(format) = author::format() {
            author::outgoing(&format, &mut replica);
        }
        if send.len() == FIELDS.len() {
            return Ok(replica);
        }
        let mut keep = send.clone();
        keep.extend([Field::Key, Field::Parent]);
        let list: Vec<_> = send.iter().map(|f| f.name()).collect();
        Ok(replica.only(&keep).with_property(SENT, list.join(",")))
    }

    fn incoming(
        replica: Replica,
        local: Option<Issue>,
        ctx: SyncContext,
    ) -> Result<Changes, RuleError> {
        let receive = fields_of("receive")?;
        let sent = sent_fields(&replica);
        let mut changes = twinsync_sdk::basic::incoming(&replica, local.as_ref(), &ctx)?;
        for field in FIELDS {
            // Creating the twin needs a summary and a type, whatever `receive` says.
            let needed = ctx.first_sync && matches!(field, Field::Summary | Field::IssueType);
            let taken = needed || (receive.contains(&field) && sent.contains(&field));
            if !taken {
                changes.keep_local(field);
            }
        }
        if let Some(format) = author::format() {
            author::incoming(&format, &replica, &ctx, &mut changes);
        }
        Ok(changes)
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
    fn a_deletion_is_answered_by_on_delete_and_a_wrong_value_fails() {
        let replica = Basic::outgoing(sample_issue(), context(false)).expect("outgoing");
        let mut ctx = incoming_context(false);
        ctx.event = SyncEvent::Deleted;
        let c = with_config(&[], || {
            Basic::incoming(replica.clone(), Some(sample_issue()), ctx.clone())
        })
        .expect("incoming");
        assert_eq!(c.on_delete, Some(OnDelete::Unlink));
        assert_eq!(c.summary, None, "a deletion changes no field");
        let c = with_config(&[("on-delete", "delete")], || {
            Basic::incoming(replica.clone(), Some(sample_issue()), ctx.clone())
        })
        .expect("incoming");
        assert_eq!(c.on_delete, Some(OnDelete::DeleteIssue));
        let err = with_config(&[("on-delete", "archive")], || {
            Basic::incoming(replica, Some(sample_issue()), ctx)
        })
        .expect_err("unknown policy");
        assert!(
            matches!(&err, RuleError::Fail(m) if m.contains("on-delete")),
            "{err:?}"
        );
    }

    #[test]
    fn versions_missing_is_passed_on_and_link_types_are_renamed() {
        let mut issue = sample_issue();
        issue.links = vec![IssueLink {
            id: "1".into(),
            link_type: "Blocks".into(),
            direction: LinkDirection::Inward,
            other_key: "SRC-2".into(),
            other_twin: Some("DEST-9".into()),
        }];
        let replica = Basic::outgoing(issue, context(false)).expect("outgoing");
        let c = with_config(
            &[
                ("versions.missing", "create"),
                ("map.link-type.Blocks", "Is blocked by"),
            ],
            || Basic::incoming(replica, Some(sample_issue()), incoming_context(false)),
        )
        .expect("incoming");
        assert_eq!(c.missing_versions, Some(MissingVersion::Create));
        let links = c.links.expect("links are a desired set");
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].link_type, "Is blocked by");
        assert_eq!(links[0].other_key, "DEST-9");
        assert_eq!(links[0].direction, LinkDirection::Inward);
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

    #[test]
    fn send_leaves_out_the_fields_it_does_not_list_and_says_which_it_carries() {
        let issue = sample_issue();
        let r = with_config(
            &[(
                "send",
                "summary, description,attachments,issuetype,priority,labels,status",
            )],
            || Basic::outgoing(issue.clone(), context(false)),
        )
        .expect("outgoing");
        assert!(r.comments.is_empty(), "comments stay home");
        assert_eq!(r.attachments, issue.attachments);
        assert_eq!(r.summary.as_deref(), Some(issue.summary.as_str()));
        assert_eq!(r.issue_type.as_deref(), Some("Bug"));
        assert_eq!(r.key.as_deref(), Some("SRC-1"), "the key always goes");
        assert_eq!(
            r.properties,
            [(
                SENT.to_string(),
                "summary,description,attachments,issue-type,priority,labels,status".to_string()
            )]
        );
        // Unrestricted, the replica is the stock one: no property.
        let full =
            with_config(&[], || Basic::outgoing(issue.clone(), context(false))).expect("outgoing");
        assert!(full.properties.is_empty());
        assert_eq!(full.comments, issue.comments);
    }

    #[test]
    fn an_empty_send_sends_only_the_key() {
        let r = with_config(&[("send", "")], || {
            Basic::outgoing(sample_issue(), context(false))
        })
        .expect("outgoing");
        assert_eq!(r.summary, None);
        assert!(r.labels.is_empty() && r.comments.is_empty());
        assert_eq!(r.key.as_deref(), Some("SRC-1"));
    }

    #[test]
    fn receive_leaves_alone_the_fields_it_does_not_list() {
        let replica = Basic::outgoing(sample_issue(), context(false)).expect("outgoing");
        let c = with_config(&[("receive", "summary,Status,labels")], || {
            Basic::incoming(replica, Some(sample_issue()), incoming_context(false))
        })
        .expect("incoming");
        assert!(c.summary.is_some() && c.status.is_some() && c.labels.is_some());
        assert_eq!(c.comments, None, "comments left alone");
        assert_eq!(c.attachments, None);
        assert_eq!(c.description, None);
        assert_eq!(c.priority, None);
        assert_eq!(c.issue_type, None);
    }

    #[test]
    fn fields_the_other_side_did_not_send_are_left_alone() {
        let replica = with_config(&[("send", "summary,status")], || {
            Basic::outgoing(sample_issue(), context(false))
        })
        .expect("outgoing");
        let c = with_config(&[], || {
            Basic::incoming(replica, Some(sample_issue()), incoming_context(false))
        })
        .expect("incoming");
        assert!(c.summary.is_some() && c.status.is_some());
        assert_eq!(c.comments, None, "not read as \"every comment deleted\"");
        assert_eq!(c.attachments, None);
        assert_eq!(c.labels, None);
    }

    #[test]
    fn the_first_sync_creates_with_summary_and_type_whatever_receive_says() {
        let replica = Basic::outgoing(sample_issue(), context(true)).expect("outgoing");
        let c = with_config(&[("project", "DEST"), ("receive", "comments")], || {
            Basic::incoming(replica, None, incoming_context(true))
        })
        .expect("incoming");
        assert_eq!(c.project.as_deref(), Some("DEST"));
        assert_eq!(c.summary.as_deref(), Some("Checkout fails for ACME Corp"));
        assert_eq!(c.issue_type.as_deref(), Some("Bug"));
        assert!(c.comments.is_some());
        assert_eq!(c.status, None);
        assert_eq!(c.priority, None);
    }

    #[test]
    fn an_unknown_field_name_fails_naming_the_key_and_the_name() {
        let err = with_config(&[("send", "summary,coments")], || {
            Basic::outgoing(sample_issue(), context(false))
        })
        .expect_err("unknown field");
        assert!(
            matches!(&err, RuleError::Fail(m) if m.contains("`send`") && m.contains("\"coments\"")),
            "{err:?}"
        );
        let replica = Basic::outgoing(sample_issue(), context(false)).expect("outgoing");
        let err = with_config(&[("receive", "assignee")], || {
            Basic::incoming(replica, Some(sample_issue()), incoming_context(false))
        })
        .expect_err("not a basic field");
        assert!(
            matches!(&err, RuleError::Fail(m) if m.contains("`receive`") && m.contains("\"assignee\"")),
            "{err:?}"
        );
    }
}
