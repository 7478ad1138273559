//! Jira's JSON shapes, written out per flavour and REST version (users, issues, comments, metadata).

mod issue;
mod meta;

pub use issue::issue;
pub use meta::{editmeta, field, field_meta, field_meta_for};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::adf;
use crate::fields::field_defs;
use crate::model::*;
use crate::state::State;

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

/// A remote issue link as `GET .../remotelink` answers.
pub fn remote_link(st: &State, api: Api, key: &str, l: &RemoteLink) -> Value {
    let mut object = l.object.as_object().cloned().unwrap_or_default();
    // Jira answers an empty icon when none was given.
    object.entry("icon").or_insert_with(|| json!({}));
    let mut v = json!({
        "id": l.id,
        "self": format!("{}/issue/{key}/remotelink/{}", api_base(st, api), l.id),
        "application": l.application.clone().unwrap_or_else(|| json!({})),
        "object": object,
    });
    if let Some(g) = &l.global_id {
        v["globalId"] = json!(g);
    }
    if let Some(r) = &l.relationship {
        v["relationship"] = json!(r);
    }
    v
}

/// A worklog as `/issue/{key}/worklog` answers.
pub fn worklog(st: &State, api: Api, w: &Worklog) -> Value {
    let mut v = json!({
        "self": format!("{}/issue/{}/worklog/{}", api_base(st, api), w.issue_id, w.id),
        "author": user_short(st, api, Some(w.author)),
        "updateAuthor": user_short(st, api, Some(w.update_author)),
        "created": time(&w.created),
        "updated": time(&w.updated),
        "started": time(&w.started),
        "timeSpent": crate::state::format_duration(w.time_spent_seconds),
        "timeSpentSeconds": w.time_spent_seconds,
        "id": w.id.to_string(),
        "issueId": w.issue_id.to_string(),
    });
    if let Some(c) = &w.comment {
        v["comment"] = rich(st, api, c);
    }
    if let Some(vis) = &w.visibility {
        let mut vj = json!({"type": vis.kind, "value": vis.value});
        if api.cloud() {
            vj["identifier"] = json!(vis.value);
        }
        v["visibility"] = vj;
    }
    v
}

/// A version as `/version/{id}` answers (Cloud `Version`, DC `VersionBean`).
pub fn version(st: &State, api: Api, v: &Version) -> Value {
    let mut out = json!({
        "self": format!("{}/version/{}", api_base(st, api), v.id),
        "id": v.id,
        "name": v.name,
        "archived": v.archived,
        "released": v.released,
        "projectId": v.project_id.parse::<u64>().unwrap_or(0),
    });
    if let Some(d) = &v.description {
        out["description"] = json!(d);
    }
    if let Some(d) = &v.release_date {
        out["releaseDate"] = json!(d.format("%Y-%m-%d").to_string());
    }
    out
}
