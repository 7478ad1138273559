//! Stock rule `mapping`: per-field direction and status, priority, issue type
//! and user value maps, a field copied into another field, and constants, all
//! read from config, so one module serves many connections (and the admin
//! page's Visual mode writes it). The config keys are documented in this
//! crate's README.md.

use twinsync_sdk::prelude::*;

/// The fields whose direction config decides. The key always leaves (so the
/// other side can show where a twin came from); project, parent and the
/// timestamps never do, as they mean nothing on the other side.
pub const SYNCED: [Field; 13] = [
    Field::IssueType,
    Field::Summary,
    Field::Description,
    Field::Status,
    Field::Priority,
    Field::Labels,
    Field::Components,
    Field::Assignee,
    Field::Reporter,
    Field::DueDate,
    Field::Comments,
    Field::Attachments,
    Field::CustomFields,
];

/// The fields whose values go through `map.<field>.<value>`.
pub const MAPPED: [Field; 3] = [Field::Status, Field::Priority, Field::IssueType];

/// Which way a field syncs, from config key `direction.<field>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `out`: this side sends the field and ignores it when it arrives.
    Out,
    /// `in`: this side applies the field when it arrives and does not send it.
    In,
    /// `both`: sent and applied.
    Both,
    /// `none`: neither.
    None,
}

impl Direction {
    /// Parses `out`, `in`, `both` or `none` (any case).
    pub fn parse(value: &str) -> Option<Direction> {
        match value.trim().to_ascii_lowercase().as_str() {
            "out" => Some(Direction::Out),
            "in" => Some(Direction::In),
            "both" => Some(Direction::Both),
            "none" => Some(Direction::None),
            _ => None,
        }
    }

    /// The direction of `field`: `direction.<field>`, else `direction.default`, else `both`.
    pub fn of(field: Field) -> Result<Direction, RuleError> {
        let key = format!("direction.{}", field.name());
        let (key, value) = match config(&key) {
            Some(v) => (key, v),
            None => match config("direction.default") {
                Some(v) => ("direction.default".to_owned(), v),
                None => return Ok(Direction::Both),
            },
        };
        Direction::parse(&value).ok_or_else(|| {
            fail(format!(
                "config key `{key}` must be out, in, both or none, not {value:?}"
            ))
        })
    }

    /// Whether this side sends the field.
    pub fn sends(self) -> bool {
        matches!(self, Direction::Out | Direction::Both)
    }

    /// Whether this side applies the field when it arrives.
    pub fn receives(self) -> bool {
        matches!(self, Direction::In | Direction::Both)
    }
}

/// The synced fields whose direction passes `keep`.
fn fields_where(keep: fn(Direction) -> bool) -> Result<Vec<Field>, RuleError> {
    let mut fields = Vec::new();
    for field in SYNCED {
        if keep(Direction::of(field)?) {
            fields.push(field);
        }
    }
    Ok(fields)
}

/// A local user named in config: `accountid:<id>`, `name:<user name>`, or an email.
fn parse_user(local: &str) -> UserRef {
    let local = local.trim();
    if let Some(id) = local.strip_prefix("accountid:") {
        UserRef::AccountId(id.trim().to_owned())
    } else if let Some(name) = local.strip_prefix("name:") {
        UserRef::Name(name.trim().to_owned())
    } else {
        UserRef::Email(local.to_owned())
    }
}

