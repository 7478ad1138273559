//! Request payloads into issue changes: the `fields` and `update` maps of create, edit and transition.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::adf;
use super::error::ApiError;
use super::model::{Api, CustomKind, Flavour, Issue, UserId};
use super::state::State;

/// Side effects of an edit that are not issue fields (comments and links in `update`).
#[derive(Default, Debug)]
pub struct Extras {
    pub comments: Vec<Value>,
    pub links: Vec<Value>,
}

pub fn cannot_set(field: &str) -> ApiError {
    ApiError::field(
        field,
        format!("Field '{field}' cannot be set. It is not on the appropriate screen, or unknown."),
    )
}

/// Rich text in the request's dialect, stored in the instance's native form.
pub fn rich_in(api: Api, field: &str, v: &Value) -> Result<Option<Value>, ApiError> {
    match v {
        Value::Null => Ok(None),
        _ if api.adf() => {
            adf::validate(v).map_err(|m| ApiError::field(field, m))?;
            Ok(Some(v.clone()))
        }
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(match api.flavour {
            Flavour::Cloud => adf::from_wiki(s),
            Flavour::DataCenter => Value::String(s.clone()),
        })),
        _ => Err(ApiError::field(field, "Operation value must be a string")),
    }
}

/// A user reference: `{"accountId"}` on Cloud, `{"name"}` or `{"key"}` on DC.
pub fn user_in(st: &State, field: &str, v: &Value) -> Result<Option<UserId>, ApiError> {
    if v.is_null() {
        return Ok(None);
    }
    // `{"accountId": null}` (Cloud) or `{"name": null}` (DC) clears the user, as Jira does.
    let id_key = match st.flavour {
        Flavour::Cloud => "accountId",
        Flavour::DataCenter => "name",
    };
    if v.get(id_key).is_some_and(Value::is_null) {
        return Ok(None);
    }
    let found = match st.flavour {
        Flavour::Cloud => v
            .get("accountId")
            .and_then(Value::as_str)
            .map(|a| (a, st.users.iter().position(|u| u.account_id == a))),
        Flavour::DataCenter => v
            .get("name")
            .and_then(Value::as_str)
            .map(|n| (n, st.users.iter().position(|u| u.name == n)))
            .or_else(|| {
                v.get("key")
                    .and_then(Value::as_str)
                    .map(|k| (k, st.users.iter().position(|u| u.key == k)))
            }),
    };
    match found {
        Some((_, Some(u))) => Ok(Some(u)),
        Some((who, None)) => Err(ApiError::field(
            field,
            match st.flavour {
                Flavour::Cloud => {
                    "Specified user does not exist or you do not have required permissions"
                        .to_string()
                }
                Flavour::DataCenter => format!("User '{who}' does not exist."),
            },
        )),
        None => Err(ApiError::field(
            field,
            match st.flavour {
                Flavour::Cloud => "Specify a valid value for accountId",
                Flavour::DataCenter => "Specify a valid value for name or key",
            },
        )),
    }
}

fn id_or_name<'a, T>(
    list: &'a [T],
    v: &Value,
    id: impl Fn(&T) -> &str,
    name: impl Fn(&T) -> &str,
) -> Option<&'a T> {
    if let Some(i) = v.get("id").and_then(Value::as_str) {
        return list.iter().find(|x| id(x) == i);
    }
    if let Some(n) = v.get("name").and_then(Value::as_str) {
        return list.iter().find(|x| name(x).eq_ignore_ascii_case(n));
    }
    None
}

fn date_in(field: &str, v: &Value) -> Result<Option<NaiveDate>, ApiError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::field(field, format!("Error parsing date string: {s}"))),
        _ => Err(ApiError::field(field, "Operation value must be a string")),
    }
}

fn labels_in(field: &str, v: &Value) -> Result<Vec<String>, ApiError> {
    let arr = v
        .as_array()
        .ok_or_else(|| ApiError::field(field, "Operation value must be an array"))?;
    let mut out: Vec<String> = Vec::new();
    for l in arr {
        let s = l
            .as_str()
            .ok_or_else(|| ApiError::field(field, "Operation value must be a string"))?;
        label_ok(field, s)?;
        if !out.iter().any(|x| x == s) {
            out.push(s.to_string());
        }
    }
    Ok(out)
}

fn label_ok(field: &str, s: &str) -> Result<(), ApiError> {
    if s.is_empty() || s.contains(char::is_whitespace) {
        return Err(ApiError::field(
            field,
            format!("The label '{s}' contains spaces which is invalid."),
        ));
    }
    Ok(())
}

/// `fixVersions` or `versions` of an issue.
fn versions_mut<'a>(issue: &'a mut Issue, field: &str) -> &'a mut Vec<String> {
    if field == "fixVersions" {
        &mut issue.fix_versions
    } else {
        &mut issue.versions
    }
}

