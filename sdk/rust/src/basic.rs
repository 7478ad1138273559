//! The stock `basic` behaviour as two functions, so a rule that changes one thing starts
//! from what the stock rule syncs and adds one line beside it.

use crate::types::{Changes, Issue, Replica, RuleError, SyncContext};
use crate::{ChangesExt, Field, ReplicaExt, changes_from, config, fail, local_project};

/// The fields `basic` sends and applies: summary, description, issue type, priority,
/// labels, status, comments and attachments.
pub const FIELDS: [Field; 8] = [
    Field::Summary,
    Field::Description,
    Field::IssueType,
    Field::Priority,
    Field::Labels,
    Field::Status,
    Field::Comments,
    Field::Attachments,
];

/// What `basic` lets leave this side: [`FIELDS`], plus the key (so the other side can show
/// where a twin came from) and the parent's key (so a sub-task lands under its parent's twin).
pub fn outgoing(issue: &Issue) -> Replica {
    let mut keep = FIELDS.to_vec();
    keep.extend([Field::Key, Field::Parent]);
    crate::replica_from(issue).only(&keep)
}

/// How `basic` lands a replica: [`FIELDS`] as the replica has them, the twin created in
/// config `project` on first sync (of config `issue-type` when the replica has no type),
/// and the parent linked.
pub fn incoming(
    replica: &Replica,
    _local: Option<&Issue>,
    ctx: &SyncContext,
) -> Result<Changes, RuleError> {
    let mut changes = changes_from(replica).only(&FIELDS);
    changes.project = local_project(ctx)?;
    if ctx.first_sync {
        crate::log::info(format!(
            "first sync of {}: creating its twin in project {}",
            ctx.remote_key.as_deref().unwrap_or("(unknown key)"),
            changes.project.as_deref().unwrap_or("(none)")
        ));
    }
    // A key on the other side: the host links the local twin of that parent.
    changes.parent = replica.parent.clone();
    if ctx.first_sync && changes.issue_type.is_none() {
        changes.issue_type = Some(config("issue-type").ok_or_else(|| {
            fail("the replica has no issue type and config key `issue-type` is not set")
        })?);
    }
    Ok(changes)
}
