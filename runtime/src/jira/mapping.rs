//! Jira issue JSON (either flavour) to [`crate::model`] types, and [`crate::model::Changes`] to request bodies.
//!
//! The sync layer sees only model types; this is the one place that knows
//! Jira's field names and shapes on the way in and out.

use serde_json::{Map, Value, json};

use super::flavour::{BodyFormat, Flavour};
use super::richtext::{self, UserMapper};
use crate::model::{
    Attachment, Changes, Comment, CustomField, CustomFieldChange, Issue, RichText, User, UserRef,
    Value as FieldValue,
};

/// Why changes could not become a request body.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MappingError {
    #[error("no user found for {0:?}")]
    UnknownUser(UserRef),
    #[error("no field named '{0}'")]
    UnknownField(String),
    #[error("creating an issue needs {0}")]
    Missing(&'static str),
    #[error("custom field '{field}': {reason}")]
    BadValue { field: String, reason: String },
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn named(v: &Value) -> Option<String> {
    s(v, "name")
        .or_else(|| s(v, "value"))
        .or_else(|| s(v, "key"))
}

/// A person as Jira shows one (Cloud: accountId; DC: name/key).
pub fn user_from_json(v: &Value) -> Option<User> {
    if !v.is_object() {
        return None;
    }
    Some(User {
        account_id: s(v, "accountId"),
        name: s(v, "name"),
        display_name: s(v, "displayName"),
        email: s(v, "emailAddress"),
    })
}

/// A rich-text field as Jira returns it: ADF object (Cloud) or wiki string (DC).
pub fn rich_from_json(v: &Value) -> Option<RichText> {
    match v {
        Value::Null => None,
        Value::String(w) => Some(RichText {
            text: richtext::wiki_to_plain(w).value,
            adf: None,
            wiki: Some(w.clone()),
        }),
        Value::Object(_) => Some(RichText {
            text: richtext::adf_to_plain(v).value,
            adf: Some(v.to_string()),
            wiki: None,
        }),
        _ => None,
    }
}

/// Rich text in the flavour's body format, converting from whatever form the text carries.
pub fn rich_to_json(rt: &RichText, flavour: Flavour, users: &dyn UserMapper) -> Value {
    let adf = rt
        .adf
        .as_deref()
        .and_then(|a| serde_json::from_str::<Value>(a).ok());
    match flavour.body_format() {
        BodyFormat::Adf => match (adf, &rt.wiki) {
            (Some(a), _) => a,
            (None, Some(w)) => richtext::wiki_to_adf(w, users).value,
            (None, None) => richtext::plain_to_adf(&rt.text),
        },
        BodyFormat::Wiki => match (&rt.wiki, adf) {
            (Some(w), _) => Value::String(w.clone()),
            (None, Some(a)) => Value::String(richtext::adf_to_wiki(&a, users).value),
            (None, None) => Value::String(richtext::plain_to_wiki(&rt.text)),
        },
    }
}

/// Whether a comment is internal: JSM's `sd.public.comment` property, Cloud's `jsdPublic`, or a visibility restriction.
fn comment_internal(v: &Value) -> bool {
    if v.get("jsdPublic").and_then(Value::as_bool) == Some(false) {
        return true;
    }
    let prop = v
        .get("properties")
        .and_then(Value::as_array)
        .and_then(|ps| ps.iter().find(|p| p["key"] == "sd.public.comment"));
    if let Some(p) = prop {
        return p["value"]["internal"].as_bool().unwrap_or(false);
    }
    v.get("visibility").is_some_and(|x| x.is_object())
}

pub fn comment_from_json(v: &Value) -> Comment {
    Comment {
        id: s(v, "id").unwrap_or_default(),
        author: v.get("author").and_then(user_from_json),
        body: v.get("body").and_then(rich_from_json).unwrap_or_default(),
        internal: comment_internal(v),
        created: s(v, "created").unwrap_or_default(),
        updated: s(v, "updated").unwrap_or_default(),
    }
}

pub fn attachment_from_json(v: &Value) -> Attachment {
    Attachment {
        id: match v.get("id") {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(x)) => x.clone(),
            _ => String::new(),
        },
        filename: s(v, "filename").unwrap_or_default(),
        mime_type: s(v, "mimeType").unwrap_or_default(),
        size: v.get("size").and_then(Value::as_u64).unwrap_or(0),
        author: v.get("author").and_then(user_from_json),
        created: s(v, "created").unwrap_or_default(),
    }
}

