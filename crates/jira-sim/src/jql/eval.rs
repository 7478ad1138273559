//! Running a compiled query: whether an issue matches, and the order ORDER BY asks for.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveTime, Utc};

use crate::model::{CustomKind, Issue, StatusCategory};
use crate::state::State;

use super::Query;
use super::compile::{Cmpable, Pred, parse_date};
use super::fields::Field;
use super::parser::Op;

impl Query {
    /// Whether `issue` matches the query's WHERE part.
    pub fn matches(&self, issue: &Issue, state: &State) -> bool {
        eval(&self.pred, issue, state)
    }

    /// Sorts issues as ORDER BY asks; without ORDER BY, newest first (Jira's default is by key, descending).
    pub fn sort(&self, issues: &mut [&Issue], state: &State) {
        issues.sort_by(|a, b| {
            for (f, asc) in &self.order {
                let o = order_key(*f, a, state).cmp(&order_key(*f, b, state));
                let o = if *asc { o } else { o.reverse() };
                if o != Ordering::Equal {
                    return o;
                }
            }
            b.id.cmp(&a.id)
        });
    }
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Empty,
    Num(i64),
    Str(String),
}

fn order_key(f: Field, i: &Issue, state: &State) -> SortKey {
    match f {
        // Keys sort by project key, then by number.
        Field::Key => match i.key.rsplit_once('-') {
            Some((p, n)) => SortKey::Str(format!("{p}-{:012}", n.parse::<u64>().unwrap_or(0))),
            None => SortKey::Str(i.key.clone()),
        },
        Field::Created => SortKey::Num(i.created.timestamp_millis()),
        Field::Updated => SortKey::Num(i.updated.timestamp_millis()),
        Field::Resolved => i
            .resolution_date
            .map_or(SortKey::Empty, |t| SortKey::Num(t.timestamp_millis())),
        Field::DueDate => i
            .due_date
            .map_or(SortKey::Empty, |d| SortKey::Str(d.to_string())),
        Field::Priority => i.priority.as_ref().map_or(SortKey::Empty, |p| {
            // Jira sorts priorities by their scheme order, highest first.
            SortKey::Num(
                state
                    .priorities
                    .iter()
                    .position(|x| &x.id == p)
                    .unwrap_or(0) as i64,
            )
        }),
        Field::Summary => SortKey::Str(i.summary.to_lowercase()),
        _ => match field_values(f, i, state).into_iter().next() {
            Some(v) => SortKey::Str(v),
            None => SortKey::Empty,
        },
    }
}

