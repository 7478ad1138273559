//! Jira's JSON shapes, written out per flavour and REST version (users, issues, comments, metadata).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::adf;
use super::model::*;
use super::state::State;

/// Jira's timestamp format, e.g. `2026-01-01T10:00:00.000+0000`.
pub fn time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
}

pub fn api_base(st: &State, api: Api) -> String {
    format!("{}/rest/api/{}", st.base_url, api.version())
}

fn avatars(st: &State, seed: &str) -> Value {
    let u = |s: u32| format!("{}/secure/useravatar?size={s}&avatarId={seed}", st.base_url);
    json!({"48x48": u(48), "24x24": u(24), "16x16": u(16), "32x32": u(32)})
}

/// A user as `/myself` and `/user` answer.
pub fn user(st: &State, api: Api, id: UserId) -> Value {
    let Some(u) = st.users.get(id) else {
        return Value::Null;
    };
    match api.flavour {
        Flavour::Cloud => json!({
            "self": format!("{}/user?accountId={}", api_base(st, api), u.account_id),
            "accountId": u.account_id,
            "accountType": "atlassian",
            "emailAddress": u.email,
            "avatarUrls": avatars(st, &u.account_id),
            "displayName": u.display_name,
            "active": u.active,
            "timeZone": "UTC",
            "locale": "en_US",
        }),
        Flavour::DataCenter => json!({
            "self": format!("{}/user?username={}", api_base(st, api), u.name),
            "key": u.key,
            "name": u.name,
            "emailAddress": u.email,
            "avatarUrls": avatars(st, &u.key),
            "displayName": u.display_name,
            "active": u.active,
            "timeZone": "UTC",
        }),
    }
}

/// A user as it appears inside issues and comments (`UserDetails`: no locale).
pub fn user_short(st: &State, api: Api, id: Option<UserId>) -> Value {
    let mut v = match id {
        Some(id) => user(st, api, id),
        None => return Value::Null,
    };
    if let Some(o) = v.as_object_mut() {
        o.remove("locale");
    }
    v
}

/// A user with its groups, as `/myself` can expand.
pub fn myself(st: &State, api: Api, id: UserId) -> Value {
    let mut v = user(st, api, id);
    if let (Some(o), Some(u)) = (v.as_object_mut(), st.users.get(id)) {
        let items: Vec<Value> = u.groups.iter().map(|g| json!({"name": g})).collect();
        o.insert(
            "groups".into(),
            json!({"size": items.len(), "items": items}),
        );
        o.insert("applicationRoles".into(), json!({"size": 1, "items": []}));
        o.insert("expand".into(), json!("groups,applicationRoles"));
    }
    v
}

pub fn status_category(st: &State, api: Api, c: StatusCategory) -> Value {
    let (id, key, color, name) = match c {
        StatusCategory::New => (2, "new", "blue-gray", "To Do"),
        StatusCategory::Indeterminate => (4, "indeterminate", "yellow", "In Progress"),
        StatusCategory::Done => (3, "done", "green", "Done"),
    };
    json!({"self": format!("{}/statuscategory/{id}", api_base(st, api)), "id": id, "key": key, "colorName": color, "name": name})
}

pub fn status(st: &State, api: Api, id: &str) -> Value {
    let Some(s) = st.status(id) else {
        return Value::Null;
    };
    json!({
        "self": format!("{}/status/{}", api_base(st, api), s.id),
        "description": "",
        "iconUrl": format!("{}/images/icons/statuses/generic.png", st.base_url),
        "name": s.name,
        "id": s.id,
        "statusCategory": status_category(st, api, s.category),
    })
}

pub fn priority(st: &State, api: Api, id: &str) -> Value {
    let Some(p) = st.priorities.iter().find(|p| p.id == id) else {
        return Value::Null;
    };
    json!({
        "self": format!("{}/priority/{}", api_base(st, api), p.id),
        "iconUrl": format!("{}/images/icons/priorities/{}.svg", st.base_url, p.name.to_lowercase()),
        "name": p.name,
        "id": p.id,
    })
}

