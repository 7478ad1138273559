//! The fields JQL can name: resolving a name, how its values compare, and which operators it takes.

use crate::model::CustomKind;
use crate::state::State;

use super::JqlError;
use super::parser::Op;

/// Fields JQL can name, resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Field {
    Project,
    Key,
    IssueType,
    Status,
    StatusCategory,
    Priority,
    Resolution,
    Labels,
    Component,
    FixVersion,
    AffectedVersion,
    Assignee,
    Reporter,
    Creator,
    Parent,
    Created,
    Updated,
    Resolved,
    DueDate,
    Text,
    Summary,
    Description,
    Comment,
    Custom(usize),
}

impl Field {
    pub(super) fn name(self, state: &State) -> String {
        match self {
            Field::Project => "project".into(),
            Field::Key => "key".into(),
            Field::IssueType => "issuetype".into(),
            Field::Status => "status".into(),
            Field::StatusCategory => "statusCategory".into(),
            Field::Priority => "priority".into(),
            Field::Resolution => "resolution".into(),
            Field::Labels => "labels".into(),
            Field::Component => "component".into(),
            Field::FixVersion => "fixVersion".into(),
            Field::AffectedVersion => "affectedVersion".into(),
            Field::Assignee => "assignee".into(),
            Field::Reporter => "reporter".into(),
            Field::Creator => "creator".into(),
            Field::Parent => "parent".into(),
            Field::Created => "created".into(),
            Field::Updated => "updated".into(),
            Field::Resolved => "resolved".into(),
            Field::DueDate => "due".into(),
            Field::Text => "text".into(),
            Field::Summary => "summary".into(),
            Field::Description => "description".into(),
            Field::Comment => "comment".into(),
            Field::Custom(i) => state.custom_fields[i].name.clone(),
        }
    }
}

pub(super) fn resolve_field(name: &str, state: &State) -> Result<Field, JqlError> {
    let f = match name.to_ascii_lowercase().as_str() {
        "project" => Field::Project,
        "key" | "issuekey" | "id" | "issue" => Field::Key,
        "issuetype" | "type" => Field::IssueType,
        "status" => Field::Status,
        "statuscategory" => Field::StatusCategory,
        "priority" => Field::Priority,
        "resolution" => Field::Resolution,
        "labels" | "label" => Field::Labels,
        "component" | "components" => Field::Component,
        "fixversion" | "fixversions" => Field::FixVersion,
        "affectedversion" | "versions" => Field::AffectedVersion,
        "assignee" => Field::Assignee,
        "reporter" => Field::Reporter,
        "creator" => Field::Creator,
        "parent" => Field::Parent,
        "created" | "createddate" => Field::Created,
        "updated" | "updateddate" => Field::Updated,
        "resolved" | "resolutiondate" => Field::Resolved,
        "due" | "duedate" => Field::DueDate,
        "text" => Field::Text,
        "summary" => Field::Summary,
        "description" => Field::Description,
        "comment" => Field::Comment,
        lower => {
            let num = lower
                .strip_prefix("cf[")
                .and_then(|r| r.strip_suffix(']'))
                .or_else(|| lower.strip_prefix("customfield_"));
            let found = state.custom_fields.iter().position(|cf| match num {
                Some(n) => cf.id == format!("customfield_{n}"),
                None => cf.name.eq_ignore_ascii_case(name),
            });
            match found {
                Some(i) => Field::Custom(i),
                None => {
                    return Err(JqlError(format!(
                        "Field '{name}' does not exist or you do not have permission to view it."
                    )));
                }
            }
        }
    };
    Ok(f)
}

/// How a field's values compare.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Kind {
    /// Ids in a set: =, !=, IN, NOT IN, IS.
    Set,
    Date,
    Text,
    /// Text that also supports = and IN (select/short text custom fields).
    TextSet,
    Number,
}

pub(super) fn kind(f: Field, state: &State) -> Kind {
    match f {
        Field::Created | Field::Updated | Field::Resolved | Field::DueDate => Kind::Date,
        Field::Text | Field::Summary | Field::Description | Field::Comment => Kind::Text,
        Field::Custom(i) => match state.custom_fields[i].kind {
            CustomKind::Text | CustomKind::Textarea => Kind::Text,
            CustomKind::Select | CustomKind::Labels | CustomKind::User => Kind::TextSet,
            CustomKind::Date => Kind::Date,
            CustomKind::Number => Kind::Number,
        },
        _ => Kind::Set,
    }
}

pub(super) fn op_allowed(f: Field, k: Kind, op: Op) -> bool {
    use Op::*;
    match k {
        Kind::Set => matches!(op, Eq | Ne | In | NotIn | Is | IsNot),
        Kind::TextSet => matches!(op, Eq | Ne | In | NotIn | Is | IsNot | Like | NotLike),
        Kind::Date | Kind::Number => {
            matches!(op, Eq | Ne | Gt | Ge | Lt | Le | Is | IsNot | In | NotIn)
        }
        Kind::Text => match f {
            Field::Text => matches!(op, Like | NotLike),
            _ => matches!(op, Like | NotLike | Is | IsNot),
        },
    }
}
