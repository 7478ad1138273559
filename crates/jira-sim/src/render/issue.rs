//! A whole issue as Jira answers it: its `fields` object, and the expansions around it.

use serde_json::{Map, Value, json};

use crate::fields::{FieldDef, field_defs};
use crate::model::*;
use crate::request::{Expand, FieldSel};
use crate::state::State;

use super::{
    api_base, attachment, comment, editmeta, history, issue_type, link_type, linked_issue,
    priority, project_short, resolution, rich, rich_html, security_level, status, time, transition,
    user_short,
};

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
    for (id, list) in [("fixVersions", &i.fix_versions), ("versions", &i.versions)] {
        if want(id) {
            let vs: Vec<Value> = list
                .iter()
                .filter_map(|v| st.version(v))
                .map(|v| super::version(st, api, v))
                .collect();
            f.insert(id.into(), Value::from(vs));
        }
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
