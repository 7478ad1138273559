//! Names for the issue fields a rule keeps or drops, and how config spells them.

/// An issue field, as [`crate::ReplicaExt`] and [`crate::ChangesExt`] keep or drop it.
///
/// In config, fields are written as in the WIT (`issue-type`, `due-date`,
/// `custom-fields`); [`Field::parse`] also accepts other spellings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The issue key (replica only: the host decides the local key).
    Key,
    /// The project key.
    Project,
    /// The issue type name.
    IssueType,
    /// The summary.
    Summary,
    /// The description.
    Description,
    /// The status name.
    Status,
    /// The priority name.
    Priority,
    /// The labels.
    Labels,
    /// The component names.
    Components,
    /// The assignee.
    Assignee,
    /// The reporter.
    Reporter,
    /// The due date.
    DueDate,
    /// The parent issue's key.
    Parent,
    /// The comments.
    Comments,
    /// The attachments.
    Attachments,
    /// All custom fields (drop single ones with `without_custom_fields`).
    CustomFields,
    /// The creation time (replica only).
    Created,
    /// The last update time (replica only).
    Updated,
    /// The worklogs (contract 0.3).
    Worklogs,
    /// The links to other issues (contract 0.3).
    Links,
    /// The fix versions (contract 0.3).
    FixVersions,
    /// The affected versions (contract 0.3).
    AffectedVersions,
}

impl Field {
    /// Every field, in WIT order.
    pub const ALL: [Field; 22] = [
        Field::Key,
        Field::Project,
        Field::IssueType,
        Field::Summary,
        Field::Description,
        Field::Status,
        Field::Priority,
        Field::Labels,
        Field::Components,
        Field::Assignee,
        Field::Reporter,
        Field::DueDate,
        Field::Parent,
        Field::Comments,
        Field::Attachments,
        Field::CustomFields,
        Field::Created,
        Field::Updated,
        Field::Worklogs,
        Field::Links,
        Field::FixVersions,
        Field::AffectedVersions,
    ];

    /// The field's name as the WIT spells it, e.g. `issue-type`.
    pub fn name(self) -> &'static str {
        match self {
            Field::Key => "key",
            Field::Project => "project",
            Field::IssueType => "issue-type",
            Field::Summary => "summary",
            Field::Description => "description",
            Field::Status => "status",
            Field::Priority => "priority",
            Field::Labels => "labels",
            Field::Components => "components",
            Field::Assignee => "assignee",
            Field::Reporter => "reporter",
            Field::DueDate => "due-date",
            Field::Parent => "parent",
            Field::Comments => "comments",
            Field::Attachments => "attachments",
            Field::CustomFields => "custom-fields",
            Field::Created => "created",
            Field::Updated => "updated",
            Field::Worklogs => "worklogs",
            Field::Links => "links",
            Field::FixVersions => "fix-versions",
            Field::AffectedVersions => "affected-versions",
        }
    }

    /// Parses a field name, ignoring case, `-`, `_` and spaces, so
    /// `issue-type`, `issuetype`, `Issue Type` and `type` all name [`Field::IssueType`].
    /// Returns `None` for anything else (e.g. a custom field's id or name).
    pub fn parse(name: &str) -> Option<Field> {
        let folded: String = name
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        Some(match folded.as_str() {
            "key" => Field::Key,
            "project" => Field::Project,
            "issuetype" | "type" => Field::IssueType,
            "summary" => Field::Summary,
            "description" => Field::Description,
            "status" => Field::Status,
            "priority" => Field::Priority,
            "labels" | "label" => Field::Labels,
            "components" | "component" => Field::Components,
            "assignee" => Field::Assignee,
            "reporter" => Field::Reporter,
            "duedate" | "due" => Field::DueDate,
            "parent" => Field::Parent,
            "comments" | "comment" => Field::Comments,
            "attachments" | "attachment" => Field::Attachments,
            "customfields" => Field::CustomFields,
            "created" => Field::Created,
            "worklogs" | "worklog" => Field::Worklogs,
            "links" | "link" | "issuelinks" => Field::Links,
            "fixversions" | "fixversion" => Field::FixVersions,
            "affectedversions" | "affectedversion" | "versions" => Field::AffectedVersions,
            "updated" => Field::Updated,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Field;

    #[test]
    fn every_name_parses_back_to_its_field() {
        for field in Field::ALL {
            assert_eq!(Field::parse(field.name()), Some(field));
        }
    }

    #[test]
    fn parse_accepts_other_spellings_and_refuses_custom_fields() {
        assert_eq!(Field::parse("Issue Type"), Some(Field::IssueType));
        assert_eq!(Field::parse("type"), Some(Field::IssueType));
        assert_eq!(Field::parse("due_date"), Some(Field::DueDate));
        assert_eq!(Field::parse("customfield_10010"), None);
        assert_eq!(Field::parse("Team"), None);
    }
}
