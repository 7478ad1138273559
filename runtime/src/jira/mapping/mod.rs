//! Jira's JSON (either flavour) to [`crate::model`] types, and [`crate::model::Changes`] to request bodies.
//!
//! The sync layer sees only model types; this is the one place that knows
//! Jira's field names and shapes on the way in (`read`, through the serde
//! types of [`super::wire`]) and out (`write`).

mod read;
#[cfg(test)]
mod tests;
mod write;

pub(crate) use read::{attachment, comment, issue};
pub use read::{
    attachment_from_json, comment_from_json, field_value, issue_from_json, rich_from_json,
    user_from_json,
};
pub use write::{
    FieldCatalog, MappingError, ResolvedUsers, WriteContext, comment_body, create_request,
    edit_fields, edit_request, rich_to_json, user_ref_of, user_refs,
};