/// An issue security level as an issue's `security` field shows it.
pub fn security_level(st: &State, api: Api, id: &str) -> Value {
    let Some(l) = st.security_levels.iter().find(|l| l.id == id) else {
        return Value::Null;
    };
    json!({
        "self": format!("{}/securitylevel/{}", api_base(st, api), l.id),
        "id": l.id,
        "description": format!("{} issues", l.name),
        "name": l.name,
    })
}

/// A priority as `/priority` lists it.
pub fn priority_full(st: &State, api: Api, p: &Priority) -> Value {
    let mut v = priority(st, api, &p.id);
    if let Some(o) = v.as_object_mut() {
        o.insert("description".into(), json!(format!("{} priority", p.name)));
        o.insert("statusColor".into(), json!("#cccccc"));
        if api.cloud() {
            let default = st
                .priorities
                .get(st.priorities.len() / 2)
                .is_some_and(|d| d.id == p.id);
            o.insert("isDefault".into(), json!(default));
        }
    }
    v
}

pub fn resolution(st: &State, api: Api, id: &str) -> Value {
    let Some(r) = st.resolutions.iter().find(|r| r.id == id) else {
        return Value::Null;
    };
    json!({"self": format!("{}/resolution/{}", api_base(st, api), r.id), "id": r.id, "description": format!("{} resolution", r.name), "name": r.name})
}

pub fn issue_type(st: &State, api: Api, id: &str) -> Value {
    let Some(t) = st.issue_types.iter().find(|t| t.id == id) else {
        return Value::Null;
    };
    let mut v = json!({
        "self": format!("{}/issuetype/{}", api_base(st, api), t.id),
        "id": t.id,
        "description": t.description,
        "iconUrl": format!("{}/images/icons/issuetypes/{}.svg", st.base_url, t.name.to_lowercase()),
        "name": t.name,
        "subtask": t.subtask,
        "avatarId": 10300,
    });
    if api.cloud() {
        v["hierarchyLevel"] = json!(if t.subtask { -1 } else { 0 });
    }
    v
}

fn project_avatars(st: &State, p: &Project) -> Value {
    let u = |s: u32| format!("{}/secure/projectavatar?size={s}&pid={}", st.base_url, p.id);
    json!({"48x48": u(48), "24x24": u(24), "16x16": u(16), "32x32": u(32)})
}

/// A project as it appears inside an issue.
pub fn project_short(st: &State, api: Api, id: &str) -> Value {
    let Some(p) = st.project(id) else {
        return Value::Null;
    };
    let mut v = json!({
        "self": format!("{}/project/{}", api_base(st, api), p.id),
        "id": p.id,
        "key": p.key,
        "name": p.name,
        "projectTypeKey": "software",
        "avatarUrls": project_avatars(st, p),
    });
    if api.cloud() {
        v["simplified"] = json!(false);
    }
    v
}

pub fn component(st: &State, api: Api, p: &Project, c: &Component) -> Value {
    let mut v = json!({"self": format!("{}/component/{}", api_base(st, api), c.id), "id": c.id, "name": c.name, "description": ""});
    if let Some(o) = v.as_object_mut() {
        o.insert("project".into(), json!(p.key));
        o.insert("projectId".into(), json!(p.id.parse::<u64>().unwrap_or(0)));
        o.insert("assigneeType".into(), json!("PROJECT_DEFAULT"));
        o.insert("isAssigneeTypeValid".into(), json!(false));
    }
    v
}

/// A project as `/project/{key}` answers.
pub fn project_full(st: &State, api: Api, p: &Project) -> Value {
    let mut v = project_short(st, api, &p.id);
    if let Some(o) = v.as_object_mut() {
        o.insert("description".into(), json!(""));
        o.insert("lead".into(), user_short(st, api, Some(p.lead)));
        o.insert(
            "components".into(),
            Value::from(
                p.components
                    .iter()
                    .map(|c| component(st, api, p, c))
                    .collect::<Vec<_>>(),
            ),
        );
        o.insert(
            "issueTypes".into(),
            Value::from(
                p.issue_types
                    .iter()
                    .map(|t| issue_type(st, api, t))
                    .collect::<Vec<_>>(),
            ),
        );
        o.insert("assigneeType".into(), json!("UNASSIGNED"));
        o.insert("versions".into(), json!([]));
        o.insert("roles".into(), json!({}));
        if api.cloud() {
            o.insert("style".into(), json!("classic"));
            o.insert("isPrivate".into(), json!(false));
            o.insert("properties".into(), json!({}));
        }
    }
    v
}

