//! Worklogs: time logged on an issue, with `started`, the time spent (`timeSpent` as Jira
//! writes durations, or `timeSpentSeconds`) and an optional comment in the request's dialect.
//!
//! Durations read as Jira's defaults do: a day is 8 hours, a week 5 days.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::ApiError;
use crate::input;
use crate::model::*;

use super::{Event, State};

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 8 * HOUR;
const WEEK: u64 = 5 * DAY;

/// `3h 20m`, `1d`, `2w 1d`, `90` (minutes) as seconds; `None` if it does not read.
pub fn parse_duration(s: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut any = false;
    for part in s.split_whitespace() {
        let (num, unit) = match part.find(|c: char| !c.is_ascii_digit() && c != '.') {
            Some(i) => part.split_at(i),
            None => (part, "m"),
        };
        let n: f64 = num.parse().ok()?;
        let per = match unit.to_ascii_lowercase().as_str() {
            "w" => WEEK,
            "d" => DAY,
            "h" => HOUR,
            "m" => MINUTE,
            _ => return None,
        };
        total += (n * per as f64).round() as u64;
        any = true;
    }
    (any && total > 0).then_some(total)
}

/// Seconds as Jira writes a duration: `1w 2d 3h 20m`.
pub fn format_duration(seconds: u64) -> String {
    let mut left = seconds;
    let mut parts = Vec::new();
    for (unit, per) in [("w", WEEK), ("d", DAY), ("h", HOUR), ("m", MINUTE)] {
        let n = left / per;
        if n > 0 {
            parts.push(format!("{n}{unit}"));
            left -= n * per;
        }
    }
    if parts.is_empty() {
        "0m".into()
    } else {
        parts.join(" ")
    }
}

/// Jira's `started`: `2026-01-17T12:34:00.000+0000`.
fn parse_started(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// What a create or update body sets; `None` = left as it is.
struct WorklogInput {
    seconds: Option<u64>,
    started: Option<DateTime<Utc>>,
    comment: Option<Option<Value>>,
    visibility: Option<Option<Visibility>>,
}

fn worklog_input(api: Api, body: &Value) -> Result<WorklogInput, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "The request body must be a JSON object.",
        ));
    }
    let by_text = match body.get("timeSpent") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            parse_duration(s)
                .ok_or_else(|| ApiError::field("timeLogged", "Invalid time duration entered."))?,
        ),
        Some(_) => {
            return Err(ApiError::field(
                "timeLogged",
                "Invalid time duration entered.",
            ));
        }
    };
    let by_seconds = match body.get("timeSpentSeconds") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|n| *n > 0)
                .ok_or_else(|| ApiError::field("timeLogged", "Invalid time duration entered."))?,
        ),
    };
    if by_text.is_some() && by_seconds.is_some() && api.cloud() {
        return Err(ApiError::bad_request(
            "Provide either timeSpent or timeSpentSeconds, not both.",
        ));
    }
    let started = match body.get("started") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_str().and_then(parse_started).ok_or_else(|| {
            ApiError::field(
                "started",
                "Could not parse the started date; use yyyy-MM-dd'T'HH:mm:ss.SSSZ.",
            )
        })?),
    };
    let comment = match body.get("comment") {
        None => None,
        Some(v) => Some(input::rich_in(api, "comment", v)?),
    };
    let visibility = match body.get("visibility") {
        None => None,
        Some(_) => Some(State::visibility_in(body)?),
    };
    Ok(WorklogInput {
        seconds: by_seconds.or(by_text),
        started,
        comment,
        visibility,
    })
}

fn not_found(id: impl std::fmt::Display) -> ApiError {
    ApiError::not_found(format!("Cannot find worklog with id: '{id}'."))
}

impl State {
    /// The issue's worklogs, oldest first.
    pub fn worklogs_of(&self, issue_id: u64) -> Vec<&Worklog> {
        self.worklogs
            .values()
            .filter(|w| w.issue_id == issue_id)
            .collect()
    }

