//! Jira's JSON (either flavour) to [`crate::model`] types, and [`crate::model::Changes`] to request bodies.
//!
//! The sync layer sees only model types; this is the one place that knows
//! Jira's field names and shapes on the way in (`read`, through the serde
//! types of `wire`) and out (`write`).

mod read;
#[cfg(test)]
mod tests;
mod write;

pub use read::issue_from_json;
pub(crate) use read::{attachment, comment, comment_from_json, issue, user_from_json, worklog};
pub use write::{
    FieldCatalog, MappingError, ResolvedUsers, WriteContext, create_request, edit_request,
};
pub(crate) use write::{comment_body, rich_to_json, user_ref_of, user_refs};