/// The body of a comment request (add or update); `internal` marks it JSM-internal.
pub fn comment_body(
    body: &RichText,
    internal: bool,
    flavour: Flavour,
    users: &dyn UserMapper,
) -> Value {
    let mut out = json!({ "body": rich_to_json(body, flavour, users) });
    if internal {
        out["properties"] = json!([{"key": "sd.public.comment", "value": {"internal": true}}]);
    }
    out
}

/// Maps one issue JSON (`GET issue`, a search hit, a webhook's `issue`) to the model.
///
/// Field names come from the `names` expansion when present; custom field
/// kinds from the `schema` expansion, else from the value's shape.
pub fn issue_from_json(v: &Value) -> Issue {
    let f = &v["fields"];
    let names = v.get("names").and_then(Value::as_object);
    let schema = v.get("schema").and_then(Value::as_object);
    let mut comments: Vec<Comment> = f["comment"]["comments"]
        .as_array()
        .map(|cs| cs.iter().map(comment_from_json).collect())
        .unwrap_or_default();
    comments.sort_by(|a, b| a.created.cmp(&b.created));
    let mut custom_fields: Vec<CustomField> = f
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, val)| k.starts_with("customfield_") && !val.is_null())
                .map(|(k, val)| CustomField {
                    id: k.clone(),
                    name: names
                        .and_then(|n| n.get(k))
                        .and_then(Value::as_str)
                        .unwrap_or(k)
                        .to_string(),
                    value: field_value(val, schema.and_then(|sc| sc.get(k))),
                })
                .collect()
        })
        .unwrap_or_default();
    custom_fields.sort_by(|a, b| a.id.cmp(&b.id));
    Issue {
        key: s(v, "key").unwrap_or_default(),
        id: s(v, "id").unwrap_or_default(),
        project: f["project"]["key"].as_str().unwrap_or_default().to_string(),
        issue_type: f["issuetype"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        summary: f["summary"].as_str().unwrap_or_default().to_string(),
        description: rich_from_json(&f["description"]),
        status: f["status"]["name"].as_str().unwrap_or_default().to_string(),
        priority: f["priority"]["name"].as_str().map(str::to_string),
        labels: f["labels"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        components: f["components"]
            .as_array()
            .map(|l| l.iter().filter_map(named).collect())
            .unwrap_or_default(),
        assignee: user_from_json(&f["assignee"]),
        reporter: user_from_json(&f["reporter"]),
        due_date: f["duedate"].as_str().map(str::to_string),
        parent: f["parent"]["key"].as_str().map(str::to_string),
        comments,
        attachments: f["attachment"]
            .as_array()
            .map(|l| l.iter().map(attachment_from_json).collect())
            .unwrap_or_default(),
        custom_fields,
        created: f["created"].as_str().unwrap_or_default().to_string(),
        updated: f["updated"].as_str().unwrap_or_default().to_string(),
        security_level: f["security"]["name"].as_str().map(str::to_string),
    }
}

fn is_user(v: &Value) -> bool {
    v.get("accountId").is_some() || (v.get("name").is_some() && v.get("displayName").is_some())
}

/// A custom field value: by schema type where known, else by shape.
pub fn field_value(v: &Value, schema: Option<&Value>) -> Option<FieldValue> {
    let ty = schema.and_then(|s| s["type"].as_str());
    let items = schema.and_then(|s| s["items"].as_str());
    Some(match (ty, v) {
        (_, Value::Null) => return None,
        (Some("date"), Value::String(x)) => FieldValue::Date(x.clone()),
        (Some("datetime"), Value::String(x)) => FieldValue::Datetime(x.clone()),
        (Some("number"), Value::Number(n)) | (None, Value::Number(n)) => {
            FieldValue::Number(n.as_f64().unwrap_or_default())
        }
        (_, Value::Bool(b)) => FieldValue::Flag(*b),
        (Some("user"), o) | (None, o @ Value::Object(_)) if is_user(o) => {
            FieldValue::User(user_from_json(o)?)
        }
        (_, o @ Value::Object(m)) if m.get("type").and_then(Value::as_str) == Some("doc") => {
            FieldValue::Rich(rich_from_json(o)?)
        }
        (Some("option"), o @ Value::Object(_)) | (None, o @ Value::Object(_))
            if o.get("value").is_some() =>
        {
            FieldValue::Choice(o["value"].as_str().unwrap_or_default().to_string())
        }
        (_, Value::Array(list)) if items == Some("user") || list.first().is_some_and(is_user) => {
            FieldValue::Users(list.iter().filter_map(user_from_json).collect())
        }
        (_, Value::Array(list))
            if list
                .iter()
                .all(|x| x.is_string() || x.get("value").is_some() || x.get("name").is_some()) =>
        {
            FieldValue::Choices(
                list.iter()
                    .filter_map(|x| x.as_str().map(str::to_string).or_else(|| named(x)))
                    .collect(),
            )
        }
        (Some("string"), Value::String(x)) if x.contains('\n') || x.contains('{') => {
            FieldValue::Rich(rich_from_json(v)?)
        }
        (_, Value::String(x)) => FieldValue::Text(x.clone()),
        (_, other) => FieldValue::Json(other.to_string()),
    })
}

/// People named in changes, resolved by the host to this instance's identity
/// (account id on Cloud, username on DC).
#[derive(Debug, Clone, Default)]
pub struct ResolvedUsers {
    pairs: Vec<(UserRef, String)>,
}

impl ResolvedUsers {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn insert(&mut self, r: UserRef, ident: String) {
        self.pairs.push((r, ident));
    }
    pub fn get(&self, r: &UserRef) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == r)
            .map(|(_, v)| v.as_str())
    }
}