    /// A worklog of the issue by its id text.
    pub fn worklog_of(&self, issue_id: u64, id: &str) -> Result<&Worklog, ApiError> {
        id.parse::<u64>()
            .ok()
            .and_then(|n| self.worklogs.get(&n))
            .filter(|w| w.issue_id == issue_id)
            .ok_or_else(|| not_found(id))
    }

    /// Logs time on an issue (`POST /issue/{key}/worklog`); returns the worklog id.
    pub fn add_worklog(
        &mut self,
        issue_id: u64,
        actor: UserId,
        api: Api,
        body: &Value,
    ) -> Result<u64, ApiError> {
        if !self.issues.contains_key(&issue_id) {
            return Err(ApiError::issue_not_found());
        }
        let i = worklog_input(api, body)?;
        let seconds = i.seconds.ok_or_else(|| {
            ApiError::field("timeLogged", "You must indicate the time spent working.")
        })?;
        let now = Utc::now();
        let id = self.next_worklog;
        self.next_worklog += 1;
        self.worklogs.insert(
            id,
            Worklog {
                id,
                issue_id,
                author: actor,
                update_author: actor,
                comment: i.comment.flatten(),
                created: now,
                updated: now,
                started: i.started.unwrap_or(now),
                time_spent_seconds: seconds,
                visibility: i.visibility.flatten(),
            },
        );
        self.worklog_touched(issue_id, actor, "issue_worklogged");
        Ok(id)
    }

    /// Like Jira, logged work moves the issue's `updated` and raises an issue update.
    fn worklog_touched(&mut self, issue_id: u64, actor: UserId, type_name: &'static str) {
        if let Some(issue) = self.issues.get_mut(&issue_id) {
            issue.updated = Utc::now();
        }
        self.events.push(Event::IssueUpdated {
            issue: issue_id,
            actor,
            history: None,
            type_name,
            comment: None,
        });
    }

    /// Changes a worklog (`PUT /issue/{key}/worklog/{id}`): what the body names.
    pub fn update_worklog(
        &mut self,
        issue_id: u64,
        id: &str,
        actor: UserId,
        api: Api,
        body: &Value,
    ) -> Result<u64, ApiError> {
        let wid = self.worklog_of(issue_id, id)?.id;
        let i = worklog_input(api, body)?;
        let w = self.worklogs.get_mut(&wid).ok_or_else(|| not_found(id))?;
        if let Some(s) = i.seconds {
            w.time_spent_seconds = s;
        }
        if let Some(t) = i.started {
            w.started = t;
        }
        if let Some(c) = i.comment {
            w.comment = c;
        }
        if let Some(v) = i.visibility {
            w.visibility = v;
        }
        w.update_author = actor;
        w.updated = Utc::now();
        self.worklog_touched(issue_id, actor, "issue_worklog_updated");
        Ok(wid)
    }

    /// Deletes a worklog (`DELETE /issue/{key}/worklog/{id}`).
    pub fn delete_worklog(
        &mut self,
        issue_id: u64,
        id: &str,
        actor: UserId,
    ) -> Result<(), ApiError> {
        let wid = self.worklog_of(issue_id, id)?.id;
        self.worklogs.remove(&wid);
        self.worklog_touched(issue_id, actor, "issue_worklog_deleted");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_and_write_like_jira() {
        assert_eq!(parse_duration("3h 20m"), Some(12_000));
        assert_eq!(parse_duration("1d"), Some(8 * 3600));
        assert_eq!(parse_duration("1w 2d"), Some(7 * 8 * 3600));
        assert_eq!(parse_duration("90"), Some(90 * 60));
        assert_eq!(parse_duration("1.5h"), Some(5400));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(format_duration(12_000), "3h 20m");
        assert_eq!(format_duration(7 * 8 * 3600 + 60), "1w 2d 1m");
        assert!(parse_started("2026-01-17T12:34:00.000+0000").is_some());
        assert!(parse_started("2026-01-17").is_none());
    }
}