/// The local user for a user of the other side, from `map.user.<email, account id, user
/// name or display name>` (the first that has an entry, then lower-cased), else as
/// `unmapped.user` says. `None` leaves the local field alone.
pub fn map_user(user: &User) -> Result<Option<UserRef>, RuleError> {
    let known: Vec<&str> = [
        &user.email,
        &user.account_id,
        &user.name,
        &user.display_name,
    ]
    .into_iter()
    .filter_map(|v| v.as_deref().filter(|s| !s.is_empty()))
    .collect();
    for id in &known {
        let found = config(&format!("map.user.{id}"))
            .or_else(|| config(&format!("map.user.{}", id.to_lowercase())));
        if let Some(local) = found {
            return Ok((!local.trim().is_empty()).then(|| parse_user(&local)));
        }
    }
    match Unmapped::for_field("user")? {
        Unmapped::Keep => Ok(user_ref(user)),
        Unmapped::SkipField => Ok(None),
        Unmapped::Default(d) if d.is_empty() => Ok(None),
        Unmapped::Default(d) => Ok(Some(parse_user(&d))),
        Unmapped::Fail => Err(fail(format!(
            "no mapping for user {:?}: set config key `map.user.{}` (or `unmapped.user`)",
            user.display_name
                .as_deref()
                .or(known.first().copied())
                .unwrap_or("?"),
            known.first().copied().unwrap_or("<email>")
        ))),
    }
}

/// How many `copy.<n>` and `const.<n>` entries a config may hold; the keys are numbered
/// because a rule can ask for a key but not list them.
const MAX_ENTRIES: usize = 200;

/// The numbered entries `<prefix>.1`, `<prefix>.2`, ... up to the first missing one.
fn numbered(prefix: &str) -> Vec<(String, String)> {
    (1..=MAX_ENTRIES)
        .map_while(|n| {
            let key = format!("{prefix}.{n}");
            config(&key).map(|v| (key, v))
        })
        .collect()
}

/// Splits `left <sep> right` into its two trimmed halves, failing with the key's name.
fn split_entry<'a>(key: &str, value: &'a str, sep: &str) -> Result<(&'a str, &'a str), RuleError> {
    value
        .split_once(sep)
        .map(|(l, r)| (l.trim(), r.trim()))
        .filter(|(l, _)| !l.is_empty())
        .ok_or_else(|| {
            fail(format!(
                "config key `{key}` must read `<field> {sep} <...>`, not {value:?}"
            ))
        })
}

/// A user as text: display name, else email, else account id or user name.
fn user_text(user: &User) -> Option<String> {
    [
        &user.display_name,
        &user.email,
        &user.account_id,
        &user.name,
    ]
    .into_iter()
    .find_map(|v| v.clone().filter(|s| !s.is_empty()))
}

/// A custom field's value as text (a list joined with ", ").
fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::Text(s)
        | Value::Date(s)
        | Value::Datetime(s)
        | Value::Choice(s)
        | Value::Json(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Flag(b) => Some(b.to_string()),
        Value::Choices(v) => Some(v.join(", ")),
        Value::User(u) => user_text(u),
        Value::Users(us) => Some(
            us.iter()
                .filter_map(user_text)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Value::Rich(r) => Some(r.text.clone()),
    }
}

/// The text of the replica's field `source`: a standard field by name, else a custom field
/// by id or display name. `None` when the replica does not carry it or it is empty.
pub fn source_text(replica: &Replica, source: &str) -> Option<String> {
    let list = |v: &[String]| (!v.is_empty()).then(|| v.join(", "));
    match Field::parse(source) {
        Some(Field::Summary) => replica.summary.clone(),
        Some(Field::Description) => replica.description.as_ref().map(|d| d.text.clone()),
        Some(Field::Status) => replica.status.clone(),
        Some(Field::Priority) => replica.priority.clone(),
        Some(Field::IssueType) => replica.issue_type.clone(),
        Some(Field::Labels) => list(&replica.labels),
        Some(Field::Components) => list(&replica.components),
        Some(Field::DueDate) => replica.due_date.clone(),
        Some(Field::Assignee) => replica.assignee.as_ref().and_then(user_text),
        Some(Field::Reporter) => replica.reporter.as_ref().and_then(user_text),
        Some(Field::Key) => replica.key.clone(),
        Some(_) => None,
        None => replica
            .custom_fields
            .iter()
            .find(|f| f.id == source || f.name.eq_ignore_ascii_case(source))
            .and_then(|f| f.value.as_ref())
            .and_then(value_text),
    }
    .filter(|v| !v.is_empty())
}