/// The user refs in changes that need resolving before [`edit_request`].
pub fn user_refs(changes: &Changes) -> Vec<UserRef> {
    let mut out: Vec<UserRef> = Vec::new();
    let mut add = |r: &UserRef| {
        if !out.contains(r) {
            out.push(r.clone());
        }
    };
    if let Some(Some(r)) = &changes.assignee {
        add(r);
    }
    if let Some(r) = &changes.reporter {
        add(r);
    }
    for c in &changes.custom_fields {
        match &c.value {
            Some(FieldValue::User(u)) => add(&user_ref_of(u)),
            Some(FieldValue::Users(us)) => us.iter().for_each(|u| add(&user_ref_of(u))),
            _ => {}
        }
    }
    out
}

/// The best handle on a model user: account id, then email, then name.
pub fn user_ref_of(u: &User) -> UserRef {
    // Email first: it is the one identity two different sites (or flavours) share.
    if let Some(e) = &u.email {
        UserRef::Email(e.clone())
    } else if let Some(a) = &u.account_id {
        UserRef::AccountId(a.clone())
    } else {
        UserRef::Name(u.name.clone().unwrap_or_default())
    }
}

/// Custom field ids by name, from `GET field`.
#[derive(Debug, Clone, Default)]
pub struct FieldCatalog {
    pub fields: Vec<(String, String)>,
    /// Ids of fields whose value is a list of plain strings (labels-like), not of options.
    pub string_lists: Vec<String>,
}