fn component_in(st: &State, issue: &Issue, v: &Value) -> Result<String, ApiError> {
    let project = st.project(&issue.project);
    let comps = project.map(|p| p.components.as_slice()).unwrap_or(&[]);
    id_or_name(comps, v, |c| &c.id, |c| &c.name)
        .map(|c| c.id.clone())
        .ok_or_else(|| {
            let what = v
                .get("id")
                .or_else(|| v.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            ApiError::field(
                "components",
                format!("Component name '{what}' is not valid"),
            )
        })
}

/// Sets one field from its `fields` value.
pub fn set_field(
    st: &State,
    api: Api,
    issue: &mut Issue,
    field: &str,
    v: &Value,
    in_transition: bool,
) -> Result<(), ApiError> {
    match field {
        "summary" => {
            let s = v.as_str().map(str::trim).unwrap_or("");
            if s.is_empty() {
                return Err(ApiError::field(
                    "summary",
                    "You must specify a summary of the issue.",
                ));
            }
            if s.chars().count() > 255 {
                return Err(ApiError::field(
                    "summary",
                    "Summary must be less than 255 characters.",
                ));
            }
            issue.summary = s.to_string();
        }
        "description" => issue.description = rich_in(api, "description", v)?,
        "priority" => {
            issue.priority = if v.is_null() {
                None
            } else {
                Some(
                    id_or_name(&st.priorities, v, |p| &p.id, |p| &p.name)
                        .ok_or_else(|| {
                            ApiError::field(
                                "priority",
                                "Specify the Priority (id or name) in the valid format",
                            )
                        })?
                        .id
                        .clone(),
                )
            }
        }
        "security" => {
            issue.security = if v.is_null() {
                None
            } else {
                Some(
                    id_or_name(&st.security_levels, v, |l| &l.id, |l| &l.name)
                        .ok_or_else(|| ApiError::field("security", "Security level is not valid."))?
                        .id
                        .clone(),
                )
            }
        }
        "labels" => issue.labels = labels_in("labels", v)?,
        "components" => {
            let arr = v
                .as_array()
                .ok_or_else(|| ApiError::field("components", "Operation value must be an array"))?;
            let mut ids = Vec::new();
            for c in arr {
                let id = component_in(st, issue, c)?;
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            issue.components = ids;
        }
        "fixVersions" | "versions" => {
            let arr = v
                .as_array()
                .ok_or_else(|| ApiError::field(field, "Operation value must be an array"))?;
            let mut ids = Vec::new();
            for x in arr {
                let id = st.version_in(field, issue, x)?;
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            *versions_mut(issue, field) = ids;
        }
        "assignee" => issue.assignee = user_in(st, "assignee", v)?,
        "reporter" => {
            issue.reporter = user_in(st, "reporter", v)?;
        }
        "duedate" => issue.due_date = date_in("duedate", v)?,
        "issuetype" => {
            let t = id_or_name(&st.issue_types, v, |t| &t.id, |t| &t.name)
                .ok_or_else(|| ApiError::field("issuetype", "Specify an issue type"))?;
            let project = st.project(&issue.project);
            if !project.is_some_and(|p| p.issue_types.contains(&t.id)) {
                return Err(ApiError::field(
                    "issuetype",
                    "The issue type selected is invalid.",
                ));
            }
            issue.issue_type = t.id.clone();
        }
        "parent" => {
            issue.parent = if v.is_null() {
                None
            } else {
                let r = v
                    .get("key")
                    .or_else(|| v.get("id"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let pid = st.find_issue(r).ok_or_else(|| {
                    ApiError::field("parent", format!("Could not find issue by id or key. {r}"))
                })?;
                if pid == issue.id {
                    return Err(ApiError::field(
                        "parent",
                        "An issue cannot be its own parent.",
                    ));
                }
                Some(pid)
            };
        }
        "resolution" if in_transition => {
            issue.resolution = if v.is_null() {
                None
            } else {
                Some(
                    id_or_name(&st.resolutions, v, |r| &r.id, |r| &r.name)
                        .ok_or_else(|| ApiError::field("resolution", "Specify a valid resolution"))?
                        .id
                        .clone(),
                )
            };
        }
        f if f.starts_with("customfield_") => {
            let cf = st
                .custom_fields
                .iter()
                .find(|c| c.id == f)
                .ok_or_else(|| cannot_set(f))?;
            let stored = if v.is_null() {
                None
            } else {
                Some(match cf.kind {
                    CustomKind::Text => {
                        let s = v.as_str().ok_or_else(|| {
                            ApiError::field(f, "Operation value must be a string")
                        })?;
                        if s.chars().count() > 255 {
                            return Err(ApiError::field(
                                f,
                                "The entered text is too long. It exceeds the allowed limit of 255 characters.",
                            ));
                        }
                        Value::String(s.to_string())
                    }
                    CustomKind::Textarea => match rich_in(api, f, v)? {
                        Some(x) => x,
                        None => Value::Null,
                    },
                    CustomKind::Number => {
                        if !v.is_number() {
                            return Err(ApiError::field(f, "Operation value must be a number"));
                        }
                        v.clone()
                    }
                    CustomKind::Select => {
                        let by_value = v.get("value").and_then(Value::as_str);
                        let by_id = v.get("id").and_then(Value::as_str);
                        let opt = cf.options.iter().enumerate().find(|(i, o)| {
                            by_value == Some(o.as_str())
                                || by_id == Some(st.option_id(cf, *i).as_str())
                        });
                        match opt {
                            Some((_, o)) => Value::String(o.clone()),
                            None => {
                                let what = by_value.or(by_id).unwrap_or("");
                                return Err(ApiError::field(
                                    f,
                                    format!("Option value '{what}' is not valid"),
                                ));
                            }
                        }
                    }
                    CustomKind::Labels => Value::from(labels_in(f, v)?),
                    CustomKind::Date => match date_in(f, v)? {
                        Some(d) => Value::String(d.to_string()),
                        None => Value::Null,
                    },
                    CustomKind::User => match user_in(st, f, v)? {
                        Some(u) => Value::from(u),
                        None => Value::Null,
                    },
                })
            };
            match stored {
                Some(x) if !x.is_null() => {
                    issue.custom.insert(f.to_string(), x);
                }
                _ => {
                    issue.custom.remove(f);
                }
            }
        }
        other => return Err(cannot_set(other)),
    }
    Ok(())
}

/// Applies `fields` then `update` to `issue`; fields set by both are refused, as Jira does.
pub fn apply(
    st: &State,
    api: Api,
    issue: &mut Issue,
    fields: Option<&Map<String, Value>>,
    update: Option<&Map<String, Value>>,
    in_transition: bool,
) -> Result<Extras, ApiError> {
    let mut extras = Extras::default();
    let mut errors = ApiError::field("", "");
    errors.errors.clear();
    if let Some(fields) = fields {
        for (k, v) in fields {
            if matches!(k.as_str(), "project" | "status") || (k == "resolution" && !in_transition) {
                errors.errors.extend(cannot_set(k).errors);
                continue;
            }
            if let Err(e) = set_field(st, api, issue, k, v, in_transition) {
                errors.errors.extend(e.errors);
                errors.messages.extend(e.messages);
            }
        }
    }
    if let Some(update) = update {
        for (k, ops) in update {
            if fields.is_some_and(|f| f.contains_key(k)) {
                errors.errors.insert(
                    k.clone(),
                    format!("Field '{k}' cannot be set in both fields and update."),
                );
                continue;
            }
            let Some(ops) = ops.as_array() else {
                errors
                    .errors
                    .insert(k.clone(), "Operation value must be an array".into());
                continue;
            };
            for op in ops {
                if let Err(e) = update_op(st, api, issue, k, op, &mut extras, in_transition) {
                    errors.errors.extend(e.errors);
                    errors.messages.extend(e.messages);
                }
            }
        }
    }
    if errors.errors.is_empty() && errors.messages.is_empty() {
        Ok(extras)
    } else {
        Err(errors)
    }
}

fn update_op(
    st: &State,
    api: Api,
    issue: &mut Issue,
    field: &str,
    op: &Value,
    extras: &mut Extras,
    in_transition: bool,
) -> Result<(), ApiError> {
    let Some((verb, arg)) = op.as_object().and_then(|o| o.iter().next()) else {
        return Err(ApiError::field(
            field,
            "Operation must be an object with one verb",
        ));
    };
    match (field, verb.as_str()) {
        ("comment", "add") => extras.comments.push(arg.clone()),
        ("issuelinks", "add") => extras.links.push(arg.clone()),
        ("labels", "add") => {
            let s = arg
                .as_str()
                .ok_or_else(|| ApiError::field(field, "Operation value must be a string"))?;
            label_ok(field, s)?;
            if !issue.labels.iter().any(|l| l == s) {
                issue.labels.push(s.to_string());
            }
        }
        ("labels", "remove") => {
            let s = arg.as_str().unwrap_or("");
            issue.labels.retain(|l| l != s);
        }
        ("components", "add") => {
            let id = component_in(st, issue, arg)?;
            if !issue.components.contains(&id) {
                issue.components.push(id);
            }
        }
        (f @ ("fixVersions" | "versions"), "add") => {
            let id = st.version_in(f, issue, arg)?;
            let list = versions_mut(issue, f);
            if !list.contains(&id) {
                list.push(id);
            }
        }
        (f @ ("fixVersions" | "versions"), "remove") => {
            let id = st.version_in(f, issue, arg)?;
            versions_mut(issue, f).retain(|x| *x != id);
        }
        ("components", "remove") => {
            let id = component_in(st, issue, arg)?;
            issue.components.retain(|c| *c != id);
        }
        (f, "set") if !matches!(f, "project" | "status") => {
            set_field(st, api, issue, f, arg, in_transition)?
        }
        (f, _) if matches!(f, "project" | "status") => return Err(cannot_set(f)),
        (f, v) => {
            return Err(ApiError::field(
                f,
                format!(
                    "Field '{f}' does not support operation '{v}'. Supported operation(s) are: 'set'"
                ),
            ));
        }
    }
    Ok(())
}
