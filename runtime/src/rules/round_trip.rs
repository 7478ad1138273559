//! `twinsync rules check --round-trip`: runs a rule pair the way a sync does (outgoing here,
//! incoming there, their outgoing, incoming here) several times over and reports every field
//! that does not come back to a fixed point, the classic sync loop (a prefix added again, a
//! list that grows), before the rule ships.
//!
//! Between the calls a small model of the host lands each `changes` on its side's issue: fields
//! set as given, users by reference, comments as the desired set of mirrored items, with the
//! host's rule that a side's own comments coming back are left alone.

use std::sync::Arc;

use serde_json::Value as Json;

use super::engine::{LoadedRule, RuleConfig};
use super::error::CallError;
use super::limits::RuleLimits;
use crate::model::{Changes, Comment, CustomField, Issue, SyncCause, SyncContext, User, UserRef};

/// Round trips run; the first may change a side legitimately only if the pair is not
/// idempotent, so every pass is compared with the one before.
pub(crate) const PASSES: usize = 3;

/// A field whose value kept changing: its value at the start and after each pass.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Drift {
    /// `here` (the side of the rule checked) or `there` (the other side).
    pub(crate) side: &'static str,
    pub(crate) field: String,
    /// Here: the sample's value, then after each pass; there: after each pass.
    pub(crate) values: Vec<Json>,
    /// The last pass left it as it was: it changed, then settled (a one-way mapping, say).
    /// False is a loop: it changes on every round trip.
    pub(crate) settles: bool,
}

impl RoundTrip {
    /// Fields that change on every round trip.
    pub fn loops(&self) -> impl Iterator<Item = &Drift> {
        self.drifts.iter().filter(|d| !d.settles)
    }
}

/// What the round trip found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RoundTrip {
    pub(crate) passes: usize,
    pub(crate) drifts: Vec<Drift>,
}

/// A call failed or skipped: the round trip stops there.
#[derive(Debug, thiserror::Error)]
#[error("pass {pass}, {step}: {source}")]
pub struct RoundTripError {
    pub(crate) pass: usize,
    pub(crate) step: &'static str,
    #[source]
    pub(crate) source: CallError,
}

/// One side of the pair: its rule and its config.
pub(crate) struct PairSide<'a> {
    pub(crate) rule: &'a Arc<LoadedRule>,
    pub(crate) config: RuleConfig,
}

/// Runs [`PASSES`] round trips of `issue` from `here` to `there` and back.
pub(crate) fn run(
    here: &PairSide<'_>,
    there: &PairSide<'_>,
    issue: Issue,
) -> Result<RoundTrip, RoundTripError> {
    let limits = RuleLimits::default();
    let ctx = |local: &str, remote: &str, first: bool, cause: SyncCause| SyncContext {
        connection: "round-trip".into(),
        local_side: local.into(),
        remote_side: remote.into(),
        first_sync: first,
        local_key: None,
        remote_key: None,
        cause,
    };
    let fail = |pass, step| move |source| RoundTripError { pass, step, source };
    let mut here_issue = issue;
    let mut there_issue: Option<Issue> = None;
    let mut here_values = vec![fields(&here_issue)];
    let mut there_values = Vec::new();
    for pass in 1..=PASSES {
        let replica = here
            .rule
            .outgoing(
                here_issue.clone(),
                ctx("here", "there", pass == 1, SyncCause::Updated),
                &limits,
                &here.config,
            )
            .result
            .map_err(fail(pass, "outgoing here"))?;
        let first = there_issue.is_none();
        let changes = there
            .rule
            .incoming(
                replica,
                there_issue.clone(),
                ctx("there", "here", first, SyncCause::Replica),
                &limits,
                &there.config,
            )
            .result
            .map_err(fail(pass, "incoming there"))?;
        let mut landed = there_issue.take().unwrap_or_else(|| Issue {
            key: "THERE-1".into(),
            id: "there-1".into(),
            project: changes.project.clone().unwrap_or_default(),
            ..Issue::default()
        });
        apply(&mut landed, &changes);
        let replica = there
            .rule
            .outgoing(
                landed.clone(),
                ctx("there", "here", false, SyncCause::Updated),
                &limits,
                &there.config,
            )
            .result
            .map_err(fail(pass, "outgoing there"))?;
        there_values.push(fields(&landed));
        there_issue = Some(landed);
        let changes = here
            .rule
            .incoming(
                replica,
                Some(here_issue.clone()),
                ctx("here", "there", false, SyncCause::Replica),
                &limits,
                &here.config,
            )
            .result
            .map_err(fail(pass, "incoming here"))?;
        apply(&mut here_issue, &changes);
        here_values.push(fields(&here_issue));
    }
    let mut drifts = drifts_of("here", &here_values);
    drifts.extend(drifts_of("there", &there_values));
    Ok(RoundTrip {
        passes: PASSES,
        drifts,
    })
}

/// Every field whose value differs between two consecutive snapshots.
fn drifts_of(side: &'static str, values: &[serde_json::Map<String, Json>]) -> Vec<Drift> {
    let Some(first) = values.first() else {
        return Vec::new();
    };
    first
        .keys()
        .filter(|field| {
            values
                .windows(2)
                .any(|w| w[0].get(*field) != w[1].get(*field))
        })
        .map(|field| {
            let values: Vec<Json> = values
                .iter()
                .map(|v| v.get(field).cloned().unwrap_or(Json::Null))
                .collect();
            let settles = values.len() < 2 || values[values.len() - 1] == values[values.len() - 2];
            Drift {
                side,
                field: field.clone(),
                values,
                settles,
            }
        })
        .collect()
}