impl FieldCatalog {
    /// The id of a field given by id or (case-insensitively) by name.
    pub fn id_for(&self, id_or_name: &str) -> Option<String> {
        if id_or_name.starts_with("customfield_") {
            return Some(id_or_name.to_string());
        }
        self.fields
            .iter()
            .find(|(id, name)| id == id_or_name || name.eq_ignore_ascii_case(id_or_name))
            .map(|(id, _)| id.clone())
    }
}

/// What the host needs besides the changes to write them.
pub struct WriteContext<'a> {
    pub flavour: Flavour,
    pub users: &'a dyn UserMapper,
    pub people: &'a ResolvedUsers,
    pub fields: &'a FieldCatalog,
}

impl WriteContext<'_> {
    fn person(&self, r: &UserRef) -> Result<Value, MappingError> {
        let ident = self
            .people
            .get(r)
            .ok_or_else(|| MappingError::UnknownUser(r.clone()))?;
        Ok(self.flavour.user_json(ident))
    }
}

/// The `fields` of an edit (`PUT issue`) or create (`POST issue`) request.
///
/// Status, comments and attachments are not fields: the reconcile step turns
/// them into transitions and comment/attachment calls. A project move is not an edit.
pub fn edit_fields(
    changes: &Changes,
    cx: &WriteContext<'_>,
) -> Result<Map<String, Value>, MappingError> {
    let mut f = Map::new();
    if let Some(t) = &changes.issue_type {
        f.insert("issuetype".into(), json!({ "name": t }));
    }
    if let Some(x) = &changes.summary {
        f.insert("summary".into(), json!(x));
    }
    if let Some(d) = &changes.description {
        f.insert("description".into(), rich_to_json(d, cx.flavour, cx.users));
    }
    if let Some(p) = &changes.priority {
        f.insert("priority".into(), json!({ "name": p }));
    }
    if let Some(l) = &changes.labels {
        f.insert("labels".into(), json!(l));
    }
    if let Some(c) = &changes.components {
        let list: Vec<Value> = c.iter().map(|n| json!({ "name": n })).collect();
        f.insert("components".into(), Value::Array(list));
    }
    match &changes.assignee {
        Some(None) => {
            f.insert("assignee".into(), Value::Null);
        }
        Some(Some(r)) => {
            f.insert("assignee".into(), cx.person(r)?);
        }
        None => {}
    }
    if let Some(r) = &changes.reporter {
        f.insert("reporter".into(), cx.person(r)?);
    }
    if let Some(d) = &changes.due_date {
        f.insert("duedate".into(), json!(d));
    }
    if let Some(p) = &changes.parent {
        f.insert("parent".into(), json!({ "key": p }));
    }
    for c in &changes.custom_fields {
        let id = cx
            .fields
            .id_for(&c.field)
            .ok_or_else(|| MappingError::UnknownField(c.field.clone()))?;
        let value = custom_value(c, cx)?;
        // A labels-like field takes plain strings where a multi-select takes `{value}` objects.
        let value = match (value, cx.fields.string_lists.contains(&id)) {
            (Value::Array(items), true) => Value::Array(
                items
                    .into_iter()
                    .map(|v| v.get("value").cloned().unwrap_or(v))
                    .collect(),
            ),
            (v, _) => v,
        };
        f.insert(id, value);
    }
    Ok(f)
}

fn custom_value(c: &CustomFieldChange, cx: &WriteContext<'_>) -> Result<Value, MappingError> {
    Ok(match &c.value {
        None => Value::Null,
        Some(FieldValue::Text(x) | FieldValue::Date(x) | FieldValue::Datetime(x)) => json!(x),
        Some(FieldValue::Number(n)) => json!(n),
        Some(FieldValue::Flag(b)) => json!(b),
        Some(FieldValue::Choice(x)) => json!({ "value": x }),
        Some(FieldValue::Choices(xs)) => {
            Value::Array(xs.iter().map(|x| json!({ "value": x })).collect())
        }
        Some(FieldValue::User(u)) => cx.person(&user_ref_of(u))?,
        Some(FieldValue::Users(us)) => Value::Array(
            us.iter()
                .map(|u| cx.person(&user_ref_of(u)))
                .collect::<Result<_, _>>()?,
        ),
        Some(FieldValue::Rich(r)) => rich_to_json(r, cx.flavour, cx.users),
        Some(FieldValue::Json(j)) => {
            serde_json::from_str(j).map_err(|e| MappingError::BadValue {
                field: c.field.clone(),
                reason: format!("not JSON: {e}"),
            })?
        }
    })
}

