//! Compiling a parsed query against the instance: names become ids, values are checked, dates are read.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use crate::model::UserId;
use crate::state::State;

use super::JqlError;
use super::Query;
use super::fields::{Field, Kind, kind, op_allowed, resolve_field};
use super::parser::{Ast, Op, Val, parse};

/// A compiled predicate over one issue.
#[derive(Debug, Clone)]
pub(super) enum Pred {
    All,
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
    Not(Box<Pred>),
    /// Field values (canonical strings) against wanted values; `None` in the list = EMPTY.
    In {
        field: Field,
        wanted: Vec<Option<String>>,
        negate: bool,
    },
    Cmp {
        field: Field,
        op: Op,
        at: Cmpable,
    },
    Like {
        field: Field,
        terms: Vec<String>,
        negate: bool,
    },
    Empty {
        field: Field,
        negate: bool,
    },
    /// An issue property's value at a path (`issue.property[key].a.b`) against wanted values
    /// (lowercased); `None` in the list = EMPTY.
    Property {
        prop: PropertyRef,
        wanted: Vec<Option<String>>,
        negate: bool,
    },
}

/// `issue.property[key].path`: a property key and a path into its JSON value.
#[derive(Debug, Clone)]
pub(super) struct PropertyRef {
    pub(super) key: String,
    pub(super) path: Vec<String>,
}

/// Reads `issue.property[key].a.b`; `None` when `name` is not a property reference.
///
/// Jira searches only properties an app has declared an index for; the simulator treats every
/// property as indexed, its values as exact-match strings.
fn property_ref(name: &str) -> Option<Result<PropertyRef, JqlError>> {
    const PREFIX: &str = "issue.property[";
    let head = name.get(..PREFIX.len())?;
    if !head.eq_ignore_ascii_case(PREFIX) {
        return None;
    }
    let rest = &name[PREFIX.len()..];
    let bad = || {
        JqlError(format!(
            "Field '{name}' does not exist or you do not have permission to view it."
        ))
    };
    let Some((key, path)) = rest.split_once(']') else {
        return Some(Err(bad()));
    };
    let path: Vec<String> = match path.strip_prefix('.') {
        Some(p) => p.split('.').map(str::to_string).collect(),
        None if path.is_empty() => Vec::new(),
        None => return Some(Err(bad())),
    };
    if key.trim().is_empty() || path.iter().any(String::is_empty) {
        return Some(Err(bad()));
    }
    Some(Ok(PropertyRef {
        key: key.to_string(),
        path,
    }))
}