/// Sets the local field `target` to the text `value`: a standard field by name, else a custom
/// field (by id or display name) as text.
fn set_local(
    changes: &mut Changes,
    key: &str,
    target: &str,
    value: String,
) -> Result<(), RuleError> {
    let list = |v: &str| -> Vec<String> {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    match Field::parse(target) {
        Some(Field::Summary) => changes.summary = Some(value),
        Some(Field::Status) => changes.status = Some(value),
        Some(Field::Priority) => changes.priority = Some(value),
        Some(Field::IssueType) => changes.issue_type = Some(value),
        Some(Field::Labels) => changes.labels = Some(list(&value)),
        Some(Field::Components) => changes.components = Some(list(&value)),
        Some(Field::DueDate) => changes.due_date = Some(Some(value)),
        Some(Field::Assignee) => changes.assignee = Some(Some(parse_user(&value))),
        Some(Field::Reporter) => changes.reporter = Some(parse_user(&value)),
        Some(other) => {
            return Err(fail(format!(
                "config key `{key}`: field {:?} cannot be set from text",
                other.name()
            )));
        }
        None => {
            changes.custom_fields.retain(|c| c.field != target);
            changes.custom_fields.push(CustomFieldChange {
                field: target.to_owned(),
                value: Some(Value::Text(value)),
            });
        }
    }
    Ok(())
}

/// `copy.<n>` = `<remote field> -> <local field>`: the other side's field lands in another
/// local field, through `map.<local field>.<value>` and `unmapped.<local field>`.
fn apply_copies(replica: &Replica, changes: &mut Changes) -> Result<(), RuleError> {
    for (key, entry) in numbered("copy") {
        let (source, target) = split_entry(&key, &entry, "->")?;
        if target.is_empty() {
            return Err(fail(format!("config key `{key}` names no local field")));
        }
        let Some(text) = source_text(replica, source) else {
            continue;
        };
        if let Some(value) = map_value(target, &text)? {
            set_local(changes, &key, target, value)?;
        }
    }
    Ok(())
}

/// `const.<n>` = `<local field> = <value>`: the local field is set to the value whenever a
/// replica arrives.
fn apply_constants(changes: &mut Changes) -> Result<(), RuleError> {
    for (key, entry) in numbered("const") {
        let (target, value) = split_entry(&key, &entry, "=")?;
        set_local(changes, &key, target, value.to_owned())?;
    }
    Ok(())
}

/// The `mapping` rule.
pub struct Mapping;

impl Rule for Mapping {
    fn outgoing(issue: Issue, _ctx: SyncContext) -> Result<Replica, RuleError> {
        let mut sent = fields_where(Direction::sends)?;
        sent.push(Field::Key);
        let mut replica = replica_from(&issue).only(&sent);
        if let Some(format) = twinsync_sdk::author::format() {
            twinsync_sdk::author::outgoing(&format, &mut replica);
        }
        Ok(replica)
    }

    fn incoming(
        replica: Replica,
        _local: Option<Issue>,
        ctx: SyncContext,
    ) -> Result<Changes, RuleError> {
        // The other half was deleted: config `on-delete` answers, as for `basic`.
        if ctx.event == SyncEvent::Deleted {
            let mut changes = changes_from(&replica).only(&[]);
            changes.on_delete = Some(twinsync_sdk::basic::on_delete()?);
            return Ok(changes);
        }
        let received = fields_where(Direction::receives)?;
        let mut changes = changes_from(&replica).only(&received);
        for field in MAPPED.into_iter().filter(|f| received.contains(f)) {
            let name = field.name();
            match field {
                Field::Status => changes.status = map_option(name, replica.status.as_deref())?,
                Field::Priority => {
                    changes.priority = map_option(name, replica.priority.as_deref())?
                }
                _ => changes.issue_type = map_option(name, replica.issue_type.as_deref())?,
            }
        }
        if received.contains(&Field::Assignee)
            && let Some(user) = &replica.assignee
        {
            changes.assignee = map_user(user)?.map(Some);
        }
        if received.contains(&Field::Reporter)
            && let Some(user) = &replica.reporter
        {
            changes.reporter = map_user(user)?;
        }
        apply_copies(&replica, &mut changes)?;
        apply_constants(&mut changes)?;
        if ctx.first_sync {
            // Jira cannot create an issue without a project, a type and a summary,
            // so on first sync they are taken whatever their direction says.
            changes.project = local_project(&ctx)?;
            if changes.issue_type.is_none() {
                let mapped = map_option("issue-type", replica.issue_type.as_deref())?;
                changes.issue_type = mapped.or_else(|| config("issue-type"));
            }
            if changes.issue_type.is_none() {
                return Err(fail(
                    "cannot create the twin: the replica's issue type is missing or unmapped \
                     and config key `issue-type` is not set",
                ));
            }
            if changes.summary.is_none() {
                changes.summary = replica.summary.clone();
            }
        }
        if let Some(format) = twinsync_sdk::author::format() {
            twinsync_sdk::author::incoming(&format, &replica, &ctx, &mut changes);
        }
        Ok(changes)
    }
}

twinsync_sdk::export_rule!(Mapping);

#[cfg(test)]
mod tests {
    use super::*;
    use twinsync_sdk::testing::{context, incoming_context, sample_issue, with_config};

    fn outgoing(config: &[(&str, &str)]) -> Result<Replica, RuleError> {
        with_config(config, || Mapping::outgoing(sample_issue(), context(false)))
    }

    fn incoming(config: &[(&str, &str)], first_sync: bool) -> Result<Changes, RuleError> {
        let replica = replica_from(&sample_issue());
        with_config(config, || {
            Mapping::incoming(replica, None, incoming_context(first_sync))
        })
    }

    #[test]
    fn the_author_header_names_the_author_once_and_leaves_with_the_comment() {
        let config = [
            ("author-header", "{name} ({site}) wrote:"),
            ("author-site", "Acme"),
        ];
        let c = incoming(&config, false).expect("incoming");
        let comments = c.comments.expect("comments");
        assert_eq!(
            comments[0].body.text,
            "Ada (Acme) wrote:\n\nReproduced on staging."
        );
        // The copy, as this side's issue has it, leaves without the header.
        let mut issue = sample_issue();
        issue.comments[0].body = comments[0].body.clone();
        let r = with_config(&config, || Mapping::outgoing(issue, context(false))).expect("out");
        assert_eq!(r.comments[0].body.text, "Reproduced on staging.");
        assert!(
            incoming(&[], false)
                .expect("incoming")
                .comments
                .expect("comments")[0]
                .body
                .text
                .starts_with("Reproduced")
        );
    }

    #[test]
    fn without_config_every_field_syncs_both_ways_unmapped() {
        let issue = sample_issue();
        let r = outgoing(&[]).expect("outgoing");
        assert_eq!(r.key.as_deref(), Some("SRC-1"));
        assert_eq!(r.assignee, issue.assignee);
        assert_eq!(r.custom_fields, issue.custom_fields);
        assert_eq!(r.project, None);
        assert_eq!(r.created, None);
        let c = incoming(&[], false).expect("incoming");
        assert_eq!(c.status.as_deref(), Some("In Progress"));
        assert_eq!(c.priority.as_deref(), Some("High"));
        assert_eq!(c.issue_type.as_deref(), Some("Bug"));
        assert!(c.assignee.is_some());
        assert_eq!(c.custom_fields.len(), issue.custom_fields.len());
    }

    #[test]
    fn direction_decides_what_leaves_and_what_lands() {
        let config = [
            ("direction.assignee", "none"),
            ("direction.comments", "out"),
            ("direction.labels", "IN"),
        ];
        let r = outgoing(&config).expect("outgoing");
        assert_eq!(r.assignee, None);
        assert_eq!(r.comments.len(), 2);
        assert!(r.labels.is_empty(), "labels only come in");
        let c = incoming(&config, false).expect("incoming");
        assert_eq!(c.assignee, None);
        assert_eq!(c.comments, None, "comments only go out");
        assert!(c.labels.is_some());
        assert!(c.summary.is_some());
    }

    #[test]
    fn direction_default_applies_to_unnamed_fields() {
        let config = [("direction.default", "none"), ("direction.status", "both")];
        let r = outgoing(&config).expect("outgoing");
        assert_eq!(r.status.as_deref(), Some("In Progress"));
        assert_eq!(r.summary, None);
        assert!(r.comments.is_empty());
        let c = incoming(&config, false).expect("incoming");
        assert_eq!(c.status.as_deref(), Some("In Progress"));
        assert_eq!(c.summary, None);
        assert_eq!(c.labels, None);
        assert!(c.custom_fields.is_empty());
    }

    #[test]
    fn a_bad_direction_fails_naming_the_key() {
        let err = outgoing(&[("direction.status", "sideways")]).expect_err("bad direction");
        assert!(
            matches!(&err, RuleError::Fail(m) if m.contains("direction.status")),
            "{err:?}"
        );
    }

    #[test]
    fn values_are_mapped_on_the_way_in() {
        let config = [
            ("map.status.In Progress", "Doing"),
            ("map.priority.high", "P1"),
            ("map.issue-type.Bug", "Defect"),
        ];
        let c = incoming(&config, false).expect("incoming");
        assert_eq!(c.status.as_deref(), Some("Doing"));
        assert_eq!(c.priority.as_deref(), Some("P1"));
        assert_eq!(c.issue_type.as_deref(), Some("Defect"));
        let r = outgoing(&config).expect("outgoing");
        assert_eq!(
            r.status.as_deref(),
            Some("In Progress"),
            "outgoing is unmapped"
        );
    }

    #[test]
    fn unmapped_values_follow_the_policy() {
        let c = incoming(&[("unmapped.status", "skip-field")], false).expect("incoming");
        assert_eq!(c.status, None);
        let c = incoming(&[("unmapped.priority", "default:Medium")], false).expect("incoming");
        assert_eq!(c.priority.as_deref(), Some("Medium"));
        let err = incoming(&[("unmapped.status", "fail")], false).expect_err("fail");
        assert!(
            matches!(&err, RuleError::Fail(m) if m.contains("map.status.In Progress")),
            "{err:?}"
        );
    }

    #[test]
    fn users_are_mapped_by_email_account_id_name_or_display_name() {
        // Sample: assignee Ada (ada@example.com), reporter Bob (bob@example.com); "bob"
        // matches the display name "Bob" lower-cased.
        let config = [
            ("map.user.ada@example.com", "ada.local@dest.example"),
            ("map.user.bob", "accountid:557058:bob"),
        ];
        let c = incoming(&config, false).expect("incoming");
        assert_eq!(
            c.assignee,
            Some(Some(UserRef::Email("ada.local@dest.example".into())))
        );
        assert_eq!(c.reporter, Some(UserRef::AccountId("557058:bob".into())));
        let c = incoming(&[("map.user.ada@example.com", "name:ada")], false).expect("incoming");
        assert_eq!(c.assignee, Some(Some(UserRef::Name("ada".into()))));
    }

    #[test]
    fn unmapped_users_follow_the_policy() {
        let c = incoming(&[], false).expect("keep");
        assert_eq!(
            c.assignee,
            Some(Some(UserRef::Email("ada@example.com".into()))),
            "keep: the user as the other side knows them"
        );
        let c = incoming(&[("unmapped.user", "skip-field")], false).expect("skip");
        assert_eq!((c.assignee, c.reporter), (None, None));
        let c =
            incoming(&[("unmapped.user", "default:triage@dest.example")], false).expect("default");
        assert_eq!(
            c.reporter,
            Some(UserRef::Email("triage@dest.example".into()))
        );
        let err = incoming(&[("unmapped.user", "fail")], false).expect_err("fail");
        assert!(
            matches!(&err, RuleError::Fail(m) if m.contains("map.user.ada@example.com")),
            "{err:?}"
        );
    }

    #[test]
    fn first_sync_needs_a_project_and_takes_type_and_summary_anyway() {
        let err = incoming(&[], true).expect_err("no project");
        assert!(matches!(&err, RuleError::Fail(m) if m.contains("`project`")));
        let config = [
            ("project", "DEST"),
            ("direction.issue-type", "out"),
            ("direction.summary", "none"),
            ("map.issue-type.Bug", "Defect"),
        ];
        let c = incoming(&config, true).expect("incoming");
        assert_eq!(c.project.as_deref(), Some("DEST"));
        assert_eq!(c.issue_type.as_deref(), Some("Defect"));
        assert_eq!(c.summary.as_deref(), Some("Checkout fails for ACME Corp"));
        let c = incoming(&config, false).expect("incoming");
        assert_eq!((c.project, c.issue_type, c.summary), (None, None, None));
    }

    #[test]
    fn a_field_copies_into_another_local_field_through_its_map() {
        let config = [
            ("direction.default", "none"),
            ("copy.1", "priority -> customfield_10050"),
            ("copy.2", "Team -> labels"),
            ("map.customfield_10050.High", "P1"),
        ];
        let c = incoming(&config, false).expect("incoming");
        assert_eq!(c.priority, None, "priority itself does not land");
        let copied = c
            .custom_fields
            .iter()
            .find(|f| f.field == "customfield_10050")
            .and_then(|f| f.value.clone());
        assert_eq!(copied, Some(Value::Text("P1".into())));
        assert_eq!(c.labels, Some(vec!["Blue".to_owned()]));
        let c = incoming(
            &[
                ("copy.1", "priority -> customfield_10050"),
                ("unmapped.customfield_10050", "fail"),
            ],
            false,
        )
        .expect_err("unmapped");
        assert!(
            matches!(&c, RuleError::Fail(m) if m.contains("map.customfield_10050.High")),
            "{c:?}"
        );
        let err = incoming(&[("copy.1", "priority")], false).expect_err("no arrow");
        assert!(
            matches!(&err, RuleError::Fail(m) if m.contains("copy.1")),
            "{err:?}"
        );
    }

    #[test]
    fn constants_set_local_fields_and_numbering_stops_at_a_gap() {
        let config = [
            ("direction.default", "none"),
            ("const.1", "customfield_10060 = Partner"),
            ("const.2", "labels = from-partner, synced"),
            ("const.4", "priority = Lowest"),
        ];
        let c = incoming(&config, false).expect("incoming");
        assert_eq!(
            c.custom_fields
                .first()
                .map(|f| (f.field.as_str(), f.value.clone())),
            Some(("customfield_10060", Some(Value::Text("Partner".into()))))
        );
        assert_eq!(
            c.labels,
            Some(vec!["from-partner".to_owned(), "synced".to_owned()])
        );
        assert_eq!(
            c.priority, None,
            "const.3 is missing, so const.4 is not read"
        );
    }

    #[test]
    fn an_empty_pair_leaves_that_value_alone_while_others_map() {
        let config = [
            ("map.priority.High", ""),
            ("map.status.In Progress", "Doing"),
        ];
        let c = incoming(&config, false).expect("incoming");
        assert_eq!(
            c.priority, None,
            "a one-way pair: this value does not land here"
        );
        assert_eq!(c.status.as_deref(), Some("Doing"));
    }

    #[test]
    fn first_sync_with_an_unmapped_type_falls_back_to_config_or_fails() {
        let config = [("project", "DEST"), ("unmapped.issue-type", "skip-field")];
        let err = incoming(&config, true).expect_err("no type");
        assert!(matches!(&err, RuleError::Fail(m) if m.contains("issue-type")));
        let mut with_default = config.to_vec();
        with_default.push(("issue-type", "Task"));
        let c = incoming(&with_default, true).expect("incoming");
        assert_eq!(c.issue_type.as_deref(), Some("Task"));
    }
}