/// The fields a rule decides, as JSON: not the keys, ids, project or timestamps the host
/// sets, and comments as what a reader sees.
fn fields(issue: &Issue) -> serde_json::Map<String, Json> {
    let mut map = match serde_json::to_value(issue) {
        Ok(Json::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    for host_owned in [
        "key",
        "id",
        "project",
        "parent",
        "created",
        "updated",
        "attachments",
    ] {
        map.remove(host_owned);
    }
    // The host finds a user by reference: who it is counts, not how the JSON spells it.
    for field in ["assignee", "reporter"] {
        if let Some(v) = map.get_mut(field) {
            let user: Option<User> = serde_json::from_value(v.clone()).ok().flatten();
            *v = user
                .as_ref()
                .and_then(identity)
                .map_or(Json::Null, Json::String);
        }
    }
    let comments: Vec<Json> = issue
        .comments
        .iter()
        .map(|c| serde_json::json!({ "body": c.body.text, "internal": c.internal }))
        .collect();
    map.insert("comments".into(), Json::Array(comments));
    map
}

/// Ids this model gives the comments it mirrors from the other side.
const MIRROR: &str = "m:";

/// Lands `changes` on `issue` as the host would, in this model's terms.
fn apply(issue: &mut Issue, changes: &Changes) {
    let set = |field: &mut String, v: &Option<String>| {
        if let Some(v) = v {
            field.clone_from(v);
        }
    };
    set(&mut issue.issue_type, &changes.issue_type);
    set(&mut issue.summary, &changes.summary);
    set(&mut issue.status, &changes.status);
    if changes.description.is_some() {
        issue.description.clone_from(&changes.description);
    }
    if changes.priority.is_some() {
        issue.priority.clone_from(&changes.priority);
    }
    if let Some(labels) = &changes.labels {
        issue.labels.clone_from(labels);
    }
    if let Some(components) = &changes.components {
        issue.components.clone_from(components);
    }
    if let Some(assignee) = &changes.assignee {
        issue.assignee = assignee.as_ref().map(user);
    }
    if let Some(reporter) = &changes.reporter {
        issue.reporter = Some(user(reporter));
    }
    if let Some(due) = &changes.due_date {
        issue.due_date.clone_from(due);
    }
    if let Some(wanted) = &changes.comments {
        let own = |id: &str| !id.starts_with(MIRROR);
        // What this side made comes back mirrored by the other side: the host leaves it alone.
        let returning = |remote: &str| {
            remote
                .strip_prefix(MIRROR)
                .is_some_and(|id| issue.comments.iter().any(|c| c.id == id && own(&c.id)))
        };
        let mut kept: Vec<Comment> = issue
            .comments
            .iter()
            .filter(|c| {
                own(&c.id)
                    || wanted
                        .iter()
                        .any(|w| format!("{MIRROR}{}", w.remote_id) == c.id)
            })
            .cloned()
            .collect();
        for w in wanted.iter().filter(|w| !returning(&w.remote_id)) {
            let id = format!("{MIRROR}{}", w.remote_id);
            match kept.iter_mut().find(|c| c.id == id) {
                Some(c) => {
                    c.body = w.body.clone();
                    c.internal = w.internal;
                }
                None => kept.push(Comment {
                    id,
                    body: w.body.clone(),
                    internal: w.internal,
                    ..Comment::default()
                }),
            }
        }
        issue.comments = kept;
    }
    for change in &changes.custom_fields {
        match issue
            .custom_fields
            .iter_mut()
            .find(|f| f.name == change.field || f.id == change.field)
        {
            Some(f) => f.value.clone_from(&change.value),
            None => issue.custom_fields.push(CustomField {
                id: change.field.clone(),
                name: change.field.clone(),
                value: change.value.clone(),
            }),
        }
    }
}

/// The key a user is found by: email, else account id, else user name.
fn identity(u: &User) -> Option<String> {
    u.email
        .clone()
        .or_else(|| u.account_id.clone())
        .or_else(|| u.name.clone())
}

/// The user the host would find for a reference.
fn user(r: &UserRef) -> User {
    match r {
        UserRef::Email(e) => User {
            email: Some(e.clone()),
            ..User::default()
        },
        UserRef::AccountId(a) => User {
            account_id: Some(a.clone()),
            ..User::default()
        },
        UserRef::Name(n) => User {
            name: Some(n.clone()),
            ..User::default()
        },
    }
}

/// The report as text: loops first, with the value after each pass, then fields that
/// changed once and settled.
pub fn text(report: &RoundTrip) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let label = |d: &Drift, i: usize| match (d.side, i) {
        ("here", 0) => "start".to_string(),
        ("here", n) => format!("pass {n}"),
        (_, n) => format!("pass {}", n + 1),
    };
    let loops: Vec<&Drift> = report.loops().collect();
    for d in &loops {
        let _ = writeln!(
            out,
            "LOOP {} side: `{}` changes on every round trip:",
            d.side, d.field
        );
        for (i, v) in d.values.iter().enumerate() {
            let _ = writeln!(out, "  {:<7} {v}", label(d, i));
        }
    }
    for d in report.drifts.iter().filter(|d| d.settles) {
        let values: Vec<String> = d.values.iter().map(Json::to_string).collect();
        let _ = writeln!(
            out,
            "note: {} side: `{}` changes on the first round trip, then settles: {}",
            d.side,
            d.field,
            values.join(" -> ")
        );
    }
    if loops.is_empty() {
        let _ = writeln!(
            out,
            "ok: every field comes back to a fixed point ({} round trips)",
            report.passes
        );
    } else {
        let _ = writeln!(
            out,
            "{} field(s) never settle: the sync would loop (docs/rules.md, \"Idempotent rules\")",
            loops.len()
        );
    }
    out
}
