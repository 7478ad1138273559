//! The stock `basic` behaviour as two functions, so a rule that changes one thing starts
//! from what the stock rule syncs and adds one line beside it.

use crate::types::{
    Changes, Issue, MissingVersion, OnDelete, Replica, RuleError, SyncContext, SyncEvent,
};
use crate::{ChangesExt, Field, ReplicaExt, changes_from, config, fail, local_project};

/// The fields `basic` sends and applies: summary, description, issue type, priority,
/// labels, status, comments, attachments, worklogs, links and fix and affected versions.
pub const FIELDS: [Field; 12] = [
    Field::Summary,
    Field::Description,
    Field::IssueType,
    Field::Priority,
    Field::Labels,
    Field::Status,
    Field::Comments,
    Field::Attachments,
    Field::Worklogs,
    Field::Links,
    Field::FixVersions,
    Field::AffectedVersions,
];

/// What `basic` lets leave this side: [`FIELDS`], plus the key (so the other side can show
/// where a twin came from) and the parent's key (so a sub-task lands under its parent's twin).
pub fn outgoing(issue: &Issue) -> Replica {
    let mut keep = FIELDS.to_vec();
    keep.extend([Field::Key, Field::Parent]);
    crate::replica_from(issue).only(&keep)
}

/// What config `on-delete` asks for when the other half of a twin is deleted: `unlink`
/// (the default), `delete` or `nothing`.
pub fn on_delete() -> Result<OnDelete, RuleError> {
    match config("on-delete").as_deref().map(str::trim) {
        None | Some("unlink") => Ok(OnDelete::Unlink),
        Some("delete") => Ok(OnDelete::DeleteIssue),
        Some("nothing") => Ok(OnDelete::Nothing),
        Some(other) => Err(fail(format!(
            "config key `on-delete`: {other:?} is not one of unlink, delete, nothing"
        ))),
    }
}

/// What config `versions.missing` asks for a version name the local project lacks:
/// `drop` (the default), `create` or `fail`.
pub fn missing_versions() -> Result<MissingVersion, RuleError> {
    match config("versions.missing").as_deref().map(str::trim) {
        None | Some("drop") => Ok(MissingVersion::Drop),
        Some("create") => Ok(MissingVersion::Create),
        Some("fail") => Ok(MissingVersion::Fail),
        Some(other) => Err(fail(format!(
            "config key `versions.missing`: {other:?} is not one of drop, create, fail"
        ))),
    }
}

/// How `basic` lands a replica: [`FIELDS`] as the replica has them, the twin created in
/// config `project` on first sync (of config `issue-type` when the replica has no type),
/// and the parent linked. Link types are renamed by config `map.link-type.<remote name>`;
/// a deletion of the other half is answered with config `on-delete`.
pub fn incoming(
    replica: &Replica,
    _local: Option<&Issue>,
    ctx: &SyncContext,
) -> Result<Changes, RuleError> {
    if ctx.event == SyncEvent::Deleted {
        let mut changes = changes_from(replica).only(&[]);
        changes.on_delete = Some(on_delete()?);
        return Ok(changes);
    }
    let mut changes = changes_from(replica).only(&FIELDS);
    if let Some(links) = changes.links.as_mut() {
        for link in links {
            if let Some(local) = config(&format!("map.link-type.{}", link.link_type)) {
                link.link_type = local;
            }
        }
    }
    changes.missing_versions = Some(missing_versions()?);
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
