//! "Try a rule": a dry run of a candidate rule module on one live issue, beside the rule
//! serving the side now, with the difference between their answers. Nothing is synced,
//! queued or recorded; the candidate never replaces the serving rule.
//!
//! Outgoing, both rules see the issue as Jira has it now. Incoming, both see the last
//! replica the side applied for the issue's twin (when it has one) and the local issue.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::envelope::Envelope;
use super::node::Node;
use super::side::{LocalIssue, Side, SideError};
use crate::model::{Issue, Replica, SyncCause, SyncContext};
use crate::rules::{CallReport, LoadError, LoadedRule, RuleLogLine};

#[derive(Debug, thiserror::Error)]
pub(crate) enum TrialError {
    #[error("connection {connection:?} has no side {side:?} on this node")]
    NoSide { connection: String, side: String },
    #[error("issue {key} does not exist on side {side} ({instance})")]
    NoIssue {
        key: String,
        side: String,
        instance: String,
    },
    #[error("another trial is running; try again when it has finished")]
    Busy,
    #[error("the candidate rule does not load: {0}")]
    Candidate(#[from] LoadError),
    #[error("side {side}: {source}")]
    Jira {
        side: String,
        #[source]
        source: SideError,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The candidate load or the rule call ended without an answer.
    #[error("{what} aborted: {source}")]
    Aborted {
        what: &'static str,
        #[source]
        source: tokio::task::JoinError,
    },
}

/// One rule's answer in a trial.
#[derive(Debug, Serialize)]
pub(crate) struct TrialAnswer {
    /// Which rule answered: its file name and version (hash prefix).
    pub(crate) rule: String,
    pub(crate) version: String,
    pub(crate) world_version: String,
    /// The replica or changes, as JSON, when the rule answered.
    pub(crate) result: Option<Value>,
    /// The error (skip, fail, trap, limit) when it did not.
    pub(crate) error: Option<String>,
    pub(crate) logs: Vec<RuleLogLine>,
    pub(crate) fuel_used: u64,
    pub(crate) memory_bytes: u64,
}

/// A field whose value differs between the serving rule's answer and the candidate's.
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct FieldDiff {
    pub(crate) field: String,
    pub(crate) current: Value,
    pub(crate) candidate: Value,
}

/// Both rules on one direction.
#[derive(Debug, Serialize)]
pub(crate) struct TrialDirection {
    pub(crate) current: Option<TrialAnswer>,
    pub(crate) candidate: TrialAnswer,
    pub(crate) diff: Vec<FieldDiff>,
}

/// The whole dry run.
#[derive(Debug, Serialize)]
pub(crate) struct TrialReport {
    pub(crate) connection: String,
    pub(crate) side: String,
    pub(crate) issue: String,
    /// `None` when the issue is the other side's: only its arrival here is tried.
    pub(crate) outgoing: Option<TrialDirection>,
    /// `None` when the issue has no twin with an applied replica to replay.
    pub(crate) incoming: Option<TrialDirection>,
}

/// Runs `candidate` (a component's bytes) on issue `key` of `connection`/`side`.
pub(crate) async fn try_rule(
    node: &Node,
    connection: &str,
    side: &str,
    key: &str,
    candidate: impl AsRef<[u8]> + Send + 'static,
) -> Result<TrialReport, TrialError> {
    // Compiling a candidate takes the cores live rule calls need: one trial at a time.
    static ONE_AT_A_TIME: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
    let _turn = ONE_AT_A_TIME.try_acquire().map_err(|_| TrialError::Busy)?;
    let side_rt = node
        .pipeline
        .side(connection, side)
        .ok_or_else(|| TrialError::NoSide {
            connection: connection.into(),
            side: side.into(),
        })?;
    let engine_owner = node.registry.clone();
    let candidate = tokio::task::spawn_blocking(move || {
        engine_owner
            .engine()
            .load_candidate("candidate.wasm", candidate.as_ref())
    })
    .await
    .map_err(|source| TrialError::Aborted {
        what: "candidate load",
        source,
    })??;
    let current = side_rt.slot.current().ok();
    // An issue of the other side (a local connection): try its arrival here.
    if !super::side::in_project(key, &side_rt.project)
        && let Some(other) = node.pipeline.side(connection, &side_rt.other)
        && super::side::in_project(key, &other.project)
    {
        return try_arrival(node, &side_rt, &other, key, current, candidate).await;
    }
    let Some(LocalIssue { issue }) =
        side_rt
            .jira
            .get_issue(key)
            .await
            .map_err(|source: SideError| TrialError::Jira {
                side: side.into(),
                source,
            })?
    else {
        return Err(TrialError::NoIssue {
            key: key.into(),
            side: side.into(),
            instance: side_rt.instance.clone(),
        });
    };
    let twin = node.store.twin_by_local(connection, side, &issue.key)?;
    let remote_key = twin.as_ref().and_then(|t| t.remote_key.clone());
    let ctx = |cause, first_sync| SyncContext {
        connection: connection.to_string(),
        local_side: side.to_string(),
        remote_side: side_rt.other.clone(),
        first_sync,
        local_key: Some(issue.key.clone()),
        remote_key: remote_key.clone(),
        cause,
    };

    let out_ctx = ctx(SyncCause::Manual, remote_key.is_none());
    let outgoing = run_both(&side_rt, current.clone(), candidate.clone(), {
        let issue = issue.clone();
        move |rule, side| {
            answer(
                rule,
                rule.outgoing(issue.clone(), out_ctx.clone(), &side.limits, &side.config),
            )
        }
    })
    .await?;

    let applied: Option<Replica> = twin
        .as_ref()
        .and_then(|t| t.applied_replica.as_deref())
        .and_then(|j| serde_json::from_str::<Envelope>(j).ok())
        .map(|e| e.replica);
    let incoming = match applied {
        None => None,
        Some(replica) => {
            let in_ctx = ctx(SyncCause::Replica, false);
            let local: Issue = issue.clone();
            Some(
                run_both(&side_rt, current, candidate, move |rule, side| {
                    answer(
                        rule,
                        rule.incoming(
                            replica.clone(),
                            Some(local.clone()),
                            in_ctx.clone(),
                            &side.limits,
                            &side.config,
                        ),
                    )
                })
                .await?,
            )
        }
    };
    Ok(TrialReport {
        connection: connection.into(),
        side: side.into(),
        issue: issue.key,
        outgoing: Some(outgoing),
        incoming,
    })
}

/// The dry run of an issue of the other side arriving here: the other side's serving rule
/// makes its replica as it would now, then both rules of this side take it in, beside the
/// local twin when there is one (else as a first sync).
async fn try_arrival(
    node: &Node,
    here: &Arc<Side>,
    there: &Arc<Side>,
    key: &str,
    current: Option<Arc<LoadedRule>>,
    candidate: Arc<LoadedRule>,
) -> Result<TrialReport, TrialError> {
    let jira_err = |side: &Side| {
        let name = side.name.clone();
        move |source: SideError| TrialError::Jira { side: name, source }
    };
    let Some(LocalIssue { issue: source }) =
        there.jira.get_issue(key).await.map_err(jira_err(there))?
    else {
        return Err(TrialError::NoIssue {
            key: key.into(),
            side: there.name.clone(),
            instance: there.instance.clone(),
        });
    };
    let connection = here.connection.clone();
    let twin = node
        .store
        .twin_by_remote(&connection, &here.name, &source.key)?;
    let local = match twin.as_ref() {
        Some(t) => here
            .jira
            .get_issue(&t.local_key)
            .await
            .map_err(jira_err(here))?
            .map(|l| l.issue),
        None => None,
    };
    let out_ctx = SyncContext {
        connection: connection.clone(),
        local_side: there.name.clone(),
        remote_side: here.name.clone(),
        first_sync: local.is_none(),
        local_key: Some(source.key.clone()),
        remote_key: local.as_ref().map(|l| l.key.clone()),
        cause: SyncCause::Manual,
    };
    let serving = there.slot.current().map_err(|e| TrialError::Jira {
        side: there.name.clone(),
        source: SideError::Refused(format!("its rule does not serve: {e}")),
    })?;
    let replica = serving
        .outgoing(source.clone(), out_ctx, &there.limits, &there.config)
        .result
        .map_err(|e| TrialError::Jira {
            side: there.name.clone(),
            source: SideError::Refused(format!("its outgoing rule fails on {key}: {e}")),
        })?;
    let in_ctx = SyncContext {
        connection: connection.clone(),
        local_side: here.name.clone(),
        remote_side: there.name.clone(),
        first_sync: local.is_none(),
        local_key: local.as_ref().map(|l| l.key.clone()),
        remote_key: Some(source.key.clone()),
        cause: SyncCause::Replica,
    };
    let incoming = run_both(here, current, candidate, move |rule, side| {
        answer(
            rule,
            rule.incoming(
                replica.clone(),
                local.clone(),
                in_ctx.clone(),
                &side.limits,
                &side.config,
            ),
        )
    })
    .await?;
    Ok(TrialReport {
        connection,
        side: here.name.clone(),
        issue: source.key,
        outgoing: None,
        incoming: Some(incoming),
    })
}

/// A preview of draft rule settings (a Visual mapping's) on one live issue: what the side
/// would send, and what the other side would make of it, beside the published settings.
#[derive(Debug, Serialize)]
pub(crate) struct PreviewReport {
    pub(crate) connection: String,
    pub(crate) side: String,
    pub(crate) issue: String,
    /// The side that receives: the other side of a local connection, else this side
    /// replaying the last replica it applied.
    pub(crate) receiving_side: Option<String>,
    pub(crate) outgoing: TrialDirection,
    pub(crate) incoming: Option<TrialDirection>,
}

/// Runs the rule serving each side with its published settings and with `drafts` (settings
/// per side name; a side without one keeps its own) on issue `key` of `side`. Nothing is
/// synced, queued or recorded.
pub(crate) async fn preview_settings(
    node: &Node,
    connection: &str,
    side: &str,
    key: &str,
    drafts: &std::collections::BTreeMap<String, crate::rules::RuleConfig>,
) -> Result<PreviewReport, TrialError> {
    let no_side = |s: &str| TrialError::NoSide {
        connection: connection.into(),
        side: s.into(),
    };
    let here = node
        .pipeline
        .side(connection, side)
        .ok_or_else(|| no_side(side))?;
    let Some(LocalIssue { issue }) =
        here.jira
            .get_issue(key)
            .await
            .map_err(|source| TrialError::Jira {
                side: side.into(),
                source,
            })?
    else {
        return Err(TrialError::NoIssue {
            key: key.into(),
            side: side.into(),
            instance: here.instance.clone(),
        });
    };
    let twin = node.store.twin_by_local(connection, side, &issue.key)?;
    let remote_key = twin.as_ref().and_then(|t| t.remote_key.clone());
    let draft_of = |s: &Side| drafts.get(&s.name).cloned().unwrap_or(s.config.clone());
    let rule_of = |s: &Side| s.slot.current().ok();
    let out_ctx = SyncContext {
        connection: connection.into(),
        local_side: side.into(),
        remote_side: here.other.clone(),
        first_sync: remote_key.is_none(),
        local_key: Some(issue.key.clone()),
        remote_key: remote_key.clone(),
        cause: SyncCause::Manual,
    };
    let outgoing = run_settings(&here, rule_of(&here), draft_of(&here), {
        let issue = issue.clone();
        move |rule, s, config| {
            answer(
                rule,
                rule.outgoing(issue.clone(), out_ctx.clone(), &s.limits, config),
            )
        }
    })
    .await?;
    let replica_of = |a: Option<&TrialAnswer>| {
        a.and_then(|a| a.result.clone())
            .and_then(|v| serde_json::from_value::<Replica>(v).ok())
    };
    // A local connection: the other side's rule on what each version would send.
    if let Some(there) = node.pipeline.side(connection, &here.other) {
        let local = match &remote_key {
            Some(k) => there
                .jira
                .get_issue(k)
                .await
                .map_err(|source| TrialError::Jira {
                    side: there.name.clone(),
                    source,
                })?
                .map(|l| l.issue),
            None => None,
        };
        let (published, draft) = (
            replica_of(outgoing.current.as_ref()),
            replica_of(Some(&outgoing.candidate)),
        );
        let in_ctx = SyncContext {
            connection: connection.into(),
            local_side: there.name.clone(),
            remote_side: side.into(),
            first_sync: local.is_none(),
            local_key: remote_key.clone(),
            remote_key: Some(issue.key.clone()),
            cause: SyncCause::Replica,
        };
        let incoming = match (published, draft) {
            (Some(p), Some(d)) => Some(
                run_pair(
                    &there,
                    rule_of(&there),
                    draft_of(&there),
                    move |rule, s, config, is_draft| {
                        let replica = if is_draft { d.clone() } else { p.clone() };
                        answer(
                            rule,
                            rule.incoming(
                                replica,
                                local.clone(),
                                in_ctx.clone(),
                                &s.limits,
                                config,
                            ),
                        )
                    },
                )
                .await?,
            ),
            _ => None,
        };
        return Ok(PreviewReport {
            connection: connection.into(),
            side: side.into(),
            issue: issue.key,
            receiving_side: Some(there.name.clone()),
            outgoing,
            incoming,
        });
    }
    // A remote connection: this side replays the last replica it applied.
    let applied: Option<Replica> = twin
        .as_ref()
        .and_then(|t| t.applied_replica.as_deref())
        .and_then(|j| serde_json::from_str::<Envelope>(j).ok())
        .map(|e| e.replica);
    let incoming = match applied {
        None => None,
        Some(replica) => {
            let in_ctx = SyncContext {
                cause: SyncCause::Replica,
                first_sync: false,
                ..out_ctx_for(connection, &here, &issue.key, remote_key.clone())
            };
            let local = issue.clone();
            Some(
                run_settings(
                    &here,
                    rule_of(&here),
                    draft_of(&here),
                    move |rule, s, config| {
                        answer(
                            rule,
                            rule.incoming(
                                replica.clone(),
                                Some(local.clone()),
                                in_ctx.clone(),
                                &s.limits,
                                config,
                            ),
                        )
                    },
                )
                .await?,
            )
        }
    };
    Ok(PreviewReport {
        connection: connection.into(),
        side: side.into(),
        issue: issue.key,
        receiving_side: incoming.as_ref().map(|_| side.to_string()),
        outgoing,
        incoming,
    })
}

fn out_ctx_for(
    connection: &str,
    side: &Side,
    key: &str,
    remote_key: Option<String>,
) -> SyncContext {
    SyncContext {
        connection: connection.into(),
        local_side: side.name.clone(),
        remote_side: side.other.clone(),
        first_sync: remote_key.is_none(),
        local_key: Some(key.into()),
        remote_key,
        cause: SyncCause::Manual,
    }
}

/// The serving rule with the side's published settings, then with `draft`, off the async
/// runtime; `None` current when the side has no rule loaded.
async fn run_settings(
    side: &Arc<Side>,
    rule: Option<Arc<LoadedRule>>,
    draft: crate::rules::RuleConfig,
    call: impl Fn(&LoadedRule, &Side, &crate::rules::RuleConfig) -> TrialAnswer + Send + 'static,
) -> Result<TrialDirection, TrialError> {
    run_pair(side, rule, draft, move |r, s, c, _| call(r, s, c)).await
}

/// Like [`run_settings`], telling the call which of the two runs it is.
async fn run_pair(
    side: &Arc<Side>,
    rule: Option<Arc<LoadedRule>>,
    draft: crate::rules::RuleConfig,
    call: impl Fn(&LoadedRule, &Side, &crate::rules::RuleConfig, bool) -> TrialAnswer + Send + 'static,
) -> Result<TrialDirection, TrialError> {
    let side = side.clone();
    tokio::task::spawn_blocking(move || {
        let Some(rule) = rule else {
            let missing = TrialAnswer {
                rule: String::new(),
                version: String::new(),
                world_version: String::new(),
                result: None,
                error: Some(format!("side {} has no rule loaded", side.name)),
                logs: Vec::new(),
                fuel_used: 0,
                memory_bytes: 0,
            };
            return TrialDirection {
                current: None,
                candidate: missing,
                diff: Vec::new(),
            };
        };
        let current = call(&rule, &side, &side.config, false);
        let candidate = call(&rule, &side, &draft, true);
        let diff = diff(current.result.as_ref(), candidate.result.as_ref());
        TrialDirection {
            current: Some(current),
            candidate,
            diff,
        }
    })
    .await
    .map_err(|source| TrialError::Aborted {
        what: "rule call",
        source,
    })
}

/// Runs one direction with the serving rule (if any) and the candidate, off the async runtime.
async fn run_both(
    side: &Arc<Side>,
    current: Option<Arc<LoadedRule>>,
    candidate: Arc<LoadedRule>,
    call: impl Fn(&LoadedRule, &Side) -> TrialAnswer + Send + 'static,
) -> Result<TrialDirection, TrialError> {
    let side = side.clone();
    tokio::task::spawn_blocking(move || {
        let current = current.map(|r| call(&r, &side));
        let candidate = call(&candidate, &side);
        let diff = diff(
            current.as_ref().and_then(|a| a.result.as_ref()),
            candidate.result.as_ref(),
        );
        TrialDirection {
            current,
            candidate,
            diff,
        }
    })
    .await
    .map_err(|source| TrialError::Aborted {
        what: "rule call",
        source,
    })
}

fn answer<T: Serialize>(rule: &LoadedRule, report: CallReport<T>) -> TrialAnswer {
    let (result, error) = match report.result {
        Ok(v) => (serde_json::to_value(&v).ok(), None),
        Err(e) => (None, Some(e.to_string())),
    };
    TrialAnswer {
        rule: report.rule.name.clone(),
        version: report.rule.version().to_string(),
        world_version: rule.world_version().to_string(),
        result,
        error,
        logs: report.logs,
        fuel_used: report.fuel_used,
        memory_bytes: report.memory_bytes,
    }
}

/// The top-level fields whose values differ; an answer that is an error counts as `null`.
pub(crate) fn diff(current: Option<&Value>, candidate: Option<&Value>) -> Vec<FieldDiff> {
    let empty = serde_json::Map::new();
    let a = current.and_then(Value::as_object).unwrap_or(&empty);
    let b = candidate.and_then(Value::as_object).unwrap_or(&empty);
    let mut fields: Vec<&String> = a.keys().chain(b.keys()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter_map(|f| {
            let (x, y) = (
                a.get(f).cloned().unwrap_or(Value::Null),
                b.get(f).cloned().unwrap_or(Value::Null),
            );
            (x != y).then(|| FieldDiff {
                field: f.clone(),
                current: x,
                candidate: y,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_names_changed_added_and_removed_fields() {
        let a = json!({"summary": "A", "labels": ["x"], "assignee": {"name": "ada"}});
        let b = json!({"summary": "A", "labels": ["x", "y"], "priority": "High"});
        let d = diff(Some(&a), Some(&b));
        let names: Vec<&str> = d.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["assignee", "labels", "priority"]);
        assert_eq!(d[2].current, Value::Null);
        assert!(diff(Some(&a), Some(&a)).is_empty());
        assert_eq!(
            diff(None, Some(&b)).len(),
            3,
            "an error answer counts as empty"
        );
    }
}