/// Rich text in the request's dialect.
pub fn rich(st: &State, api: Api, v: &Value) -> Value {
    match v {
        Value::Null => Value::Null,
        _ if api.adf() => v.clone(),
        _ => Value::String(st.wiki_text(v)),
    }
}

fn rich_html(st: &State, v: &Value) -> String {
    adf::plain_to_html(&st.plain_text(v))
}

pub fn comment(
    st: &State,
    api: Api,
    issue: &Issue,
    c: &Comment,
    expand_rendered: bool,
    expand_props: bool,
) -> Value {
    let mut v = json!({
        "self": format!("{}/issue/{}/comment/{}", api_base(st, api), issue.id, c.id),
        "id": c.id.to_string(),
        "author": user_short(st, api, Some(c.author)),
        "body": rich(st, api, &c.body),
        "updateAuthor": user_short(st, api, Some(c.update_author)),
        "created": time(&c.created),
        "updated": time(&c.updated),
    });
    let Some(o) = v.as_object_mut() else { return v };
    if let Some(vis) = &c.visibility {
        let mut vj = json!({"type": vis.kind, "value": vis.value});
        if api.cloud() {
            vj["identifier"] = json!(vis.value);
        }
        o.insert("visibility".into(), vj);
    }
    if api.cloud() {
        // Cloud reports JSM's internal flag on every comment.
        o.insert("jsdPublic".into(), json!(!c.is_internal()));
    }
    if expand_rendered {
        o.insert("renderedBody".into(), json!(rich_html(st, &c.body)));
    }
    if expand_props {
        let props: Vec<Value> = c
            .properties
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        o.insert("properties".into(), Value::from(props));
    }
    v
}

pub fn attachment(st: &State, api: Api, a: &Attachment) -> Value {
    let content = match api.flavour {
        Flavour::Cloud => format!("{}/attachment/content/{}", api_base(st, api), a.id),
        Flavour::DataCenter => format!(
            "{}/secure/attachment/{}/{}",
            st.base_url,
            a.id,
            pct(&a.filename)
        ),
    };
    json!({
        "self": format!("{}/attachment/{}", api_base(st, api), a.id),
        "id": a.id.to_string(),
        "filename": a.filename,
        "author": user_short(st, api, Some(a.author)),
        "created": time(&a.created),
        "size": a.content.len(),
        "mimeType": a.mime_type,
        "content": content,
    })
}

/// Percent-encodes a path segment.
pub fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn history(st: &State, api: Api, h: &History) -> Value {
    let items: Vec<Value> = h.items.iter().map(change_item).collect();
    json!({
        "id": h.id.to_string(),
        "author": user_short(st, api, Some(h.author)),
        "created": time(&h.created),
        "items": items,
    })
}

pub fn change_item(i: &ChangeItem) -> Value {
    json!({
        "field": i.field,
        "fieldtype": i.fieldtype,
        "fieldId": i.field_id,
        "from": i.from,
        "fromString": i.from_string,
        "to": i.to,
        "toString": i.to_string,
    })
}

pub fn transition(st: &State, api: Api, t: &Transition, with_fields: bool) -> Value {
    let mut v = json!({
        "id": t.id,
        "name": t.name,
        "to": status(st, api, &t.to),
        "hasScreen": !t.requires.is_empty() || t.resolution.is_some(),
        "isGlobal": t.from.is_empty(),
        "isInitial": false,
        "isAvailable": true,
        "isConditional": false,
        "isLooped": false,
    });
    if with_fields {
        let mut fields = Map::new();
        for r in &t.requires {
            if let Some(def) = field_defs(st).into_iter().find(|d| &d.id == r) {
                fields.insert(r.clone(), field_meta(st, api, &def, true, false));
            }
        }
        if let (Some(_), Some(def)) = (
            &t.resolution,
            field_defs(st).into_iter().find(|d| d.id == "resolution"),
        ) {
            fields.insert("resolution".into(), field_meta(st, api, &def, false, false));
        }
        v["fields"] = Value::Object(fields);
    }
    v
}

