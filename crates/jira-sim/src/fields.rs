//! The field catalogue: every field an instance knows, and which of them a create screen shows.

use serde_json::{Value, json};

use crate::model::*;
use crate::state::State;

/// A field's definition, for `/field`, `names`, `schema` and the metadata endpoints.
#[derive(Clone, Debug)]
pub struct FieldDef {
    pub id: String,
    pub name: String,
    pub schema: Value,
    pub custom: bool,
    pub navigable: bool,
    pub orderable: bool,
    pub editable: bool,
}

/// Every field the instance knows, system fields first.
pub fn field_defs(st: &State) -> Vec<FieldDef> {
    let sys = |id: &str, name: &str, schema: Value, navigable: bool, editable: bool| FieldDef {
        id: id.into(),
        name: name.into(),
        schema,
        custom: false,
        navigable,
        orderable: editable,
        editable,
    };
    let ty = |t: &str, system: &str| json!({"type": t, "system": system});
    let arr =
        |items: &str, system: &str| json!({"type": "array", "items": items, "system": system});
    let mut v = vec![
        sys("summary", "Summary", ty("string", "summary"), true, true),
        sys(
            "description",
            "Description",
            ty("string", "description"),
            true,
            true,
        ),
        sys(
            "issuetype",
            "Issue Type",
            ty("issuetype", "issuetype"),
            true,
            true,
        ),
        sys("project", "Project", ty("project", "project"), true, false),
        sys("status", "Status", ty("status", "status"), true, false),
        sys(
            "priority",
            "Priority",
            ty("priority", "priority"),
            true,
            true,
        ),
        sys(
            "resolution",
            "Resolution",
            ty("resolution", "resolution"),
            true,
            false,
        ),
        sys(
            "security",
            "Security Level",
            ty("securitylevel", "security"),
            true,
            true,
        ),
        sys("labels", "Labels", arr("string", "labels"), true, true),
        sys(
            "components",
            "Components",
            arr("component", "components"),
            true,
            true,
        ),
        sys(
            "fixVersions",
            "Fix Version/s",
            arr("version", "fixVersions"),
            true,
            true,
        ),
        sys(
            "versions",
            "Affects Version/s",
            arr("version", "versions"),
            true,
            true,
        ),
        sys("assignee", "Assignee", ty("user", "assignee"), true, true),
        sys("reporter", "Reporter", ty("user", "reporter"), true, true),
        sys("creator", "Creator", ty("user", "creator"), true, false),
        sys("created", "Created", ty("datetime", "created"), true, false),
        sys("updated", "Updated", ty("datetime", "updated"), true, false),
        sys(
            "resolutiondate",
            "Resolved",
            ty("datetime", "resolutiondate"),
            true,
            false,
        ),
        sys("duedate", "Due date", ty("date", "duedate"), true, true),
        sys("parent", "Parent", ty("issuelink", "parent"), true, true),
        sys(
            "subtasks",
            "Sub-tasks",
            arr("issuelinks", "subtasks"),
            true,
            false,
        ),
        sys(
            "issuelinks",
            "Linked Issues",
            arr("issuelinks", "issuelinks"),
            true,
            true,
        ),
        sys(
            "comment",
            "Comment",
            ty("comments-page", "comment"),
            false,
            true,
        ),
        sys(
            "attachment",
            "Attachment",
            arr("attachment", "attachment"),
            true,
            true,
        ),
    ];
    for cf in &st.custom_fields {
        let n: u64 = cf
            .id
            .trim_start_matches("customfield_")
            .parse()
            .unwrap_or(0);
        let (t, items, plugin) = match cf.kind {
            CustomKind::Text => ("string", None, "textfield"),
            CustomKind::Textarea => ("string", None, "textarea"),
            CustomKind::Number => ("number", None, "float"),
            CustomKind::Select => ("option", None, "select"),
            CustomKind::Labels => ("array", Some("string"), "labels"),
            CustomKind::Date => ("date", None, "datepicker"),
            CustomKind::User => ("user", None, "userpicker"),
        };
        let mut schema = json!({"type": t, "custom": format!("com.atlassian.jira.plugin.system.customfieldtypes:{plugin}"), "customId": n});
        if let Some(i) = items {
            schema["items"] = json!(i);
        }
        v.push(FieldDef {
            id: cf.id.clone(),
            name: cf.name.clone(),
            schema,
            custom: true,
            navigable: true,
            orderable: true,
            editable: true,
        });
    }
    v
}

/// Field ids on a project's create screen for an issue type, with "required".
pub fn create_fields(st: &State, issue_type: &IssueType) -> Vec<(FieldDef, bool)> {
    field_defs(st)
        .into_iter()
        .filter(|d| d.editable || d.id == "project")
        .filter(|d| {
            d.id != "comment" && d.id != "issuelinks" && (d.id != "parent" || issue_type.subtask)
        })
        .map(|d| {
            let req = matches!(d.id.as_str(), "summary" | "issuetype" | "project")
                || (d.id == "parent" && issue_type.subtask);
            (d, req)
        })
        .collect()
}
