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

    super::conversions!(
        issue_extra: [],
        replica_extra: [],
        changes_extra: [],
        deleted_event: t::SyncEvent::Replica
    );
}

/// `twinsync:rules@0.2.0`, frozen in `wit/v0.2/`: `issue` gains `security-level`.
pub(crate) mod v0_2 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.2",
        world: "rule",
    });

    pub(crate) use self::twinsync::rules::host::Level;
    pub(crate) use self::twinsync::rules::types;

    super::conversions!(
        issue_extra: [security_level],
        replica_extra: [],
        changes_extra: [],
        deleted_event: t::SyncEvent::Replica
    );
}

/// `twinsync:rules@0.3.0`, the current contract in `wit/`: worklogs, links, versions, and the
/// deletion of a twin as an event with its answer.
pub(crate) mod v0_3 {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "rule",
    });

    pub(crate) use self::twinsync::rules::host::Level;
    pub(crate) use self::twinsync::rules::types;

    super::conversions!(
        issue_extra: [security_level, worklogs: list, links: list, fix_versions, affected_versions],
        replica_extra: [worklogs: list, links: list, fix_versions, affected_versions],
        changes_extra: [
            worklogs: optlist,
            links: optlist,
            fix_versions,
            affected_versions,
            missing_versions: opt,
            on_delete: opt
        ],
        deleted_event: t::SyncEvent::Deleted
    );

    both_ways!(Worklog {
        id,
        author: opt,
        started,
        time_spent_seconds,
        comment: opt,
        created,
        updated
    });
    both_ways!(IssueLink {
        id,
        link_type,
        direction: into,
        other_key,
        other_twin
    });
    both_ways!(LinkDirection [ Outward, Inward ]);
    both_ways!(MissingVersion [ Create, Drop, Fail ]);
    both_ways!(OnDelete [ DeleteIssue, Unlink, Nothing ]);

    impl From<t::WorklogChange> for m::WorklogChange {
        fn from(w: t::WorklogChange) -> Self {
            m::WorklogChange {
                remote_id: w.remote_id,
                started: w.started,
                time_spent_seconds: w.time_spent_seconds,
                comment: w.comment.map(Into::into),
                author: w.author.map(Into::into),
            }
        }
    }

    impl From<t::LinkChange> for m::LinkChange {
        fn from(l: t::LinkChange) -> Self {
            m::LinkChange {
                link_type: l.link_type,
                direction: l.direction.into(),
                other_key: l.other_key,
            }
        }
    }
}

/// The package version string of `v0_1`, as it appears in import names.
pub(crate) const V0_1: &str = "0.1.0";
/// The package version string of `v0_2`.
pub(crate) const V0_2: &str = "0.2.0";
/// The package version string of `v0_3`, the current contract.
pub(crate) const V0_3: &str = "0.3.0";