fn linked_issue(st: &State, api: Api, id: u64) -> Value {
    let Some(i) = st.issues.get(&id) else {
        return Value::Null;
    };
    json!({
        "id": i.id.to_string(),
        "key": i.key,
        "self": format!("{}/issue/{}", api_base(st, api), i.id),
        "fields": {
            "summary": i.summary,
            "status": status(st, api, &i.status),
            "priority": i.priority.as_deref().map(|p| priority(st, api, p)).unwrap_or(Value::Null),
            "issuetype": issue_type(st, api, &i.issue_type),
        }
    })
}

pub fn link_type(st: &State, api: Api, t: &LinkType) -> Value {
    json!({"id": t.id, "name": t.name, "inward": t.inward, "outward": t.outward, "self": format!("{}/issueLinkType/{}", api_base(st, api), t.id)})
}

/// A link as `/issueLink/{id}` answers (both ends).
pub fn link(st: &State, api: Api, l: &IssueLink) -> Value {
    let t = st.link_types.iter().find(|t| t.id == l.type_id);
    json!({
        "id": l.id.to_string(),
        "self": format!("{}/issueLink/{}", api_base(st, api), l.id),
        "type": t.map(|t| link_type(st, api, t)).unwrap_or(Value::Null),
        "inwardIssue": linked_issue(st, api, l.inward),
        "outwardIssue": linked_issue(st, api, l.outward),
    })
}

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

/// Which fields a request asked for (`fields=` parameter).
#[derive(Clone, Debug)]
pub struct FieldSel {
    all: bool,
    navigable: bool,
    include: Vec<String>,
    exclude: Vec<String>,
}

impl FieldSel {
    /// Parses `fields` values (comma-separated, possibly repeated); `default` applies when none given.
    pub fn parse<'a>(values: impl Iterator<Item = &'a str>, default: &str) -> FieldSel {
        let mut sel = FieldSel {
            all: false,
            navigable: false,
            include: Vec::new(),
            exclude: Vec::new(),
        };
        let mut any = false;
        for v in values {
            for f in v.split(',').map(str::trim).filter(|f| !f.is_empty()) {
                any = true;
                sel.add(f);
            }
        }
        if !any {
            for f in default.split(',') {
                sel.add(f);
            }
        }
        sel
    }

    fn add(&mut self, f: &str) {
        match f {
            "*all" => self.all = true,
            "*navigable" => self.navigable = true,
            x if x.starts_with('-') => self.exclude.push(x[1..].to_string()),
            x => self.include.push(x.to_string()),
        }
    }

    pub fn wants(&self, id: &str, navigable: bool) -> bool {
        if self.exclude.iter().any(|e| e == id) {
            return false;
        }
        self.all || (self.navigable && navigable) || self.include.iter().any(|i| i == id)
    }

    /// Only `id`/`key` were asked for (search/jql's default).
    pub fn is_empty(&self) -> bool {
        !self.all && !self.navigable && self.include.iter().all(|i| i == "id" || i == "key")
    }
}

/// What `expand=` asked for.
#[derive(Clone, Copy, Debug, Default)]
pub struct Expand {
    pub names: bool,
    pub rendered: bool,
    pub changelog: bool,
    pub transitions: bool,
    pub editmeta: bool,
    pub schema: bool,
}

impl Expand {
    pub fn parse<'a>(values: impl Iterator<Item = &'a str>) -> Expand {
        let mut e = Expand::default();
        for v in values {
            for x in v.split(',').map(str::trim) {
                match x {
                    "names" => e.names = true,
                    "renderedFields" => e.rendered = true,
                    "changelog" => e.changelog = true,
                    "transitions" => e.transitions = true,
                    "editmeta" => e.editmeta = true,
                    "schema" => e.schema = true,
                    _ => {}
                }
            }
        }
        e
    }
}

