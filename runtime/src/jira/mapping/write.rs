//! Model changes to Jira request bodies: edit and create fields, comment bodies, rich text in the flavour's format.

use serde_json::{Map, Value, json};

use super::super::flavour::{BodyFormat, Flavour};
use super::super::richtext::{self, UserMapper};
use crate::model::{Changes, CustomFieldChange, RichText, User, UserRef, Value as FieldValue};

/// Why changes could not become a request body.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MappingError {
    /// A person in the changes has no identity on this instance.
    #[error("no user found for {0:?}")]
    UnknownUser(UserRef),
    /// A custom field name this instance does not know.
    #[error("no field named '{0}'")]
    UnknownField(String),
    /// Something an issue cannot be created without is missing.
    #[error("creating an issue needs {0}")]
    Missing(&'static str),
    /// A custom field value the field cannot take.
    #[error("custom field '{field}': {reason}")]
    BadValue {
        /// The field's name or id.
        field: String,
        /// Why the value does not fit.
        reason: String,
    },
}

/// Rich text in the flavour's body format, converting from whatever form the text carries.
pub(crate) fn rich_to_json(rt: &RichText, flavour: Flavour, users: &dyn UserMapper) -> Value {
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

/// The body of a comment request (add or update). JSM's `sd.public.comment` property is
/// always written, so an update can turn an internal note public or a public comment internal.
pub(crate) fn comment_body(
    body: &RichText,
    internal: bool,
    flavour: Flavour,
    users: &dyn UserMapper,
) -> Value {
    json!({
        "body": rich_to_json(body, flavour, users),
        "properties": [{"key": "sd.public.comment", "value": {"internal": internal}}],
    })
}

/// People named in changes, resolved by the host to this instance's identity
/// (account id on Cloud, username on DC).
#[derive(Debug, Clone, Default)]
pub struct ResolvedUsers {
    pairs: Vec<(UserRef, String)>,
}

impl ResolvedUsers {
    /// No one resolved yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Records a person's identity on this instance.
    pub fn insert(&mut self, r: UserRef, ident: String) {
        self.pairs.push((r, ident));
    }
    /// A person's identity on this instance, if resolved.
    pub fn get(&self, r: &UserRef) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == r)
            .map(|(_, v)| v.as_str())
    }
}

/// The user refs in changes that need resolving before [`edit_request`].
pub(crate) fn user_refs(changes: &Changes) -> Vec<UserRef> {
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
pub(crate) fn user_ref_of(u: &User) -> UserRef {
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
    /// Every custom field as `(id, name)`, e.g. `("customfield_10010", "Team")`.
    pub fields: Vec<(String, String)>,
    /// Ids of fields whose value is a list of plain strings (labels-like), not of options.
    pub string_lists: Vec<String>,
}

impl FieldCatalog {
    /// The id of a field given by id or (case-insensitively) by name.
    pub(crate) fn id_for(&self, id_or_name: &str) -> Option<String> {
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
    /// The flavour of the instance written to.
    pub flavour: Flavour,
    /// Maps mentions in rich text between account ids and usernames.
    pub users: &'a dyn UserMapper,
    /// The people named in the changes, resolved to this instance.
    pub people: &'a ResolvedUsers,
    /// This instance's custom fields.
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
pub(crate) fn edit_fields(
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
    // Versions by name; names the project lacks were settled before the body is built.
    for (field, names) in [
        ("fixVersions", &changes.fix_versions),
        ("versions", &changes.affected_versions),
    ] {
        if let Some(names) = names {
            let list: Vec<Value> = names.iter().map(|n| json!({ "name": n })).collect();
            f.insert(field.into(), Value::Array(list));
        }
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