pub(super) fn eval(p: &Pred, i: &Issue, state: &State) -> bool {
    match p {
        Pred::All => true,
        Pred::And(a, b) => eval(a, i, state) && eval(b, i, state),
        Pred::Or(a, b) => eval(a, i, state) || eval(b, i, state),
        Pred::Not(a) => !eval(a, i, state),
        Pred::Empty { field, negate } => field_empty(*field, i, state) != *negate,
        Pred::In {
            field,
            wanted,
            negate,
        } => {
            let have = field_values(*field, i, state);
            let hit = wanted.iter().any(|w| match w {
                None => have.is_empty(),
                Some(w) => have.iter().any(|h| h == w),
            });
            if *negate {
                // Jira's != and NOT IN never match issues where the field is empty.
                !have.is_empty() && !hit
            } else {
                hit
            }
        }
        Pred::Cmp { field, op, at } => {
            let have = match (field, at) {
                (_, Cmpable::Num(_)) => field_values(*field, i, state)
                    .first()
                    .and_then(|s| s.parse::<f64>().ok())
                    .map(Cmpable::Num),
                _ => field_time(*field, i, state).map(Cmpable::Time),
            };
            let Some(have) = have else { return false };
            let ord = match (have, at) {
                (Cmpable::Time(a), Cmpable::Time(b)) => a.cmp(b),
                (Cmpable::Num(a), Cmpable::Num(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
                _ => return false,
            };
            match op {
                Op::Eq => ord == Ordering::Equal,
                Op::Ne => ord != Ordering::Equal,
                Op::Gt => ord == Ordering::Greater,
                Op::Ge => ord != Ordering::Less,
                Op::Lt => ord == Ordering::Less,
                Op::Le => ord != Ordering::Greater,
                _ => false,
            }
        }
        Pred::Property {
            prop,
            wanted,
            negate,
        } => {
            let have = property_values(prop, i);
            let hit = wanted.iter().any(|w| match w {
                None => have.is_empty(),
                Some(w) => have.iter().any(|h| h == w),
            });
            if *negate && wanted.iter().all(Option::is_some) {
                // Like a field's != and NOT IN, never matches where the value is missing.
                !have.is_empty() && !hit
            } else {
                hit != *negate
            }
        }
        Pred::Like {
            field,
            terms,
            negate,
        } => {
            let text = field_text(*field, i, state).to_lowercase();
            let hit = !terms.is_empty() && terms.iter().all(|t| text.contains(t.as_str()));
            hit != *negate
        }
    }
}

/// An issue property's values at the reference's path, as lowercased strings (array items each).
fn property_values(prop: &super::compile::PropertyRef, i: &Issue) -> Vec<String> {
    let mut v = match i.properties.get(&prop.key) {
        Some(v) => v,
        None => return Vec::new(),
    };
    for step in &prop.path {
        match v.get(step.as_str()) {
            Some(next) => v = next,
            None => return Vec::new(),
        }
    }
    custom_strings(v)
        .into_iter()
        .chain(v.as_bool().map(|b| b.to_string()))
        .collect()
}

fn field_time(f: Field, i: &Issue, state: &State) -> Option<DateTime<Utc>> {
    match f {
        Field::Created => Some(i.created),
        Field::Updated => Some(i.updated),
        Field::Resolved => i.resolution_date,
        Field::DueDate => i.due_date.map(|d| d.and_time(NaiveTime::MIN).and_utc()),
        Field::Custom(_) => field_values(f, i, state)
            .first()
            .and_then(|s| parse_date(s, Utc::now())),
        _ => None,
    }
}

fn field_empty(f: Field, i: &Issue, state: &State) -> bool {
    match f {
        Field::Created | Field::Updated => false,
        Field::Resolved | Field::DueDate => field_time(f, i, state).is_none(),
        Field::Summary | Field::Description | Field::Comment | Field::Text => {
            field_text(f, i, state).trim().is_empty()
        }
        _ => field_values(f, i, state).is_empty(),
    }
}

fn field_values(f: Field, i: &Issue, state: &State) -> Vec<String> {
    match f {
        Field::Project => vec![i.project.clone()],
        Field::Key => vec![i.id.to_string()],
        Field::IssueType => vec![i.issue_type.clone()],
        Field::Status => vec![i.status.clone()],
        Field::StatusCategory => state
            .status(&i.status)
            .map(|s| match s.category {
                StatusCategory::New => "new",
                StatusCategory::Indeterminate => "indeterminate",
                StatusCategory::Done => "done",
            })
            .map(|s| vec![s.to_string()])
            .unwrap_or_default(),
        Field::Priority => i.priority.iter().cloned().collect(),
        Field::Resolution => vec![i.resolution.clone().unwrap_or_default()],
        Field::Labels => i.labels.iter().map(|l| l.to_lowercase()).collect(),
        Field::Component => i.components.clone(),
        // Each version by id and by name, as a query may name it either way.
        Field::FixVersion | Field::AffectedVersion => {
            let ids = if f == Field::FixVersion {
                &i.fix_versions
            } else {
                &i.versions
            };
            ids.iter()
                .filter_map(|id| state.version(id))
                .flat_map(|v| [v.id.clone(), v.name.to_lowercase()])
                .collect()
        }
        Field::Assignee => i.assignee.iter().map(|u| u.to_string()).collect(),
        Field::Reporter => i.reporter.iter().map(|u| u.to_string()).collect(),
        Field::Creator => vec![i.creator.to_string()],
        Field::Parent => i.parent.iter().map(|p| p.to_string()).collect(),
        Field::Custom(idx) => {
            let cf = &state.custom_fields[idx];
            match i.custom.get(&cf.id) {
                None | Some(serde_json::Value::Null) => Vec::new(),
                Some(v) => custom_strings(v),
            }
        }
        _ => Vec::new(),
    }
}

fn custom_strings(v: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    match v {
        Value::String(s) => vec![s.to_lowercase()],
        Value::Number(n) => vec![n.to_string()],
        Value::Array(a) => a.iter().flat_map(custom_strings).collect(),
        Value::Object(o) => {
            if o.get("type").and_then(Value::as_str) == Some("doc") {
                return vec![crate::adf::to_plain(v).to_lowercase()];
            }
            o.get("value")
                .or_else(|| o.get("accountId"))
                .or_else(|| o.get("name"))
                .map(custom_strings)
                .unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

fn field_text(f: Field, i: &Issue, state: &State) -> String {
    let desc = || {
        i.description
            .as_ref()
            .map(|d| state.plain_text(d))
            .unwrap_or_default()
    };
    match f {
        Field::Summary => i.summary.clone(),
        Field::Description => desc(),
        Field::Comment => i
            .comments
            .iter()
            .map(|c| state.plain_text(&c.body))
            .collect::<Vec<_>>()
            .join("\n"),
        Field::Text => {
            let mut t = format!("{}\n{}", i.summary, desc());
            for c in &i.comments {
                t.push('\n');
                t.push_str(&state.plain_text(&c.body));
            }
            for (id, v) in &i.custom {
                if state.custom_fields.iter().any(|cf| {
                    &cf.id == id && matches!(cf.kind, CustomKind::Text | CustomKind::Textarea)
                }) {
                    t.push('\n');
                    t.push_str(&custom_strings(v).join(" "));
                }
            }
            t
        }
        Field::Custom(_) => field_values(f, i, state).join(" "),
        _ => String::new(),
    }
}