fn custom_value(st: &State, api: Api, cf: &CustomField, v: &Value) -> Value {
    match (cf.kind, v) {
        (CustomKind::Select, Value::String(s)) => {
            let i = cf.options.iter().position(|o| o == s).unwrap_or(0);
            let oid = st.option_id(cf, i);
            json!({"self": format!("{}/customFieldOption/{oid}", api_base(st, api)), "value": s, "id": oid})
        }
        (CustomKind::Textarea, v) => rich(st, api, v),
        (CustomKind::User, Value::Number(n)) => user_short(st, api, n.as_u64().map(|u| u as usize)),
        (_, v) => v.clone(),
    }
}

/// The issue's `fields` object, limited to what `sel` asks for.
pub fn issue_fields(st: &State, api: Api, i: &Issue, sel: &FieldSel) -> Map<String, Value> {
    let mut f = Map::new();
    let want = |id: &str| sel.wants(id, id != "comment");
    let base = api_base(st, api);
    if want("summary") {
        f.insert("summary".into(), json!(i.summary));
    }
    if want("description") {
        f.insert(
            "description".into(),
            i.description
                .as_ref()
                .map(|d| rich(st, api, d))
                .unwrap_or(Value::Null),
        );
    }
    if want("issuetype") {
        f.insert("issuetype".into(), issue_type(st, api, &i.issue_type));
    }
    if want("project") {
        f.insert("project".into(), project_short(st, api, &i.project));
    }
    if want("status") {
        f.insert("status".into(), status(st, api, &i.status));
    }
    if want("priority") {
        f.insert(
            "priority".into(),
            i.priority
                .as_deref()
                .map(|p| priority(st, api, p))
                .unwrap_or(Value::Null),
        );
    }
    if want("resolution") {
        f.insert(
            "resolution".into(),
            i.resolution
                .as_deref()
                .map(|r| resolution(st, api, r))
                .unwrap_or(Value::Null),
        );
    }
    if want("security") {
        f.insert(
            "security".into(),
            i.security
                .as_deref()
                .map(|id| security_level(st, api, id))
                .unwrap_or(Value::Null),
        );
    }
    if want("resolutiondate") {
        f.insert(
            "resolutiondate".into(),
            i.resolution_date
                .as_ref()
                .map(|t| json!(time(t)))
                .unwrap_or(Value::Null),
        );
    }
    if want("labels") {
        f.insert("labels".into(), json!(i.labels));
    }
    if want("components") {
        let p = st.project(&i.project);
        let comps: Vec<Value> = i
            .components
            .iter()
            .filter_map(|c| p.and_then(|p| p.components.iter().find(|x| &x.id == c)))
            .map(|c| json!({"self": format!("{base}/component/{}", c.id), "id": c.id, "name": c.name}))
            .collect();
        f.insert("components".into(), Value::from(comps));
    }
    if want("assignee") {
        f.insert("assignee".into(), user_short(st, api, i.assignee));
    }
    if want("reporter") {
        f.insert("reporter".into(), user_short(st, api, i.reporter));
    }
    if want("creator") {
        f.insert("creator".into(), user_short(st, api, Some(i.creator)));
    }
    if want("created") {
        f.insert("created".into(), json!(time(&i.created)));
    }
    if want("updated") {
        f.insert("updated".into(), json!(time(&i.updated)));
    }
    if want("duedate") {
        f.insert(
            "duedate".into(),
            i.due_date
                .map(|d| json!(d.to_string()))
                .unwrap_or(Value::Null),
        );
    }
    if let (true, Some(p)) = (want("parent"), i.parent) {
        f.insert("parent".into(), linked_issue(st, api, p));
    }
    if want("subtasks") {
        let subs: Vec<Value> = st
            .issues
            .values()
            .filter(|x| x.parent == Some(i.id))
            .map(|x| linked_issue(st, api, x.id))
            .collect();
        f.insert("subtasks".into(), Value::from(subs));
    }
    if want("issuelinks") {
        let links: Vec<Value> = st
            .links
            .values()
            .filter(|l| l.inward == i.id || l.outward == i.id)
            .map(|l| {
                let t = st.link_types.iter().find(|t| t.id == l.type_id);
                let mut v = json!({
                    "id": l.id.to_string(),
                    "self": format!("{base}/issueLink/{}", l.id),
                    "type": t.map(|t| link_type(st, api, t)).unwrap_or(Value::Null),
                });
                // Seen from this issue: the other end is named by its direction.
                if l.outward == i.id {
                    v["inwardIssue"] = linked_issue(st, api, l.inward);
                } else {
                    v["outwardIssue"] = linked_issue(st, api, l.outward);
                }
                v
            })
            .collect();
        f.insert("issuelinks".into(), Value::from(links));
    }
    if want("comment") {
        let comments: Vec<Value> = i
            .comments
            .iter()
            .map(|c| comment(st, api, i, c, false, false))
            .collect();
        let n = comments.len();
        f.insert(
            "comment".into(),
            json!({"comments": comments, "self": format!("{base}/issue/{}/comment", i.id), "maxResults": n, "total": n, "startAt": 0}),
        );
    }
    if want("attachment") {
        let atts: Vec<Value> = i
            .attachments
            .iter()
            .filter_map(|a| st.attachments.get(a))
            .map(|a| attachment(st, api, a))
            .collect();
        f.insert("attachment".into(), Value::from(atts));
    }
    for cf in &st.custom_fields {
        if want(&cf.id) {
            let v = i
                .custom
                .get(&cf.id)
                .map(|v| custom_value(st, api, cf, v))
                .unwrap_or(Value::Null);
            f.insert(cf.id.clone(), v);
        }
    }
    f
}