/// The body of `PUT issue/{key}`.
pub fn edit_request(changes: &Changes, cx: &WriteContext<'_>) -> Result<Value, MappingError> {
    Ok(json!({ "fields": edit_fields(changes, cx)? }))
}

/// The body of `POST issue`; project and issue type come from the changes or the defaults given.
pub fn create_request(
    changes: &Changes,
    project: Option<&str>,
    issue_type: Option<&str>,
    cx: &WriteContext<'_>,
) -> Result<Value, MappingError> {
    let mut f = edit_fields(changes, cx)?;
    let project = changes
        .project
        .as_deref()
        .or(project)
        .ok_or(MappingError::Missing("a project"))?;
    let issue_type = changes
        .issue_type
        .as_deref()
        .or(issue_type)
        .ok_or(MappingError::Missing("an issue type"))?;
    if !f.contains_key("summary") {
        return Err(MappingError::Missing("a summary"));
    }
    f.insert("project".into(), json!({ "key": project }));
    f.insert("issuetype".into(), json!({ "name": issue_type }));
    // An assignee of "nobody" is simply left out on create.
    if f.get("assignee").is_some_and(Value::is_null) {
        f.remove("assignee");
    }
    Ok(json!({ "fields": f }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::richtext::NoUserMapping;

    fn cloud_issue() -> Value {
        json!({
            "id": "10001", "key": "ED-1",
            "names": {"customfield_10010": "Team", "customfield_10011": "Story points"},
            "schema": {"customfield_10010": {"type": "option"}, "customfield_10011": {"type": "number"}},
            "fields": {
                "project": {"key": "ED"}, "issuetype": {"name": "Bug"}, "summary": "Crash",
                "description": {"version": 1, "type": "doc", "content": [
                    {"type": "paragraph", "content": [{"type": "text", "text": "It ", "marks": []}, {"type": "text", "text": "breaks", "marks": [{"type": "strong"}]}]}]},
                "status": {"name": "To Do"}, "priority": {"name": "High"},
                "labels": ["a", "b"], "components": [{"id": "1", "name": "Core"}],
                "assignee": {"accountId": "5b10a", "displayName": "Mia", "emailAddress": "mia@x.io"},
                "reporter": null, "duedate": "2026-01-02", "parent": {"key": "ED-0"},
                "comment": {"comments": [
                    {"id": "2", "body": {"version": 1, "type": "doc", "content": []}, "created": "2026-01-02T00:00:00.000+0000", "jsdPublic": false},
                    {"id": "1", "body": {"version": 1, "type": "doc", "content": []}, "created": "2026-01-01T00:00:00.000+0000", "jsdPublic": true}
                ], "total": 2, "maxResults": 2, "startAt": 0},
                "attachment": [{"id": "10000", "filename": "a.txt", "mimeType": "text/plain", "size": 3, "created": "2026-01-01T00:00:00.000+0000"}],
                "customfield_10010": {"value": "Blue", "id": "100"},
                "customfield_10011": 5,
                "customfield_10012": null,
                "created": "2026-01-01T00:00:00.000+0000", "updated": "2026-01-03T00:00:00.000+0000"
            }
        })
    }

    #[test]
    fn cloud_issue_maps_to_the_model() {
        let i = issue_from_json(&cloud_issue());
        assert_eq!(
            (i.key.as_str(), i.project.as_str(), i.issue_type.as_str()),
            ("ED-1", "ED", "Bug")
        );
        let d = i.description.unwrap();
        assert_eq!(d.text, "It breaks");
        assert!(d.adf.unwrap().contains("strong"));
        assert_eq!(i.assignee.unwrap().account_id.as_deref(), Some("5b10a"));
        assert_eq!(i.components, vec!["Core"]);
        assert_eq!(i.comments[0].id, "1");
        assert!(i.comments[1].internal && !i.comments[0].internal);
        assert_eq!(i.attachments[0].id, "10000");
        assert_eq!(i.custom_fields.len(), 2);
        assert_eq!(i.custom_fields[0].name, "Team");
        assert_eq!(
            i.custom_fields[0].value,
            Some(FieldValue::Choice("Blue".into()))
        );
        assert_eq!(i.custom_fields[1].value, Some(FieldValue::Number(5.0)));
        assert_eq!(i.parent.as_deref(), Some("ED-0"));
    }

    #[test]
    fn dc_issue_maps_wiki_and_usernames() {
        let v = json!({"id": "1", "key": "OPS-1", "fields": {
            "summary": "S", "description": "h1. Title\n*bold*",
            "assignee": {"name": "bob", "key": "JIRAUSER1", "displayName": "Bob"},
            "comment": {"comments": [{"id": "5", "body": "hi", "properties": [{"key": "sd.public.comment", "value": {"internal": true}}]}]},
            "customfield_1": [{"name": "bob", "displayName": "Bob"}],
        }});
        let i = issue_from_json(&v);
        let d = i.description.unwrap();
        assert_eq!(d.wiki.as_deref(), Some("h1. Title\n*bold*"));
        assert_eq!(d.text, "Title\n\nbold");
        assert_eq!(i.assignee.unwrap().name.as_deref(), Some("bob"));
        assert!(i.comments[0].internal);
        assert!(matches!(
            i.custom_fields[0].value,
            Some(FieldValue::Users(_))
        ));
    }

    #[test]
    fn changes_become_edit_bodies_per_flavour() {
        let changes = Changes {
            summary: Some("New".into()),
            description: Some(RichText {
                text: "x".into(),
                adf: None,
                wiki: Some("*x*".into()),
            }),
            assignee: Some(Some(UserRef::Email("mia@x.io".into()))),
            due_date: Some(None),
            labels: Some(vec!["l".into()]),
            custom_fields: vec![CustomFieldChange {
                field: "Team".into(),
                value: Some(FieldValue::Choice("Red".into())),
            }],
            ..Changes::default()
        };
        let mut people = ResolvedUsers::new();
        people.insert(UserRef::Email("mia@x.io".into()), "5b10a".into());
        let fields = FieldCatalog {
            fields: vec![("customfield_10010".into(), "Team".into())],
            string_lists: Vec::new(),
        };
        let cx = WriteContext {
            flavour: Flavour::Cloud,
            users: &NoUserMapping,
            people: &people,
            fields: &fields,
        };
        let body = edit_request(&changes, &cx).unwrap();
        assert_eq!(body["fields"]["assignee"], json!({"accountId": "5b10a"}));
        assert_eq!(body["fields"]["duedate"], Value::Null);
        assert_eq!(body["fields"]["description"]["type"], "doc");
        assert_eq!(body["fields"]["customfield_10010"], json!({"value": "Red"}));
        let dc = WriteContext {
            flavour: Flavour::DataCenter,
            ..cx
        };
        let body = edit_request(&changes, &dc).unwrap();
        assert_eq!(body["fields"]["description"], json!("*x*"));
        assert_eq!(body["fields"]["assignee"], json!({"name": "5b10a"}));
        // Unknown people and fields are errors, not silent drops.
        let nobody = ResolvedUsers::new();
        let cx2 = WriteContext {
            people: &nobody,
            ..dc
        };
        assert!(matches!(
            edit_request(&changes, &cx2),
            Err(MappingError::UnknownUser(_))
        ));
        let create = create_request(&changes, Some("ED"), Some("Task"), &cx).unwrap();
        assert_eq!(create["fields"]["project"], json!({"key": "ED"}));
    }
}