fn compile_property(
    name: &str,
    prop: PropertyRef,
    op: Op,
    values: &[Val],
) -> Result<Pred, JqlError> {
    if !matches!(
        op,
        Op::Eq | Op::Ne | Op::In | Op::NotIn | Op::Is | Op::IsNot
    ) {
        return Err(JqlError(format!(
            "The operator '{}' is not supported by the '{name}' field.",
            op.text()
        )));
    }
    let mut wanted = Vec::new();
    for v in values {
        match v {
            Val::Empty => wanted.push(None),
            Val::Str(s) => wanted.push(Some(s.to_lowercase())),
            Val::Func(f, _) => {
                return Err(JqlError(format!("Unable to find JQL function '{f}()'.")));
            }
        }
    }
    Ok(Pred::Property {
        prop,
        wanted,
        negate: matches!(op, Op::Ne | Op::NotIn | Op::IsNot),
    })
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Cmpable {
    Time(DateTime<Utc>),
    Num(f64),
}

/// Parses and validates `jql` against `state`; `actor` answers `currentUser()`.
pub fn compile(jql: &str, state: &State, actor: Option<UserId>) -> Result<Query, JqlError> {
    let parsed = parse(jql)?;
    let now = Utc::now();
    let pred = compile_ast(&parsed.where_, state, actor, now)?;
    let mut order = Vec::new();
    for (name, asc) in &parsed.order {
        let f = resolve_field(name, state)?;
        if matches!(f, Field::Text | Field::Comment | Field::Description) {
            return Err(JqlError(format!(
                "Field '{name}' does not support sorting."
            )));
        }
        order.push((f, *asc));
    }
    Ok(Query { pred, order })
}

fn compile_ast(
    a: &Ast,
    state: &State,
    actor: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<Pred, JqlError> {
    Ok(match a {
        Ast::All => Pred::All,
        Ast::And(l, r) => Pred::And(
            Box::new(compile_ast(l, state, actor, now)?),
            Box::new(compile_ast(r, state, actor, now)?),
        ),
        Ast::Or(l, r) => Pred::Or(
            Box::new(compile_ast(l, state, actor, now)?),
            Box::new(compile_ast(r, state, actor, now)?),
        ),
        Ast::Not(x) => Pred::Not(Box::new(compile_ast(x, state, actor, now)?)),
        Ast::Clause { field, op, values } => compile_clause(field, *op, values, state, actor, now)?,
    })
}

fn compile_clause(
    name: &str,
    op: Op,
    values: &[Val],
    state: &State,
    actor: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<Pred, JqlError> {
    if let Some(prop) = property_ref(name) {
        return compile_property(name, prop?, op, values);
    }
    let field = resolve_field(name, state)?;
    let k = kind(field, state);
    if !op_allowed(field, k, op) {
        return Err(JqlError(format!(
            "The operator '{}' is not supported by the '{}' field.",
            op.text(),
            field.name(state)
        )));
    }
    if matches!(op, Op::Is | Op::IsNot) {
        return Ok(Pred::Empty {
            field,
            negate: op == Op::IsNot,
        });
    }
    if matches!(op, Op::Like | Op::NotLike) {
        let text = match values.first() {
            Some(Val::Str(s)) => s.clone(),
            _ => {
                return Err(JqlError(format!(
                    "The operator '{}' is not supported by the '{}' field with this value.",
                    op.text(),
                    field.name(state)
                )));
            }
        };
        let terms = text
            .split_whitespace()
            .map(|t| t.trim_matches('"').trim_end_matches('*').to_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        return Ok(Pred::Like {
            field,
            terms,
            negate: op == Op::NotLike,
        });
    }
    if k == Kind::Date || k == Kind::Number {
        if matches!(op, Op::In | Op::NotIn) {
            let mut p: Option<Pred> = None;
            for v in values {
                let at = cmp_value(field, k, v, now, state)?;
                let c = Pred::Cmp {
                    field,
                    op: Op::Eq,
                    at,
                };
                p = Some(match p {
                    None => c,
                    Some(prev) => Pred::Or(Box::new(prev), Box::new(c)),
                });
            }
            let p = p.unwrap_or(Pred::All);
            return Ok(if op == Op::NotIn {
                Pred::Not(Box::new(p))
            } else {
                p
            });
        }
        let v = values.first().cloned().unwrap_or(Val::Empty);
        if v == Val::Empty {
            return Ok(Pred::Empty {
                field,
                negate: op == Op::Ne,
            });
        }
        let at = cmp_value(field, k, &v, now, state)?;
        return Ok(Pred::Cmp { field, op, at });
    }
    let mut wanted = Vec::new();
    for v in values {
        match v {
            Val::Empty => wanted.push(None),
            Val::Func(f, _)
                if f.eq_ignore_ascii_case("currentuser")
                    && matches!(field, Field::Assignee | Field::Reporter | Field::Creator) =>
            {
                wanted.push(actor.map(|u| u.to_string()));
            }
            Val::Func(f, _) => {
                return Err(JqlError(format!("Unable to find JQL function '{f}()'.")));
            }
            Val::Str(s) => wanted.push(Some(canonical(field, s, state)?)),
        }
    }
    Ok(Pred::In {
        field,
        wanted,
        negate: matches!(op, Op::Ne | Op::NotIn),
    })
}

fn not_exist(s: &str, field: Field, state: &State) -> JqlError {
    JqlError(format!(
        "The value '{s}' does not exist for the field '{}'.",
        field.name(state)
    ))
}

/// The canonical form of a query value (ids, lowercased labels, user indexes).
fn canonical(field: Field, s: &str, state: &State) -> Result<String, JqlError> {
    let eq = |a: &str| a.eq_ignore_ascii_case(s);
    let found = match field {
        Field::Project => state
            .projects
            .iter()
            .find(|p| eq(&p.id) || eq(&p.key) || eq(&p.name))
            .map(|p| p.id.clone()),
        Field::IssueType => state
            .issue_types
            .iter()
            .find(|t| eq(&t.id) || eq(&t.name))
            .map(|t| t.id.clone()),
        Field::Status => state
            .statuses
            .iter()
            .find(|t| eq(&t.id) || eq(&t.name))
            .map(|t| t.id.clone()),
        Field::StatusCategory => match s.to_ascii_lowercase().as_str() {
            "new" | "to do" | "2" => Some("new".into()),
            "indeterminate" | "in progress" | "4" => Some("indeterminate".into()),
            "done" | "3" => Some("done".into()),
            _ => None,
        },
        Field::Priority => state
            .priorities
            .iter()
            .find(|t| eq(&t.id) || eq(&t.name))
            .map(|t| t.id.clone()),
        Field::Resolution => {
            if eq("unresolved") {
                return Ok(String::new());
            }
            state
                .resolutions
                .iter()
                .find(|t| eq(&t.id) || eq(&t.name))
                .map(|t| t.id.clone())
        }
        Field::Component => state
            .projects
            .iter()
            .flat_map(|p| p.components.iter())
            .find(|c| eq(&c.id) || eq(&c.name))
            .map(|c| c.id.clone()),
        // A version by id, else by name (one name may exist in several projects).
        Field::FixVersion | Field::AffectedVersion => {
            if state.version(s).is_some() {
                Some(s.to_string())
            } else {
                state
                    .versions
                    .iter()
                    .any(|v| eq(&v.name))
                    .then(|| s.to_lowercase())
            }
        }
        Field::Labels => Some(s.to_lowercase()),
        Field::Assignee | Field::Reporter | Field::Creator => {
            state.find_user(s).map(|u| u.to_string())
        }
        Field::Key | Field::Parent => match state.find_issue(s) {
            Some(id) => Some(id.to_string()),
            None => {
                return Err(JqlError(format!(
                    "An issue with key '{s}' does not exist for field '{}'.",
                    field.name(state)
                )));
            }
        },
        Field::Custom(_) => Some(s.to_lowercase()),
        _ => None,
    };
    found.ok_or_else(|| not_exist(s, field, state))
}

fn cmp_value(
    field: Field,
    k: Kind,
    v: &Val,
    now: DateTime<Utc>,
    state: &State,
) -> Result<Cmpable, JqlError> {
    if k == Kind::Number {
        return match v {
            Val::Str(s) => s
                .parse::<f64>()
                .map(Cmpable::Num)
                .map_err(|_| not_exist(s, field, state)),
            _ => Err(not_exist("function", field, state)),
        };
    }
    let t = match v {
        Val::Str(s) => parse_date(s, now).ok_or_else(|| {
            JqlError(format!(
                "Date value '{s}' for field '{}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.",
                field.name(state)
            ))
        })?,
        Val::Func(f, _) => {
            let day = now.date_naive().and_time(NaiveTime::MIN).and_utc();
            match f.to_ascii_lowercase().as_str() {
                "now" => now,
                "startofday" => day,
                "endofday" => day + Duration::days(1) - Duration::milliseconds(1),
                _ => return Err(JqlError(format!("Unable to find JQL function '{f}()'."))),
            }
        }
        Val::Empty => return Err(not_exist("EMPTY", field, state)),
    };
    Ok(Cmpable::Time(t))
}

/// Absolute (`2026-01-01`, `2026/01/01 10:00`) or relative (`-5m`, `2d`, `-1w 2d`) dates, in UTC.
pub fn parse_date(s: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let s = s.trim();
    for fmt in ["%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    for fmt in ["%Y-%m-%d", "%Y/%m/%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, fmt) {
            return Some(d.and_time(NaiveTime::MIN).and_utc());
        }
    }
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    let mut total = Duration::zero();
    let mut any = false;
    for part in rest.split_whitespace() {
        let unit = part.chars().last()?;
        let n: i64 = part[..part.len() - unit.len_utf8()].parse().ok()?;
        total += match unit {
            'm' => Duration::minutes(n),
            'h' => Duration::hours(n),
            'd' => Duration::days(n),
            'w' => Duration::weeks(n),
            _ => return None,
        };
        any = true;
    }
    any.then(|| now + total * sign)
}