/// A whole issue as `GET /issue/{key}` answers.
pub fn issue(st: &State, api: Api, i: &Issue, sel: &FieldSel, ex: Expand) -> Value {
    let fields = issue_fields(st, api, i, sel);
    let mut o = Map::new();
    o.insert(
        "expand".into(),
        json!("renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"),
    );
    o.insert("id".into(), json!(i.id.to_string()));
    o.insert(
        "self".into(),
        json!(format!("{}/issue/{}", api_base(st, api), i.id)),
    );
    o.insert("key".into(), json!(i.key));
    if ex.names || ex.schema {
        let defs = field_defs(st);
        let present = |d: &&FieldDef| fields.contains_key(&d.id);
        if ex.names {
            let names: Map<String, Value> = defs
                .iter()
                .filter(present)
                .map(|d| (d.id.clone(), json!(d.name)))
                .collect();
            o.insert("names".into(), Value::Object(names));
        }
        if ex.schema {
            let schema: Map<String, Value> = defs
                .iter()
                .filter(present)
                .map(|d| (d.id.clone(), d.schema.clone()))
                .collect();
            o.insert("schema".into(), Value::Object(schema));
        }
    }
    if ex.rendered {
        let mut r = Map::new();
        for k in fields.keys() {
            r.insert(k.clone(), Value::Null);
        }
        if fields.contains_key("description") {
            r.insert(
                "description".into(),
                i.description
                    .as_ref()
                    .map(|d| json!(rich_html(st, d)))
                    .unwrap_or(Value::Null),
            );
        }
        if fields.contains_key("comment") {
            let comments: Vec<Value> = i
                .comments
                .iter()
                .map(|c| {
                    let mut v = comment(st, api, i, c, false, false);
                    v["body"] = json!(rich_html(st, &c.body));
                    v
                })
                .collect();
            let n = comments.len();
            r.insert(
                "comment".into(),
                json!({"comments": comments, "maxResults": n, "total": n, "startAt": 0}),
            );
        }
        for k in ["created", "updated", "resolutiondate", "duedate"] {
            if let Some(Value::String(s)) = fields.get(k) {
                r.insert(k.into(), json!(s));
            }
        }
        o.insert("renderedFields".into(), Value::Object(r));
    }
    if ex.transitions {
        let ts: Vec<Value> = st
            .transitions_for(i)
            .iter()
            .map(|t| transition(st, api, t, false))
            .collect();
        o.insert("transitions".into(), Value::from(ts));
    }
    if ex.editmeta {
        o.insert("editmeta".into(), editmeta(st, api, i));
    }
    if ex.changelog {
        let hs: Vec<Value> = i.histories.iter().map(|h| history(st, api, h)).collect();
        let n = hs.len();
        o.insert(
            "changelog".into(),
            json!({"startAt": 0, "maxResults": n, "total": n, "histories": hs}),
        );
    }
    o.insert("fields".into(), Value::Object(fields));
    Value::Object(o)
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