/// Conversions between one version's generated types (`types`, in scope where
/// it is expanded) and the model. The `*_extra` lists name the fields (with how each
/// converts) that this version's records carry beyond 0.1's; the model's other new
/// fields stay at their defaults, so an older rule never sees nor sets them.
/// `deleted_event` is what the model's `Deleted` cause becomes (the host never calls an
/// older rule for a deletion; the arm only keeps the conversion total).
macro_rules! conversions {
    (
        issue_extra: [$($issue_extra:ident $(: $issue_how:ident)?),*],
        replica_extra: [$($replica_extra:ident $(: $replica_how:ident)?),*],
        changes_extra: [$($changes_extra:ident $(: $changes_how:ident)?),*],
        deleted_event: $deleted:path
    ) => {
        use crate::model as m;
        use types as t;
        use super::both_ways;

        both_ways!(RichText { text, adf, wiki });
        both_ways!(User { account_id, name, display_name, email });

        impl From<t::UserRef> for m::UserRef {
            fn from(u: t::UserRef) -> Self {
                match u {
                    t::UserRef::Email(s) => m::UserRef::Email(s),
                    t::UserRef::AccountId(s) => m::UserRef::AccountId(s),
                    t::UserRef::Name(s) => m::UserRef::Name(s),
                }
            }
        }

        both_ways!(Comment { id, author: opt, body: into, internal, created, updated });
        both_ways!(Attachment { id, filename, mime_type, size, author: opt, created });
        both_ways!(Value(
            Text, Number, Flag, Date, Datetime, Choice, Choices, Json;
            User: into, Users: list, Rich: into
        ));
        both_ways!(CustomField { id, name, value: opt });

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
                    $($issue_extra: both_ways!(@convert $($issue_how)? i.$issue_extra),)*
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
                    $($replica_extra: both_ways!(@convert $($replica_how)? r.$replica_extra),)*
                }
            }
        }

        // An older version's replica leaves the newer fields empty: they never cross.
        #[allow(clippy::needless_update)]
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
                    $($replica_extra: both_ways!(@convert $($replica_how)? r.$replica_extra),)*
                    ..m::Replica::default()
                }
            }
        }

        // An older version's changes leave the newer fields `None`: the host leaves them alone.
        #[allow(clippy::needless_update)]
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
                    $($changes_extra: both_ways!(@convert $($changes_how)? c.$changes_extra),)*
                    ..m::Changes::default()
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
                        m::SyncCause::Deleted => $deleted,
                    },
                }
            }
        }
    };
}
use conversions;

/// `From` in both directions between the model's and a version's types (`m` and `t`, in
/// scope where it is expanded) of one name, field by field or variant by variant; a field
/// or payload marked `into`, `opt` or `list` is converted, itself, inside its `Option`, or
/// item by item.
macro_rules! both_ways {
    ($name:ident { $($field:ident $(: $how:ident)?),* $(,)? }) => {
        both_ways!(@struct m => t, $name { $($field $(: $how)?),* });
        both_ways!(@struct t => m, $name { $($field $(: $how)?),* });
    };
    ($name:ident( $($plain:ident),* ; $($variant:ident: $how:ident),* $(,)? )) => {
        both_ways!(@enum m => t, $name ( $($plain),* ; $($variant: $how),* ));
        both_ways!(@enum t => m, $name ( $($plain),* ; $($variant: $how),* ));
    };
    ($name:ident [ $($unit:ident),* $(,)? ]) => {
        both_ways!(@unit m => t, $name [ $($unit),* ]);
        both_ways!(@unit t => m, $name [ $($unit),* ]);
    };
    (@unit $from:ident => $to:ident, $name:ident [ $($unit:ident),* ]) => {
        impl From<$from::$name> for $to::$name {
            fn from(x: $from::$name) -> Self {
                match x {
                    $($from::$name::$unit => $to::$name::$unit,)*
                }
            }
        }
    };
    (@struct $from:ident => $to:ident, $name:ident { $($field:ident $(: $how:ident)?),* }) => {
        impl From<$from::$name> for $to::$name {
            fn from(x: $from::$name) -> Self {
                $to::$name {
                    $($field: both_ways!(@convert $($how)? x.$field),)*
                }
            }
        }
    };
    (@enum $from:ident => $to:ident, $name:ident ( $($plain:ident),* ; $($variant:ident: $how:ident),* )) => {
        impl From<$from::$name> for $to::$name {
            fn from(x: $from::$name) -> Self {
                match x {
                    $($from::$name::$plain(v) => $to::$name::$plain(v),)*
                    $($from::$name::$variant(v) => $to::$name::$variant(both_ways!(@convert $how v)),)*
                }
            }
        }
    };
    (@convert into $e:expr) => { $e.into() };
    (@convert opt $e:expr) => { $e.map(Into::into) };
    (@convert list $e:expr) => { $e.into_iter().map(Into::into).collect() };
    (@convert optlist $e:expr) => { $e.map(|l| l.into_iter().map(Into::into).collect()) };
    (@convert $e:expr) => { $e };
}
use both_ways;
