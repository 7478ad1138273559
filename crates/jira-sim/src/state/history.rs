//! The changelog: what changed between two versions of an issue, in Jira's terms.

use serde_json::Value;

use crate::model::*;

use super::State;

impl State {
    /// Changelog items between two versions of an issue, in Jira's terms.
    pub fn diff(&self, a: &Issue, b: &Issue) -> Vec<ChangeItem> {
        let mut items = Vec::new();
        let mut push = |field: &str,
                        field_id: &str,
                        fieldtype: &str,
                        from: Option<String>,
                        from_s: Option<String>,
                        to: Option<String>,
                        to_s: Option<String>| {
            items.push(ChangeItem {
                field: field.into(),
                fieldtype: fieldtype.into(),
                field_id: field_id.into(),
                from,
                from_string: from_s,
                to,
                to_string: to_s,
            })
        };
        if a.summary != b.summary {
            push(
                "summary",
                "summary",
                "jira",
                None,
                Some(a.summary.clone()),
                None,
                Some(b.summary.clone()),
            );
        }
        if a.description != b.description {
            let t = |d: &Option<Value>| d.as_ref().map(|v| self.wiki_text(v));
            push(
                "description",
                "description",
                "jira",
                None,
                t(&a.description),
                None,
                t(&b.description),
            );
        }
        if a.issue_type != b.issue_type {
            let n = |id: &str| {
                self.issue_types
                    .iter()
                    .find(|t| t.id == id)
                    .map(|t| t.name.clone())
            };
            push(
                "issuetype",
                "issuetype",
                "jira",
                Some(a.issue_type.clone()),
                n(&a.issue_type),
                Some(b.issue_type.clone()),
                n(&b.issue_type),
            );
        }
        if a.status != b.status {
            let n = |id: &str| self.status(id).map(|s| s.name.clone());
            push(
                "status",
                "status",
                "jira",
                Some(a.status.clone()),
                n(&a.status),
                Some(b.status.clone()),
                n(&b.status),
            );
        }
        // Resolution, priority and security level: an optional id, named from the instance's list.
        let name_of = |field: &str, id: &str| match field {
            "resolution" => self
                .resolutions
                .iter()
                .find(|r| r.id == id)
                .map(|r| r.name.clone()),
            "priority" => self
                .priorities
                .iter()
                .find(|p| p.id == id)
                .map(|p| p.name.clone()),
            _ => self
                .security_levels
                .iter()
                .find(|l| l.id == id)
                .map(|l| l.name.clone()),
        };
        for (field, fa, fb) in [
            ("resolution", &a.resolution, &b.resolution),
            ("priority", &a.priority, &b.priority),
            ("security", &a.security, &b.security),
        ] {
            if fa != fb {
                let n = |id: &Option<String>| id.as_deref().and_then(|id| name_of(field, id));
                push(field, field, "jira", fa.clone(), n(fa), fb.clone(), n(fb));
            }
        }
        if a.labels != b.labels {
            let j = |l: &Vec<String>| (!l.is_empty()).then(|| l.join(" "));
            push(
                "labels",
                "labels",
                "jira",
                None,
                j(&a.labels),
                None,
                j(&b.labels),
            );
        }
        if a.components != b.components {
            let names = |ids: &Vec<String>| {
                let p = self.project(&a.project);
                let v: Vec<String> = ids
                    .iter()
                    .filter_map(|id| {
                        p.and_then(|p| p.components.iter().find(|c| &c.id == id))
                            .map(|c| c.name.clone())
                    })
                    .collect();
                (!v.is_empty()).then(|| v.join(", "))
            };
            push(
                "Component",
                "components",
                "jira",
                None,
                names(&a.components),
                None,
                names(&b.components),
            );
        }
        for (field, id, va, vb) in [
            (
                "Fix Version",
                "fixVersions",
                &a.fix_versions,
                &b.fix_versions,
            ),
            ("Version", "versions", &a.versions, &b.versions),
        ] {
            if va != vb {
                let names = |ids: &Vec<String>| {
                    let v: Vec<String> = ids
                        .iter()
                        .filter_map(|id| self.version(id).map(|x| x.name.clone()))
                        .collect();
                    (!v.is_empty()).then(|| v.join(", "))
                };
                push(field, id, "jira", None, names(va), None, names(vb));
            }
        }
        for (field, fa, fb) in [
            ("assignee", a.assignee, b.assignee),
            ("reporter", a.reporter, b.reporter),
        ] {
            if fa != fb {
                let id = |u: Option<UserId>| {
                    u.and_then(|u| self.users.get(u))
                        .map(|u| self.user_ref_id(u))
                };
                let n = |u: Option<UserId>| {
                    u.and_then(|u| self.users.get(u))
                        .map(|u| u.display_name.clone())
                };
                push(field, field, "jira", id(fa), n(fa), id(fb), n(fb));
            }
        }
        if a.due_date != b.due_date {
            let d = |x: Option<chrono::NaiveDate>| x.map(|d| d.to_string());
            push(
                "duedate",
                "duedate",
                "jira",
                d(a.due_date),
                d(a.due_date),
                d(b.due_date),
                d(b.due_date),
            );
        }
        if a.parent != b.parent {
            let k = |p: Option<u64>| p.and_then(|p| self.issues.get(&p)).map(|i| i.key.clone());
            push(
                "Parent",
                "parent",
                "jira",
                a.parent.map(|p| p.to_string()),
                k(a.parent),
                b.parent.map(|p| p.to_string()),
                k(b.parent),
            );
        }
        for cf in &self.custom_fields {
            let (va, vb) = (a.custom.get(&cf.id), b.custom.get(&cf.id));
            if va != vb {
                let s = |v: Option<&Value>| {
                    v.map(|v| match (cf.kind, v) {
                        (CustomKind::User, Value::Number(n)) => n
                            .as_u64()
                            .and_then(|u| self.users.get(u as usize))
                            .map(|u| u.display_name.clone())
                            .unwrap_or_default(),
                        (CustomKind::Textarea, v) => self.wiki_text(v),
                        (_, Value::String(s)) => s.clone(),
                        (_, Value::Array(a)) => a
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(" "),
                        (_, other) => other.to_string(),
                    })
                };
                push(&cf.name, &cf.id, "custom", None, s(va), None, s(vb));
            }
        }
        items
    }
}
