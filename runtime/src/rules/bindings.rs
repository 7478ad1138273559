//! Generated host bindings for each WIT version the host loads, and their conversions to the model.
//!
//! A new minor version of `twinsync:rules` gets its own module here; rules built
//! against an older one keep loading through the older module's bindings. The
//! conversions are one macro, instantiated per version with the fields that
//! version's records add, so the versions cannot drift apart.

/// `twinsync:rules@0.1.0`, frozen in `wit/v0.1/`.
pub(crate) mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1",
        world: "rule",
    });

    pub(crate) use self::twinsync::rules::host::Level;
    pub(crate) use self::twinsync::rules::types;

    super::conversions!(issue_extra: []);
}

/// `twinsync:rules@0.2.0`, the current contract in `wit/`: `issue` gains `security-level`.
pub(crate) mod v0_2 {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "rule",
    });

    pub(crate) use self::twinsync::rules::host::Level;
    pub(crate) use self::twinsync::rules::types;

    super::conversions!(issue_extra: [security_level]);
}

/// The package version string of `v0_1`, as it appears in import names.
pub(crate) const V0_1: &str = "0.1.0";
/// The package version string of `v0_2`, the current contract.
pub(crate) const V0_2: &str = "0.2.0";

/// Conversions between one version's generated types (`types`, in scope where
/// it is expanded) and the model. `issue_extra` lists the model `Issue` fields
/// that this version's `issue` record carries beyond 0.1's.
macro_rules! conversions {
    (issue_extra: [$($issue_extra:ident),*]) => {
        use crate::model as m;
        use types as t;

        impl From<m::RichText> for t::RichText {
            fn from(r: m::RichText) -> Self {
                t::RichText {
                    text: r.text,
                    adf: r.adf,
                    wiki: r.wiki,
                }
            }
        }
        impl From<t::RichText> for m::RichText {
            fn from(r: t::RichText) -> Self {
                m::RichText {
                    text: r.text,
                    adf: r.adf,
                    wiki: r.wiki,
                }
            }
        }

        impl From<m::User> for t::User {
            fn from(u: m::User) -> Self {
                t::User {
                    account_id: u.account_id,
                    name: u.name,
                    display_name: u.display_name,
                    email: u.email,
                }
            }
        }
        impl From<t::User> for m::User {
            fn from(u: t::User) -> Self {
                m::User {
                    account_id: u.account_id,
                    name: u.name,
                    display_name: u.display_name,
                    email: u.email,
                }
            }
        }

        impl From<t::UserRef> for m::UserRef {
            fn from(u: t::UserRef) -> Self {
                match u {
                    t::UserRef::Email(s) => m::UserRef::Email(s),
                    t::UserRef::AccountId(s) => m::UserRef::AccountId(s),
                    t::UserRef::Name(s) => m::UserRef::Name(s),
                }
            }
        }

        impl From<m::Comment> for t::Comment {
            fn from(c: m::Comment) -> Self {
                t::Comment {
                    id: c.id,
                    author: c.author.map(Into::into),
                    body: c.body.into(),
                    internal: c.internal,
                    created: c.created,
                    updated: c.updated,
                }
            }
        }
        impl From<t::Comment> for m::Comment {
            fn from(c: t::Comment) -> Self {
                m::Comment {
                    id: c.id,
                    author: c.author.map(Into::into),
                    body: c.body.into(),
                    internal: c.internal,
                    created: c.created,
                    updated: c.updated,
                }
            }
        }

        impl From<m::Attachment> for t::Attachment {
            fn from(a: m::Attachment) -> Self {
                t::Attachment {
                    id: a.id,
                    filename: a.filename,
                    mime_type: a.mime_type,
                    size: a.size,
                    author: a.author.map(Into::into),
                    created: a.created,
                }
            }
        }
        impl From<t::Attachment> for m::Attachment {
            fn from(a: t::Attachment) -> Self {
                m::Attachment {
                    id: a.id,
                    filename: a.filename,
                    mime_type: a.mime_type,
                    size: a.size,
                    author: a.author.map(Into::into),
                    created: a.created,
                }
            }
        }

        impl From<m::Value> for t::Value {
            fn from(v: m::Value) -> Self {
                match v {
                    m::Value::Text(s) => t::Value::Text(s),
                    m::Value::Number(n) => t::Value::Number(n),
                    m::Value::Flag(b) => t::Value::Flag(b),
                    m::Value::Date(s) => t::Value::Date(s),
                    m::Value::Datetime(s) => t::Value::Datetime(s),
                    m::Value::Choice(s) => t::Value::Choice(s),
                    m::Value::Choices(l) => t::Value::Choices(l),
                    m::Value::User(u) => t::Value::User(u.into()),
                    m::Value::Users(l) => t::Value::Users(l.into_iter().map(Into::into).collect()),
                    m::Value::Rich(r) => t::Value::Rich(r.into()),
                    m::Value::Json(s) => t::Value::Json(s),
                }
            }
        }
        impl From<t::Value> for m::Value {
            fn from(v: t::Value) -> Self {
                match v {
                    t::Value::Text(s) => m::Value::Text(s),
                    t::Value::Number(n) => m::Value::Number(n),
                    t::Value::Flag(b) => m::Value::Flag(b),
                    t::Value::Date(s) => m::Value::Date(s),
                    t::Value::Datetime(s) => m::Value::Datetime(s),
                    t::Value::Choice(s) => m::Value::Choice(s),
                    t::Value::Choices(l) => m::Value::Choices(l),
                    t::Value::User(u) => m::Value::User(u.into()),
                    t::Value::Users(l) => m::Value::Users(l.into_iter().map(Into::into).collect()),
                    t::Value::Rich(r) => m::Value::Rich(r.into()),
                    t::Value::Json(s) => m::Value::Json(s),
                }
            }
        }

        impl From<m::CustomField> for t::CustomField {
            fn from(f: m::CustomField) -> Self {
                t::CustomField {
                    id: f.id,
                    name: f.name,
                    value: f.value.map(Into::into),
                }
            }
        }
        impl From<t::CustomField> for m::CustomField {
            fn from(f: t::CustomField) -> Self {
                m::CustomField {
                    id: f.id,
                    name: f.name,
                    value: f.value.map(Into::into),
                }
            }
        }

        fn list<A, B: From<A>>(v: Vec<A>) -> Vec<B> {
            v.into_iter().map(Into::into).collect()
        }

        impl From<m::Issue> for t::Issue {
            fn from(i: m::Issue) -> Self {
                t::Issue {
                    key: i.key,
                    id: i.id,
                    project: i.project,
                    issue_type: i.issue_type,
                    summary: i.summary,
                    description: i.description.map(Into::into),
                    status: i.status,
                    priority: i.priority,
                    labels: i.labels,
                    components: i.components,
                    assignee: i.assignee.map(Into::into),
                    reporter: i.reporter.map(Into::into),
                    due_date: i.due_date,
                    parent: i.parent,
                    comments: list(i.comments),
                    attachments: list(i.attachments),
                    custom_fields: list(i.custom_fields),
                    created: i.created,
                    updated: i.updated,
                    $($issue_extra: i.$issue_extra,)*
                }
            }
        }

        impl From<m::Replica> for t::Replica {
            fn from(r: m::Replica) -> Self {
                t::Replica {
                    key: r.key,
                    project: r.project,
                    issue_type: r.issue_type,
                    summary: r.summary,
                    description: r.description.map(Into::into),
                    status: r.status,
                    priority: r.priority,
                    labels: r.labels,
                    components: r.components,
                    assignee: r.assignee.map(Into::into),
                    reporter: r.reporter.map(Into::into),
                    due_date: r.due_date,
                    parent: r.parent,
                    comments: list(r.comments),
                    attachments: list(r.attachments),
                    custom_fields: list(r.custom_fields),
                    created: r.created,
                    updated: r.updated,
                    properties: r.properties,
                }
            }
        }
        impl From<t::Replica> for m::Replica {
            fn from(r: t::Replica) -> Self {
                m::Replica {
                    key: r.key,
                    project: r.project,
                    issue_type: r.issue_type,
                    summary: r.summary,
                    description: r.description.map(Into::into),
                    status: r.status,
                    priority: r.priority,
                    labels: r.labels,
                    components: r.components,
                    assignee: r.assignee.map(Into::into),
                    reporter: r.reporter.map(Into::into),
                    due_date: r.due_date,
                    parent: r.parent,
                    comments: list(r.comments),
                    attachments: list(r.attachments),
                    custom_fields: list(r.custom_fields),
                    created: r.created,
                    updated: r.updated,
                    properties: r.properties,
                }
            }
        }

        impl From<t::Changes> for m::Changes {
            fn from(c: t::Changes) -> Self {
                m::Changes {
                    project: c.project,
                    issue_type: c.issue_type,
                    summary: c.summary,
                    description: c.description.map(Into::into),
                    status: c.status,
                    priority: c.priority,
                    labels: c.labels,
                    components: c.components,
                    assignee: c.assignee.map(|a| a.map(Into::into)),
                    reporter: c.reporter.map(Into::into),
                    due_date: c.due_date,
                    parent: c.parent,
                    comments: c.comments.map(|l| {
                        l.into_iter()
                            .map(|c| m::CommentChange {
                                remote_id: c.remote_id,
                                body: c.body.into(),
                                internal: c.internal,
                            })
                            .collect()
                    }),
                    attachments: c.attachments.map(|l| {
                        l.into_iter()
                            .map(|a| m::AttachmentChange {
                                remote_id: a.remote_id,
                                filename: a.filename,
                            })
                            .collect()
                    }),
                    custom_fields: c
                        .custom_fields
                        .into_iter()
                        .map(|f| m::CustomFieldChange {
                            field: f.field,
                            value: f.value.map(Into::into),
                        })
                        .collect(),
                }
            }
        }

        impl From<t::RuleError> for m::RuleRefusal {
            fn from(e: t::RuleError) -> Self {
                match e {
                    t::RuleError::Skip(s) => m::RuleRefusal::Skip(s),
                    t::RuleError::Fail(s) => m::RuleRefusal::Fail(s),
                }
            }
        }

        impl From<m::SyncContext> for t::SyncContext {
            fn from(c: m::SyncContext) -> Self {
                t::SyncContext {
                    connection: c.connection,
                    local_side: c.local_side,
                    remote_side: c.remote_side,
                    first_sync: c.first_sync,
                    local_key: c.local_key,
                    remote_key: c.remote_key,
                    event: match c.cause {
                        m::SyncCause::Created => t::SyncEvent::Created,
                        m::SyncCause::Updated => t::SyncEvent::Updated,
                        m::SyncCause::Manual => t::SyncEvent::Manual,
                        m::SyncCause::Bulk => t::SyncEvent::Bulk,
                        m::SyncCause::Trigger => t::SyncEvent::Trigger,
                        m::SyncCause::Replica => t::SyncEvent::Replica,
                    },
                }
            }
        }
    };
}
use conversions;
