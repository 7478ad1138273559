//! Building the replica an outgoing rule returns: copy everything, then drop what must not leave.

use crate::Field;
use crate::types::{Issue, Replica};

/// A replica carrying every field of `issue`, with no properties.
///
/// Drop what must not leave with [`ReplicaExt::without`] or keep a chosen set
/// with [`ReplicaExt::only`]; what a replica leaves out never crosses the connection.
pub fn replica_from(issue: &Issue) -> Replica {
    Replica {
        key: Some(issue.key.clone()),
        project: Some(issue.project.clone()),
        issue_type: Some(issue.issue_type.clone()),
        summary: Some(issue.summary.clone()),
        description: issue.description.clone(),
        status: Some(issue.status.clone()),
        priority: issue.priority.clone(),
        labels: issue.labels.clone(),
        components: issue.components.clone(),
        assignee: issue.assignee.clone(),
        reporter: issue.reporter.clone(),
        due_date: issue.due_date.clone(),
        parent: issue.parent.clone(),
        comments: issue.comments.clone(),
        attachments: issue.attachments.clone(),
        custom_fields: issue.custom_fields.clone(),
        created: Some(issue.created.clone()),
        updated: Some(issue.updated.clone()),
        properties: Vec::new(),
        worklogs: issue.worklogs.clone(),
        links: issue.links.clone(),
        fix_versions: issue.fix_versions.clone(),
        affected_versions: issue.affected_versions.clone(),
    }
}

/// Keeping and dropping fields of a [`Replica`].
///
/// `properties` are not a field: these methods leave them as they are.
pub trait ReplicaExt: Sized {
    /// Empties one field (`None`, or an empty list).
    fn clear(&mut self, field: Field);

    /// The replica with `fields` emptied.
    fn without(mut self, fields: &[Field]) -> Self {
        for &field in fields {
            self.clear(field);
        }
        self
    }

    /// The replica with every field but `fields` emptied.
    fn only(mut self, fields: &[Field]) -> Self {
        for field in Field::ALL {
            if !fields.contains(&field) {
                self.clear(field);
            }
        }
        self
    }

    /// The replica without the custom fields whose id or name (ignoring case)
    /// is in `ids_or_names`, e.g. `&["customfield_10010", "Team"]`.
    fn without_custom_fields(self, ids_or_names: &[&str]) -> Self;

    /// The replica with one more `(name, value)` property for the other side's incoming rule.
    fn with_property(self, name: impl Into<String>, value: impl Into<String>) -> Self;
}

impl ReplicaExt for Replica {
    fn clear(&mut self, field: Field) {
        match field {
            Field::Key => self.key = None,
            Field::Project => self.project = None,
            Field::IssueType => self.issue_type = None,
            Field::Summary => self.summary = None,
            Field::Description => self.description = None,
            Field::Status => self.status = None,
            Field::Priority => self.priority = None,
            Field::Labels => self.labels.clear(),
            Field::Components => self.components.clear(),
            Field::Assignee => self.assignee = None,
            Field::Reporter => self.reporter = None,
            Field::DueDate => self.due_date = None,
            Field::Parent => self.parent = None,
            Field::Comments => self.comments.clear(),
            Field::Attachments => self.attachments.clear(),
            Field::CustomFields => self.custom_fields.clear(),
            Field::Created => self.created = None,
            Field::Updated => self.updated = None,
            Field::Worklogs => self.worklogs.clear(),
            Field::Links => self.links.clear(),
            Field::FixVersions => self.fix_versions.clear(),
            Field::AffectedVersions => self.affected_versions.clear(),
        }
    }

    fn without_custom_fields(mut self, ids_or_names: &[&str]) -> Self {
        self.custom_fields.retain(|f| {
            !ids_or_names
                .iter()
                .any(|n| f.id.eq_ignore_ascii_case(n) || f.name.eq_ignore_ascii_case(n))
        });
        self
    }

    fn with_property(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.push((name.into(), value.into()));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sample_issue;

    #[test]
    fn replica_from_copies_every_field() {
        let issue = sample_issue();
        let r = replica_from(&issue);
        assert_eq!(r.key.as_deref(), Some(issue.key.as_str()));
        assert_eq!(r.summary.as_deref(), Some(issue.summary.as_str()));
        assert_eq!(r.description, issue.description);
        assert_eq!(r.labels, issue.labels);
        assert_eq!(r.comments, issue.comments);
        assert_eq!(r.attachments, issue.attachments);
        assert_eq!(r.custom_fields, issue.custom_fields);
        assert_eq!(r.assignee, issue.assignee);
        assert_eq!(r.updated.as_deref(), Some(issue.updated.as_str()));
        assert!(r.properties.is_empty());
    }

    #[test]
    fn only_keeps_the_named_fields_and_properties() {
        let r = replica_from(&sample_issue())
            .with_property("origin", "test")
            .only(&[Field::Summary, Field::Labels]);
        assert!(r.summary.is_some());
        assert!(!r.labels.is_empty());
        assert_eq!(r.key, None);
        assert_eq!(r.description, None);
        assert!(r.comments.is_empty());
        assert!(r.custom_fields.is_empty());
        assert_eq!(
            r.properties,
            vec![("origin".to_string(), "test".to_string())]
        );
    }

    #[test]
    fn without_drops_fields_and_custom_fields_by_id_or_name() {
        let issue = sample_issue();
        let before = issue.custom_fields.len();
        let r = replica_from(&issue)
            .without(&[Field::Assignee, Field::Attachments])
            .without_custom_fields(&["TEAM", "customfield_10020"]);
        assert_eq!(r.assignee, None);
        assert!(r.attachments.is_empty());
        assert!(r.reporter.is_some());
        assert_eq!(r.custom_fields.len(), before - 2);
        assert!(
            r.custom_fields
                .iter()
                .all(|f| f.name != "Team" && f.id != "customfield_10020")
        );
    }
}
