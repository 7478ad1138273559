//! Field metadata: `/field`, the create and edit metadata of each field, and an issue's editmeta.

use serde_json::{Map, Value, json};

use crate::fields::{FieldDef, field_defs};
use crate::model::*;
use crate::state::State;

use super::{api_base, issue_type, priority, project_short, resolution, security_level};

/// A field as `/field` lists it.
pub fn field(st: &State, api: Api, d: &FieldDef) -> Value {
    let clause = if d.custom {
        let n = d.id.trim_start_matches("customfield_");
        vec![format!("cf[{n}]"), d.name.clone()]
    } else {
        vec![d.id.clone()]
    };
    let mut v = json!({
        "id": d.id,
        "name": d.name,
        "custom": d.custom,
        "orderable": d.orderable,
        "navigable": d.navigable,
        "searchable": true,
        "clauseNames": clause,
        "schema": d.schema,
    });
    if api.cloud() {
        v["key"] = json!(d.id);
    }
    let _ = st;
    v
}

/// Allowed values of a field, for metadata.
fn allowed_values(
    st: &State,
    api: Api,
    d: &FieldDef,
    project: Option<&Project>,
) -> Option<Vec<Value>> {
    Some(match d.id.as_str() {
        "priority" => st
            .priorities
            .iter()
            .map(|p| priority(st, api, &p.id))
            .collect(),
        "resolution" => st
            .resolutions
            .iter()
            .map(|r| resolution(st, api, &r.id))
            .collect(),
        "security" => st
            .security_levels
            .iter()
            .map(|l| security_level(st, api, &l.id))
            .collect(),
        "issuetype" => project?
            .issue_types
            .iter()
            .map(|t| issue_type(st, api, t))
            .collect(),
        "project" => vec![project_short(st, api, &project?.id)],
        "fixVersions" | "versions" => st
            .versions_of(&project?.id)
            .into_iter()
            .filter(|v| !v.archived)
            .map(|v| super::version(st, api, v))
            .collect(),
        "components" => {
            let p = project?;
            p.components.iter().map(|c| json!({"self": format!("{}/component/{}", api_base(st, api), c.id), "id": c.id, "name": c.name})).collect()
        }
        id => {
            let cf = st
                .custom_fields
                .iter()
                .find(|c| c.id == id && c.kind == CustomKind::Select)?;
            cf.options
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    let oid = st.option_id(cf, i);
                    json!({"self": format!("{}/customFieldOption/{oid}", api_base(st, api)), "value": o, "id": oid})
                })
                .collect()
        }
    })
}

/// One field's create/edit metadata (`FieldMetadata`).
pub fn field_meta(
    st: &State,
    api: Api,
    d: &FieldDef,
    required: bool,
    with_field_id: bool,
) -> Value {
    field_meta_for(st, api, d, required, with_field_id, None)
}

pub fn field_meta_for(
    st: &State,
    api: Api,
    d: &FieldDef,
    required: bool,
    with_field_id: bool,
    project: Option<&Project>,
) -> Value {
    let ops: Vec<&str> = match d.id.as_str() {
        "labels" | "components" => vec!["add", "set", "remove"],
        "comment" => vec!["add", "edit", "remove"],
        "issuelinks" => vec!["add"],
        _ => vec!["set"],
    };
    let mut v = json!({
        "required": required,
        "schema": d.schema,
        "name": d.name,
        "key": d.id,
        "hasDefaultValue": d.id == "priority",
        "operations": ops,
    });
    if with_field_id {
        v["fieldId"] = json!(d.id);
    }
    if let Some(av) = allowed_values(st, api, d, project) {
        v["allowedValues"] = Value::from(av);
    }
    if matches!(d.id.as_str(), "assignee" | "reporter")
        || d.schema.get("type").and_then(Value::as_str) == Some("user")
    {
        let q = if api.cloud() { "query" } else { "username" };
        v["autoCompleteUrl"] = json!(format!("{}/user/search?{q}=", api_base(st, api)));
    }
    v
}

/// `GET /issue/{key}/editmeta`.
pub fn editmeta(st: &State, api: Api, i: &Issue) -> Value {
    let p = st.project(&i.project);
    let mut m = Map::new();
    for d in field_defs(st).iter().filter(|d| d.editable) {
        m.insert(
            d.id.clone(),
            field_meta_for(
                st,
                api,
                d,
                d.id == "summary" || d.id == "issuetype",
                false,
                p,
            ),
        );
    }
    json!({"fields": m})
}
